"""depth_vs_accuracy with variants from the config: every variant in the results gets its columns,
its curve and its line in the reading; a variant that is the first one's network is not retrained."""
import json

import pytest

from experiments import depth_vs_accuracy
from research.cli import experiment
from research import models
from research.system.errors import UserError


def toy(num_classes, *, depth=1, width=8, activation="relu"):
  """An MLP of tanh units whatever the activation asked for: a third, different variant."""
  return models.mlp(num_classes, depth=depth, width=width, activation="tanh")


@pytest.mark.slow
def test_a_third_variant_shows_in_table_plot_and_reading(workdir, monkeypatch):
  monkeypatch.setitem(models.MODELS, "toy", toy)
  # The tiny profile at 2 epochs on 400 images: depths 0-2, two seeds (mean ± std) and two learning rates (the
  # lr columns) are what the table below needs.
  out, _ = experiment.execute("depth", "tiny", ["--config.variants=['mlp','residual_mlp','toy']", "--config.n_train=400",
                                                "--config.epochs=2"], progress=False)
  doc = json.loads((out / "results.json").read_text())
  rows = {(r["depth"], r["variant"]): r for r in doc["results"]["rows"]}
  # No hidden-to-hidden layer below L = 2: the residual net is the plain one; at L = 0 so is the toy.
  assert {k for k, r in rows.items() if "same_as" in r} == {(0, "residual"), (1, "residual"), (0, "toy")}
  assert all(r["same_as"] == "plain" for r in rows.values() if "same_as" in r)
  table = (out / "table.md").read_text()
  assert "| toy train | toy val | toy test | toy epochs | toy lr |" in table and "(plain / residual / toy)" in table
  row_l1 = next(line for line in table.splitlines() if line.startswith("| 1 |")).split(" | ")
  # L, params, FLOPs, then five columns per variant: plain's, residual's (= plain below L = 2), toy's
  assert row_l1[8:13] == ["= plain"] * 5 and "±" in row_l1[13] and "±" in row_l1[15]
  assert "The toy variant against plain, depth by depth: L = 1:" in (out / "reading.md").read_text()
  fig = depth_vs_accuracy.plots(doc)["accuracy_vs_depth.png"]
  assert len(fig.axes[0].containers) == 3  # one test-accuracy error-bar curve per variant


def test_a_variant_without_a_depth_option_fails_in_validate(workdir):
  with pytest.raises(UserError, match="model 'lenet5' has no option 'depth'"):
    experiment.execute("depth", "tiny", ["--config.variants=['mlp','lenet5']"], progress=False)
  assert not (workdir / "results").exists()
