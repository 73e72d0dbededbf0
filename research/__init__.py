"""A functional JAX engine for testing claims about deep learning.

Packages, each importing only those above it in this list (tests/test_layout.py checks):
  system   one-line errors, configured folders, atomic and sealed results, bounds, faults, the run
           lock, code hashes, the experiment registry (experiments/ modules that set NAME)
  models   what a model is (nets: init/apply), the families (mlp, cnn, resnet, rnn), the registry
           (name -> builder), flax and FILE.py:NAME adapters, parameter and FLOP counts
  data     datasets by name as numpy arrays with splits (raw arrays, tensorflow-datasets, caches)
  engine   one trainer as one compiled program (train, programs, optim, masks), members over
           devices (sharding), table cells trained once and reused (cells, integrity, curves,
           summary), halving rungs, Group DRO, validation-based selection (tuning), JAX set-up
  report   statistics over seeds, the verdict protocol, tables, REPORT.md and summary.md
  cli      configs and overrides, one experiment run end to end, Ctrl-C; `python -m research`

Modules that serve one experiment live in its package (experiments/modular/groups.py,
experiments/search/supernet.py); `make bench` is bench/, outside the library.
"""
from research.system import paths as _paths

_paths.matplotlib_config()  # before any module imports matplotlib: a read-only HOME must not flood warnings
