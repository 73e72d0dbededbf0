"""architectures: every family under one rule and one grid, selection blind to the test set, and
published rows that state their conditions."""
import dataclasses
import json

import numpy as np

from experiments import architectures
from research import data, experiment

TIMING = ("s_per_model", "s_per_model_epoch", "compile_s")


def _run(workdir, sub):
  out, _ = experiment.execute("architectures", "tiny", [], progress=False)
  doc = json.loads((out / "results.json").read_text())
  (workdir / sub).mkdir()
  for f in out.iterdir():
    (workdir / sub / f.name).write_bytes(f.read_bytes())
  return doc


def _blind(node):
  """Everything but the keys that hold test numbers or timings."""
  if isinstance(node, dict):
    return {k: _blind(v) for k, v in node.items() if "test" not in k and k not in TIMING}
  if isinstance(node, list):
    return [_blind(v) for v in node]
  return node


def _check_one_rule_and_grid(doc, folder):
  """Every family of a table: the same maximum epochs, the same grid, the same seeds."""
  lrs = doc["config"]["learning_rates"]
  for r in doc["results"]["datasets"].values():
    assert r["epochs"] == doc["config"]["epochs"]
    for row in r["rows"]:
      assert sorted(map(float, row["grid"])) == sorted(lrs) and row["learning_rate"] in lrs
      assert len(row["test_acc"]) == doc["config"]["seeds"]
  table = (folder / "table.md").read_text()
  assert "stopped after 2 epochs without a better validation accuracy" in table and "val acc" in table
  assert "| 94 | MNIST-1D, 4000 train / 1000 test | 150 epochs" in table
  reading = (folder / "reading.md").read_text()
  assert "Holm-corrected" in reading and "Order on validation" in reading


def test_one_rule_and_grid_and_the_test_labels_change_no_selection(workdir, monkeypatch):
  doc = _run(workdir, "plain")
  _check_one_rule_and_grid(doc, workdir / "plain")
  real_load = data.load

  def permuted(name, **options):
    ds = real_load(name, **options)
    return dataclasses.replace(ds, y_test=np.random.default_rng(1).permutation(ds.y_test))

  monkeypatch.setattr(data, "load", permuted)
  monkeypatch.setenv("RESEARCH_CHECKPOINTS_DIR", str(workdir / "checkpoints-permuted"))
  doc2 = _run(workdir, "permuted")
  res, res2 = doc["results"], doc2["results"]
  assert _blind(res) == _blind(res2)
  assert res["selected"] == res2["selected"] and res["selected"]["mnist1d"]["best_family"] in architectures.FAMILIES
  # The test numbers did change: the check above compared something.
  tests = lambda r: [row["test_acc"] for row in r["datasets"]["mnist1d"]["rows"]]
  assert tests(res) != tests(res2)


def test_full_config_treats_every_family_alike():
  cfg = architectures.get_config()
  # One maximum, one grid per table: no per-family epochs or learning rates.
  assert isinstance(cfg.epochs, int) and isinstance(cfg.fashion_mnist.epochs, int)
  assert len(cfg.learning_rates) > 1 and len(cfg.fashion_mnist.learning_rates) > 1
  assert cfg.patience > 0 and cfg.val_size > 0 and cfg.fashion_mnist.val_size > 0


def test_published_rows_state_their_conditions():
  for dataset, rows in architectures.PUBLISHED.items():
    assert {p.family for p in rows} == set(architectures.FAMILIES)
    for p in rows:
      assert p.data and p.epochs and p.augmentation and p.source
      assert isinstance(p.acc, (int, float))  # one number per row, never a range over conditions
  cnn = [p for p in architectures.PUBLISHED["fashion_mnist"] if p.family == "cnn"]
  assert {p.acc for p in cnn} == {87.6, 91.6, 90.3}
  assert next(p for p in cnn if p.acc == 91.6).epochs == "> 300 epochs"
