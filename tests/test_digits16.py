"""The 16x16 digits experiment: its learning-rate rule, its declared family of comparisons, the best net's
outputs, and a tiny run end to end (tests/test_registry.py runs the permuted-test-label audit)."""

import numpy as np
import pytest

from research.report import stats
from research.system.errors import UserError
from research.engine.summary import Final, Member, Summary, Timing
from experiments import digits16
from experiments.digits16 import outputs, verdicts
from research.engine import tuning


def test_the_ladder_steps_one_value_beyond_either_edge():
  assert [tuning.ladder(i) for i in (-8, -7, -6, -5, -4)] == [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
  assert tuning.ladder_index(3e-3) == -5 and tuning.ladder_index(2e-3) is None
  assert tuning.next_out([1e-3, 3e-3, 1e-2], 1e-3) == 3e-4
  assert tuning.next_out([1e-3, 3e-3, 1e-2], 1e-2) == 3e-2
  assert tuning.next_out([1e-3, 3e-3, 1e-2], 3e-3) is None


class _Cell:
  def __init__(self, summary):
    self.summary, self.state = summary, None


def _summary(lr, val_acc, seeds=2):
  final = Final(0.1, 0.99, 0.2, val_acc, 0.2, 0.9, False, best_epoch=3, epochs_run=5, stopped=True)
  members = tuple(Member(s, {"learning_rate": lr}, final, {}) for s in range(seeds))
  return Summary(f"c-lr{lr:g}", {}, members, Timing(1.0, 2.0, 5, 0, 1, 1.0, 0.2, epochs_run=5, flops=10.0))


def _tune(best, extend):
  """tuning.tune with cells whose validation accuracy peaks at `best` (log distance)."""
  tried = []

  def train_value(lr):
    tried.append(lr)
    return _Cell(_summary(lr, 0.9 - abs(np.log10(lr) - np.log10(best)) / 10))
  cfg = digits16.get_config()
  cfg.extend = extend
  cells, merged = tuning.tune(cfg, train_value)
  return tried, cells, merged


def test_an_edge_pick_trains_the_next_value_until_the_pick_is_inside():
  tried, cells, merged = _tune(best=3e-4, extend=2)
  assert tried == [1e-3, 3e-3, 1e-2, 3e-4, 1e-4]  # 3e-4 was an edge pick too: one more beyond it
  value = tuning.chosen(merged)
  assert value == 3e-4 and not tuning.at_edge(sorted(cells), value)
  assert len(merged.members) == 10 and merged.timing.train_s == 10.0 and merged.timing.flops == 50.0
  # The members are ordered by learning rate, so the grid's order breaks ties the same way every time.
  assert [m.hparams["learning_rate"] for m in merged.members] == sorted(m.hparams["learning_rate"]
                                                                       for m in merged.members)


def test_a_pick_still_on_the_edge_when_the_extensions_run_out_is_flagged():
  tried, cells, merged = _tune(best=1.0, extend=1)
  assert tried == [1e-3, 3e-3, 1e-2, 3e-2]
  assert tuning.chosen(merged) == 3e-2 and tuning.at_edge(sorted(cells), 3e-2)
  tried, _, _ = _tune(best=3e-3, extend=2)
  assert tried == [1e-3, 3e-3, 1e-2]  # an inside pick trains nothing more


def test_validate_holds_the_protocol():
  for bad in ({"learning_rates": [1e-3, 3e-3]}, {"learning_rates": [1e-3, 2e-3, 1e-2]}, {"shown_digit": 10}):
    cfg = digits16.get_config()
    cfg.update(bad)
    with pytest.raises(UserError):
      digits16.validate(cfg)
  digits16.validate(digits16.get_config())


def test_the_family_is_declared_before_any_training():
  family = verdicts.declared(digits16.get_config())
  assert set(family) == ({("depth", d, "logistic") for d in (1, 2, 3, 4)} | {("depth", d, "mlp-1") for d in (2, 3, 4)}
                         | {("conv", "cnn", "best-mlp")})
  assert family[("depth", 3, "mlp-1")] == ("mlp-3", "mlp-1")


def test_outputs_are_probabilities_and_counts():
  assert outputs.confusion([0, 1, 1, 2], [0, 1, 2, 2], 3).tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
  assert outputs.shown_index(np.array([5, 2, 2]), 2) == 1 and outputs.shown_index(np.array([5]), 2) == 0
  s = _summary(1e-3, 0.5)
  s = s._replace(members=(s.members[0], s.members[1]._replace(final=s.members[1].final._replace(val_acc=0.7))))
  assert outputs.best_member(s) == 1


def _row(key, family, hidden, acc, val=None):
  n = len(acc)
  return dict(key=key, label=key, family=family, hidden=hidden, test_acc=acc, val_acc=val or acc, train_acc=acc,
              diverged=[False] * n, stopped=[True] * n, best_epoch=[5] * n, learning_rate=3e-3, tried=[1e-3, 3e-3, 1e-2],
              edge=False, params=1, flops=1, train_flops=1.0, s_per_model=0.1)


def test_the_verdicts_use_the_four_words_over_the_declared_family():
  jitter = np.array([0.0, 0.001, -0.001, 0.0005, -0.0005, 0.0, 0.001, -0.001])
  rows = [_row("logistic", "logistic", 0, list(0.90 + jitter)), _row("mlp-1", "mlp", 1, list(0.95 + jitter)),
          _row("mlp-2", "mlp", 2, list(0.95 + jitter[::-1]), val=list(0.96 + jitter)),
          _row("cnn", "cnn", 3, list(0.97 + jitter))]
  cfg = dict(digits16.get_config().to_dict(), depths=[1, 2])
  res = dict(rows=rows, selected=dict(best="cnn", best_mlp="mlp-2", by_validation=[]), n_test=1000,
             dataset=dict(n_train=3500))
  vs = verdicts.verdicts(cfg, res)
  assert set(vs) == set(verdicts.declared(cfg, res)) == {("depth", 1, "logistic"), ("depth", 2, "logistic"),
                                                        ("depth", 2, "mlp-1"), ("conv", "cnn", "mlp-2")}
  assert vs[("depth", 1, "logistic")].word == stats.BETTER and vs[("depth", 2, "mlp-1")].word == stats.EQUIVALENT
  assert vs[("conv", "cnn", "mlp-2")].word == stats.BETTER and vs[("conv", "cnn", "mlp-2")].comparison.family == 4
  text = digits16.reading(dict(config=cfg, results=res))
  assert text.startswith("- How well does the article's network read 16x16 digits? The net best on validation, cnn")
  assert "2 hidden: equivalent within ±1 points" in text and len(text.splitlines()) < 25
  pairs = digits16.depth_pairs(dict(config=cfg, results=res))
  assert [(p.deeper_layers, p.shallower_layers) for p in pairs] == [(1, 0), (2, 0), (2, 1)]


@pytest.mark.slow
def test_tiny_run_end_to_end(tiny_paper):
  out, doc = tiny_paper.run("digits16")
  cfg, res = doc["config"], doc["results"]
  keys = [r["key"] for r in res["rows"]]
  assert keys == ["logistic"] + [f"mlp-{d}" for d in cfg["depths"]] + ["cnn"]
  table = (out / "table.md").read_text()
  assert all(r["label"] in table for r in res["rows"]) and "LeCun et al. 1989" in table and "4.09" in table
  ds = res["dataset"]
  assert f"{ds['n_train']:,} train, {ds['n_val']:,} validate and 1,000 test" in table
  assert "MNIST digits resized to 16x16" in table and "not directly comparable" in table
  for r in res["rows"]:
    assert len(r["test_acc"]) == cfg["seeds"] and r["learning_rate"] in r["tried"] and len(r["tried"]) >= 3
  # The best net: the contender best on mean validation accuracy, then its member best on validation.
  rows = {r["key"]: r for r in res["rows"]}
  best = max(res["rows"], key=lambda r: np.mean(r["val_acc"]))
  assert res["selected"]["best"] == best["key"] == res["net"]["key"]
  assert res["net"]["val_acc"] == max(best["val_acc"]) and res["net"]["learning_rate"] == best["learning_rate"]
  fig = res["figure"]
  assert len(fig["test_probs"]) == 10 and abs(sum(fig["test_probs"]) - 1) < 1e-6 and min(fig["test_probs"]) >= 0
  assert fig["test_label"] == cfg["shown_digit"] and np.shape(fig["test_image"]) == (16, 16)
  m = np.asarray(res["test_confusion"])
  assert m.shape == (10, 10) and m.sum() == res["n_test"] == 1000 and (m.sum(1) == 100).all()  # 100 per class
  # The confusion matrix's diagonal is that member's test accuracy as the engine measured it.
  member = best["seeds"].index(res["net"]["seed"])
  assert abs(np.trace(m) / m.sum() - rows[best["key"]]["test_acc"][member]) < 1e-6
  assert set(verdicts.verdicts(cfg, res)) == set(verdicts.declared(cfg, res))
  assert (out / "reading.md").read_text().startswith("- How well")
  assert {p.name for p in out.glob("*.png")} == {"digit.png", "confusion.png"}
