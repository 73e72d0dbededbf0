"""architectures: every family under one rule and one grid, selection blind to the test set, and
published rows that state their conditions."""

import pytest

from experiments import architectures

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


@pytest.mark.slow
def test_one_rule_and_one_grid_for_every_family(tiny_paper):
  """(tests/test_registry.py checks, for every experiment, that permuted test labels change no choice.)"""
  out, doc = tiny_paper.run("architectures")
  _check_one_rule_and_grid(doc, out)


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
