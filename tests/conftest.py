"""Shared fixtures. Results and checkpoints of tests go to a temporary folder;
the data and compilation caches are the project's own (.cache/), so a second
`make test` compiles and parses less. The tiny paper runs once per session (tiny_paper,
permuted_paper): every test of an experiment's tiny profile reads that run's outputs."""
import contextlib
import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import pytest

from research import data
from research.system import registry
from research.engine import runtime

runtime.setup_jax()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
  """results/ and checkpoints/ under a temporary folder."""
  monkeypatch.setenv("RESEARCH_RESULTS_DIR", str(tmp_path / "results"))
  monkeypatch.setenv("RESEARCH_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
  return tmp_path


@pytest.fixture(scope="session")
def digits():
  """scikit-learn's 8x8 handwritten digits: (Dataset, arrays on the device)."""
  ds = data.load("digits", val_size=150)
  return ds, jax.device_put(ds.arrays())


@pytest.fixture(scope="session")
def tiny():
  """A small random 4-class problem for fast engine tests, with a validation split."""
  k1, k2, k3, k4 = jax.random.split(jax.random.key(0), 4)
  w = jax.random.normal(k1, (12, 4))
  x = jax.random.normal(k2, (256, 12))
  xt = jax.random.normal(k3, (64, 12))
  xv = jax.random.normal(k4, (64, 12))
  return dict(x_train=x, y_train=jnp.argmax(x @ w, -1), x_test=xt, y_test=jnp.argmax(xt @ w, -1),
              x_val=xv, y_val=jnp.argmax(xv @ w, -1))


# ----------------------------------------------------------------------------
# The tiny paper: one per session. tests/test_registry.py and the per-experiment test files read an
# experiment's tiny profile from it instead of running that profile again (each run costs minutes).

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAPER_GROUP = "tiny_paper"  # the pytest-xdist group of every test that reads it: one worker runs them
PAPER_FIXTURES = ("tiny_paper", "permuted_paper")


class TinyPaper(NamedTuple):
  """`python -m research paper --profile tiny` run twice into one folder: the second run must reuse every cell."""
  root: pathlib.Path  # results/ and ckpt/ as the second run left them
  first: dict         # experiment name -> the first run's results.json
  second: dict        # experiment name -> the second run's results.json

  def out(self, name):
    """The results folder of experiment `name` as the first run wrote it (the second rewrites results/)."""
    return self.root / "first" / name

  def run(self, name):
    """(the first run's results folder, its results.json) of experiment `name`."""
    return self.out(name), self.first[name]


def _env(tmp, **extra):
  return dict(os.environ, RESEARCH_RESULTS_DIR=str(tmp / "results"), RESEARCH_CHECKPOINTS_DIR=str(tmp / "ckpt"),
              **extra)


def _docs(tmp):
  return {n: json.loads((tmp / "results" / "tiny" / n / "results.json").read_text()) for n in registry.names()}


def _paper(tmp):
  p = subprocess.run([sys.executable, "-m", "research", "paper", "--profile", "tiny"], cwd=ROOT, env=_env(tmp),
                     capture_output=True, text=True, timeout=2400)
  assert p.returncode == 0, p.stderr[-3000:]
  return _docs(tmp)


def _shared(tmp_path_factory, name):
  """A folder every xdist worker of this session sees (beside their own basetemps), so that a session
  fixture runs once even if its readers land on two workers (xdist's documented pattern)."""
  base = tmp_path_factory.getbasetemp()
  root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
  return root / name


@contextlib.contextmanager
def _locked(path):
  """An exclusive lock on path (a file), held while the block runs: the other worker waits."""
  path.parent.mkdir(parents=True, exist_ok=True)
  with open(path, "w") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)


class _Permuted:
  """The tiny paper with its test labels permuted (research/data/__init__.py), in a background process: it runs
  while the first tiny paper does, on the other core, each experiment as `make paper` runs it but in the
  opposite order, so that each run finds the other's compiled programs in the cache for its second half.
  Started once per session (a marker in the shared folder); its exit code lands in rc.txt."""

  def __init__(self, tmp):
    self.tmp, self.proc, self.log = tmp, None, tmp / "log.txt"

  def start(self):
    with _locked(self.tmp / "start.lock"):
      if self.proc is None and not (self.tmp / "started").exists():
        names = list(reversed(registry.names()))
        script = ("import pathlib, subprocess, sys\n"
                  f"for n in {names!r}:\n"
                  "  c = subprocess.call([sys.executable, '-m', 'research', 'run', n, '--profile', 'tiny', "
                  "'--no-progress'])\n"
                  "  if c: break\n"
                  f"pathlib.Path({str(self.tmp / 'rc.txt')!r}).write_text(str(c))\n")
        (self.tmp / "started").touch()
        with open(self.log, "w") as log:
          self.proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                       env=_env(self.tmp, RESEARCH_PERMUTE_TEST_LABELS="1"))
    return self

  def docs(self):
    self.start()
    deadline = time.time() + 2400
    while not (self.tmp / "rc.txt").exists() and time.time() < deadline:
      if self.proc is not None and self.proc.poll() is not None and not (self.tmp / "rc.txt").exists():
        break  # this worker's job died before writing its exit code
      time.sleep(1.0)
    rc = (self.tmp / "rc.txt").read_text() if (self.tmp / "rc.txt").exists() else "none"
    assert rc == "0", self.log.read_text()[-3000:]
    return _docs(self.tmp)

  def stop(self):
    if self.proc is not None and self.proc.poll() is None:
      self.proc.kill()
      self.proc.wait()


@pytest.fixture(scope="session")
def _permuted(tmp_path_factory):
  folder = _shared(tmp_path_factory, "permuted")
  folder.mkdir(parents=True, exist_ok=True)
  job = _Permuted(folder)
  yield job
  job.stop()


def _wanted(request, fixture):
  return any(fixture in getattr(item, "fixturenames", ()) for item in request.session.items)


@pytest.fixture(scope="session")
def tiny_paper(tmp_path_factory, request, _permuted):
  """The tiny paper (TinyPaper): every registered experiment end to end on its tiny profile, then again.
  Run once per session: a second worker that needs it waits for the first and reads its folders."""
  tmp = _shared(tmp_path_factory, "paper")
  with _locked(tmp.with_suffix(".lock")):
    if not (tmp / "done").exists():
      if _wanted(request, "permuted_paper"):
        _permuted.start()  # beside the first run rather than after it
      shutil.rmtree(tmp, ignore_errors=True)
      tmp.mkdir(parents=True)
      _paper(tmp)
      shutil.copytree(tmp / "results" / "tiny", tmp / "first")
      _paper(tmp)
      (tmp / "done").touch()
  first = {n: json.loads((tmp / "first" / n / "results.json").read_text()) for n in registry.names()}
  return TinyPaper(tmp, first, _docs(tmp))


@pytest.fixture(scope="session")
def permuted_paper(_permuted):
  """experiment name -> results.json of the tiny paper whose test labels are permuted."""
  return _permuted.docs()


# Slow tests in files whose owners mark them there in time (each trains many cells).
SLOW = {"tests/test_golden.py::test_reference_cells_report_the_golden_numbers"}


def pytest_itemcollected(item):
  """Every test that reads the tiny paper in one xdist group (`-n 2 --dist loadgroup`), so that one worker
  runs the paper once; and the SLOW ones marked. Marked as each item is collected, before xdist reads the
  group in its pytest_collection_modifyitems (it needs pytest below 9: pyproject.toml says why)."""
  if set(PAPER_FIXTURES) & set(getattr(item, "fixturenames", ())):
    item.add_marker(pytest.mark.xdist_group(PAPER_GROUP))
    item.add_marker(pytest.mark.slow)  # a whole tiny paper
  if item.nodeid.split("[")[0] in SLOW:
    item.add_marker(pytest.mark.slow)
