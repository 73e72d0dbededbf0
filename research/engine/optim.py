"""Optimizers whose numeric hyperparameters live in the optimizer state.

`make(name)` returns a function hp -> optax.GradientTransformation built with
optax.inject_hyperparams, so learning rates (and momentum, weight decay) are
arrays, not Python constants: one compiled program serves a whole vmapped
sweep over them, and no hyperparameter is read from a global inside jit.

Besides optax's own: `momentum_l2` (SGD with momentum on the loss plus an L2 penalty, as Caffe
trains and Han et al. 2015 prune), and `prox_l1`, the same with an L1 penalty taken as a
proximal step: after each update the weights are soft-thresholded (`soft_threshold`), so a
weight the penalty wins over is exactly 0.0, not merely small. prox_l1 decays its rate itself
(`cosine_of_steps`), since the engine's schedule would scale the zeros away; `count_zeros` keeps,
in the optimizer state, how many weights were exactly zero after each epoch (`zeros_per_epoch`).
"""
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from research.engine.types import Array, HParams, PyTree
from research.system.errors import UserError


def momentum_l2(learning_rate: float, momentum: float, weight_decay: float) -> optax.GradientTransformation:
  """SGD with heavy-ball momentum on the gradient of loss + weight_decay / 2 * |w|^2: the decay
  joins the gradient before the momentum trace (Caffe's, and Han et al.'s, regularization), and
  the learning rate scales last."""
  return optax.chain(optax.add_decayed_weights(weight_decay), optax.sgd(learning_rate, momentum))


def is_weight(leaf: Array) -> bool:
  """A weight matrix (or bigger): the entries an L1 penalty acts on; biases are not. The engine's
  optimizer sees one member's parameters (research/engine/masks.py counts a member axis too)."""
  return jnp.ndim(leaf) >= 2


def shrink(z: jax.Array, threshold: jax.Array) -> jax.Array:
  """Soft thresholding, the proximal map of threshold * |z|: sign(z) max(|z| - threshold, 0)."""
  return jnp.sign(z) * jnp.maximum(jnp.abs(z) - threshold, 0.0)


def cosine_of_steps(steps_per_epoch: int, decay_epochs: float) -> Callable:
  """count -> factor: optim.cosine's curve without warmup, from 1 to 0 over decay_epochs, read off a
  transformation's own step count (count / steps_per_epoch is the engine's fractional epoch);
  decay_epochs = 0: constant 1. Its arguments may be traced hyperparameters."""
  def factor(count):
    progress = jnp.clip(count / jnp.maximum(steps_per_epoch * decay_epochs, 1e-6), 0.0, 1.0)
    return jnp.where(decay_epochs > 0, 0.5 * (1.0 + jnp.cos(jnp.pi * progress)), 1.0)
  return factor


class SoftThresholdState(NamedTuple):
  count: jax.Array  # steps taken: where the schedule is


def soft_threshold(threshold: float, schedule: Callable | None = None) -> optax.GradientTransformation:
  """The proximal step of an L1 penalty: replaces the update u of every weight matrix so that the
  new weight is shrink(w + u, threshold x schedule(step)) (biases pass unchanged). With threshold =
  learning rate x L1 strength and the learning rate's schedule, gradient step then this is
  proximal gradient descent on loss + l1 * sum |w|.

  A weight the shrinkage reaches becomes exactly 0.0 because the engine adds the update to the
  weight unscaled: (0 - w) + w is exactly 0. The engine's own schedule would scale the update after
  the optimizer (factor x u) and leave (1 - factor) w instead: decay the rate inside the optimizer
  (optax.scale_by_schedule before this step, the same `schedule` here) and give the engine the
  constant schedule."""
  schedule = schedule or (lambda count: 1.0)

  def update_fn(updates, state, params):
    if params is None:
      raise ValueError("soft_threshold needs the parameters")
    tau = threshold * schedule(state.count)
    updates = jax.tree.map(lambda u, w: shrink(w + u, tau) - w if is_weight(w) else u, updates, params)
    return updates, SoftThresholdState(state.count + 1)
  return optax.GradientTransformation(lambda params: SoftThresholdState(jnp.zeros((), jnp.int32)), update_fn)


# Epochs of zero counts the optimizer state holds; later epochs all count in the last slot.
ZERO_LOG_EPOCHS = 100


class ZeroCountState(NamedTuple):
  count: jax.Array  # steps taken
  zeros: Any        # per parameter leaf: (ZERO_LOG_EPOCHS,) int32, exact zeros after each epoch's last step


def count_zeros(steps_per_epoch: int) -> optax.GradientTransformation:
  """A readout, not a transformation (updates pass unchanged): after every step, the number of
  entries of each parameter that the step leaves exactly 0.0, written into the slot of the
  step's epoch, so each slot ends with the count after that epoch's last step. It computes the new
  parameters as the engine does (w + u), which is the engine's result under the constant
  schedule and without a mask."""
  def init_fn(params):
    return ZeroCountState(jnp.zeros((), jnp.int32),
                          jax.tree.map(lambda w: jnp.zeros(ZERO_LOG_EPOCHS, jnp.int32), params))

  def update_fn(updates, state, params):
    epoch = jnp.minimum(state.count // jnp.maximum(steps_per_epoch, 1).astype(jnp.int32), ZERO_LOG_EPOCHS - 1)
    new_params = optax.apply_updates(params, updates)
    zeros = jax.tree.map(lambda log, w: log.at[epoch].set(jnp.sum(w == 0.0, dtype=jnp.int32)),
                         state.zeros, new_params)
    return updates, ZeroCountState(state.count + 1, zeros)
  return optax.GradientTransformation(init_fn, update_fn)


def prox_l1(learning_rate: float, momentum: float, weight_decay: float, l1: float, steps_per_epoch: int,
            decay_epochs: float) -> optax.GradientTransformation:
  """momentum_l2 with its rate decayed inside the optimizer (cosine over decay_epochs; 0: constant),
  then the proximal step of l1 * sum |w| over the weight matrices at the decayed rate, then the
  zero count per epoch. steps_per_epoch: the engine's steps in one epoch, n_train // batch_size.
  Train it under the engine's constant schedule: the decay is here, where it keeps zeros exact."""
  decay = cosine_of_steps(steps_per_epoch, decay_epochs)
  return optax.chain(momentum_l2(learning_rate, momentum, weight_decay), optax.scale_by_schedule(decay),
                     soft_threshold(learning_rate * l1, decay), count_zeros(steps_per_epoch))


def zeros_per_epoch(opt_state: PyTree) -> jax.Array | None:
  """The zero counts of a trained state's optimizer: per parameter leaf, (..., ZERO_LOG_EPOCHS)
  (a leading member axis when the state has one); None when the optimizer keeps no count."""
  found = [s for s in jax.tree.leaves(opt_state, is_leaf=lambda x: isinstance(x, ZeroCountState))
           if isinstance(s, ZeroCountState)]
  return found[0].zeros if found else None


# name -> (optax constructor, numeric hyperparameters it takes, defaults)
OPTIMIZERS = {
    "sgd": (optax.sgd, {}),
    "momentum": (optax.sgd, {"momentum": 0.9}),
    "nesterov": (lambda learning_rate, momentum: optax.sgd(learning_rate, momentum, nesterov=True),
                 {"momentum": 0.9}),
    "adam": (optax.adam, {}),
    "adamw": (optax.adamw, {"weight_decay": 1e-4}),
    "momentum_l2": (momentum_l2, {"momentum": 0.9, "weight_decay": 5e-4}),
    "prox_l1": (prox_l1, {"momentum": 0.9, "weight_decay": 5e-4, "l1": 1e-4, "steps_per_epoch": 1.0,
                          "decay_epochs": 0.0}),
}


def defaults(name: str, learning_rate: float) -> HParams:
  """The full hyperparameter dict for `name` with its defaults filled in."""
  check(name)
  return {"learning_rate": learning_rate, **OPTIMIZERS[name][1]}


def check(name: str) -> None:
  if name not in OPTIMIZERS:
    raise UserError(f"unknown optimizer '{name}'; valid: {', '.join(OPTIMIZERS)}")


def make(name: str) -> Callable[[HParams], optax.GradientTransformation]:
  """hp (a dict of scalars or traced arrays) -> GradientTransformation."""
  check(name)
  ctor, _ = OPTIMIZERS[name]
  return lambda hp: optax.inject_hyperparams(ctor)(**hp)


# ----------------------------------------------------------------------------
# Learning-rate schedules: fractional epoch t -> factor on the learning rate. Pure functions of
# Python constants, so a schedule is part of the compiled program (and of a cell's identity).

SCHEDULES = ("constant", "cosine")


def constant(t: Any) -> float:
  del t
  return 1.0


def cosine(warmup_epochs: float, epochs: float) -> Callable:
  """Linear warmup from 0 over warmup_epochs, then cosine decay to 0 at `epochs` (Loshchilov &
  Hutter's SGDR without restarts; Goyal et al.'s warmup)."""
  decay = max(epochs - warmup_epochs, 1e-6)

  def factor(t):
    progress = jnp.clip((t - warmup_epochs) / decay, 0.0, 1.0)
    cos = 0.5 * (1.0 + jnp.cos(jnp.pi * progress))
    return jnp.where(t < warmup_epochs, t / max(warmup_epochs, 1e-6), cos) if warmup_epochs > 0 else cos
  return factor


def scheduled(tx: optax.GradientTransformation, factor_at: Callable,
              steps_per_epoch: int) -> optax.GradientTransformation:
  """tx with the learning-rate schedule inside its chain: each update scaled by factor_at(fractional
  epoch), the epoch read off optax.scale_by_schedule's own step count. Every optimizer here scales by
  the learning rate last, so scaling the update is scaling the rate (weight decay included, as
  optax's own schedules do). The constant schedule adds nothing to the chain."""
  if factor_at is constant:
    return tx
  return optax.chain(tx, optax.scale_by_schedule(lambda count: factor_at(count / steps_per_epoch)))


def schedule(name: str, *, warmup_epochs: float = 0, epochs: float = 1) -> Callable:
  """A schedule by name; `epochs` is the horizon cosine decays over (the maximum epochs)."""
  check_schedule(name)
  return constant if name == "constant" else cosine(warmup_epochs, epochs)


def check_schedule(name: str) -> None:
  if name not in SCHEDULES:
    raise UserError(f"unknown schedule '{name}'; valid: {', '.join(SCHEDULES)}")
