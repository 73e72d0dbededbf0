"""Optimizers whose numeric hyperparameters live in the optimizer state.

`make(name)` returns a function hp -> optax.GradientTransformation built with
optax.inject_hyperparams, so learning rates (and momentum, weight decay) are
arrays, not Python constants: one compiled program serves a whole vmapped
sweep over them, and no hyperparameter is read from a global inside jit.
"""
import optax

from research.errors import UserError

# name -> (optax constructor, numeric hyperparameters it takes, defaults)
OPTIMIZERS = {
    "sgd": (optax.sgd, {}),
    "momentum": (optax.sgd, {"momentum": 0.9}),
    "nesterov": (lambda learning_rate, momentum: optax.sgd(learning_rate, momentum, nesterov=True),
                 {"momentum": 0.9}),
    "adam": (optax.adam, {}),
    "adamw": (optax.adamw, {"weight_decay": 1e-4}),
}


def defaults(name, learning_rate):
  """The full hyperparameter dict for `name` with its defaults filled in."""
  check(name)
  return {"learning_rate": learning_rate, **OPTIMIZERS[name][1]}


def check(name):
  if name not in OPTIMIZERS:
    raise UserError(f"unknown optimizer '{name}'; valid: {', '.join(OPTIMIZERS)}")


def make(name):
  """hp (a dict of scalars or traced arrays) -> GradientTransformation."""
  check(name)
  ctor, _ = OPTIMIZERS[name]
  return lambda hp: optax.inject_hyperparams(ctor)(**hp)
