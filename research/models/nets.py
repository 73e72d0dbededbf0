"""What every model is made of: the (init, apply) pair, activations, and mixed precision.

  init(key, x_BxS) -> params        apply(params, x_BxS) -> logits_BxK

Nothing else is hidden in a model, so models compose with jit, vmap, grad and
with each other. Flax linen modules are wrapped to this form by `from_flax`.

A model with state (batch normalization's running statistics: not trained by
the gradient, updated by every training step) has two more functions, and its
apply reads the state (evaluation mode):

  init_state(key, x_BxS) -> state   apply(params, x_BxS, state) -> logits_BxK
  train_apply(params, x_BxS, state) -> (logits_BxK, state)   (the batch's own statistics)

`from_flax_with_state` wraps a module with a 'batch_stats' collection so; the
engine (train.py) threads the state only for such models.
The builders (mlp.py, cnn.py, rnn.py) import this module; models.py, the
registry, imports them.
"""
from typing import Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp


class Model(NamedTuple):
  init: Callable   # (key, x_BxS) -> params
  apply: Callable  # (params, x_BxS) -> logits_BxK; with state: (params, x_BxS, state) -> logits_BxK
  init_state: Callable = None   # (key, x_BxS) -> state; None: the model has no state
  train_apply: Callable = None  # (params, x_BxS, state) -> (logits_BxK, state)
  # (params, x_BxS, rng) -> logits_BxK: training mode of a stochastic model (dropout), the rng drawn by
  # the engine for each step; None: the model trains with apply. research/models/adapters.py makes these.
  rng_apply: Callable = None


def has_state(model):
  return model.init_state is not None


ACTIVATIONS = {"relu": nn.relu, "tanh": jnp.tanh, "sigmoid": nn.sigmoid, "gelu": nn.gelu}
# Variance gain that keeps activations at unit scale through a layer (He for ReLU-like).
GAINS = {"relu": 2.0, "gelu": 2.0, "tanh": 1.0, "sigmoid": 1.0}


def from_flax(module):
  """A flax linen module as a pure (init, apply) pair over its 'params' collection."""
  return Model(init=lambda key, x: module.init(key, x)["params"],
               apply=lambda params, x: module.apply({"params": params}, x))


def from_flax_with_state(module):
  """A flax module called as module(x, train) with 'params' and 'batch_stats' collections: training
  mode normalizes by the batch and updates the running statistics, evaluation mode reads them."""
  variables = lambda key, x: module.init(key, x, train=False)
  both = lambda params, state: {"params": params, "batch_stats": state}

  def train_apply(params, x, state):
    logits, updated = module.apply(both(params, state), x, train=True, mutable=["batch_stats"])
    return logits, updated["batch_stats"]
  return Model(init=lambda key, x: variables(key, x)["params"],
               apply=lambda params, x, state: module.apply(both(params, state), x, train=False),
               init_state=lambda key, x: variables(key, x)["batch_stats"],
               train_apply=train_apply)


PRECISIONS = {"fp32": jnp.float32, "bf16": jnp.bfloat16}


def with_precision(model, precision="fp32"):
  """Matrix math in `precision` (bf16), master weights and logits in fp32.

  The params stay fp32 (the optimizer updates them there); apply casts them and
  the input down, and the logits back up, so the loss and its gradient are fp32.
  """
  dtype = PRECISIONS[precision]
  if dtype == jnp.float32:
    return model
  if has_state(model) or model.rng_apply is not None:
    raise ValueError("bf16 of a model with state or randomness is not supported; use fp32")

  def apply(params, x_BxS):
    low = jax.tree.map(lambda p: p.astype(dtype), params)
    return model.apply(low, x_BxS.astype(dtype)).astype(jnp.float32)
  return Model(model.init, apply)
