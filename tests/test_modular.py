"""The modular experiment's quick profile writes its five tables, plots and a reading."""
import json
import pathlib

import numpy as np
import pytest

from experiments import modular
from experiments.modular import paragraphs, tables
from research import experiment
from research.errors import UserError

COMMITTED = pathlib.Path(__file__).parent.parent / "results" / "modular"


def test_committed_results_render_to_the_committed_text():
  doc = json.loads((COMMITTED / "results.json").read_text())
  assert modular.table(doc) == (COMMITTED / "table.md").read_text()
  assert modular.reading(doc).strip() + "\n" == (COMMITTED / "reading.md").read_text()


def test_paragraphs_and_tables_read_the_committed_results():
  doc = json.loads((COMMITTED / "results.json").read_text())
  assert paragraphs.rare_group(doc)[0].startswith("- **Rare group at rho = 1%**")
  assert tables.reuse_task_text(doc) == "a != b: light tops and dark footwear vs the rest"


@pytest.mark.slow
def test_quick_profile_writes_tables_and_plots(workdir):
  out, _ = experiment.execute("modular", "quick", [], progress=False)
  for f in ("results.json", "table.md", "reading.md", "rare_vs_rho.png", "rare_vs_size.png"):
    assert (out / f).exists() and (out / f).stat().st_size > 0, f
  doc = json.loads((out / "results.json").read_text())
  res = doc["results"]
  table = (out / "table.md").read_text()
  for n in range(1, 6):
    assert f"**Table {n}:" in table
  assert "light footwear (rare)" in table and "Sagawa" in table

  main = next(p for p in res["points"] if p["rho"] == res["rho_main"] and p["n_train"] == res["n_main"])
  counts = main["counts"]
  assert sum(counts["train"]) == res["n_main"] == 2000
  assert counts["train"][res["rare"]] == 20 and len(set(counts["test"])) == 1
  for name, c in main["contenders"].items():
    acc = np.asarray(c["group_acc"], float)
    assert acc.shape == (doc["config"]["seeds"], 4), name
    assert np.all((acc >= 0) & (acc <= 1)), name
    np.testing.assert_allclose(c["worst"], acc.min(1))
    np.testing.assert_allclose(c["average"], acc.mean(1))
    common = np.delete(acc, res["rare"], 1)
    assert common.mean() > 0.8, name  # even the quick runs learn the common groups
    assert not any(c["diverged"]), name
  # The product rule's accuracy is the engine's own test accuracy of the module pair.
  mod = main["contenders"]["modular"]
  np.testing.assert_allclose([cv[-1] for cv in mod["curve"]], mod["average"], atol=1e-6)
  reuse = res["reuse"]["rows"]
  assert set(reuse) == {"modules", "scratch"}
  assert reuse["modules"]["trainable_params"] < reuse["scratch"]["trainable_params"]
  assert all(0.4 < a <= 1 for a in reuse["scratch"]["test_acc"])
  reading = (out / "reading.md").read_text()
  assert "Rare group" in reading and "Reuse" in reading and "nan" not in reading

  # A second run reads every cell back instead of training.
  out2, _ = experiment.execute("modular", "quick", [], progress=False)
  doc2 = json.loads((out2 / "results.json").read_text())
  main2 = next(p for p in doc2["results"]["points"] if p["n_train"] == res["n_main"] and p["rho"] == res["rho_main"])
  assert all(c["reused"] for c in main2["contenders"].values())
  np.testing.assert_allclose(main2["contenders"]["combiner"]["group_acc"], main["contenders"]["combiner"]["group_acc"])


def test_bad_config_fails_before_training(workdir):
  with pytest.raises(UserError, match="rare"):
    experiment.execute("modular", "quick", ["--config.rare=[2,1]"], progress=False)
  with pytest.raises(UserError, match="rho"):
    experiment.execute("modular", "quick", ["--config.rhos=[0.5,1.0]"], progress=False)
  with pytest.raises(UserError, match="reuse"):
    experiment.execute("modular", "quick", ["--config.reuse=['modules','nope']"], progress=False)
