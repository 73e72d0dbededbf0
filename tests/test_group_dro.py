"""Group DRO (research/group_dro.py): the adversary's update as in Sagawa et al., and the engine's
guarantees (divergence, best-validation parameters, patience) under cells.run_cell."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research import cells, group_dro, models, train


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
  mean_G, count_G = group_dro.group_means(jnp.array([1.0, 3.0, 5.0]), jnp.array([0, 0, 1]), 4)
  np.testing.assert_allclose(mean_G, [2.0, 5.0, 0.0, 0.0])  # a group the batch lacks: 0, as in the authors' code
  np.testing.assert_allclose(count_G, [2, 1, 0, 0])
  g = jnp.array([0] * 6 + [1] * 3 + [2])
  p = np.asarray(group_dro.balanced_probabilities(g, 4))
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


# Golden program hashes (init, training, selection + evaluation) of Group DRO cells, computed with
# research/group_dro.py as it was before the objective= and selection= options existed (commit 1aed1f1;
# the identity keys then were 54b0e51753da, de4ce38c1463 and f6dccab67cbe): the defaults
# (objective="group_dro", selection="worst") must lower to the same programs, or every Group DRO cell
# (experiments/modular/) would train again. Lowered programs are only comparable on the stack they were
# lowered on.
GOLDEN_JAX, GOLDEN_BACKEND = "0.10.2", "cpu"
GOLDEN_KEYS = {"cosine": ("c402802686e0c879", "ae9285e1105a13bb", "8807bf3f8e839ef3"),
               "map": ("08495803a4a76372", "b6819f2e85673a33", "ed1b3bc05f5fe04e"),
               "vmap": ("08495803a4a76372", "5e70b29f0d211665", "ed1b3bc05f5fe04e")}


@pytest.mark.skipif(jax.__version__ != GOLDEN_JAX or jax.default_backend() != GOLDEN_BACKEND,
                    reason="the golden keys were computed with jax 0.10.2 on cpu")
@pytest.mark.parametrize("case", sorted(GOLDEN_KEYS))
def test_the_default_objective_keeps_every_group_dro_cells_identity(grouped, case):
  from research import optim
  if case == "cosine":
    trainer = group_dro.make_trainer(models.mlp(4, depth=2, width=16), "sgd", 64, num_groups=4, patience=5,
                                     schedule=optim.schedule("cosine", warmup_epochs=1, epochs=10))
    _, parts = cells.identity(trainer, grouped, seeds=[3], epochs=10,
                              hparams=[{"learning_rate": 0.1, "group_step": 0.05, "group_adjustment": 0.0}])
  else:
    trainer = group_dro.make_trainer(models.mlp(4, depth=1, width=8), "adam", 32, num_groups=4, patience=2)
    _, parts = cells.identity(trainer, grouped, seeds=[0, 1], hparams=_hp(1e-2), epochs=3, layout=case)
  assert (parts["init_program"], parts["train_program"], parts["eval_program"]) == GOLDEN_KEYS[case]
  key = cells.key_of(parts)
  # Spelled out, the defaults are the same program; another objective or selection is another program.
  explicit = group_dro.make_trainer(models.mlp(4, depth=1, width=8), "adam", 32, num_groups=4, patience=2,
                                    objective="group_dro", selection="worst")
  same = lambda t, hp=_hp(1e-2): cells.identity(t, grouped, seeds=[0, 1], hparams=hp, epochs=3)[0]
  if case == "vmap":
    assert same(explicit) == key
    average = group_dro.make_trainer(models.mlp(4, depth=1, width=8), "adam", 32, num_groups=4, patience=2,
                                     selection="average")
    assert same(average) != key


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
