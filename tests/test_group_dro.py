"""Group DRO (research/engine/group_dro.py): the adversary's update as in Sagawa et al., and the engine's
guarantees (divergence, best-validation parameters, patience) under cells.run_cell."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.engine import cells, group_dro, group_losses, train
from research import models


def test_weights_update_as_in_the_paper_on_a_hand_example():
  """q_g <- q_g exp(eta (L_g + C / sqrt(n_g))), normalized; a group without training examples keeps q = 0."""
  adversary = group_dro.group_weights()
  # Two groups, eta = ln 2, no adjustment: losses (1, 0) double the first group's weight: q = (2/3, 1/3).
  state = adversary.init(jnp.array([5, 5]), math.log(2.0), 0.0)
  np.testing.assert_allclose(group_dro.weights(state), [0.5, 0.5])
  state = adversary.update(jnp.array([1.0, 0.0]), state)
  np.testing.assert_allclose(group_dro.weights(state), [2 / 3, 1 / 3], rtol=1e-6)
  # Four groups, the last one empty (a zero-shot split), with the group adjustment C / sqrt(n_g).
  counts, eta, c = np.array([100, 25, 4, 0]), 0.1, 2.0
  state = adversary.init(jnp.asarray(counts), eta, c)
  np.testing.assert_allclose(group_dro.weights(state), [1 / 3, 1 / 3, 1 / 3, 0])
  q = np.array([1 / 3, 1 / 3, 1 / 3, 0.0])
  for loss in ([1.0, 0.5, 2.0, 0.0], [0.2, 0.9, 0.1, 0.0]):
    state = adversary.update(jnp.asarray(loss), state)
    adjusted = np.asarray(loss) + c / np.sqrt(np.maximum(counts, 1))
    q = q * np.exp(eta * adjusted)  # the paper's step, by hand
    q = q / q.sum()
    np.testing.assert_allclose(group_dro.weights(state), q, rtol=1e-5)
  assert float(group_dro.weights(state)[3]) == 0.0
  # By hand for the first step: adjusted losses 1.2, 0.9, 3.0 -> q proportional to e^0.12, e^0.09, e^0.30.
  first = np.exp([0.12, 0.09, 0.30])
  state = adversary.update(jnp.array([1.0, 0.5, 2.0, 0.0]), adversary.init(jnp.asarray(counts), eta, c))
  np.testing.assert_allclose(group_dro.weights(state)[:3], first / first.sum(), rtol=1e-5)


def test_group_means_and_balanced_draws():
  mean_G, count_G = group_losses.group_means(jnp.array([1.0, 3.0, 5.0]), jnp.array([0, 0, 1]), 4)
  np.testing.assert_allclose(mean_G, [2.0, 5.0, 0.0, 0.0])  # a group the batch lacks: 0, as in the authors' code
  np.testing.assert_allclose(count_G, [2, 1, 0, 0])
  g = jnp.array([0] * 6 + [1] * 3 + [2])
  p = np.asarray(group_losses.balanced_probabilities(g, 4))
  np.testing.assert_allclose([p[np.asarray(g) == k].sum() for k in range(3)], [1 / 3] * 3, rtol=1e-6)


@pytest.fixture
def grouped(tiny):
  """The tiny 4-class problem with each example's class as its group."""
  return dict(tiny, g_train=tiny["y_train"], g_val=tiny["y_val"])


def _hp(lr, members=2):
  return [{"learning_rate": lr, "group_step": 0.01, "group_adjustment": 1.0}] * members


def test_the_engine_guarantees_hold(grouped, tmp_path):
  trainer = group_dro.make_trainer(models.mlp(4, depth=1, width=8), "adam", 32, num_groups=4, patience=2)
  cell = cells.run_cell(trainer, grouped, name="dro", spec={}, seeds=[0, 1], hparams=_hp(1e-2), epochs=30,
                        root=tmp_path, progress=False, need_state=True)
  state, summary = cell.state, cell.summary
  best = np.asarray(state.best_epoch)
  assert np.all(best >= 1) and np.all(np.asarray(state.stopped))  # stopped by patience before 30 epochs
  assert summary.final("epochs_run") == [int(b) + 2 for b in best]
  # best_val is the worst-group validation accuracy of the parameters kept, and the best of any epoch seen.
  v = train.vmapped(trainer)
  predictions = jax.vmap(lambda p: jnp.argmax(models.mlp(4, depth=1, width=8).apply(p, grouped["x_val"]), -1))(
      train.selected(state))
  y = np.asarray(grouped["y_val"])
  worst = [min((np.asarray(p)[y == k] == k).mean() for k in range(4) if np.any(y == k)) for p in predictions]
  np.testing.assert_allclose(np.asarray(state.best_val), worst, atol=1e-6)
  assert summary.final("val_acc") == pytest.approx(list(np.asarray(v.evaluate(train.selected(state),
                                                                              grouped["x_val"], y)[1])), abs=1e-6)
  # The adversary moved: q is no longer uniform, and sums to one.
  q = np.asarray(jnp.exp(state.opt_state[1].log_q_G))
  np.testing.assert_allclose(q.sum(1), 1.0, rtol=1e-5)
  assert np.abs(q - 0.25).max() > 1e-3
  # A second run reads the cell back.
  again = cells.run_cell(trainer, grouped, name="dro", spec={}, seeds=[0, 1], hparams=_hp(1e-2), epochs=30,
                         root=tmp_path, progress=False)
  assert again.summary.reused and again.summary.members == summary.members


def test_a_diverging_member_is_frozen_and_flagged(grouped):
  """As in the engine (tests/test_train.py): the member frozen before the blow-up, its cellmate unaffected."""
  trainer = group_dro.make_trainer(models.mlp(4, depth=2, width=16), "sgd", 32, num_groups=4)
  v = train.vmapped(trainer)
  run = jax.jit(v.train, static_argnums=2)

  def sweep(lrs):
    hp = train.stack([{"learning_rate": lr, "group_step": 0.01, "group_adjustment": 0.0} for lr in lrs])
    return run(v.init(train.keys([0, 0]), hp, grouped, None, None), grouped, 3)
  state, hist = sweep([1e-2, 1e9])
  assert not bool(np.asarray(hist.diverged)[0].any()) and bool(np.asarray(hist.diverged)[1, -1])
  assert all(bool(jnp.isfinite(p[1]).all()) for p in jax.tree.leaves(state.params))
  _, ok_hist = sweep([1e-2, 1e-2])
  np.testing.assert_allclose(hist.train_loss[0], ok_hist.train_loss[0], rtol=1e-5)


def test_the_objective_and_the_selection_are_part_of_the_identity(grouped):
  """Spelled out, the defaults are the same cell; another objective or selection is another cell."""
  make = lambda **kw: group_dro.make_trainer(models.mlp(4, depth=1, width=8), "adam", 32, num_groups=4, patience=2,
                                             **kw)
  key = lambda t, hp=_hp(1e-2): cells.identity(t, grouped, seeds=[0, 1], hparams=hp, epochs=3)[0]
  default = key(make())
  assert key(make(objective="group_dro", selection="worst")) == default
  assert key(make(selection="average")) != default
  erm = {"learning_rate": 1e-2, "penalty_weight": 0.0, "penalty_anneal": 0.0}
  penalized = {obj: key(make(objective=obj), [erm] * 2) for obj in ("erm", "irm", "vrex")}
  assert len(set(penalized.values())) == 3 and default not in penalized.values()


def test_average_selection_keeps_the_best_average_validation_accuracy(grouped, tmp_path):
  """selection="average": best_val is the whole validation split's accuracy, the best of any epoch."""
  trainer = group_dro.make_trainer(models.mlp(4, depth=1, width=8), "adam", 32, num_groups=4, patience=3,
                                   objective="erm", selection="average")
  cell = cells.run_cell(trainer, grouped, name="erm", spec={}, seeds=[0, 1], hparams=[{"learning_rate": 1e-2}] * 2,
                        epochs=12, root=tmp_path, progress=False, need_state=True)
  best = np.asarray(cell.state.best_val)
  np.testing.assert_allclose(best, cell.summary.final("val_acc"), atol=1e-6)
  curves = np.array(cell.summary.history("val_acc"), float)
  np.testing.assert_allclose(best, np.nanmax(curves, 1), atol=1e-6)
