"""`make bench`: the engine against a PyTorch eager loop, in the same run. Outside the library: it
imports research/, nothing in research/ imports it."""
