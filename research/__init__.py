"""A functional JAX engine for testing claims about deep learning.

Modules, each small and named for what it holds:
  registry     the experiments: every module in experiments/ that sets NAME
  __main__     the command line: run, render, report, paper, readme, list
  experiment   one experiment run: config, cells, its results folder published whole
  config       ml_collections configs, profiles, --config.key=value overrides
  runtime      the JAX set-up every entry point shares (compilation cache, hosts)
  data         datasets by name, as numpy arrays with splits and metadata
  tfds_data    tensorflow-datasets as the data layer (Fashion-MNIST without TensorFlow)
  nets         what a model is: a pair of pure functions (init, apply)
  mlp, cnn, rnn   the model families
  models       the model registry (name -> builder), parameter and FLOP counts
  compose      models built from models (modules, combiners)
  masks        masks and magnitude pruning over any params pytree
  optim        optax optimizers whose numeric hyperparameters can be vmapped
  train        one training run as one compiled program; vmap over members
  group_dro    Group DRO (Sagawa et al.) as a trainer of its own, with train's guarantees
  cells        a table cell = a vmapped run, identified by its programs and data, checkpointed, reused
  summary      a cell's numbers as typed values
  curves       per-epoch metrics as JSON lines (and TensorBoard) while a cell trains
  stats        mean ± std over seeds and the comparisons readings make
  groups       two binary attributes, one rare combination, each b's own data (the modular experiment)
  sharding     members or minibatches over devices and hosts
  results      atomic files, the environment, markdown tables
  tables       table.md as LaTeX (booktabs) and CSV
  report       REPORT.md, summary.md and README's results from every experiment's outputs
  integrity    sealed checkpoints: a flipped byte is reported, not restored
  lock         one writer per experiment folder, readers share
  limits       finite values, upper bounds, will the cell fit in memory
  faults       disk full, read-only, out of memory, corrupt JSON: one line each
  interrupts   Ctrl-C at any moment: one line, exit status 130
  bench        `make bench`: the engine against PyTorch eager
"""
from research import paths as _paths

_paths.matplotlib_config()  # before any module imports matplotlib: a read-only HOME must not flood warnings
