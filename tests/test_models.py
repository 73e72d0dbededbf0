import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research import models
from research.engine import train
from research.system.errors import UserError


@pytest.mark.parametrize("depth,width,residual", [(0, 16, False), (1, 16, False), (3, 8, False), (4, 8, True)])
def test_mlp_shapes_and_parameter_count(depth, width, residual):
  model = models.mlp(10, depth=depth, width=width, residual=residual)
  x = jnp.ones((5, 28, 28, 1))
  params = model.init(jax.random.key(0), x)
  assert model.apply(params, x).shape == (5, 10)
  dims = [784] + [width] * depth + [10]
  expected = sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))
  assert models.param_count(model, (28, 28, 1)) == expected


def test_flops_are_twice_the_multiply_adds():
  model = models.mlp(10, depth=2, width=32)
  macs = 64 * 32 + 32 * 32 + 32 * 10
  flops = models.flops_per_example(model, (8, 8, 1))
  assert 2 * macs <= flops <= 2 * macs + 8 * (32 + 32 + 10)  # plus bias adds and ReLUs


def test_depth_zero_is_the_logistic_neuron():
  """z = w1 x1 + ... + wn xn + b for every class."""
  model = models.mlp(3, depth=0, width=99)
  x = jax.random.normal(jax.random.key(1), (4, 5))
  p = model.init(jax.random.key(0), x)
  assert set(p) == {"w_DxK", "b_K"}
  z = model.apply(p, x)
  manual = np.array([[sum(p["w_DxK"][i, k] * x[n, i] for i in range(5)) + p["b_K"][k] for k in range(3)]
                     for n in range(4)])
  np.testing.assert_allclose(z, manual, rtol=1e-5, atol=1e-6)


def test_logistic_gradient_matches_finite_differences():
  with jax.enable_x64(True):
    model = models.logistic(3)
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(k1, (7, 4), jnp.float64)
    y = jax.random.randint(k2, (7,), 0, 3)
    p = jax.tree.map(lambda a: a.astype(jnp.float64), model.init(k3, x))
    loss = lambda p: train.cross_entropy(model.apply(p, x), y).mean()
    grad = jax.grad(loss)(p)
    eps = 1e-6
    for name in p:
      flat = np.asarray(p[name]).ravel()
      for i in range(flat.size):
        d = np.zeros_like(flat)
        d[i] = eps
        plus = dict(p, **{name: jnp.asarray((flat + d).reshape(p[name].shape))})
        minus = dict(p, **{name: jnp.asarray((flat - d).reshape(p[name].shape))})
        fd = (loss(plus) - loss(minus)) / (2 * eps)
        assert abs(fd - np.asarray(grad[name]).ravel()[i]) < 1e-7


def test_residual_keeps_activations_bounded_at_depth():
  x = jax.random.normal(jax.random.key(0), (256, 64))
  for depth in (2, 16):
    model = models.residual_mlp(10, depth=depth, width=64)
    logits = model.apply(model.init(jax.random.key(1), x), x)
    assert float(jnp.std(logits)) < 10


def test_models_compose_with_vmap_and_grad():
  model = models.mlp(4, depth=2, width=8)
  x = jnp.ones((3, 6))
  params = jax.vmap(model.init, in_axes=(0, None))(jax.random.split(jax.random.key(0), 5), x)
  out = jax.vmap(model.apply, in_axes=(0, None))(params, x)
  assert out.shape == (5, 3, 4)
  g = jax.grad(lambda p: model.apply(p, x).sum())(jax.tree.map(lambda a: a[0], params))
  assert jax.tree.structure(g) == jax.tree.structure(jax.tree.map(lambda a: a[0], params))


# An input each registered model reads: images for the image models, signals for MNIST-1D's.
SHAPES = {"lenet5": (28, 28, 1), "mnist1d_cnn": (40, 1), "mnist1d_gru": (40, 1)}


# The ResNet's compilation takes most of this test's time: with the slow tests (its nets are checked in
# tests/test_resnet_ladder.py and tests/test_batch_norm.py too).
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "resnet" else n
                                  for n in sorted(models.MODELS)])
def test_every_registered_model_builds_applies_and_trains(name, tiny):
  """Defaults only, so a newly registered model is covered here with no new test code."""
  shape = SHAPES.get(name, (8, 8, 1))
  model = models.build(name, 4)
  x_BxS = jax.random.normal(jax.random.key(0), (5, *shape))
  params = model.init(jax.random.key(1), x_BxS)
  state = (model.init_state(jax.random.key(1), x_BxS),) if models.has_state(model) else ()  # batch norm's
  assert model.apply(params, x_BxS, *state).shape == (5, 4)
  k1, k2 = jax.random.split(jax.random.key(2))
  x_train = jax.random.normal(k1, (64, *shape))
  arrays = dict(x_train=x_train, y_train=tiny["y_train"][:64], x_test=x_train[:32], y_test=tiny["y_train"][:32])
  trainer = train.make_trainer(model, "adam", 32)
  state, hist = train.sweep(trainer, train.keys([0]), train.stack([{"learning_rate": 1e-3}]), arrays, 1)
  assert np.isfinite(np.asarray(hist.train_loss)).all()
  assert all(np.isfinite(np.asarray(p)).all() for p in jax.tree.leaves(state.params))


def test_unknown_model_name_is_a_one_line_user_error():
  with pytest.raises(UserError, match=r"unknown model 'mpl' \(did you mean 'mlp'\?\); valid: .*residual_mlp") as e:
    models.build("mpl", 10)
  assert "\n" not in str(e.value)


def test_unknown_option_is_a_one_line_user_error_listing_the_valid_ones():
  with pytest.raises(UserError, match=r"model 'mlp' has no option 'dept' \(did you mean 'depth'\?\); "
                                      r"valid: depth, width, residual, activation$"):
    models.build("mlp", 10, dept=3)
  with pytest.raises(UserError, match=r"model 'logistic' has no option 'width'; valid: \(none\)"):
    models.build("logistic", 10, width=3)


def test_options_are_keyword_only_after_num_classes():
  """mlp(1, 16, 4) was (depth, width, classes) once: now a TypeError, never a silent misreading."""
  with pytest.raises(TypeError):
    models.mlp(1, 16, 4)
  assert models.param_count(models.mlp_widths(3, (5, 4)), (2,)) == 2 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3


def test_same_function_tells_a_residual_net_without_skips_from_one_with_them():
  shape = (6,)
  same = lambda depth: models.same_function(models.build("mlp", 3, depth=depth, width=8),
                                            models.build("residual_mlp", 3, depth=depth, width=8), shape)
  assert same(0) and same(1) and not same(2)
  assert not models.same_function(models.build("mlp", 3, depth=1, width=8),
                                  models.build("mlp", 3, depth=1, width=8, activation="tanh"), shape)
  assert not models.same_function(models.build("mlp", 3, depth=1, width=8),
                                  models.build("mlp", 3, depth=1, width=9), shape)


def test_width_for_params_is_the_closed_form_for_an_mlp():
  """1 x N' has N'(inputs + 1 + classes) + classes parameters."""
  for target in (203530, 269322, 466698, 1000):
    found = models.width_for_params(lambda w: models.mlp(10, depth=1, width=w), target, (28, 28, 1))
    assert found == max(1, round((target - 10) / (784 + 1 + 10)))
