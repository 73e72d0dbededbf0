"""Models from outside the repository: a flax.nnx and a flax.linen module with dropout, in a file of the
user's own, train through the engine and through an experiment named as FILE.py:NAME."""
import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.models import adapters
from research.engine import cells, train
from research import models
from research.system.errors import UserError

ROOT = pathlib.Path(__file__).resolve().parent.parent

MINE = '''
import math

import flax.linen as nn
from flax import nnx


class Highway(nnx.Module):
  """An MLP of `depth` hidden layers with dropout, in flax.nnx."""

  def __init__(self, num_classes, *, depth, width, in_shape, rngs, rate=RATE):
    d = math.prod(in_shape)
    self.hidden = nnx.List([nnx.Linear(d if i == 0 else width, width, rngs=rngs) for i in range(depth)])
    self.drop = nnx.Dropout(rate, rngs=rngs)
    self.out = nnx.Linear(width if depth else d, num_classes, rngs=rngs)

  def __call__(self, x):
    h = x.reshape(x.shape[0], -1)
    for layer in self.hidden:
      h = self.drop(nnx.relu(layer(h)))
    return self.out(h)


class LinenDropout(nn.Module):
  num_classes: int
  depth: int
  width: int

  @nn.compact
  def __call__(self, x, train: bool):
    h = x.reshape(x.shape[0], -1)
    for _ in range(self.depth):
      h = nn.Dropout(RATE, deterministic=not train)(nn.relu(nn.Dense(self.width)(h)))
    return nn.Dense(self.num_classes)(h)


def linen_dropout(num_classes, *, depth, width):
  return LinenDropout(num_classes, depth, width)
'''


def _file(folder, rate=0.3, name="mine.py"):
  path = pathlib.Path(folder) / name
  path.write_text(MINE.replace("RATE", str(rate)))
  return path


@pytest.fixture(scope="module")
def mine(tmp_path_factory):
  return _file(tmp_path_factory.mktemp("user"))


@pytest.mark.parametrize("name", ["Highway", "linen_dropout"])
def test_dropout_is_on_in_training_and_off_in_evaluation(mine, digits, name):
  _, arrays = digits
  model = models.build(f"{mine}:{name}", 10, depth=2, width=32, activation="relu")
  x = arrays["x_train"][:8]
  params = model.init(jax.random.PRNGKey(0), x)
  assert isinstance(params, dict) and all(isinstance(a, jax.Array) for a in jax.tree.leaves(params))
  np.testing.assert_array_equal(model.apply(params, x), model.apply(params, x))
  a, b = (model.rng_apply(params, x, jax.random.PRNGKey(k)) for k in (1, 2))
  assert not np.allclose(a, b)  # two steps' rngs drop other units
  np.testing.assert_array_equal(a, model.rng_apply(params, x, jax.random.PRNGKey(1)))


@pytest.mark.parametrize("name", ["Highway", "linen_dropout"])
def test_an_outside_module_trains_in_a_cell_and_reproduces(mine, digits, tmp_path, name):
  _, arrays = digits
  trainer = train.make_trainer(models.build(f"{mine}:{name}", 10, depth=1, width=32), "adam", 64, patience=2)
  run = lambda root: cells.run_cell(trainer, arrays, name=name, spec={}, seeds=[0, 1], hparams=[{"learning_rate": 3e-3}] * 2,
                                    epochs=3, root=root, progress=False)
  first, again = run(tmp_path / "a"), run(tmp_path / "b")
  assert min(first.summary.final("val_acc")) > 0.5  # it learned the digits
  assert first.summary.members == again.summary.members  # the steps' rngs come from the seeds


def test_an_edit_to_the_users_file_is_another_cell(tmp_path, digits):
  _, arrays = digits
  key = lambda path: cells.identity(train.make_trainer(models.build(f"{path}:Highway", 10, depth=1, width=16), "adam", 64),
                                    arrays, seeds=[0], hparams=[{"learning_rate": 1e-3}], epochs=2)[0]
  for folder in "abc":
    (tmp_path / folder).mkdir()
  same, again, other = (key(_file(tmp_path / folder, rate)) for folder, rate in (("a", 0.3), ("b", 0.3), ("c", 0.6)))
  assert same == again and other != same  # the same code anywhere is the same cell; another rate is not


def test_a_missing_file_or_name_is_one_line(tmp_path, mine):
  with pytest.raises(UserError, match="no file"):
    models.build(f"{tmp_path}/absent.py:Net", 10)
  with pytest.raises(UserError, match="defines no callable Nope"):
    models.build(f"{mine}:Nope", 10)
  assert adapters.short_name(f"{mine}:Highway") == "Highway"


def test_a_plain_linen_module_without_train_has_no_randomness():
  import flax.linen as nn
  model = adapters.from_linen(nn.Dense(3))
  params = model.init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
  assert model.rng_apply is None and model.apply(params, jnp.ones((2, 4))).shape == (2, 3)


@pytest.mark.slow
def test_make_depth_trains_an_nnx_and_a_linen_module_from_a_file(mine, tmp_path):
  env = dict(os.environ, RESEARCH_RESULTS_DIR=str(tmp_path / "results"),
             RESEARCH_CHECKPOINTS_DIR=str(tmp_path / "checkpoints"))
  p = subprocess.run([sys.executable, "-m", "research", "run", "depth", "--profile", "tiny", "--no-progress",
                      f"--config.variants=[{mine}:Highway,{mine}:linen_dropout]"], cwd=ROOT, env=env,
                     capture_output=True, text=True, timeout=600)
  assert p.returncode == 0, p.stderr
  table = (tmp_path / "results" / "tiny" / "depth_vs_accuracy" / "table.md").read_text()
  assert "Highway test" in table and "linen_dropout test" in table and "of networks with" in table
  cells_made = {d.name.rsplit("-", 1)[0] for d in (tmp_path / "checkpoints" / "tiny" / "depth_vs_accuracy").iterdir()}
  assert {"L1-Highway", "L1-linen_dropout"} <= cells_made
