import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research import models
from research.engine import train

HP = {"learning_rate": 1e-2}


def _sweep(trainer, data, seeds, lrs, epochs):
  return train.sweep(trainer, train.keys(seeds), train.stack([{"learning_rate": lr} for lr in lrs]), data, epochs)


def test_golden_values_after_one_step(tiny):
  """Pinned numbers of a fixed problem after one step of each optimizer: any change to
  init, shuffling, loss or update shows here."""
  data = dict(tiny, x_train=tiny["x_train"][:32], y_train=tiny["y_train"][:32])
  # (loss of the first minibatch, test loss after the step); momentum's first step is SGD's.
  golden = {"sgd": (1.6361811, 1.5963223), "momentum": (1.6361811, 1.5963223), "adam": (1.6361811, 1.2428727)}
  for opt, (loss0, test1) in golden.items():
    trainer = train.make_trainer(models.mlp(4, depth=1, width=16), opt, batch_size=32)
    state, hist = train.run(trainer, jax.random.PRNGKey(0), {"learning_rate": 0.1}, data, epochs=1)
    assert int(state.epoch) == 1
    np.testing.assert_allclose(hist.train_loss[0], loss0, rtol=1e-4)
    np.testing.assert_allclose(trainer.evaluate(state.params, data["x_test"], data["y_test"])[0], test1, rtol=1e-4)


def test_same_seed_gives_identical_numbers(tiny):
  trainer = train.make_trainer(models.mlp(4, depth=2, width=16), "adam", 32)
  a = _sweep(trainer, tiny, [3, 4], [1e-2, 1e-2], 3)
  b = _sweep(trainer, tiny, [3, 4], [1e-2, 1e-2], 3)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_array_equal(x, y)


def test_chunked_run_equals_whole_run_bit_for_bit(tiny):
  trainer = train.make_trainer(models.mlp(4, depth=2, width=16), "adam", 32)
  state0 = trainer.init(jax.random.PRNGKey(7), HP, tiny)
  whole, hist = jax.jit(trainer.train, static_argnums=2)(state0, tiny, 4)
  state = state0
  losses = []
  for _ in range(4):
    state, h = jax.jit(trainer.train, static_argnums=2)(state, tiny, 1)
    losses.append(h.train_loss[0])
  np.testing.assert_array_equal(np.array(losses), hist.train_loss)
  for x, y in zip(jax.tree.leaves(whole.params), jax.tree.leaves(state.params)):
    np.testing.assert_array_equal(x, y)


def test_vmapped_sweep_equals_per_seed_runs(tiny):
  """Seeds x learning rates in one call give each member's own run. On CPU, XLA sums
  batched reductions in another order, so agreement is to float32 rounding, not bits."""
  trainer = train.make_trainer(models.mlp(4, depth=2, width=16), "adam", 32)
  seeds, lrs = [0, 1, 2, 0], [1e-2, 1e-2, 1e-2, 3e-3]
  states, hists = _sweep(trainer, tiny, seeds, lrs, 3)
  for i, (seed, lr) in enumerate(zip(seeds, lrs)):
    state, hist = jax.jit(train.run, static_argnums=(0, 4))(
        trainer, jax.random.PRNGKey(seed), {"learning_rate": jnp.float32(lr)}, tiny, 3)
    np.testing.assert_allclose(hists.train_loss[i], hist.train_loss, rtol=1e-5)
    np.testing.assert_allclose(hists.val_acc[i], hist.val_acc, atol=1e-6)
    for x, y in zip(jax.tree.leaves(states.params), jax.tree.leaves(state.params)):
      np.testing.assert_allclose(x[i], y, rtol=1e-4, atol=1e-6)
  # a single-member sweep is exactly the unbatched run
  one_state, one_hist = _sweep(trainer, tiny, [1], [1e-2], 3)
  _, solo = jax.jit(train.run, static_argnums=(0, 4))(trainer, jax.random.PRNGKey(1), {"learning_rate": jnp.float32(1e-2)}, tiny, 3)
  np.testing.assert_array_equal(one_hist.train_loss[0], solo.train_loss)


def test_short_run_on_digits_reaches_90_percent(digits):
  ds, arrays = digits
  trainer = train.make_trainer(models.mlp(10, depth=1, width=64), "adam", 32)
  states, _ = _sweep(trainer, arrays, [0, 1], [1e-3, 1e-3], 10)
  _, test_acc = train.vmapped(trainer).evaluate(train.selected(states), arrays["x_test"], arrays["y_test"])
  assert float(test_acc.min()) >= 0.90


@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
def test_every_optimizer_learns(tiny, opt):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=16), opt, 32)
  _, hist = _sweep(trainer, tiny, [0], [0.05], 5)
  assert hist.train_loss[0, -1] < hist.train_loss[0, 0]


def test_divergence_is_caught_in_the_program_and_freezes_only_that_member(tiny):
  trainer = train.make_trainer(models.mlp(4, depth=2, width=16), "sgd", 32)
  state, hist = _sweep(trainer, tiny, [0, 0], [1e-2, 1e9], 3)
  assert not bool(hist.diverged[0].any()) and bool(hist.diverged[1, -1])
  assert all(bool(jnp.isfinite(p[1]).all()) for p in jax.tree.leaves(state.params))  # frozen before the blow-up
  ok_state, ok_hist = _sweep(trainer, tiny, [0, 0], [1e-2, 1e-2], 3)
  np.testing.assert_allclose(hist.train_loss[0], ok_hist.train_loss[0], rtol=1e-5)


def test_mask_keeps_pruned_weights_exactly_zero(tiny):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=16), "adam", 32)
  params = trainer.init(jax.random.PRNGKey(0), HP, tiny).params
  mask = jax.tree.map(lambda p: (jax.random.uniform(jax.random.key(1), p.shape) > 0.5).astype(p.dtype), params)
  state, _ = train.run(trainer, jax.random.PRNGKey(0), HP, tiny, 3, mask=mask)
  for p, m in zip(jax.tree.leaves(state.params), jax.tree.leaves(mask)):
    assert bool(jnp.all(jnp.where(m == 0, p == 0, True)))
    assert bool(jnp.any(p != 0))


def test_weighted_loss_uses_w_train(tiny):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=8), "sgd", 256)
  w = jnp.where(tiny["y_train"] == 0, 0.0, 1.0)
  _, h_w = train.run(trainer, jax.random.PRNGKey(0), HP, dict(tiny, w_train=w), 1)
  _, h = train.run(trainer, jax.random.PRNGKey(0), HP, tiny, 1)
  assert float(h_w.train_loss[0]) < float(h.train_loss[0])
