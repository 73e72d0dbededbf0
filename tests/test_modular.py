"""The modular experiment: its tables and reading, selection on validation only, zero-shot and data seeds,
end to end on its tiny profile."""
import json
import pathlib

import numpy as np
import pytest

from experiments import modular
from experiments.modular import claims, paragraphs, tables
from research.cli import experiment
from research.system.errors import UserError

COMMITTED = pathlib.Path(__file__).parent.parent / "results" / "modular"


def committed_doc():
  """The committed full results; skipped while they predate this design (data seeds, zero-shot, own-data
  modules, the disentangled attribute): the next full run rewrites them."""
  doc = json.loads((COMMITTED / "results.json").read_text())
  if "data_seeds" not in doc["config"]:
    pytest.skip("results/modular predates the data seeds and the attribute contrast: rerun `make modular`")
  return doc


def test_committed_results_render_to_the_committed_text():
  doc = committed_doc()
  assert modular.table(doc).markdown() == (COMMITTED / "table.md").read_text()
  assert modular.reading(doc).strip() + "\n" == (COMMITTED / "reading.md").read_text()


def test_paragraphs_and_tables_read_the_committed_results():
  doc = committed_doc()
  assert paragraphs.rare_group(doc, claims.families(doc))[0].startswith("- **Rare group at rho = 1%**")
  assert tables.reuse_task_text(doc) == "a != b: light tops and dark footwear vs the rest"


@pytest.fixture(scope="module")
def tiny_run(tiny_paper):
  """The tiny profile end to end (digits: magnitude x parity, and x a frame): the session's tiny paper."""
  return tiny_paper.run("modular")


@pytest.mark.slow
def test_tiny_run_writes_every_table_plot_and_reading(tiny_run):
  out, doc = tiny_run
  table = (out / "table.md").read_text()
  for n in range(1, 9):
    assert f"**Table {n}:" in table, n
  assert "Sagawa et al. 2020, CelebA (another dataset)" in table and "88.9" in table
  for png in ("rare_vs_rho.png", "rare_vs_size.png", "attributes.png"):
    assert (out / png).stat().st_size > 5_000, png
  reading = (out / "reading.md").read_text()
  for words in ("Zero-shot", "own data", "Entangled", "Sagawa's format", "Where the article's claim holds", "Holm"):
    assert words in reading, words
  assert "nan" not in reading


@pytest.mark.slow
def test_tiny_run_crosses_data_seeds_with_init_seeds(tiny_run):
  _, doc = tiny_run
  cfg, res = doc["config"], doc["results"]
  m = len(cfg["data_seeds"]) * cfg["seeds"]
  for p in res["points"]:
    for name, c in p["contenders"].items():
      assert len(c["test_rare"]) == m and c["data_seed"] == [d for d in cfg["data_seeds"] for _ in range(cfg["seeds"])]
      assert len(c["best_epoch"]) == m, name
  for rows in res["targets"].values():
    assert set(rows) == {"erm", "reweighted", "dro"} and all(len(r["test_worst"]) == m for r in rows.values())


@pytest.mark.slow
def test_zero_shot_modules_answer_the_group_they_never_saw(tiny_run):
  _, doc = tiny_run
  res = doc["results"]
  zero = next(p for p in res["points"] if p["rho"] == 0 and p["source"] == res["attributes"])
  assert zero["counts"]["train"][res["rare"]] == 0 and zero["counts"]["val"][res["rare"]] == 0
  c = zero["contenders"]
  mean = lambda k: float(np.mean(c[k]["test_rare"]))
  # A 4-way network never trained on the class hardly ever names it; the product of modules does.
  assert mean("monolithic") < 0.05
  assert max(mean("modular"), mean("own")) > mean("monolithic") + 0.02
  # The product names the unseen group exactly when both heads say so: its accuracy there is at most each head's.
  for k in ("modular", "own"):
    heads = np.asarray(c[k]["test_attribute_acc"], float)[:, res["rare"]]
    assert np.all(np.asarray(c[k]["test_rare"]) <= heads.min(1) + 1e-9), k


@pytest.mark.slow
def test_no_decision_reads_the_test_set(tiny_run, permuted_paper):
  """The registry's audit, for this experiment alone: permuting the test labels changes test numbers only."""
  _, doc = tiny_run
  permuted = permuted_paper["modular"]
  assert _decisions(doc["results"]) == _decisions(permuted["results"])
  assert json.dumps(doc["results"]) != json.dumps(permuted["results"])


TIMING = {"s_per_model", "s_per_model_epoch", "compile_s", "reused", "train_s", "eval_s", "identity_s", "seconds",
          "before_s"}


def _decisions(tree):
  if isinstance(tree, dict):
    return {k: _decisions(v) for k, v in tree.items() if "test" not in k and k not in TIMING}
  if isinstance(tree, list):
    return [_decisions(v) for v in tree]
  return tree


def test_bad_config_fails_before_training(workdir):
  with pytest.raises(UserError, match="rare"):
    experiment.execute("modular", "quick", ["--config.rare=[2,1]"], progress=False)
  with pytest.raises(UserError, match="rho"):
    experiment.execute("modular", "quick", ["--config.rhos=[0.5,1.0]"], progress=False)
  with pytest.raises(UserError, match="reuse"):
    experiment.execute("modular", "quick", ["--config.reuse=['modules','nope']"], progress=False)
  with pytest.raises(UserError, match="val_size"):
    experiment.execute("modular", "quick", ["--config.val_size=0"], progress=False)
  with pytest.raises(UserError, match="contrast_rhos"):
    experiment.execute("modular", "quick", ["--config.contrast_rhos=[0.02]"], progress=False)
  with pytest.raises(UserError, match="targets"):
    experiment.execute("modular", "quick", ["--config.targets=['kind']"], progress=False)
