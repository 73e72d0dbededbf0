"""What every layer leans on and that knows nothing of training: errors that are one line, the
configured folders, atomic files, bounds on inputs, disk and memory faults, the run lock, sealed
results folders, code hashes and the experiment registry. Imports nothing else of research/."""
