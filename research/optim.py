"""Optimizers whose numeric hyperparameters live in the optimizer state.

`make(name)` returns a function hp -> optax.GradientTransformation built with
optax.inject_hyperparams, so learning rates (and momentum, weight decay) are
arrays, not Python constants: one compiled program serves a whole vmapped
sweep over them, and no hyperparameter is read from a global inside jit.
"""
import jax.numpy as jnp
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


# ----------------------------------------------------------------------------
# Learning-rate schedules: fractional epoch t -> factor on the learning rate. Pure functions of
# Python constants, so a schedule is part of the compiled program (and of a cell's identity).

SCHEDULES = ("constant", "cosine")


def constant(t):
  del t
  return 1.0


def cosine(warmup_epochs, epochs):
  """Linear warmup from 0 over warmup_epochs, then cosine decay to 0 at `epochs` (Loshchilov &
  Hutter's SGDR without restarts; Goyal et al.'s warmup)."""
  decay = max(epochs - warmup_epochs, 1e-6)

  def factor(t):
    progress = jnp.clip((t - warmup_epochs) / decay, 0.0, 1.0)
    cos = 0.5 * (1.0 + jnp.cos(jnp.pi * progress))
    return jnp.where(t < warmup_epochs, t / max(warmup_epochs, 1e-6), cos) if warmup_epochs > 0 else cos
  return factor


def schedule(name, *, warmup_epochs=0, epochs=1):
  """A schedule by name; `epochs` is the horizon cosine decays over (the maximum epochs)."""
  check_schedule(name)
  return constant if name == "constant" else cosine(warmup_epochs, epochs)


def check_schedule(name):
  if name not in SCHEDULES:
    raise UserError(f"unknown schedule '{name}'; valid: {', '.join(SCHEDULES)}")
