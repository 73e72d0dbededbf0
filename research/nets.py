"""What every model is made of: the (init, apply) pair, activations, and mixed precision.

  init(key, x_BxS) -> params        apply(params, x_BxS) -> logits_BxK

Nothing else is hidden in a model, so models compose with jit, vmap, grad and
with each other. Flax linen modules are wrapped to this form by `from_flax`.
The builders (mlp.py, cnn.py, rnn.py) import this module; models.py, the
registry, imports them.
"""
from typing import Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp


class Model(NamedTuple):
  init: Callable   # (key, x_BxS) -> params
  apply: Callable  # (params, x_BxS) -> logits_BxK


ACTIVATIONS = {"relu": nn.relu, "tanh": jnp.tanh, "sigmoid": nn.sigmoid, "gelu": nn.gelu}
# Variance gain that keeps activations at unit scale through a layer (He for ReLU-like).
GAINS = {"relu": 2.0, "gelu": 2.0, "tanh": 1.0, "sigmoid": 1.0}


def from_flax(module):
  """A flax linen module as a pure (init, apply) pair over its 'params' collection."""
  return Model(init=lambda key, x: module.init(key, x)["params"],
               apply=lambda params, x: module.apply({"params": params}, x))


PRECISIONS = {"fp32": jnp.float32, "bf16": jnp.bfloat16}


def with_precision(model, precision="fp32"):
  """Matrix math in `precision` (bf16), master weights and logits in fp32.

  The params stay fp32 (the optimizer updates them there); apply casts them and
  the input down, and the logits back up, so the loss and its gradient are fp32.
  """
  dtype = PRECISIONS[precision]
  if dtype == jnp.float32:
    return model

  def apply(params, x_BxS):
    low = jax.tree.map(lambda p: p.astype(dtype), params)
    return model.apply(low, x_BxS.astype(dtype)).astype(jnp.float32)
  return Model(model.init, apply)
