"""The protocol every experiment follows: selection on validation inside the program, stopping
by patience, schedules, and the statistics readings call differences with."""
import jax
import numpy as np
import pytest
from scipy import stats as scipy_stats

from research.engine import cells, optim, train
from research.cli import config
from research import models
from research.report import stats
from research.system.errors import UserError

HP = {"learning_rate": 3e-2}


def _run(tiny, epochs, **kw):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=16), "adam", 32, **kw)
  return trainer, jax.jit(train.run, static_argnums=(0, 4))(trainer, jax.random.PRNGKey(0), HP, tiny, epochs)


def test_the_selected_parameters_are_those_of_the_best_validation_epoch(tiny):
  trainer, (state, hist) = _run(tiny, 8)
  val = np.asarray(hist.val_acc)
  best = int(np.argmax(val)) + 1  # the first epoch with the highest validation accuracy
  assert int(state.best_epoch) == best and float(state.best_val) == val.max()
  _, acc = trainer.evaluate(train.selected(state), tiny["x_val"], tiny["y_val"])
  assert float(acc) == pytest.approx(val.max(), abs=1e-6)
  if best < 8:  # the last epoch's parameters are not the selected ones
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(state.params),
                                                           jax.tree.leaves(state.best_params)))


def test_patience_stops_a_member_and_its_skipped_epochs_change_nothing(tiny):
  _, (state, hist) = _run(tiny, 30, patience=2)
  assert bool(state.stopped)
  ran = np.isfinite(np.asarray(hist.train_loss))
  last = int(state.best_epoch) + 2
  assert ran[:last].all() and not ran[last:].any()  # it trained until best + patience, then skipped
  # The same member trained just that long has the same parameters: skipping is exact.
  _, (short, _) = _run(tiny, last, patience=2)
  for a, b in zip(jax.tree.leaves(state.best_params), jax.tree.leaves(short.best_params)):
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_a_cell_ends_when_every_member_has_stopped(tiny, tmp_path):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=16), "adam", 32, patience=2)
  out = cells.run_cell(trainer, tiny, name="c", spec={}, seeds=[0, 1], hparams=[HP] * 2, epochs=50,
                       root=tmp_path, progress=False)
  s = out.summary
  assert s.timing.epochs_run < 50 and all(s.final("stopped"))
  assert s.timing.epochs_run == max(s.final("epochs_run"))
  assert [m.final.epochs_run for m in s.members] == [m.final.best_epoch + 2 for m in s.members]
  for m in s.members:  # the reported validation accuracy is that of the best epoch
    assert m.final.val_acc == pytest.approx(np.nanmax(np.array(m.history["val_acc"], float)), abs=1e-6)
  again = cells.run_cell(trainer, tiny, name="c", spec={}, seeds=[0, 1], hparams=[HP] * 2, epochs=50,
                         root=tmp_path, progress=False)
  assert again.summary.reused and again.summary.members == s.members


def test_test_labels_change_no_selection_in_a_cell(tiny, tmp_path):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=16), "adam", 32, patience=2)
  shuffled = dict(tiny, y_test=tiny["y_test"][::-1])
  a, b = (cells.run_cell(trainer, d, name="c", spec={}, seeds=[0, 1], hparams=[HP] * 2, epochs=20,
                         root=tmp_path / name, progress=False).summary for name, d in (("a", tiny), ("b", shuffled)))
  assert a.final("best_epoch") == b.final("best_epoch") and a.final("val_acc") == b.final("val_acc")
  assert [m.history for m in a.members] == [m.history for m in b.members]
  assert a.final("test_acc") != b.final("test_acc")


def test_cosine_schedule_warms_up_and_decays_to_zero():
  f = optim.schedule("cosine", warmup_epochs=2, epochs=10)
  np.testing.assert_allclose([float(f(t)) for t in (0.0, 1.0, 2.0, 6.0, 10.0, 12.0)],
                             [0.0, 0.5, 1.0, 0.5, 0.0, 0.0], atol=1e-6)
  assert optim.schedule("constant")(3.0) == 1.0
  with pytest.raises(UserError, match="unknown schedule 'step'"):
    optim.schedule("step")


def test_a_schedule_changes_the_run_and_constant_changes_nothing(tiny):
  _, (plain, _) = _run(tiny, 2)
  _, (const, _) = _run(tiny, 2, schedule=optim.schedule("constant"))
  _, (cos, _) = _run(tiny, 2, schedule=optim.schedule("cosine", warmup_epochs=1, epochs=2))
  leaf = lambda s: np.asarray(jax.tree.leaves(s.params)[0])
  np.testing.assert_array_equal(leaf(plain), leaf(const))
  assert not np.allclose(leaf(plain), leaf(cos))


def test_welch_matches_scipy_and_its_interval_covers_the_difference():
  rng = np.random.default_rng(0)
  a, b = rng.normal(0.88, 0.003, 5), rng.normal(0.875, 0.006, 7)
  c = stats.welch(a, b)
  ref = scipy_stats.ttest_ind(100 * a, 100 * b, equal_var=False)
  assert c.p == pytest.approx(ref.pvalue, rel=1e-9)
  ci = ref.confidence_interval(0.95)
  assert (c.low, c.high) == pytest.approx((ci.low, ci.high), rel=1e-9)
  assert c.low < c.diff < c.high and (c.n_a, c.n_b) == (5, 7)


def test_holm_adjusts_in_order_and_keeps_monotone():
  assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
  assert stats.holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
  with pytest.raises(ValueError, match="not numbers"):  # a NaN p-value is no test: never corrected over
    stats.holm([0.02, float("nan")])
  # compare leaves a comparison with no test (one seed a side) out of the family, and says so
  tests = stats.compare({"one seed": ([0.9], [0.8]), "tested": ([0.90, 0.91, 0.92], [0.80, 0.81, 0.80])})
  assert np.isnan(tests["one seed"].p_holm) and "no test with 1 seeds" in tests["one seed"].text()
  assert tests["tested"].p_holm == pytest.approx(tests["tested"].p) and tests["tested"].family == 1


def test_a_family_calls_only_what_survives_the_correction():
  base = [0.870, 0.872, 0.868, 0.871, 0.869]
  clear = [v + 0.01 for v in base]
  marginal = [0.8705, 0.8725, 0.8700, 0.8720, 0.8690]  # p about 0.5: never called
  tests = stats.compare({"clear": (clear, base), "marginal": (marginal, base)})
  assert tests["clear"].resolved and tests["clear"].p_holm == pytest.approx(2 * tests["clear"].p)
  assert not tests["marginal"].resolved
  assert tests["marginal"].text().startswith("not resolved at 5 seeds (")
  assert "95% CI" in tests["clear"].text() and "(Holm, 2 comparisons)" in tests["clear"].text()
  alone = stats.welch([0.9], [0.8, 0.81])
  assert not alone.resolved and "no test with 1 and 2 seeds" in alone.text()
  with pytest.raises(ValueError, match="diverged"):
    stats.welch([0.9, float("nan")], base)


def test_every_experiment_config_states_its_protocol():
  from research.system import registry
  for name in registry.names():
    for profile in config.PROFILE_NAMES:
      cfg = config.with_profile(registry.resolve(name), profile)
      config.check_protocol(cfg, name)


def test_a_config_without_a_validation_split_is_refused():
  import ml_collections
  cfg = ml_collections.ConfigDict(dict(val_size=0, epochs=3, patience=2, schedule="constant", warmup_epochs=0.0))
  with pytest.raises(UserError, match="val_size=0: every experiment selects on a validation split"):
    config.check_protocol(cfg, "x")
  with pytest.raises(UserError, match="its config lacks patience"):
    config.check_protocol(ml_collections.ConfigDict(dict(val_size=5, epochs=3, schedule="constant",
                                                         warmup_epochs=0.0)), "x")
