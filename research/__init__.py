"""A functional JAX engine for testing claims about deep learning.

Modules, each small and named for what it holds:
  data         datasets by name, as numpy arrays with splits and metadata
  models       pure (init, apply) models: logistic, mlp, cnn, rnn
  optim        optax optimizers whose numeric hyperparameters can be vmapped
  train        one training run as one compiled program; vmap over members
  cells        a table cell = a vmapped run, checkpointed and reused
  config       ml_collections configs, profiles, --config.key=value overrides
  results      atomic files, environment, mean ± std tables
  experiment   the driver every experiment module runs under
  report       results/REPORT.md from every experiment's outputs
  integrity    sealed checkpoints: a flipped byte is reported, not restored
  lock         one writer per experiment folder, readers share
  limits       finite values, upper bounds, will the cell fit in memory
  faults       disk full, read-only, out of memory, corrupt JSON: one line each
  interrupts   Ctrl-C at any moment: one line, exit status 130
"""
