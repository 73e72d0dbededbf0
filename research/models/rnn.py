"""Recurrent networks as pure (init, apply) pairs: GRU and LSTM read an input one step at a time.

  model = rnn.gru(10, hidden=64)                 # last hidden state -> Dense
  model = rnn.gru(10, hidden=6, bidirectional=True, readout="all")   # the MNIST-1D paper's GRU

An image N x H x W x C is read row by row (H steps of W*C numbers), a signal
N x L x C step by step (L steps of C numbers). The input projections of all
steps are one matrix product before the loop; only the recurrent product is
inside the lax.scan over time. Gate equations follow PyTorch / cuDNN (and
flax.linen's GRUCell and LSTMCell, which the tests check against):

  GRU:  r = s(x W_r + h U_r + b_r)    z = s(x W_z + h U_z + b_z)
        n = tanh(x W_n + b_n + r * (h U_n + c_n))    h' = (1 - z) n + z h
  LSTM: i, f, o = s(...), g = tanh(...)    c' = f c + i g    h' = o tanh(c')
"""
import math

import jax
import jax.numpy as jnp
from jax import lax

from research.models.nets import Model

GATES = {"gru": 3, "lstm": 4}


def as_sequence(x_BxS):
  """B x T x F: rows of an image (F = W*C), steps of a signal (F = C)."""
  return x_BxS.reshape(x_BxS.shape[0], x_BxS.shape[1], -1)


def _cell_init(key, cell, features, hidden):
  k_in, k_rec = jax.random.split(key)
  g = GATES[cell]
  w_FxG = jax.random.normal(k_in, (features, g * hidden)) / math.sqrt(features)
  # Orthogonal recurrent blocks, one per gate: repeated products with U neither blow up nor vanish at init.
  u_HxG = jnp.concatenate(list(jax.vmap(lambda k: jax.nn.initializers.orthogonal()(k, (hidden, hidden)))(
      jax.random.split(k_rec, g))), axis=1)
  b_G = jnp.zeros(g * hidden)
  if cell == "lstm":  # forget gate starts open, so gradients reach early steps (Jozefowicz et al. 2015)
    b_G = b_G.at[hidden:2 * hidden].set(1.0)
  p = {"w_FxG": w_FxG, "u_HxG": u_HxG, "b_G": b_G}
  if cell == "gru":
    p["c_H"] = jnp.zeros(hidden)  # the bias inside r * (h U_n + c_n)
  return p


def gru_step(p, h_BxH, gx_BxG):
  """One GRU step; gx = x W + b, precomputed for every step."""
  H = h_BxH.shape[-1]
  gh_BxG = h_BxH @ p["u_HxG"]
  r = jax.nn.sigmoid(gx_BxG[:, :H] + gh_BxG[:, :H])
  z = jax.nn.sigmoid(gx_BxG[:, H:2 * H] + gh_BxG[:, H:2 * H])
  n = jnp.tanh(gx_BxG[:, 2 * H:] + r * (gh_BxG[:, 2 * H:] + p["c_H"]))
  return (1.0 - z) * n + z * h_BxH


def lstm_step(p, carry, gx_BxG):
  """One LSTM step on carry = (c, h); gate order i, f, g, o."""
  c_BxH, h_BxH = carry
  i, f, g, o = jnp.split(gx_BxG + h_BxH @ p["u_HxG"], 4, axis=-1)
  c_BxH = jax.nn.sigmoid(f) * c_BxH + jax.nn.sigmoid(i) * jnp.tanh(g)
  return c_BxH, jax.nn.sigmoid(o) * jnp.tanh(c_BxH)


def run_layer(p, cell, x_BxTxF, reverse=False, unroll=1):
  """Hidden states of every step, B x T x H (in input order, also when reading backwards)."""
  B, H = x_BxTxF.shape[0], p["u_HxG"].shape[0]
  gx_TxBxG = jnp.einsum("btf,fg->tbg", x_BxTxF, p["w_FxG"]) + p["b_G"]

  def step(carry, gx_BxG):
    if cell == "gru":
      h_BxH = carry = gru_step(p, carry, gx_BxG)
    else:
      carry = lstm_step(p, carry, gx_BxG)
      h_BxH = carry[1]
    return carry, h_BxH

  zeros = jnp.zeros((B, H), x_BxTxF.dtype)
  _, h_TxBxH = lax.scan(step, zeros if cell == "gru" else (zeros, zeros), gx_TxBxG, reverse=reverse,
                         unroll=unroll)
  return jnp.swapaxes(h_TxBxH, 0, 1)


def recurrent(num_classes, cell="gru", hidden=64, bidirectional=False, readout="last", unroll=1):
  """A one-layer GRU or LSTM and a Dense classifier.

  unroll: time steps per iteration of the compiled loop (True: all). The numbers are the same;
  XLA's cost analysis counts a loop body once, so FLOPs are counted on the unrolled twin.
  readout "last": the final hidden state (for a bidirectional net, each direction's final state);
  readout "all": every step's hidden state, flattened (the MNIST-1D paper's GRU does this).
  """
  if cell not in GATES:
    raise ValueError(f"cell must be one of {sorted(GATES)}, not {cell!r}")
  if readout not in ("last", "all"):
    raise ValueError(f"readout must be 'last' or 'all', not {readout!r}")
  directions = 2 if bidirectional else 1

  def features(x_BxS):
    x_BxTxF = as_sequence(x_BxS)
    return x_BxTxF.shape[1], x_BxTxF.shape[2]

  def init(key, x_BxS):
    T, F = features(x_BxS)
    keys = jax.random.split(key, directions + 1)
    p = {"forward": _cell_init(keys[0], cell, F, hidden)}
    if bidirectional:
      p["backward"] = _cell_init(keys[1], cell, F, hidden)
    d = directions * hidden * (T if readout == "all" else 1)
    p["w_DxK"] = jax.random.normal(keys[-1], (d, num_classes)) / math.sqrt(d)
    p["b_K"] = jnp.zeros(num_classes)
    return p

  def apply(params, x_BxS):
    x_BxTxF = as_sequence(x_BxS)
    outs = [run_layer(params["forward"], cell, x_BxTxF, unroll=unroll)]
    if bidirectional:
      outs.append(run_layer(params["backward"], cell, x_BxTxF, reverse=True, unroll=unroll))
    if readout == "last":
      # Forward ends at the last step, backward at the first.
      h_BxD = jnp.concatenate([outs[0][:, -1]] + [o[:, 0] for o in outs[1:]], axis=-1)
    else:
      h_BxD = jnp.concatenate(outs, axis=-1).reshape(x_BxTxF.shape[0], -1)
    return h_BxD @ params["w_DxK"] + params["b_K"]
  return Model(init, apply)


def gru(num_classes, *, hidden=64, bidirectional=False, readout="last", unroll=1):
  return recurrent(num_classes, "gru", hidden, bidirectional, readout, unroll)


def lstm(num_classes, *, hidden=64, bidirectional=False, readout="last", unroll=1):
  return recurrent(num_classes, "lstm", hidden, bidirectional, readout, unroll)


def mnist1d_gru(num_classes, *, hidden=6, unroll=1):
  """The MNIST-1D paper's GRU: bidirectional, 6 hidden units, every step's output to the classifier."""
  return recurrent(num_classes, "gru", hidden, bidirectional=True, readout="all", unroll=unroll)
