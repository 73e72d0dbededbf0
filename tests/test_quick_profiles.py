"""Experiments end to end through the driver: depth and deep-vs-wide on their quick profiles, and
tests/test_registry.py runs every registered experiment's tiny profile."""
import json

import pytest

from research import experiment

pytestmark = pytest.mark.slow  # every test here runs whole experiments


@pytest.mark.parametrize("name,plot", [("depth", "accuracy_vs_depth.png"), ("wide", "deep_vs_wide.png")])
def test_quick_profile_writes_table_json_and_plot(workdir, name, plot):
  out, wall = experiment.execute(name, "quick", [], progress=False)
  assert (out / "table.md").read_text().count("±") >= 4
  assert (out / plot).stat().st_size > 10_000
  doc = json.loads((out / "results.json").read_text())
  assert doc["profile"] == "quick" and doc["environment"]["jax"]
  assert f"over {doc['config']['seeds']} seeds" in (out / "table.md").read_text()
  assert (out / "reading.md").read_text().strip()
  # a second run reuses every finished cell and writes the same numbers
  out2, _ = experiment.execute(name, "quick", [], progress=False)
  doc2 = json.loads((out2 / "results.json").read_text())
  assert json.dumps(doc2["results"]).count('"reused": true') > 0
  strip = lambda d: json.dumps(d["results"], sort_keys=True).replace('"reused": true', '"reused": false')
  assert strip(doc) != "" and _numbers(doc) == _numbers(doc2)


def _numbers(doc):
  rows = doc["results"].get("rows") or [r["deep"] for t in doc["results"]["tables"] for r in t["rows"]]
  return [r["test_acc"] for r in rows if "same_as" not in r]  # a same_as row is not trained
