"""A run that is killed, fed bad input or diverges loses nothing and says why."""
import io
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr

import pytest

from research import data
from research.data import sources
from research.__main__ import main as cli_main

ROOT = pathlib.Path(__file__).resolve().parent.parent
FASHION = pathlib.Path(os.environ.get("FASHION_MNIST_DIR", sources.DEBIAN_DIR))
SMALL = ["--config.depths=[0,2]", "--config.n_train=1000", "--config.width=16", "--config.epochs=4",
         "--config.seeds=2", "--config.checkpoint_every_s=0"]


def _env(workdir, **extra):
  env = dict(os.environ, RESEARCH_RESULTS_DIR=str(workdir / "results"),
             RESEARCH_CHECKPOINTS_DIR=str(workdir / "checkpoints"), **extra)
  return env


def _cli(workdir, *args, env=None, **kw):
  return subprocess.Popen([sys.executable, "-m", "research", "run", "depth", "--profile", "quick",
                           "--no-progress", *args], cwd=ROOT, env=env or _env(workdir),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _numbers(workdir):
  doc = json.loads((workdir / "results" / "quick" / "depth_vs_accuracy" / "results.json").read_text())
  return [(r["depth"], r["variant"], r["test_acc"], r["train_acc"], r["test_loss"], r["curve"])
          for r in doc["results"]["rows"] if "same_as" not in r]


def _table_without_timing(workdir):
  lines = (workdir / "results" / "quick" / "depth_vs_accuracy" / "table.md").read_text().splitlines()
  return [re.sub(r"\|[^|]*\|$", "|", l) for l in lines if l.startswith("|")]


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_gives_identical_results(tmp_path):
  ref, killed = tmp_path / "ref", tmp_path / "killed"
  assert _cli(ref, *SMALL).wait(timeout=600) == 0
  p = _cli(killed, *SMALL)
  deadline = time.time() + 300
  ckpt = killed / "checkpoints" / "quick" / "depth_vs_accuracy"
  # Kill once the second cell has a checkpoint of a partial run (epoch 1 or 2 of 4).
  while time.time() < deadline and p.poll() is None:
    if any(ckpt.glob("L2-plain-*/ckpt/[12]")):
      break
    time.sleep(0.05)
  assert p.poll() is None, "the run ended before it could be killed"
  p.send_signal(signal.SIGKILL)
  p.wait()
  assert not (killed / "results" / "quick" / "depth_vs_accuracy" / "results.json").exists()
  again = _cli(killed, *SMALL)
  out, err = again.communicate(timeout=600)
  assert again.returncode == 0, err
  assert _numbers(ref) == _numbers(killed)  # bit for bit: JSON floats round-trip exactly
  assert _table_without_timing(ref) == _table_without_timing(killed)
  doc = json.loads((killed / "results" / "quick" / "depth_vs_accuracy" / "results.json").read_text())
  assert any(r["reused"] for r in doc["results"]["rows"])  # the finished first cell was not redone


def _snapshot(root):
  """Every file but lock files (a run takes its experiment's lock before loading data)."""
  return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                for p in root.rglob("*") if p.is_file() and p.name != ".lock")


@pytest.fixture
def populated(workdir):
  """A workdir that already holds results and checkpoints that bad input must not touch."""
  res = workdir / "results" / "quick" / "depth_vs_accuracy"
  res.mkdir(parents=True)
  (res / "results.json").write_text('{"kept": true}\n')
  (res / "table.md").write_text("| kept |\n")
  ck = workdir / "checkpoints" / "depth_vs_accuracy" / "L0-plain-0000000000"
  ck.mkdir(parents=True)
  (ck / "result.json").write_text("{}\n")
  return workdir


def _bad_input(workdir, argv):
  if argv[:1] == ["run"] and not any(a.startswith("--profile") for a in argv):
    argv = [*argv, "--profile", "quick"]  # should a check ever let bad input through, keep the run short
  before = _snapshot(workdir)
  err = io.StringIO()
  with redirect_stderr(err):
    rc = cli_main(argv)
  text = err.getvalue().strip()
  assert rc == 2, text
  assert len(text.splitlines()) == 1 and text.startswith("error: "), text
  assert "Traceback" not in text
  assert _snapshot(workdir) == before
  return text


BAD = {
    "unknown experiment": (["run", "deapth"], "unknown experiment 'deapth' (did you mean 'depth'?)"),
    "unknown command": (["train", "depth"], "unknown command 'train'"),
    "no experiment name": (["run"], "needs an experiment name"),
    "unknown profile": (["run", "depth", "--profile", "fast"], "unknown profile 'fast'"),
    "unknown dataset": (["run", "depth", "--config.dataset=mnistt"], "unknown dataset 'mnistt'"),
    "unknown key": (["run", "depth", "--config.widht=3"], "did you mean 'width'?"),
    "wrong type": (["run", "depth", "--config.epochs=ten"], "--config.epochs=ten: expected an integer"),
    "float for int": (["run", "depth", "--config.seeds=2.5"], "expected an integer"),
    "negative depth": (["run", "depth", "--config.depths=[2,-1]"], "depths=[2, -1]: must be >= 0"),
    "width 0": (["run", "depth", "--config.width=0"], "width=0: must be > 0"),
    "empty depths": (["run", "depth", "--config.depths=[]"], "depths: needs at least one value"),
    "zero epochs": (["run", "depth", "--config.epochs=0"], "epochs=0: must be > 0"),
    "zero seeds": (["run", "depth", "--config.seeds=0"], "needs at least 1 seed"),
    "learning rate <= 0": (["run", "depth", "--config.learning_rates=[-0.1]"], "learning_rates=[-0.1]: must be > 0"),
    "unknown optimizer": (["run", "depth", "--config.optimizer=adagrad"], "unknown optimizer 'adagrad'"),
    "unknown activation": (["run", "depth", "--config.activation=swish"], "valid values are relu"),
    "bad flag": (["run", "depth", "--epochs=3"], "overrides look like --config.KEY=VALUE"),
    "override without value": (["run", "depth", "--config.epochs"], "has no value"),
    "n_train larger than the data": (["run", "depth", "--config.dataset=digits", "--config.n_train=5000"],
                                     "n_train=5000 is larger than the 348 training examples of digits left after val_size=1000"),
    "batch larger than the data": (["run", "depth", "--config.dataset=digits", "--config.n_train=100",
                                    "--config.batch_size=128"], "batch_size=128 is larger than the 100"),
    "validation split eats the data": (["run", "depth", "--config.dataset=digits", "--config.val_size=2000"],
                                       "val_size=2000 leaves no training data"),
    "resize of 1-D signals": (["run", "depth", "--config.dataset=mnist1d", "--config.resize=16"],
                              "resize needs images"),
    "tfds with no name": (["run", "depth", "--config.dataset=tfds:"], "unknown dataset 'tfds:'"),
    "tfds without TensorFlow": (["run", "depth", "--no-progress", "--config.dataset=tfds:mnist"],
                                "pip install -e '.[tfds]'"),
    "infinite learning rate": (["run", "depth", "--config.learning_rates=[1e999]"], "must be a finite number"),
    "no validation split": (["run", "depth", "--config.val_size=0"],
                            "val_size=0: every experiment selects on a validation split"),
    "unknown schedule": (["run", "depth", "--config.schedule=step"], "unknown schedule 'step'"),
    "negative patience": (["run", "depth", "--config.patience=-1"], "patience=-1: must be >= 0"),
    "warmup as long as the run": (["run", "depth", "--config.schedule=cosine", "--config.warmup_epochs=50"],
                                  "warmup_epochs=50.0: must be under epochs=6"),
    "absurd epochs": (["run", "depth", "--config.epochs=1000000000000"], "epochs=1000000000000: at most 100000"),
    "absurd width": (["run", "depth", "--config.width=100000000"], "width=100000000: at most 65536"),
    "absurd seeds": (["run", "depth", "--config.seeds=100000"], "seeds=100000: at most 1000"),
    "absurd resize": (["run", "depth", "--config.resize=100000"], "resize=100000: at most 512"),
    "cell larger than memory": (["run", "depth", "--no-progress", "--config.width=65536", "--config.depths=[1]",
                                 "--config.seeds=1000", "--config.n_train=1000"], "needs about"),
    "empty profile": (["run", "depth", "--profile="], "unknown profile ''"),
    "empty profile for the paper": (["paper", "--profile="], "unknown profile ''"),
    "unknown profile for a report": (["report", "--profile", "fast"], "unknown profile 'fast'"),
    "repeated depth": (["run", "depth", "--config.depths=[1,1]"], "1 listed more than once"),
    "unknown experiment to render": (["render", "deapth"], "unknown experiment 'deapth'"),
    "render needs a name": (["render"], "needs an experiment name"),
    "override given to render": (["render", "depth", "--config.width=3"], "unknown argument '--config.width=3'"),
    "render with no results": (["render", "wide", "--profile", "quick"], "run the experiment first"),
    "render of a results.json that is not one": (["render", "depth", "--profile", "quick"],
                                                 "is not an experiment's results"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gets_one_clear_line_and_changes_nothing(populated, case):
  argv, expected = BAD[case]
  text = _bad_input(populated, argv)
  assert expected in text, text


def test_missing_data_folder(populated, monkeypatch):
  monkeypatch.setenv("FASHION_MNIST_DIR", str(populated / "no-such-folder"))
  data.load_raw.cache_clear()
  monkeypatch.setenv("RESEARCH_CACHE_DIR", str(populated / "cache"))
  text = _bad_input(populated, ["run", "depth"])
  assert "FASHION_MNIST_DIR" in text and "apt-get install dataset-fashion-mnist" in text


@pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(), reason="Fashion-MNIST not installed")
@pytest.mark.parametrize("damage", ["truncated gzip", "flipped byte", "wrong dimensions"])
def test_corrupt_idx_files(populated, monkeypatch, tmp_path, damage):
  import gzip
  folder = tmp_path / "fm"
  shutil.copytree(FASHION, folder)
  f = folder / "t10k-images-idx3-ubyte.gz"
  raw = gzip.decompress(f.read_bytes())
  if damage == "truncated gzip":
    f.write_bytes(f.read_bytes()[:5000])
  elif damage == "flipped byte":
    raw = bytearray(raw)
    raw[5000] ^= 0xFF
    f.write_bytes(gzip.compress(bytes(raw)))
  else:  # a 32x32 header on the same bytes
    f.write_bytes(gzip.compress(raw[:8] + (32).to_bytes(4, "big") + (32).to_bytes(4, "big") + raw[16:]))
  monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
  monkeypatch.setenv("RESEARCH_CACHE_DIR", str(tmp_path / "cache"))
  data.load_raw.cache_clear()
  text = _bad_input(populated, ["run", "depth"])
  assert "t10k-images-idx3-ubyte.gz is corrupt" in text


def test_read_only_results_folder(populated):
  res = populated / "results" / "quick"  # where a quick run writes
  made_read_only = subprocess.run(["chattr", "+i", str(res)], capture_output=True).returncode == 0
  if not made_read_only:
    if os.geteuid() == 0:
      pytest.skip("cannot make a folder read-only for root here")
    res.chmod(0o555)
  try:
    text = _bad_input(populated, ["run", "depth"])
  finally:
    if made_read_only:
      subprocess.run(["chattr", "-i", str(res)])
    res.chmod(0o755)
  assert "not writable" in text and "RESEARCH_RESULTS_DIR" in text


@pytest.mark.slow
def test_debug_flag_shows_the_traceback(workdir):
  p = subprocess.run([sys.executable, "-m", "research", "run", "deapth", "--debug"], cwd=ROOT,
                     env=_env(workdir), capture_output=True, text=True)
  assert p.returncode != 0 and "Traceback" in p.stderr
  p = subprocess.run([sys.executable, "-m", "research", "run", "deapth"], cwd=ROOT,
                     env=_env(workdir), capture_output=True, text=True)
  assert p.returncode == 2 and p.stderr.strip().count("\n") == 0 and "Traceback" not in p.stderr


# ----------------------------------------------------------------------------
# Faults while running: damaged checkpoints, two writers, a full disk, divergence

TINY = ["--config.depths=[0,1]", "--config.epochs=3", "--config.checkpoint_every_s=0"]


def _tiny_run(workdir, *extra):
  p = subprocess.run([sys.executable, "-m", "research", "run", "depth", "--profile", "tiny", "--no-progress",
                      *TINY, *extra], cwd=ROOT, env=_env(workdir), capture_output=True, text=True, timeout=600)
  return p


def _tiny_numbers(workdir):
  doc = json.loads((workdir / "results" / "tiny" / "depth_vs_accuracy" / "results.json").read_text())
  return [(r["depth"], r["variant"], r["test_acc"], r["train_acc"], r["test_loss"]) for r in doc["results"]["rows"]
          if "same_as" not in r]


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
  """An uninterrupted tiny run, its folders kept: every test that damages a finished run starts from a
  copy of them (what a run in its own folder would have written) rather than running it again."""
  ref = tmp_path_factory.mktemp("reference")
  p = _tiny_run(ref)
  assert p.returncode == 0, p.stderr
  return ref


@pytest.fixture(scope="module")
def reference(reference_run):
  """The numbers every recovery must reproduce."""
  return _tiny_numbers(reference_run)


def _finished_run(reference_run, workdir):
  """The reference run's results and checkpoints, copied into workdir as if it had run there."""
  for folder in ("results", "checkpoints"):
    shutil.copytree(reference_run / folder, workdir / folder, symlinks=True)


def _largest_file(cell_ckpt):
  return max((p for p in cell_ckpt.rglob("*") if p.is_file() and p.name != "integrity.json"),
             key=lambda p: p.stat().st_size)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["flipped bytes", "truncated file", "missing _METADATA", "stray step folder"])
@pytest.mark.parametrize("finished", [True, False])
def test_a_damaged_checkpoint_is_named_and_never_used(workdir, reference_run, reference, damage, finished):
  _finished_run(reference_run, workdir)
  cell = next((workdir / "checkpoints" / "tiny" / "depth_vs_accuracy").glob("L1-*"))
  step = next(p for p in (cell / "ckpt").iterdir() if p.name.isdigit())
  if not finished:  # as if killed after the checkpoint, before result.json
    (cell / "result.json").unlink()
  if damage == "flipped bytes":
    f = _largest_file(step)
    raw = bytearray(f.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 64] = bytes(b ^ 0xFF for b in raw[mid:mid + 64])
    f.write_bytes(bytes(raw))
  elif damage == "truncated file":
    f = _largest_file(step)
    f.write_bytes(f.read_bytes()[:len(f.read_bytes()) // 2])
  elif damage == "missing _METADATA":
    next(step.rglob("_METADATA")).unlink()
  else:
    (cell / "ckpt" / "7").mkdir()
  p = _tiny_run(workdir)
  assert p.returncode == 0, p.stderr
  notices = [l for l in p.stderr.splitlines() if l.strip()]
  assert len(notices) == 1 and notices[0].startswith("cell L1-") and "Traceback" not in p.stderr, p.stderr
  assert _tiny_numbers(workdir) == reference


@pytest.mark.slow
def test_two_runs_of_one_experiment_and_render_during_a_run(workdir):
  first = _cli(workdir, *SMALL, env=_env(workdir))
  ckpt = workdir / "checkpoints" / "quick" / "depth_vs_accuracy"
  deadline = time.time() + 300
  while time.time() < deadline and not any(ckpt.glob("L*-*")):
    time.sleep(0.05)
  first.send_signal(signal.SIGSTOP)  # a stopped run still holds its lock, and cannot finish meanwhile
  try:
    for argv in (["run", "depth", "--profile", "quick", "--no-progress", *SMALL], ["render", "depth", "--profile", "quick"]):
      p = subprocess.run([sys.executable, "-m", "research", *argv], cwd=ROOT, env=_env(workdir),
                         capture_output=True, text=True, timeout=120)
      assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
      assert f"PID {first.pid}" in p.stderr and "another run of depth_vs_accuracy" in p.stderr
  finally:
    first.kill()
    first.wait()


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_keeps_the_old_results(workdir, reference_run, monkeypatch):
  import errno
  _finished_run(reference_run, workdir)
  out = workdir / "results" / "tiny" / "depth_vs_accuracy"
  before = {f.name: f.read_bytes() for f in out.iterdir()}
  real = pathlib.Path.write_bytes

  def full(self, data):
    if ".staging-" in str(self):
      raise OSError(errno.ENOSPC, "No space left on device")
    return real(self, data)
  monkeypatch.setattr(pathlib.Path, "write_bytes", full)
  text = _bad_input_inprocess(["run", "depth", "--profile", "tiny", "--no-progress", *TINY])
  assert "disk" in text.lower() and str(out.parent) in text
  assert {f.name: f.read_bytes() for f in out.iterdir()} == before


def _bad_input_inprocess(argv):
  err = io.StringIO()
  with redirect_stderr(err):
    rc = cli_main(argv)
  text = err.getvalue().strip()
  assert rc == 2 and len(text.splitlines()) == 1 and text.startswith("error: "), text
  return text


@pytest.mark.slow
def test_corrupt_results_under_render_and_report(workdir, reference_run):
  _finished_run(reference_run, workdir)
  path = workdir / "results" / "tiny" / "depth_vs_accuracy" / "results.json"
  for content in ("{", "", "{}", "[1, 2]"):
    path.write_text(content)
    for argv in (["render", "depth", "--profile", "tiny"], ["report", "--profile", "tiny"]):
      p = subprocess.run([sys.executable, "-m", "research", *argv], cwd=ROOT, env=_env(workdir),
                         capture_output=True, text=True, timeout=120)
      assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (content, argv, p.stderr)
      assert "results.json" in p.stderr and "Traceback" not in p.stderr
    assert path.read_text() == content  # never rewritten from a guess


@pytest.mark.slow
def test_a_diverged_row_is_reported_as_diverged_never_as_a_number(workdir):
  p = _tiny_run(workdir, "--config.learning_rates=[1e30]")
  assert p.returncode == 0, p.stderr
  out = workdir / "results" / "tiny" / "depth_vs_accuracy"
  reading = (out / "reading.md").read_text()
  assert "diverged" in reading.lower() and "nan" not in reading.lower() and "a tie" not in reading
  assert "diverged" in (out / "table.md").read_text()

