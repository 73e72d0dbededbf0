"""CIFAR-style residual networks (He et al. 2016, Section 4.2) and the same nets without shortcuts.

  model = resnet.resnet(10, blocks=3)                     # ResNet-20: 6n + 2 = 20 layers, 0.27M params
  model = resnet.resnet(10, blocks=3, shortcut=False)     # plain-20
  model = resnet.resnet(10, blocks=1, widths=(8, 16, 32)) # a narrower 8-layer net

A 3x3 conv of widths[0], then three stages of `blocks` blocks each (two 3x3 convs, widths[0],
widths[1], widths[2]; the first conv of stages 2 and 3 has stride 2), global average pooling and a
dense classifier: 6 * blocks + 2 weighted layers. Every conv is followed by batch normalization
(no conv bias, as in the paper); a block is relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)). The
shortcut is the paper's option A: the identity, subsampled and zero-padded where a stage halves the
size and adds channels, so residual and plain nets have the same parameters.

Batch normalization makes these models stateful (nets.from_flax_with_state): the engine trains with
each batch's statistics and keeps running averages (momentum 0.9, as the paper's Torch code) for
evaluation. Convolutions are cnn.Conv's matrix product over patches, fast on CPU under vmap.
"""
import flax.linen as nn
import jax.numpy as jnp

from research.models.cnn import Conv
from research.models.nets import from_flax_with_state


def _conv(features, stride):
  # He initialization (fan-in, gain 2 for relu), padding 1 as the paper's 3x3 convs.
  init = nn.initializers.variance_scaling(2.0, "fan_in", "truncated_normal")
  return Conv(features, (3, 3), (stride, stride), 1, init, use_bias=False)


def _bn(train):
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5)


def shortcut_a(x_BxHxWxC, features, stride):
  """Option A: identity, every stride-th pixel, zero channels appended up to `features` (no parameters)."""
  x = x_BxHxWxC[:, ::stride, ::stride, :]
  return jnp.pad(x, [(0, 0), (0, 0), (0, 0), (0, features - x.shape[-1])])


class Block(nn.Module):
  features: int
  stride: int
  shortcut: bool

  @nn.compact
  def __call__(self, x_BxHxWxC, train):
    h = nn.relu(_bn(train)(_conv(self.features, self.stride)(x_BxHxWxC)))
    h = _bn(train)(_conv(self.features, 1)(h))
    if self.shortcut:
      h = h + shortcut_a(x_BxHxWxC, self.features, self.stride)
    return nn.relu(h)


class ResNet(nn.Module):
  num_classes: int
  blocks: int = 3
  widths: tuple = (16, 32, 64)
  shortcut: bool = True

  @nn.compact
  def __call__(self, x_BxHxWxC, train=False):
    h = x_BxHxWxC if x_BxHxWxC.ndim == 4 else x_BxHxWxC[..., None]
    h = nn.relu(_bn(train)(_conv(self.widths[0], 1)(h)))
    for stage, width in enumerate(self.widths):
      for b in range(self.blocks):
        h = Block(width, 2 if stage > 0 and b == 0 else 1, self.shortcut)(h, train)
    h_BxC = h.mean(axis=(1, 2))
    init = nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")
    return nn.Dense(self.num_classes, kernel_init=init)(h_BxC)


def layers(blocks, stages=3):
  """Weighted layers of a net with `blocks` blocks per stage: 6n + 2 for three stages."""
  return 2 * stages * blocks + 2


def resnet(num_classes, *, blocks=3, widths=(16, 32, 64), shortcut=True):
  return from_flax_with_state(ResNet(num_classes, blocks, tuple(widths), shortcut))
