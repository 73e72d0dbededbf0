"""Convolutional networks for images (N x H x W x C) and signals (N x L x C).

  model = cnn.lenet5(10)                 # conv 6 -> pool -> conv 16 -> pool -> 120 -> 84 -> 10
  model = cnn.mnist1d_cnn(10)            # the MNIST-1D paper's 3-layer, 25-channel 1-D CNN
  model = cnn.cnn(10, channels=(8, 16), kernel=3)

The same module serves both kinds of input: a kernel has one extent per
spatial axis of the input, so 28x28x1 images get 2-D convolutions and 40x1
signals 1-D ones. Per-layer options (kernel, stride, padding) take one value
for every conv layer or a tuple with one value per layer.

Convolutions are computed as one matrix product over patches (im2col) and
pooling by a reshape, not with lax.conv / reduce_window. The numbers are the
same as flax's nn.Conv and nn.max_pool (the tests check); the reason is speed
on CPU inside the engine's vmap over members: a vmapped convolution with one
kernel per member becomes a grouped convolution, and the gradient of
reduce_window a select-and-scatter, both slow on XLA's CPU backend. Measured
on 2 cores, a 5-member LeNet-5 sweep trained 2.8x faster this way. Still, a
LeNet-5 step costs ~20x an MLP 784-256-256-10 step there: keep CNNs small.
"""
import itertools

import flax.linen as nn
import jax.numpy as jnp
from jax import lax

from research.models.nets import ACTIVATIONS, GAINS, from_flax


class Conv(nn.Module):
  """nn.Conv (kernel k... x C_in x C_out, bias) as a matrix product over patches."""
  features: int
  kernel_size: tuple
  strides: tuple
  padding: object  # "SAME", "VALID" or an int (both sides of every spatial axis)
  kernel_init: object
  use_bias: bool = True  # False before a batch norm, whose shift makes a bias redundant

  @nn.compact
  def __call__(self, x_BxSxC):
    spatial = x_BxSxC.ndim - 2
    c_in = x_BxSxC.shape[-1]
    kernel = self.param("kernel", self.kernel_init, (*self.kernel_size, c_in, self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,)) if self.use_bias else 0.0
    if isinstance(self.padding, str):
      pads = lax.padtype_to_pads(x_BxSxC.shape[1:-1], self.kernel_size, self.strides, self.padding)
    else:
      pads = [(self.padding, self.padding)] * spatial
    x = jnp.pad(x_BxSxC, [(0, 0), *pads, (0, 0)])
    out = [(x.shape[1 + d] - self.kernel_size[d]) // self.strides[d] + 1 for d in range(spatial)]
    # One strided slice per kernel position; concatenated, the features are (position, channel),
    # the row-major order of the kernel's leading axes.
    cols = [x[(slice(None), *(slice(o, o + (n - 1) * s + 1, s) for o, n, s in zip(offs, out, self.strides)))]
            for offs in itertools.product(*(range(k) for k in self.kernel_size))]
    patches_BxSxP = jnp.concatenate(cols, axis=-1)
    return patches_BxSxP @ kernel.reshape(-1, self.features) + bias


def max_pool(x_BxSxC, k):
  """Non-overlapping k-wide max-pooling on every spatial axis; a remainder is dropped (as nn.max_pool
  does). Why a reshape: the gradient of reduce_window is a select-and-scatter, slow on XLA's CPU."""
  spatial = x_BxSxC.ndim - 2
  n = [d // k for d in x_BxSxC.shape[1:-1]]
  x = x_BxSxC[(slice(None), *(slice(0, m * k) for m in n))]
  x = x.reshape([x.shape[0]] + [v for m in n for v in (m, k)] + [x.shape[-1]])
  return x.max(axis=tuple(2 + 2 * d for d in range(spatial)))


def _layer(option, i):
  return option[i] if isinstance(option, (tuple, list)) else option


class CNN(nn.Module):
  """[Conv -> act -> max-pool] per entry of `channels`, flatten, [Dense -> act] per `dense`, Dense(classes)."""
  num_classes: int
  channels: tuple = (6, 16)
  kernel: object = 5        # int or one int per conv layer
  stride: object = 1
  padding: object = "SAME"  # "SAME", "VALID", an int (both sides), or one of these per layer
  pool: int = 2             # max-pool window and stride after every conv; 1 = no pooling
  dense: tuple = (120, 84)
  activation: str = "relu"

  @nn.compact
  def __call__(self, x_BxS):
    act, gain = ACTIVATIONS[self.activation], GAINS[self.activation]
    init = lambda g: nn.initializers.variance_scaling(g, "fan_in", "truncated_normal")
    h = x_BxS if x_BxS.ndim >= 3 else x_BxS[..., None]  # a bare N x L signal has one channel
    spatial = h.ndim - 2
    for i, c in enumerate(self.channels):
      # The first layer sees the standardized input, not an activation: unit gain (as in mlp.MLP).
      h = Conv(c, (_layer(self.kernel, i),) * spatial, (_layer(self.stride, i),) * spatial,
               _layer(self.padding, i), init(1.0 if i == 0 else gain))(h)
      h = act(h)
      if self.pool > 1:
        h = max_pool(h, self.pool)
    h_BxF = h.reshape(h.shape[0], -1)
    for w in self.dense:
      h_BxF = act(nn.Dense(w, kernel_init=init(gain))(h_BxF))
    return nn.Dense(self.num_classes, kernel_init=init(gain if self.channels or self.dense else 1.0))(h_BxF)


def _tuple(option):
  """Lists (from configs) to tuples: flax module fields must be hashable."""
  return tuple(option) if isinstance(option, list) else option


def cnn(num_classes, *, channels=(6, 16), kernel=5, stride=1, padding="SAME", pool=2, dense=(120, 84),
        activation="relu"):
  return from_flax(CNN(num_classes, tuple(channels), _tuple(kernel), _tuple(stride), _tuple(padding),
                       pool, tuple(dense), activation))


def lenet5(num_classes, *, activation="relu"):
  """LeNet-5 on 28x28 inputs (LeCun et al. 1998, with ReLU and max-pooling): the first conv pads
  28x28 to keep its size, as the original's 32x32 input did; 61.7K parameters."""
  return cnn(num_classes, channels=(6, 16), kernel=5, padding=("SAME", "VALID"), pool=2,
             dense=(120, 84), activation=activation)


def mnist1d_cnn(num_classes, *, channels=25, activation="relu"):
  """The MNIST-1D paper's CNN (Greydanus and Kobak): three convs of `channels` (kernels 5, 3, 3,
  stride 2, padding 1), no pooling, straight to the classifier; 5.2K parameters on 40-step signals."""
  return cnn(num_classes, channels=(channels,) * 3, kernel=(5, 3, 3), stride=2, padding=1, pool=1,
             dense=(), activation=activation)
