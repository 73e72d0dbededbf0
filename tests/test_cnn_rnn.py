"""The CNN and the GRU/LSTM: shapes, parameter counts, agreement with flax's own layers and a
step-by-step reference, and training inside the vmapped engine."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.models import cnn, rnn
from research import models
from research.engine import train


def _x(*shape, seed=0):
  return jax.random.normal(jax.random.key(seed), shape)


@pytest.mark.parametrize("name, options, shape, params", [
    # conv 5*5*6+6, conv 5*5*6*16+16, 400*120+120, 120*84+84, 84*10+10
    ("lenet5", {}, (28, 28, 1), 156 + 2416 + 48120 + 10164 + 850),
    # the MNIST-1D paper's 5.2K: 5*25+25, 2 x (3*25*25+25), 5 steps * 25 channels * 10 + 10
    ("mnist1d_cnn", {}, (40, 1), 150 + 2 * 1900 + 1260),
    ("cnn", dict(channels=(4, 8), kernel=3, dense=()), (8, 8, 1), 40 + 296 + 2 * 2 * 8 * 10 + 10),
    # GRU: 3H(F + H) + 3H + H, then H*K + K
    ("gru", dict(hidden=64), (28, 28, 1), 3 * 64 * (28 + 64) + 4 * 64 + 64 * 10 + 10),
    # LSTM: 4H(F + H) + 4H
    ("lstm", dict(hidden=64), (28, 28, 1), 4 * 64 * (28 + 64) + 4 * 64 + 64 * 10 + 10),
    # bidirectional, readout of all 40 steps: 2 * (3*6*(1+6) + 4*6) + 2*6*40*10 + 10
    ("mnist1d_gru", {}, (40, 1), 2 * (3 * 6 * 7 + 24) + 480 * 10 + 10),
])
def test_shapes_and_parameter_counts(name, options, shape, params):
  model = models.build(name, 10, **options)
  x = jax.ShapeDtypeStruct((3, *shape), jnp.float32)
  assert jax.eval_shape(model.apply, models.param_shapes(model, shape), x).shape == (3, 10)
  assert models.param_count(model, shape) == params


def test_cnn_equals_flax_conv_and_max_pool():
  """The im2col convolution and reshape pooling give nn.Conv's and nn.max_pool's numbers."""
  class Reference(nn.Module):
    channels: tuple
    kernel: tuple
    stride: tuple
    padding: tuple
    pool: int

    @nn.compact
    def __call__(self, x):
      s = x.ndim - 2
      for i, c in enumerate(self.channels):
        x = nn.relu(nn.Conv(c, (self.kernel[i],) * s, (self.stride[i],) * s, self.padding[i])(x))
        if self.pool > 1:
          x = nn.max_pool(x, (self.pool,) * s, (self.pool,) * s)
      return nn.Dense(10)(x.reshape(x.shape[0], -1))

  cases = [((3, 2), (3, 2), (1, 2), ("SAME", "VALID"), 2, (2, 11, 9, 2)),  # odd sizes: pooling drops a row
           ((4, 5), (5, 3), (2, 2), (1, 1), 1, (2, 40, 1)),                  # 1-D, integer padding
           ((3,), (3,), (1,), ("SAME",), 3, (2, 20, 2))]
  for channels, kernel, stride, padding, pool, shape in cases:
    ours = cnn.cnn(10, channels=channels, kernel=kernel, stride=stride, padding=padding, pool=pool, dense=())
    ref = models.from_flax(Reference(channels, kernel, stride, padding, pool))
    x = _x(*shape)
    p = ours.init(jax.random.key(1), x)
    # The same parameter names (Conv_i, Dense_0): one set of weights serves both.
    np.testing.assert_allclose(ours.apply(p, x), ref.apply(p, x), atol=2e-5, rtol=1e-5)


def _gru_reference(p, x_BxTxF):
  """The GRU equations, one time step at a time, in numpy."""
  sig = lambda a: 1 / (1 + np.exp(-a))
  w, u, b, c = (np.asarray(p[k], np.float64) for k in ("w_FxG", "u_HxG", "b_G", "c_H"))
  H = u.shape[0]
  h = np.zeros((x_BxTxF.shape[0], H))
  outs = []
  for t in range(x_BxTxF.shape[1]):
    gx, gh = x_BxTxF[:, t] @ w + b, h @ u
    r = sig(gx[:, :H] + gh[:, :H])
    z = sig(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * (gh[:, 2 * H:] + c))
    h = (1 - z) * n + z * h
    outs.append(h)
  return np.stack(outs, 1)


def test_gru_matches_step_by_step_reference_and_flax():
  x = np.asarray(_x(2, 5, 3), np.float64)
  model = rnn.gru(4, hidden=6)
  p = model.init(jax.random.key(2), jnp.asarray(x, jnp.float32))
  p["forward"]["c_H"] = 0.1 * _x(6, seed=3)  # a non-zero inner bias, so its placement is tested
  p["forward"]["b_G"] = 0.1 * _x(18, seed=4)
  ref_h = _gru_reference(p["forward"], x)
  h = rnn.run_layer(p["forward"], "gru", jnp.asarray(x, jnp.float32))
  np.testing.assert_allclose(h, ref_h, atol=1e-5)
  np.testing.assert_allclose(model.apply(p, jnp.asarray(x, jnp.float32)),
                             ref_h[:, -1] @ np.asarray(p["w_DxK"]) + np.asarray(p["b_K"]), atol=1e-5)

  # flax.linen.GRUCell, an independent implementation, with the same weights.
  w, u, b, c = (p["forward"][k] for k in ("w_FxG", "u_HxG", "b_G", "c_H"))
  cols = lambda a, g: a[..., g * 6:(g + 1) * 6]
  fp = {f"i{g}": {"kernel": cols(w, i), "bias": cols(b, i)} for i, g in enumerate("rzn")}
  fp.update({f"h{g}": {"kernel": cols(u, i)} for i, g in enumerate("rz")}, hn={"kernel": cols(u, 2), "bias": c})
  flax_h = nn.RNN(nn.GRUCell(6)).apply({"params": {"cell": fp}}, jnp.asarray(x, jnp.float32))
  np.testing.assert_allclose(h, flax_h, atol=1e-5)


def test_lstm_matches_flax():
  x = _x(2, 5, 3)
  model = rnn.lstm(4, hidden=6)
  p = model.init(jax.random.key(2), x)["forward"]
  cols = lambda a, g: a[..., g * 6:(g + 1) * 6]
  fp = {f"i{g}": {"kernel": cols(p["w_FxG"], i)} for i, g in enumerate("ifgo")}
  fp.update({f"h{g}": {"kernel": cols(p["u_HxG"], i), "bias": cols(p["b_G"], i)} for i, g in enumerate("ifgo")})
  flax_h = nn.RNN(nn.LSTMCell(6)).apply({"params": {"cell": fp}}, x)
  np.testing.assert_allclose(rnn.run_layer(p, "lstm", x), flax_h, atol=1e-5)


def test_bidirectional_reads_backwards_and_images_row_by_row():
  img = _x(2, 7, 5, 1)
  model = rnn.gru(3, hidden=4, bidirectional=True)
  p = model.init(jax.random.key(0), img)
  seq = img.reshape(2, 7, 5)  # 7 rows of 5 pixels
  fwd = rnn.run_layer(p["forward"], "gru", seq)[:, -1]
  bwd = rnn.run_layer(p["backward"], "gru", seq[:, ::-1])[:, -1]  # the backward pass ends at row 0
  expect = jnp.concatenate([fwd, bwd], -1) @ p["w_DxK"] + p["b_K"]
  np.testing.assert_allclose(model.apply(p, img), expect, atol=1e-5)
  # unroll changes the compiled loop, not the numbers
  np.testing.assert_allclose(rnn.gru(3, hidden=4, bidirectional=True, unroll=True).apply(p, img),
                             expect, atol=1e-5)


@pytest.mark.parametrize("name, options", [("cnn", dict(channels=(4,), kernel=3, dense=())),
                                           ("gru", dict(hidden=16))])
def test_trains_in_the_vmapped_engine(digits, name, options):
  """Two seeds in one compiled sweep learn the 8x8 digits well above chance (10%)."""
  ds, arrays = digits
  model = models.build(name, ds.num_classes, **options)
  trainer = train.make_trainer(model, "adam", 64)
  state, hist = train.sweep(trainer, train.keys([0, 1]), train.stack([{"learning_rate": 3e-3}] * 2),
                            arrays, 3)
  acc = np.asarray(hist.val_acc)
  assert acc.shape == (2, 3)
  assert (acc[:, -1] > 0.4).all(), acc
  assert not np.asarray(state.diverged).any()
  leaf = jax.tree.leaves(state.params)[0]
  assert leaf.shape[0] == 2 and not np.allclose(leaf[0], leaf[1])  # two different members
