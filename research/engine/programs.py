"""A trainer's signature: its model's and optimizer's programs, lowered from shapes and hashed.

  train.Trainer.signature(data) -> {part: value}   (research/engine/cells.py hashes it into the identity)

Lowered, not compiled: a few small programs per cell, in well under a second. StableHLO text carries
no source locations, so moving or renaming Python code that computes the same thing keeps a hash.
"""
import hashlib
from typing import Callable

import jax
import jax.numpy as jnp

from research.engine.types import Data, HParams, PyTree
from research.models import nets
from research.models.nets import Model


def program_hash(lowered: jax.stages.Lowered) -> str:
  """A short hash of a lowered program's StableHLO text (no source locations: a moved line is the
  same program)."""
  return hashlib.sha1(lowered.as_text().encode()).hexdigest()[:16]


def _rows(a, n):
  return jax.ShapeDtypeStruct((n, *a.shape[1:]), a.dtype)


def model_programs(model: Model, data: Data, batch_size: int, loss_and_grad: Callable,
                   evaluated: Callable) -> dict[str, str]:
  """The model's own programs, lowered from shapes: its init (and its state's), the training loss with
  its gradient on one minibatch (loss_and_grad(params, [model_state,] x_BxS, y_B, w_B)), and the
  evaluated loss and hits on one (evaluated(params, x, y, model_state)). A change to the model, its
  activation, the loss or what counts as correct changes one of them."""
  x, y = data["x_train"], data["y_train"]
  key = jax.ShapeDtypeStruct((2,), jnp.uint32)
  params = jax.eval_shape(model.init, key, _rows(x, 1))
  stateful = nets.has_state(model)
  model_state = jax.eval_shape(model.init_state, key, _rows(x, 1)) if stateful else None
  batch = (_rows(x, batch_size), _rows(y, batch_size), jax.ShapeDtypeStruct((batch_size,), jnp.float32))
  if stateful:
    grads_of = jax.jit(loss_and_grad).lower(params, model_state, *batch)
  elif model.rng_apply is not None:  # a stochastic model's loss takes the step's rng
    grads_of = jax.jit(loss_and_grad).lower(params, *batch, key)
  else:
    grads_of = jax.jit(loss_and_grad).lower(params, *batch)
  parts = dict(model_init=program_hash(jax.jit(model.init).lower(key, _rows(x, 1))),
               model_loss=program_hash(grads_of),
               model_eval=program_hash(jax.jit(evaluated).lower(params, *batch[:2], model_state)))
  if stateful:
    parts["model_state_init"] = program_hash(jax.jit(model.init_state).lower(key, _rows(x, 1)))
  return parts


def optimizer_programs(tx_of: Callable, hp: HParams, factor_at: Callable, params: PyTree = None) -> dict[str, str]:
  """The optimizer's init and update, and the schedule's factor, lowered (params: the shapes they act on,
  here a stand-in of two arrays; the math does not depend on the model)."""
  params = params or {"b": jax.ShapeDtypeStruct((3,), jnp.float32), "w": jax.ShapeDtypeStruct((2, 3), jnp.float32)}
  hp = {k: jax.ShapeDtypeStruct((), jnp.float32) for k in hp}
  init = jax.jit(lambda hp, p: tx_of(hp).init(p)).lower(hp, params)
  opt_state = jax.eval_shape(lambda hp, p: tx_of(hp).init(p), hp, params)
  update = jax.jit(lambda hp, g, s, p: tx_of(hp).update(g, s, p)).lower(hp, params, opt_state, params)
  factor = jax.jit(factor_at).lower(jax.ShapeDtypeStruct((), jnp.float32))
  return dict(optimizer_init=program_hash(init), optimizer_update=program_hash(update),
              schedule=program_hash(factor))
