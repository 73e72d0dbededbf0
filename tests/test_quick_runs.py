"""Quick-profile runs of architectures, learning rate, pruning and data hunger, end to end through
the driver: the files exist and the numbers in them are sane."""
import json
import re

import pytest

from research.cli import experiment

pytestmark = pytest.mark.slow  # every test here runs whole experiments


def _run(name):
  out, _ = experiment.execute(name, "quick", [], progress=False)
  doc = json.loads((out / "results.json").read_text())
  table = (out / "table.md").read_text()
  reading = (out / "reading.md").read_text()
  assert doc["profile"] == "quick" and reading.strip()
  assert "2 seeds" in table
  pngs = list(out.glob("*.png"))
  assert pngs and all(p.stat().st_size > 10_000 for p in pngs)
  return out, doc, table, reading


def _acc_ok(values):
  return all(v is not None and 0 < v <= 1 for v in values)


def test_architectures_quick(workdir):
  _, doc, table, reading = _run("architectures")
  datasets = doc["results"]["datasets"]
  assert set(datasets) == {"mnist1d", "mnist1d_shuffled"}
  for d in datasets.values():
    assert [r["family"] for r in d["rows"]] == ["logistic", "mlp", "cnn", "gru"]
    for r in d["rows"]:
      assert _acc_ok(r["test_acc"]) and len(r["test_acc"]) == 2
      assert r["params"] > 0 and r["flops"] > 0 and r["s_per_model"] >= 0
  gru = datasets["mnist1d"]["rows"][3]
  # 40 steps x 2 directions x 2 x 6 x 18 for the recurrent products alone: counted over all steps,
  # not one loop body (which XLA reports as ~14.5K)
  assert gru["flops"] > 40 * 2 * 2 * 6 * 18
  assert table.count("| 94 |") == 1 and table.count("| 56 |") == 1  # the published tables
  for dataset, d in datasets.items():  # one grid for every family; the winner chosen on validation
    assert all(sorted(map(float, r["grid"])) == sorted(d["learning_rates"]) for r in d["rows"])
    assert doc["results"]["selected"][dataset]["best_family"] in [r["family"] for r in d["rows"]]
  assert "Shuffling the positions costs" in reading and "Holm-corrected" in reading


def test_learning_rate_quick(workdir):
  _, doc, table, reading = _run("lr")
  rows = doc["results"]["rows"]
  assert len(rows) == 2 * 3  # sgd and adam x 3 rates
  sgd10 = next(r for r in rows if r["optimizer"] == "sgd" and r["learning_rate"] == 10)
  assert all(sgd10["diverged"])  # plain SGD at rate 10 overflows
  assert next(line for line in table.splitlines() if line.startswith("| 10 |")).split("|")[2].strip() == "diverged"
  ok = [r for r in rows if not any(r["diverged"])]
  assert ok and all(_acc_ok(r["test_acc"]) and _acc_ok(r["val_acc"]) for r in ok)
  assert "Diverged (inf/NaN" in reading
  # Rates are chosen on validation, never among diverged rows; the caption states the rule.
  best = doc["results"]["selected"]["best_rate"]
  assert best["sgd"] != 10 and best["adam"] in (1e-3, 0.1, 10)
  assert "the same rule, up to 4 epochs, stopped after 2 epochs" in table


def test_pruning_quick(workdir):
  _, doc, table, reading = _run("pruning")
  res, cfg = doc["results"], doc["config"]
  assert _acc_ok(res["dense"]["test_acc"]) and _acc_ok(res["dense"]["val_acc"])
  kept = [r["kept"] for r in res["han"]["rows"]]
  assert len(kept) == cfg["han_rounds"] * len(cfg["sensitivity_drops"]) and 1 > kept[0] >= kept[-1] > 0
  assert [r["variant"] for r in res["tickets"]["rows"]][:4] == ["init", "early", "reinit", "random"]
  assert [round(r["target"], 3) for r in res["tickets"]["rows"][::4]] == [0.21, 0.07, 0.036]
  assert [r["l1"] for r in res["l1"]["rows"]] == cfg["l1_strengths"]
  for source in ("han", "tickets", "l1"):
    for r in res[source]["rows"]:
      assert r["counts_agree"] and _acc_ok(r["numbers"]["test_acc"]) and _acc_ok(r["numbers"]["val_acc"])
      assert all(1 <= e <= max(cfg["epochs"], cfg["retrain_epochs"]) for e in r["numbers"]["best_epoch"])
  assert set(res["selected"]) == {"han", "init", "early", "l1"}
  assert "Han et al. 2015" in table and "12x" in table and "MNIST" in table
  assert "Holm-corrected over the" in reading and "Target (10x" in reading


def test_data_hunger_quick(workdir):
  _, doc, table, reading = _run("data_hunger")
  res = doc["results"]
  rows = res["rows"]
  assert {(r["n_train"], r["model"]) for r in rows} == {
      (n, m) for n in (500, 2000) for m in ("logistic", "shallow", "deep", "cnn")}
  assert all(_acc_ok(r["test_acc"]) and _acc_ok(r["val_acc"]) for r in rows)
  # one validation split for both sizes; an epoch of at least epoch_rows=2000 examples at both
  assert {s["n_val"] for s in res["splits"].values()} == {1000}
  assert {(r["n_train"], r["passes_per_epoch"], r["steps_per_epoch"]) for r in rows} == {(500, 4, 15), (2000, 1, 15)}
  assert all(1 <= e <= 6 for r in rows for e in r["best_epoch"])
  assert set(res["selected"]["best"]) == {"500", "2000"}
  assert "| 500 |" in table and "| 2,000 |" in table and "shallow epochs" in table
  assert "Budget: up to 6 epochs, stopped after 2 epochs" in reading
  family = {int(k) for k in re.findall(r"Holm, (\d+) comparisons", reading)}
  assert family == {8}  # 3 gaps x 2 sizes + 2 trends, one family
