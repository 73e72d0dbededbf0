"""Fully connected networks: the logistic neuron and MLPs, plain or residual.

  model = mlp.mlp(10, depth=2, width=256)             # 784 -> 256 -> 256 -> 10
  model = mlp.mlp_widths(10, (300, 100))              # LeNet-300-100
  model = mlp.residual_mlp(10, depth=16, width=256)   # skips around every hidden-to-hidden layer

Options are keyword-only: every builder takes num_classes first, like every
builder in models.MODELS.
"""
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from research.models.nets import ACTIVATIONS, GAINS, Model, from_flax


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


def mlp_widths(num_classes, widths, *, residual=False, activation="relu"):
  """An MLP with hidden layers of the given widths, e.g. (300, 100)."""
  return from_flax(MLP(tuple(widths), num_classes, residual, activation))


def mlp(num_classes, *, depth=2, width=256, residual=False, activation="relu"):
  """depth = number of hidden layers of `width` units; depth 0 is `logistic`."""
  if depth == 0:
    return logistic(num_classes)
  return mlp_widths(num_classes, (width,) * depth, residual=residual, activation=activation)


def residual_mlp(num_classes, *, depth=2, width=256, activation="relu"):
  """`mlp` with skips; at depth 0 and 1 there is no hidden-to-hidden layer, so it is the plain net."""
  return mlp(num_classes, depth=depth, width=width, residual=True, activation=activation)


def lenet_300_100(num_classes, *, activation="relu"):
  """LeCun et al. 1998's 784-300-100-10 MLP (the network Han et al. 2015 prune)."""
  return mlp_widths(num_classes, (300, 100), activation=activation)
