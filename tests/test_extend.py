"""docs/extending.md, done as written: a model in one function plus one registry line, and the
template experiment (docs/template_experiment.py) copied in as one file, in a copy of the project;
then the public commands find and run them."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from research.system import registry

ROOT = pathlib.Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # every test here runs whole experiments

MODEL = '''

def scaled_mlp(num_classes, *, depth=1, width=16, activation="relu", scale=2.0):
  """A user's model: the MLP with its logits scaled by a constant."""
  base = mlp(num_classes, depth=depth, width=width, activation=activation)
  return Model(base.init, lambda params, x_BxS: scale * base.apply(params, x_BxS))


MODELS["scaled_mlp"] = scaled_mlp
'''

# The template experiment docs/extending.md points to, run as it stands: the file the docs show is the
# file that is tested, so it cannot fall behind the engine.
TEMPLATE = ROOT / "docs" / "template_experiment.py"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
  """A copy of the project (code only) with docs/extending.md's two recipes applied."""
  copy = tmp_path_factory.mktemp("extend") / "project"
  shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", ".cache", "checkpoints", "results",
                                                            "__pycache__", "*.egg-info"))
  models_py = copy / "research" / "models" / "__init__.py"
  models_py.write_text(models_py.read_text() + MODEL)
  shutil.copy(TEMPLATE, copy / "experiments" / f"{_template_name()}.py")
  return copy


def _template_name():
  """The template's NAME, read the way the registry reads it (an experiment's file is named NAME)."""
  return registry._constants(TEMPLATE)["NAME"]


def _run(project, *args):
  env = dict(os.environ, PYTHONPATH=str(project), RESEARCH_RESULTS_DIR=str(project / "results"),
             RESEARCH_CHECKPOINTS_DIR=str(project / "checkpoints"), RESEARCH_CACHE_DIR=str(ROOT / ".cache"))
  p = subprocess.run([sys.executable, "-m", "research", *args], cwd=project, env=env, capture_output=True,
                     text=True, timeout=600)
  assert p.returncode == 0, p.stderr[-3000:]
  return p.stdout


def test_a_new_experiment_is_one_file(project):
  name = _template_name()
  assert name in _run(project, "list")
  make = subprocess.run(["make", "-n", name, "PROFILE=tiny"], cwd=project, capture_output=True, text=True)
  assert f"research run {name} --profile tiny" in make.stdout, make.stdout + make.stderr
  _run(project, "run", name, "--profile", "tiny", "--no-progress")
  out = project / "results" / "tiny" / name
  table = (out / "table.md").read_text()
  assert "| 4 |" in table and "| 16 |" in table and (out / "width.png").exists()
  doc = json.loads((out / "results.json").read_text())
  # Every width's rate was chosen from the grid on validation, and the reading states one verdict.
  grid = doc["config"]["learning_rates"]
  assert all(r["learning_rate"] in grid and len(r["grid"]) == len(grid) for r in doc["results"]["rows"])
  reading = (out / "reading.md").read_text()
  assert any(f"width 16: {w}" in reading for w in ("better", "worse", "equivalent", "unresolved")), reading
  _run(project, "report", "--profile", "tiny")
  assert f"## {registry._constants(TEMPLATE)['TITLE']}" in (project / "results" / "tiny" / "REPORT.md").read_text()


def test_a_new_model_is_one_function_and_one_registry_line(project):
  _run(project, "run", "depth", "--profile", "tiny", "--no-progress",
       "--config.variants=[mlp,scaled_mlp]", "--config.depths=[1]")
  doc = json.loads((project / "results" / "tiny" / "depth_vs_accuracy" / "results.json").read_text())
  variants = {r["variant"] for r in doc["results"]["rows"]}
  assert variants == {"plain", "scaled_mlp"}
  table = (project / "results" / "tiny" / "depth_vs_accuracy" / "table.md").read_text()
  assert "scaled_mlp test" in table
