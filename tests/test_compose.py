"""Composition of models is pure; frozen modules stay exactly as they were; contenders train."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from experiments.modular import compose
from research import models
from research.engine import train


@pytest.fixture(scope="module")
def four_groups():
  """A small 4-group problem: a and b are signs of two input directions."""
  k1, k2 = jax.random.split(jax.random.key(1))
  x = jax.random.normal(k1, (512, 10))
  xt = jax.random.normal(k2, (128, 10))
  two = lambda x: jnp.stack([(x[:, 0] > 0), (x[:, 1] > 0)], 1).astype(jnp.int32)
  y, yt = two(x), two(xt)
  # The engine's curves are on the validation split: here a copy of the test set.
  return (dict(x_train=x, y_train=y, x_test=xt, y_test=yt, x_val=xt, y_val=yt), 2 * y[:, 0] + y[:, 1],
          2 * yt[:, 0] + yt[:, 1])


def pair():
  return compose.parallel(models.mlp(2, depth=1, width=8), models.mlp(2, depth=1, width=8))


def test_product_logits_is_the_product_of_probabilities():
  logits = jax.random.normal(jax.random.key(0), (5, 4))
  joint = jnp.exp(compose.product_logits(logits))
  pa, pb = jax.nn.softmax(logits[:, :2]), jax.nn.softmax(logits[:, 2:])
  for a in range(2):
    for b in range(2):
      np.testing.assert_allclose(joint[:, 2 * a + b], pa[:, a] * pb[:, b], rtol=1e-5)
  np.testing.assert_allclose(joint.sum(1), 1.0, rtol=1e-5)


def test_composition_is_pure(four_groups):
  data, _, _ = four_groups
  model = compose.compose(pair(), combiner=models.mlp(4, depth=1, width=4), readout=compose.head_log_probs)
  p1 = model.init(jax.random.key(3), data["x_train"][:1])
  p2 = model.init(jax.random.key(3), data["x_train"][:1])
  jax.tree.map(np.testing.assert_array_equal, p1, p2)
  before = jax.tree.map(np.array, p1)
  out1 = model.apply(p1, data["x_test"])
  out2 = jax.jit(model.apply)(p1, data["x_test"])
  np.testing.assert_allclose(out1, out2, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(out1, model.apply(p1, data["x_test"]))
  jax.tree.map(np.testing.assert_array_equal, before, p1)  # applying changes nothing
  assert out1.shape == (128, 4)


@pytest.fixture(scope="module")
def trained_pair(four_groups):
  """Two attribute modules trained together (two seeds), as the modular contender is."""
  data, _, _ = four_groups
  trainer = train.make_trainer(pair(), "adam", 64, loss_fn=compose.two_head_loss,
                               correct_fn=compose.two_head_correct)
  return train.sweep(trainer, train.keys([0, 1]), train.stack([{"learning_rate": 1e-2}] * 2), data, 10)


def test_frozen_modules_unchanged_after_training_the_combiner(four_groups, trained_pair):
  data, g, g_test = four_groups
  state, _ = trained_pair
  trained = jax.tree.map(np.array, state.params)
  model = compose.compose(pair(), combiner=models.mlp(4, depth=1, width=16), readout=compose.head_log_probs)
  init = compose.init_members(model, train.keys([5, 6]), data["x_train"][:1], state.params)
  four = dict(data, y_train=g, y_test=g_test, y_val=g_test)
  v = train.vmapped(train.make_trainer(model, "adam", 64))
  hp = train.stack([{"learning_rate": 1e-2}] * 2)
  cstate = v.init(train.keys([0, 1]), hp, four, None, init)
  cstate, hist = jax.jit(v.train, static_argnums=2)(cstate, four, 10)
  jax.tree.map(np.testing.assert_array_equal, trained, cstate.params["modules"][0])
  moved = jax.tree.map(lambda a, b: float(jnp.abs(a - b).max()), init["combiner"], cstate.params["combiner"])
  assert max(jax.tree.leaves(moved)) > 0  # the combiner did train
  acc = np.asarray(hist.val_acc)
  assert np.all(acc[:, -1] > acc[:, 0]) and np.all(acc[:, -1] > 0.8)


def test_frozen_is_a_choice():
  """frozen=True: exactly zero gradient for the modules; frozen=False: end-to-end fine-tuning."""
  x = jax.random.normal(jax.random.key(2), (16, 10))
  y = jnp.arange(16) % 4
  for frozen in (True, False):
    # Logistic parts: pure jnp, quick to trace; the gradient question is the same for any module.
    model = compose.compose(models.logistic(2), models.logistic(2), combiner=models.logistic(4),
                            frozen=frozen)
    params = jax.jit(model.init)(jax.random.key(0), x)
    grads = jax.jit(jax.grad(lambda p: train.cross_entropy(model.apply(p, x), y).mean()))(params)
    module_norm = float(optax.tree.norm(grads["modules"]))
    assert (module_norm == 0.0) if frozen else (module_norm > 0.0)
    assert float(optax.tree.norm(grads["combiner"])) > 0.0


def test_two_head_contenders_learn_both_attributes(four_groups, trained_pair):
  data, _, _ = four_groups
  _, hist = trained_pair
  assert np.all(np.asarray(hist.val_acc)[:, -1] > 0.85)  # 4-way accuracy of the product rule
  trainer = train.make_trainer(compose.shared_trunk((16,)), "adam", 64, loss_fn=compose.two_head_loss,
                               correct_fn=compose.two_head_correct)
  _, hist = train.sweep(trainer, train.keys([0]), train.stack([{"learning_rate": 1e-2}]), data, 10)
  assert float(np.asarray(hist.val_acc)[0, -1]) > 0.85
  assert models.param_count(pair(), (10,)) == 2 * models.param_count(models.mlp(2, depth=1, width=8), (10,))


def test_head_log_probs_and_two_head_loss():
  logits = jnp.array([[2.0, 0.0, -1.0, 1.0]])
  lp = compose.head_log_probs(logits)
  np.testing.assert_allclose(jnp.exp(lp[:, :2]).sum(), 1.0, rtol=1e-6)
  np.testing.assert_allclose(jnp.exp(lp[:, 2:]).sum(), 1.0, rtol=1e-6)
  y = jnp.array([[0, 1]])
  np.testing.assert_allclose(compose.two_head_loss(logits, y), -(lp[0, 0] + lp[0, 3]), rtol=1e-6)
  assert float(compose.two_head_correct(logits, y)[0]) == 1.0  # argmax: a = 0, b = 1 -> group 1
  assert float(compose.two_head_correct(logits, jnp.array([[1, 1]]))[0]) == 0.0
