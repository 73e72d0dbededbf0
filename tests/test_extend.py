"""README's "Extend it", done as written: a model in one function plus one registry line, an
experiment in one file, in a copy of the project; then the public commands find and run them."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # every test here runs whole experiments

MODEL = '''

def scaled_mlp(num_classes, *, depth=1, width=16, activation="relu", scale=2.0):
  """A user's model: the MLP with its logits scaled by a constant."""
  base = mlp(num_classes, depth=depth, width=width, activation=activation)
  return Model(base.init, lambda params, x_BxS: scale * base.apply(params, x_BxS))


MODELS["scaled_mlp"] = scaled_mlp
'''

EXPERIMENT = '''"""Width vs accuracy: one hidden layer of growing width (a user's new experiment)."""
import matplotlib.pyplot as plt
import ml_collections

from research import config, models, protocol, stats

NAME = "width_vs_accuracy"
ORDER = 50
TITLE = "Width vs accuracy"


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "digits"
  c.widths = [4, 16]
  c.val_size = 150         # the protocol: every choice reads a validation split,
  c.epochs = 2             # the maximum epochs,
  c.patience = 1           # the stopping rule,
  c.schedule = "constant"  # and the learning-rate schedule
  c.warmup_epochs = 0.0
  c.seeds = 2
  c.learning_rate = 3e-3
  c.optimizer = "adam"
  c.batch_size = 64
  return c


PROFILES = {"quick": dict(epochs=1), "tiny": dict(epochs=1)}


def validate(cfg):
  config.positive(cfg, "widths")


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, val_size=cfg.val_size)
  rows = []
  for w in cfg.widths:
    model = models.build("mlp", ds.num_classes, depth=1, width=w)
    out = ctx.cell(ctx.trainer(model), arrays, name=f"w{w}",
                   spec=dict(width=w), seeds=list(range(cfg.seeds)),
                   hparams=[{"learning_rate": cfg.learning_rate}] * cfg.seeds)
    rows.append(dict(width=w, **out.summary.numbers()))
  return dict(rows=rows)


def table(doc):
  rows = [[r["width"], stats.mean_sd_text(r["test_acc"]), protocol.epochs_cell(r)] for r in doc["results"]["rows"]]
  return (f"**Width.** Test accuracy (%), {protocol.rule(doc['config'])}.\\n\\n"
          "| width | test acc | epochs |\\n|---|---|---|\\n" + "".join(f"| {w} | {a} | {e} |\\n" for w, a, e in rows))


def plots(doc):
  fig, ax = plt.subplots()
  ax.plot([r["width"] for r in doc["results"]["rows"]], [1, 2])
  return {"width.png": fig}


def reading(doc):
  return "- Widths: " + ", ".join(str(r["width"]) for r in doc["results"]["rows"]) + "."
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
  """A copy of the project (code only) with the README's two recipes applied."""
  copy = tmp_path_factory.mktemp("extend") / "project"
  shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", ".cache", "checkpoints", "results",
                                                            "__pycache__", "*.egg-info"))
  models_py = copy / "research" / "models.py"
  models_py.write_text(models_py.read_text() + MODEL)
  (copy / "experiments" / "width_vs_accuracy.py").write_text(EXPERIMENT)
  return copy


def _run(project, *args):
  env = dict(os.environ, PYTHONPATH=str(project), RESEARCH_RESULTS_DIR=str(project / "results"),
             RESEARCH_CHECKPOINTS_DIR=str(project / "checkpoints"), RESEARCH_CACHE_DIR=str(ROOT / ".cache"))
  p = subprocess.run([sys.executable, "-m", "research", *args], cwd=project, env=env, capture_output=True,
                     text=True, timeout=600)
  assert p.returncode == 0, p.stderr[-3000:]
  return p.stdout


def test_a_new_experiment_is_one_file(project):
  assert "width_vs_accuracy" in _run(project, "list")
  make = subprocess.run(["make", "-n", "width_vs_accuracy", "PROFILE=tiny"], cwd=project, capture_output=True,
                        text=True)
  assert "research run width_vs_accuracy --profile tiny" in make.stdout, make.stdout + make.stderr
  _run(project, "run", "width_vs_accuracy", "--profile", "tiny", "--no-progress")
  out = project / "results" / "tiny" / "width_vs_accuracy"
  assert "| 16 |" in (out / "table.md").read_text() and (out / "width.png").exists()
  _run(project, "report", "--profile", "tiny")
  assert "Width vs accuracy" in (project / "results" / "tiny" / "REPORT.md").read_text()


def test_a_new_model_is_one_function_and_one_registry_line(project):
  _run(project, "run", "depth", "--profile", "tiny", "--no-progress",
       "--config.variants=[mlp,scaled_mlp]", "--config.depths=[1]")
  doc = json.loads((project / "results" / "tiny" / "depth_vs_accuracy" / "results.json").read_text())
  variants = {r["variant"] for r in doc["results"]["rows"]}
  assert variants == {"plain", "scaled_mlp"}
  table = (project / "results" / "tiny" / "depth_vs_accuracy" / "table.md").read_text()
  assert "scaled_mlp test" in table
