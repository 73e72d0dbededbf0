"""Every registered experiment, end to end on its tiny profile, with no test written for it.

One `python -m research paper --profile tiny` runs them all in the registry's order (as
`make paper PROFILE=tiny` does) into temporary folders, twice, and once more with the test labels
permuted (tests/conftest.py: tiny_paper and permuted_paper, shared with the per-experiment tests);
the tests then read what they wrote.
"""
import json
import pathlib
import subprocess

import pytest

from research.system import registry

ROOT = pathlib.Path(__file__).resolve().parent.parent
NAMES = registry.names()


# Fields of results.json that are measurements of the machine, not of the models.
TIMING = {"s_per_model", "s_per_model_epoch", "compile_s", "reused", "train_s", "eval_s", "identity_s", "seconds",
          "before_s"}


def _decisions(tree):
  """results.json without the test set's numbers and the timings: everything the experiment chose."""
  if isinstance(tree, dict):
    return {k: _decisions(v) for k, v in tree.items() if "test" not in k and k not in TIMING}
  if isinstance(tree, list):
    return [_decisions(v) for v in tree]
  return tree


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_no_experiment_decides_on_the_test_set(tiny_paper, permuted_paper, name):
  """Permuting the test labels changes the test numbers and nothing else: every epoch, learning
  rate, depth and row an experiment selects was chosen on validation."""
  _, first, _ = tiny_paper
  assert _decisions(first[name]["results"]) == _decisions(permuted_paper[name]["results"])
  changed = json.dumps(first[name]["results"]) != json.dumps(permuted_paper[name]["results"])
  assert changed, "permuting the test labels changed no number: is the test set evaluated at all?"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_results_record_the_validation_split_and_the_stopping_rule(tiny_paper, name):
  _, first, _ = tiny_paper
  doc = first[name]
  assert doc["config"]["val_size"] > 0 and doc["config"]["patience"] >= 0 and doc["config"]["epochs"] > 0
  text = json.dumps(doc["results"])
  assert '"best_epoch"' in text and '"val_acc"' in text  # per member: the selected epoch and its validation score


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_tiny_profile_writes_table_json_plots_and_reading(tiny_paper, name):
  tmp, first, second = tiny_paper
  out = tmp / "results" / "tiny" / name
  assert first[name]["profile"] == "tiny" and first[name]["environment"]["jax"]
  table = (out / "table.md").read_text()
  assert "|---|" in table and "±" in table
  assert (out / "reading.md").read_text().strip()
  pngs = list(out.glob("*.png"))
  assert pngs and all(p.stat().st_size > 5_000 for p in pngs)
  assert (out / "table.tex").exists() and list(out.glob("table*.csv"))
  # The second run trained nothing: every cell was read back, and the numbers are the same.
  strip = lambda doc: json.dumps(doc["results"], sort_keys=True).replace('"reused": true', '"reused": false')
  assert '"reused": false' not in json.dumps(second[name]["results"])
  assert strip(first[name]) == strip(second[name])


@pytest.mark.slow
def test_a_smoke_run_never_touches_the_full_results(tiny_paper):
  tmp, _, _ = tiny_paper
  assert sorted(p.name for p in (tmp / "results").iterdir()) == ["tiny"]
  assert sorted(p.name for p in (tmp / "ckpt").iterdir()) == ["tiny"]
  report = (tmp / "results" / "tiny" / "REPORT.md").read_text()
  assert "profile **tiny**" in report and "Mixed profiles" not in report and "Not run yet" not in report
  for entry in registry.scan():  # sections in the registry's order, each naming a real make target
    assert f"`make {entry.alias or entry.name}` (profile tiny)" in report
  starts = [report.index(f"`make {e.alias or e.name}` (profile tiny)") for e in registry.scan()]
  assert starts == sorted(starts)


@pytest.mark.slow
def test_every_experiment_is_a_make_target_and_make_n_writes_nothing():
  before = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                          text=True).stdout
  for entry in registry.scan():
    for target in filter(None, (entry.name, entry.alias)):
      p = subprocess.run(["make", "-n", target, "PROFILE=tiny"], cwd=ROOT, capture_output=True, text=True)
      assert p.returncode == 0 and f"research run {target} --profile tiny" in p.stdout, p.stdout + p.stderr
  p = subprocess.run(["make", "-n", "paper"], cwd=ROOT, capture_output=True, text=True)
  assert p.returncode == 0 and "research paper --profile full" in p.stdout
  after = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                         text=True).stdout
  assert before == after


def test_list_and_unknown_names_come_from_the_registry(capsys):
  from research.__main__ import main
  assert main(["list"]) == 0
  listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
  assert listed == NAMES
  assert main(["run", "deapth"]) == 2
  assert "did you mean 'depth'?" in capsys.readouterr().err
