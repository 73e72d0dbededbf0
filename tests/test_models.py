import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research import models, train


@pytest.mark.parametrize("depth,width,residual", [(0, 16, False), (1, 16, False), (3, 8, False), (4, 8, True)])
def test_mlp_shapes_and_parameter_count(depth, width, residual):
  model = models.mlp(depth, width, 10, residual)
  x = jnp.ones((5, 28, 28, 1))
  params = model.init(jax.random.key(0), x)
  assert model.apply(params, x).shape == (5, 10)
  dims = [784] + [width] * depth + [10]
  expected = sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))
  assert models.param_count(model, (28, 28, 1)) == expected


def test_flops_are_twice_the_multiply_adds():
  model = models.mlp(2, 32, 10)
  macs = 64 * 32 + 32 * 32 + 32 * 10
  flops = models.flops_per_example(model, (8, 8, 1))
  assert 2 * macs <= flops <= 2 * macs + 8 * (32 + 32 + 10)  # plus bias adds and ReLUs


def test_depth_zero_is_the_logistic_neuron():
  """z = w1 x1 + ... + wn xn + b for every class."""
  model = models.mlp(0, 99, 3)
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
    model = models.mlp(depth, 64, 10, residual=True)
    logits = model.apply(model.init(jax.random.key(1), x), x)
    assert float(jnp.std(logits)) < 10


def test_models_compose_with_vmap_and_grad():
  model = models.mlp(2, 8, 4)
  x = jnp.ones((3, 6))
  params = jax.vmap(model.init, in_axes=(0, None))(jax.random.split(jax.random.key(0), 5), x)
  out = jax.vmap(model.apply, in_axes=(0, None))(params, x)
  assert out.shape == (5, 3, 4)
  g = jax.grad(lambda p: model.apply(p, x).sum())(jax.tree.map(lambda a: a[0], params))
  assert jax.tree.structure(g) == jax.tree.structure(jax.tree.map(lambda a: a[0], params))


def test_unknown_model_name_is_a_user_error():
  from research.errors import UserError
  with pytest.raises(UserError, match="unknown model"):
    models.build("transformer", 10)
