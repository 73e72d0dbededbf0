"""Models as pairs of pure functions: init(key, x_BxS) -> params, apply(params, x_BxS) -> logits_BxK.

Nothing else is hidden in a model, so models compose with jit, vmap, grad and
with each other. Flax linen modules are wrapped to this form by `from_flax`.
Variants are functools.partial of a few builders; `build(name, ...)` looks one
up by the name configs use.
"""
import functools
import math
from typing import Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


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


def logistic(num_classes):
  """The article's neuron, one per class: z_k = w_k1 x_1 + ... + w_kn x_n + b_k; softmax in the loss."""
  def init(key, x_BxS):
    d = math.prod(x_BxS.shape[1:])
    return {"w_DxK": jax.random.normal(key, (d, num_classes)) / math.sqrt(d),
            "b_K": jnp.zeros(num_classes)}

  def apply(params, x_BxS):
    x_BxD = x_BxS.reshape(x_BxS.shape[0], -1)
    return x_BxD @ params["w_DxK"] + params["b_K"]
  return Model(init, apply)


class MLP(nn.Module):
  """x -> Dense -> [act -> Dense] * (len(widths) - 1) -> act -> Dense(num_classes).

  residual=True adds a skip around every hidden-to-hidden Dense of equal width
  (pre-activation blocks, h + W act(h)); each branch starts at 1/(blocks) of
  the variance so that the sum stays O(1) at any depth.
  """
  widths: tuple
  num_classes: int
  residual: bool = False
  activation: str = "relu"

  @nn.compact
  def __call__(self, x_BxS):
    act, gain = ACTIVATIONS[self.activation], GAINS[self.activation]
    init = lambda g: nn.initializers.variance_scaling(g, "fan_in", "truncated_normal")
    h_BxW = x_BxS.reshape(x_BxS.shape[0], -1)
    # The first layer sees the (standardized) input, not an activation: unit gain.
    h_BxW = nn.Dense(self.widths[0], kernel_init=init(1.0))(h_BxW)
    blocks = max(1, len(self.widths) - 1)
    for w in self.widths[1:]:
      skip = self.residual and w == h_BxW.shape[-1]
      branch = nn.Dense(w, kernel_init=init(gain / blocks if skip else gain))(act(h_BxW))
      h_BxW = h_BxW + branch if skip else branch
    return nn.Dense(self.num_classes, kernel_init=init(gain))(act(h_BxW))


def mlp(depth, width, num_classes, residual=False, activation="relu"):
  """depth = number of hidden layers of `width` units; depth 0 is `logistic`."""
  if depth == 0:
    return logistic(num_classes)
  return from_flax(MLP((width,) * depth, num_classes, residual, activation))


def mlp_widths(widths, num_classes, residual=False, activation="relu"):
  """An MLP with hidden layers of the given widths, e.g. (300, 100)."""
  return from_flax(MLP(tuple(widths), num_classes, residual, activation))


lenet_300_100 = functools.partial(mlp_widths, (300, 100))


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


# name -> builder(num_classes, **options). Experiments and configs use these names.
MODELS = {
    "logistic": logistic,
    "mlp": lambda num_classes, depth=2, width=256, residual=False, activation="relu":
        mlp(depth, width, num_classes, residual, activation),
    "lenet_300_100": lenet_300_100,
    # research/cnn.py and research/rnn.py import this module: looked up when called.
    "cnn": lambda num_classes, **kw: _lazy("cnn").cnn(num_classes, **kw),
    "lenet5": lambda num_classes, **kw: _lazy("cnn").lenet5(num_classes, **kw),
    "mnist1d_cnn": lambda num_classes, **kw: _lazy("cnn").mnist1d_cnn(num_classes, **kw),
    "gru": lambda num_classes, **kw: _lazy("rnn").gru(num_classes, **kw),
    "lstm": lambda num_classes, **kw: _lazy("rnn").lstm(num_classes, **kw),
    "mnist1d_gru": lambda num_classes, **kw: _lazy("rnn").mnist1d_gru(num_classes, **kw),
}


def _lazy(module):
  import importlib
  return importlib.import_module(f"research.{module}")


def build(name, num_classes, **options):
  from research.errors import UserError
  if name not in MODELS:
    raise UserError(f"unknown model '{name}'; valid: {', '.join(sorted(MODELS))}")
  return MODELS[name](num_classes, **options)


# ----------------------------------------------------------------------------
# What a model costs

def param_shapes(model, example_shape):
  x = jax.ShapeDtypeStruct((1, *example_shape), jnp.float32)
  return jax.eval_shape(model.init, jax.random.key(0), x)


def param_count(model, example_shape):
  return int(sum(math.prod(p.shape) for p in jax.tree.leaves(param_shapes(model, example_shape))))


@functools.lru_cache(maxsize=256)
def _flops(model, example_shape):
  params = param_shapes(model, example_shape)
  x = jax.ShapeDtypeStruct((1, *example_shape), jnp.float32)
  cost = jax.jit(model.apply).lower(params, x).cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return int(cost.get("flops", 0))


def flops_per_example(model, example_shape):
  """Forward FLOPs of one example (XLA's count: a multiply-add is 2); training is about 3x.

  XLA counts the body of a loop once: a model with a lax.scan over time (rnn.py)
  must be counted on an unrolled copy (rnn.py's models do that)."""
  return _flops(model, tuple(example_shape))


def describe(model, example_shape):
  return dict(params=param_count(model, example_shape),
              flops=flops_per_example(model, example_shape))


def count_nonzero(params):
  return int(sum(np.count_nonzero(np.asarray(p)) for p in jax.tree.leaves(params)))
