"""Experiments end to end through the driver: depth and deep-vs-wide on their quick profiles, and
tests/test_registry.py runs every registered experiment's tiny profile (twice: there it checks that a
second run reuses every cell and writes the same numbers, for these two as for every experiment)."""
import json

import pytest

from research.cli import experiment

pytestmark = pytest.mark.slow  # every test here runs whole experiments


@pytest.mark.parametrize("name,plot", [("depth", "accuracy_vs_depth.png"), ("wide", "deep_vs_wide.png")])
def test_quick_profile_writes_table_json_and_plot(workdir, name, plot):
  out, _ = experiment.execute(name, "quick", [], progress=False)
  assert (out / "table.md").read_text().count("±") >= 4
  assert (out / plot).stat().st_size > 10_000
  doc = json.loads((out / "results.json").read_text())
  assert doc["profile"] == "quick" and doc["environment"]["jax"]
  assert f"over {doc['config']['seeds']} seeds" in (out / "table.md").read_text()
  assert (out / "reading.md").read_text().strip()
