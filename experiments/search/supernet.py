"""Architectures as data: one masked supernet in which MLPs of different shapes are members of one program.

  arch = Arch(widths=(128, 64), residual=(False, True), activation="tanh")
  net = arch_net(10, arch)                          # the standalone network of that architecture
  sup = supernet(10, depth=8, width=256)            # the largest shape of the search space
  params = embed(net.init(key, x), arch, sup_shapes)   # that net's weights inside the supernet
  sup.apply(params, x) == net.apply(net_params, x)  # the same function, outputs and gradients

An architecture: hidden layers of the given widths (0 layers: logistic regression), each
hidden-to-hidden layer plain (h <- W act(h)) or residual (h <- fit(h) + W act(h), where fit cuts
or zero-pads h to the layer's width: PyramidNet's zero-padded shortcut), one activation.

The supernet has `depth` hidden layers of `width` units and a direct input-to-output layer for
logistic members. A member's architecture is an `arch` subtree of its parameters: which units
exist, which layers exist (a missing layer is the identity), which layers are residual, and the
activation. It enters apply through stop_gradient, so its gradient is zero and an optimizer
without weight decay (adam, sgd) never moves it: members of different architectures share one
compiled program and one vmap, and the architecture travels as a cell's starting weights
(train.make_trainer's init(params=...), cells.run_cell(init_params=...), which hash it into the
cell's identity). Cut units and missing layers are masked in apply, so their weights get exactly
zero gradient and stay at their embedded zeros.

The cost is honest only when counted as executed: every member computes the supernet's full shape
(all layers, all units, every activation, the direct layer); `arch_flops` is what the member's
own network costs.
"""
import math
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from research.models.mlp import logistic
from research.models.nets import ACTIVATIONS, GAINS, Model, from_flax

# The activations an architecture may pick; each has act(0) = 0, so a cut unit stays 0 downstream.
SEARCH_ACTIVATIONS = ("relu", "tanh", "gelu")


class Arch(NamedTuple):
  """An MLP's architecture. residual[i] is layer i's connection (layer 0, from the input, is plain)."""
  widths: tuple = ()
  residual: tuple = ()
  activation: str = "relu"

  @property
  def depth(self):
    return len(self.widths)

  def canonical(self):
    """The same network written one way: no shortcut on layer 0, no activation without hidden layers."""
    if not self.widths:
      return Arch((), (), "relu")
    residual = tuple(bool(r) for r in self.residual[1:len(self.widths)])
    residual += (False,) * (len(self.widths) - 1 - len(residual))
    return Arch(tuple(int(w) for w in self.widths), (False,) + residual, self.activation)

  def label(self):
    """'0 (logistic)', or '3: 256 128r 128r gelu' (r: residual)."""
    if not self.widths:
      return "0 (logistic)"
    layers = " ".join(f"{w}{'r' if r else ''}" for w, r in zip(self.widths, self.residual))
    return f"{self.depth}: {layers} {self.activation}"

  def to_json(self):
    return dict(widths=list(self.widths), residual=list(self.residual), activation=self.activation)

  @classmethod
  def from_json(cls, d):
    return cls(tuple(d["widths"]), tuple(d["residual"]), d["activation"]).canonical()


def fit(h_BxH, width):
  """h cut or zero-padded to `width` units: the shortcut of a residual layer that changes width."""
  have = h_BxH.shape[-1]
  if width <= have:
    return h_BxH[:, :width]
  return jnp.pad(h_BxH, ((0, 0), (0, width - have)))


class ArchMLP(nn.Module):
  """The standalone network of an architecture with at least one hidden layer.

  Initialization as research/models/mlp.py's MLP: fan-in variance scaling (truncated normal), unit gain on
  the first layer, the activation's gain elsewhere, and a residual branch at 1/(residual layers) of
  it, so that with equal widths, all-plain or all-residual, it is MLP itself (tests check this)."""
  widths: tuple
  residual: tuple
  num_classes: int
  activation: str = "relu"

  @nn.compact
  def __call__(self, x_BxS):
    act, gain = ACTIVATIONS[self.activation], GAINS[self.activation]
    init = lambda g: nn.initializers.variance_scaling(g, "fan_in", "truncated_normal")
    blocks = max(1, sum(self.residual[1:]))
    h_BxW = x_BxS.reshape(x_BxS.shape[0], -1)
    h_BxW = nn.Dense(self.widths[0], kernel_init=init(1.0))(h_BxW)
    for w, skip in zip(self.widths[1:], self.residual[1:]):
      branch = nn.Dense(w, kernel_init=init(gain / blocks if skip else gain))(act(h_BxW))
      h_BxW = fit(h_BxW, w) + branch if skip else branch
    return nn.Dense(self.num_classes, kernel_init=init(gain))(act(h_BxW))


def arch_net(num_classes, arch):
  """The standalone Model of an architecture: logistic regression at depth 0."""
  arch = Arch(*arch).canonical()
  if not arch.widths:
    return logistic(num_classes)
  return from_flax(ArchMLP(arch.widths, arch.residual, num_classes, arch.activation))


def arch_mlp(num_classes, *, widths=(256,), residual=(), activation="relu"):
  """arch_net as a registered builder (models.MODELS): residual defaults to all plain."""
  residual = tuple(residual) or (False,) * len(widths)
  return arch_net(num_classes, Arch(tuple(widths), residual, activation))


# ----------------------------------------------------------------------------
# The supernet

def arch_params(arch, depth, width):
  """The `arch` subtree of a member: {0, 1} arrays the supernet's apply reads (never trained)."""
  arch = Arch(*arch).canonical()
  if arch.depth > depth or max(arch.widths, default=0) > width:
    raise ValueError(f"architecture {arch.label()} does not fit a supernet of {depth} x {width}")
  units_LxW = np.zeros((depth, width), np.float32)
  for i, w in enumerate(arch.widths):
    units_LxW[i, :w] = 1.0
  layer_L = (np.arange(depth) < arch.depth).astype(np.float32)
  residual_L = np.zeros(depth, np.float32)
  residual_L[:arch.depth] = arch.residual
  out_W = units_LxW[arch.depth - 1] if arch.depth else np.zeros(width, np.float32)
  act_A = np.asarray([a == arch.activation for a in SEARCH_ACTIVATIONS], np.float32)
  return {"units_LxW": units_LxW, "layer_L": layer_L, "residual_L": residual_L, "out_W": out_W, "act_A": act_A}


def _activation(act_A, h):
  """The member's activation, chosen by where: exactly that function and its gradient."""
  out = ACTIVATIONS[SEARCH_ACTIVATIONS[-1]](h)
  for i in reversed(range(len(SEARCH_ACTIVATIONS) - 1)):
    out = jnp.where(act_A[i] > 0.5, ACTIVATIONS[SEARCH_ACTIVATIONS[i]](h), out)
  return out


def supernet(num_classes, *, depth=8, width=256):
  """A Model whose members are every Arch of at most `depth` hidden layers of at most `width` units.

  Its own init is the full architecture (depth x width, plain, relu); a member of another
  architecture starts from `embed`'s parameters (the engine's init_params)."""
  if depth < 1 or width < 1:
    raise ValueError(f"a supernet needs at least one hidden layer of one unit, not {depth} x {width}")
  full = Arch((width,) * depth, (False,) * depth, "relu")

  def init(key, x_BxS):
    d = math.prod(x_BxS.shape[1:])
    shapes = _shapes(d, num_classes, depth, width)
    return embed(arch_net(num_classes, full).init(key, x_BxS), full, shapes)

  def apply(params, x_BxS):
    a = jax.tree.map(jax.lax.stop_gradient, params["arch"])
    x_BxD = x_BxS.reshape(x_BxS.shape[0], -1)
    direct_BxK = x_BxD @ params["direct"]["w_DxK"]
    units_LxW = a["units_LxW"]
    h_BxW = (x_BxD @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"]) * units_LxW[0]
    for i in range(1, depth):
      p = params[f"Dense_{i}"]
      # Masking the weights (not only the units) keeps a cut unit's weights at exactly zero gradient.
      w_WxW = p["kernel"] * (units_LxW[i - 1][:, None] * units_LxW[i][None, :])
      branch_BxW = (_activation(a["act_A"], h_BxW) @ w_WxW + p["bias"]) * units_LxW[i]
      new_BxW = jnp.where(a["residual_L"][i] > 0.5, h_BxW * units_LxW[i] + branch_BxW, branch_BxW)
      h_BxW = jnp.where(a["layer_L"][i] > 0.5, new_BxW, h_BxW)  # a missing layer is the identity
    out = params["out"]
    hidden_BxK = _activation(a["act_A"], h_BxW) @ (out["kernel"] * a["out_W"][:, None])
    logits_BxK = jnp.where(a["layer_L"][0] > 0.5, hidden_BxK, direct_BxK)
    return logits_BxK + out["bias"]
  return Model(init, apply)


def _shapes(d, num_classes, depth, width):
  """{name: shape} of the supernet's trained parameters."""
  shapes = {"direct": {"w_DxK": (d, num_classes)}, "out": {"kernel": (width, num_classes), "bias": (num_classes,)}}
  for i in range(depth):
    shapes[f"Dense_{i}"] = {"kernel": (d if i == 0 else width, width), "bias": (width,)}
  return shapes


def _corner(a, shape):
  """a written into the top-left corner of zeros of `shape` (traceable: the supernet's own init uses it)."""
  return jnp.zeros(shape, jnp.float32).at[tuple(slice(0, n) for n in jnp.shape(a))].set(a)


def embed(net_params, arch, shapes):
  """A standalone network's parameters (arch_net(K, arch).init) inside the supernet: its weights in
  the top-left corners, zeros elsewhere, and the member's arch subtree. `shapes`: supernet_shapes."""
  arch = Arch(*arch).canonical()
  depth = sum(1 for k in shapes if k.startswith("Dense_"))
  width = shapes["out"]["kernel"][0]
  params = jax.tree.map(lambda s: jnp.zeros(s, jnp.float32), shapes, is_leaf=lambda s: isinstance(s, tuple))
  if not arch.widths:
    params["direct"]["w_DxK"] = jnp.asarray(net_params["w_DxK"], jnp.float32)
    params["out"]["bias"] = jnp.asarray(net_params["b_K"], jnp.float32)
  else:
    for i in range(arch.depth):
      p = net_params[f"Dense_{i}"]
      params[f"Dense_{i}"] = {"kernel": _corner(p["kernel"], shapes[f"Dense_{i}"]["kernel"]),
                              "bias": _corner(p["bias"], shapes[f"Dense_{i}"]["bias"])}
    last = net_params[f"Dense_{arch.depth}"]
    params["out"] = {"kernel": _corner(last["kernel"], shapes["out"]["kernel"]), "bias": jnp.asarray(last["bias"])}
  params["arch"] = jax.tree.map(jnp.asarray, arch_params(arch, depth, width))
  return params


def supernet_shapes(example_shape, num_classes, depth, width):
  return _shapes(math.prod(example_shape), num_classes, depth, width)


def extract(params, arch):
  """The inverse of embed: a member's parameters as its standalone network's (arch subtree dropped)."""
  arch = Arch(*arch).canonical()
  if not arch.widths:
    return {"w_DxK": params["direct"]["w_DxK"], "b_K": params["out"]["bias"]}
  ins = [params["Dense_0"]["kernel"].shape[0], *arch.widths]
  out = {f"Dense_{i}": {"kernel": params[f"Dense_{i}"]["kernel"][:ins[i], :w], "bias": params[f"Dense_{i}"]["bias"][:w]}
         for i, w in enumerate(arch.widths)}
  out[f"Dense_{arch.depth}"] = {"kernel": params["out"]["kernel"][:arch.widths[-1]], "bias": params["out"]["bias"]}
  return out


def member_init(num_classes, arch, seed, x_1xS, shapes):
  """A member's starting parameters: its standalone network initialized exactly as the engine would
  (the first half of the key split in train.make_trainer's init), embedded."""
  k_init, _ = jax.random.split(jax.random.PRNGKey(int(seed)))
  return embed(arch_net(num_classes, arch).init(k_init, x_1xS), arch, shapes)


def population_init(num_classes, archs, seeds, x_1xS, depth, width):
  """member_init for every member, stacked on a leading member axis (cells.run_cell's init_params)."""
  shapes = supernet_shapes(x_1xS.shape[1:], num_classes, depth, width)
  members = [member_init(num_classes, a, s, x_1xS, shapes) for a, s in zip(archs, seeds)]
  return jax.tree.map(lambda *a: jnp.stack(a), *members)


def bounds(archs):
  """(depth, width) of the smallest supernet that holds every architecture (at least 1 x 1)."""
  archs = [Arch(*a) for a in archs]
  return max(1, max(a.depth for a in archs)), max(1, max((max(a.widths, default=1) for a in archs), default=1))
