"""Every fault is one line with a documented exit, and loses nothing already written.

Each case runs the real command (research.__main__.main, or `python -m research` / `make` where the
process itself matters) against a copy of one tiny run shared by the module, checks the exit status,
that stderr holds at most two lines, and that the files already written are still there; where the
run is then repeated, its numbers equal the uninterrupted run's. docs/reliability.md lists them.
"""
import contextlib
import errno
import io
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout

import jax
import orbax.checkpoint as ocp
import pytest

from experiments import depth_vs_accuracy
from research import data
from research.cli import interrupts
from research.system import lock, paths, results, sealed
from research.__main__ import main as cli_main

ROOT = pathlib.Path(__file__).resolve().parent.parent
TINY = ["--no-progress", "--config.depths=[0,1]", "--config.epochs=3", "--config.checkpoint_every_s=0"]
RUN = ["run", "depth", "--profile", "tiny", *TINY]
NAME = "depth_vs_accuracy"


def _env(workdir, **extra):
  return dict(os.environ, RESEARCH_RESULTS_DIR=str(workdir / "results"),
              RESEARCH_CHECKPOINTS_DIR=str(workdir / "checkpoints"), **extra)


def _cli(argv):
  """(exit status, stderr lines) of the command, in this process."""
  err = io.StringIO()
  with redirect_stderr(err), redirect_stdout(io.StringIO()):
    rc = cli_main(list(argv))
  return rc, [l for l in err.getvalue().splitlines() if l.strip()]


def _one_line(argv, rc=2):
  code, lines = _cli(argv)
  assert code == rc and len(lines) == 1 and "Traceback" not in lines[0], (code, lines)
  return lines[0]


def _files(root):
  """Every file under root (lock files aside) with its bytes: what a fault must leave as it was."""
  return {str(p.relative_to(root)): p.read_bytes() for p in sorted(pathlib.Path(root).rglob("*"))
          if p.is_file() and p.name != ".lock"}


def _numbers(workdir):
  doc = json.loads((workdir / "results" / "tiny" / NAME / "results.json").read_text())
  return [(r["depth"], r["variant"], r["test_acc"], r["train_acc"], r["test_loss"]) for r in doc["results"]["rows"]
          if "same_as" not in r]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  """One uninterrupted tiny run: its folders, copied by each test, and its numbers."""
  ref = tmp_path_factory.mktemp("reference")
  with pytest.MonkeyPatch.context() as mp:
    mp.setenv("RESEARCH_RESULTS_DIR", str(ref / "results"))
    mp.setenv("RESEARCH_CHECKPOINTS_DIR", str(ref / "checkpoints"))
    rc, lines = _cli(RUN)
  assert rc == 0, lines
  return ref, _numbers(ref)


@pytest.fixture
def run_dir(reference, tmp_path, monkeypatch):
  """A copy of the reference run's results and checkpoints, as this test's project folders."""
  ref, _ = reference
  for sub in ("results", "checkpoints"):
    shutil.copytree(ref / sub, tmp_path / sub, symlinks=True)
  monkeypatch.setenv("RESEARCH_RESULTS_DIR", str(tmp_path / "results"))
  monkeypatch.setenv("RESEARCH_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
  return tmp_path


@contextlib.contextmanager
def read_only(*folders):
  """Folders made unchangeable (chattr +i for root, chmod otherwise) for the block."""
  done = []
  try:
    for f in folders:
      if subprocess.run(["chattr", "+i", str(f)], capture_output=True).returncode == 0:
        done.append(("chattr", f))
      elif os.geteuid() != 0:
        os.chmod(f, 0o555)
        done.append(("chmod", f))
      else:
        pytest.skip("cannot make a folder read-only for root here")
    yield
  finally:
    for how, f in reversed(done):
      if how == "chattr":
        subprocess.run(["chattr", "-i", str(f)])
      else:
        os.chmod(f, 0o755)


# ----------------------------------------------------------------------------
# Disk full, read-only, corrupt or misplaced files

ORBAX_FULL = ('RESOURCE_EXHAUSTED: Error writing "state.params.w_DxK/0.0.0" in OCDBT database at local file '
              '"{path}/": Failed to write 26721 bytes to file 12: No space left on device [os_error_code=\'28\']')


def test_a_full_disk_during_a_checkpoint_save_is_one_line_with_the_folder_and_bytes(run_dir, monkeypatch):
  shutil.rmtree(run_dir / "checkpoints")  # every cell trains, so every cell saves
  before = _files(run_dir / "results")

  def full(self, step, *a, **kw):
    raise ValueError(ORBAX_FULL.format(path=self.directory))
  monkeypatch.setattr(ocp.CheckpointManager, "save", full)
  line = _one_line(RUN)
  assert line.startswith("error: saving a checkpoint of cell L0-plain: the disk of ") and "is full (about " in line
  assert "needed, " in line and str(run_dir / "checkpoints" / "tiny" / NAME) in line
  assert _files(run_dir / "results") == before


def _mount_tmpfs(folder, size):
  folder.mkdir(parents=True, exist_ok=True)
  return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                        capture_output=True).returncode == 0


@pytest.mark.slow
def test_a_real_full_disk_in_checkpoints_is_one_line_and_resumes_once_freed(reference, tmp_path):
  small = tmp_path / "small"
  if not _mount_tmpfs(small, "64k"):
    pytest.skip("cannot mount a small tmpfs here (needs root)")
  try:
    env = dict(_env(tmp_path), RESEARCH_CHECKPOINTS_DIR=str(small))
    p = subprocess.run([sys.executable, "-m", "research", *RUN], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "is full (about " in p.stderr and str(small) in p.stderr
    subprocess.run(["mount", "-o", "remount,size=64m", str(small)], check=True)
    p = subprocess.run([sys.executable, "-m", "research", *RUN], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    assert _numbers(tmp_path) == reference[1]
  finally:
    subprocess.run(["umount", str(small)])


def test_a_results_folder_made_read_only_during_the_run_is_one_line_and_keeps_the_results(run_dir, monkeypatch,
                                                                                          reference):
  out = run_dir / "results" / "tiny" / NAME
  before = _files(out)
  real = depth_vs_accuracy.run
  guard = contextlib.ExitStack()

  def run(cfg, ctx):  # training done, then the folder turns read-only before publishing
    res = real(cfg, ctx)
    guard.enter_context(read_only(out, out.parent))
    return res
  monkeypatch.setattr(depth_vs_accuracy, "run", run)
  with guard:
    line = _one_line(RUN)
  assert "is read-only" in line and "RESEARCH_RESULTS_DIR" in line and str(out.parent) in line
  assert _files(out) == before
  monkeypatch.setattr(depth_vs_accuracy, "run", real)
  assert _cli(RUN)[0] == 0 and _numbers(run_dir) == reference[1]


@pytest.mark.slow
def test_a_corrupt_data_cache_is_rebuilt_with_one_line(run_dir, monkeypatch, reference):
  cache = run_dir / "cache"
  monkeypatch.setenv("RESEARCH_CACHE_DIR", str(cache))
  data.load_raw.cache_clear()
  assert _cli(RUN)[0] == 0
  caches = list((cache / "data").glob("*.npz"))
  assert caches
  for damage in (b"not a zip at all", caches[0].read_bytes()[:200]):  # garbage, then a truncated zip
    for f in caches:
      f.write_bytes(damage)
    data.load_raw.cache_clear()
    rc, lines = _cli(RUN)
    assert rc == 0 and len(lines) == 1, lines
    assert "the data cache " in lines[0] and "is unreadable (" in lines[0] and lines[0].endswith("rebuilding it")
    assert _numbers(run_dir) == reference[1]
  data.load_raw.cache_clear()


def test_a_read_only_cache_folder_names_research_cache_dir(run_dir, monkeypatch):
  cache = run_dir / "cache"
  cache.mkdir()
  monkeypatch.setenv("RESEARCH_CACHE_DIR", str(cache))
  data.load_raw.cache_clear()
  shutil.rmtree(run_dir / "checkpoints")
  with read_only(cache):
    line = _one_line(RUN)
  data.load_raw.cache_clear()
  assert "is read-only" in line and "point RESEARCH_CACHE_DIR elsewhere" in line and "RESULTS_DIR" not in line


@pytest.mark.parametrize("command", [["render", "depth", "--profile", "tiny"], ["report", "--profile", "tiny"]])
def test_a_results_json_that_is_a_folder_is_one_line(run_dir, command):
  path = run_dir / "results" / "tiny" / NAME / "results.json"
  path.unlink()
  path.mkdir()
  line = _one_line(command)
  assert f"{path} is unreadable or corrupt (IsADirectoryError)" in line and path.is_dir()


@pytest.mark.parametrize("command", [RUN, ["render", "depth", "--profile", "tiny"], ["report", "--profile", "tiny"]])
@pytest.mark.parametrize("where", ["root", "profile", "experiment"])
def test_a_results_path_that_is_a_file_is_one_line(run_dir, monkeypatch, command, where):
  if where == "root":
    target = run_dir / "a-file"
    monkeypatch.setenv("RESEARCH_RESULTS_DIR", str(target))
  else:
    target = run_dir / "results" / "tiny" / (NAME if where == "experiment" else "")
    shutil.rmtree(target)
  target.write_text("not a folder\n")
  line = _one_line(command)
  assert "is not a folder (a file is in its place)" in line and "RESEARCH_RESULTS_DIR" in line, line
  assert target.read_text() == "not a folder\n"


# ----------------------------------------------------------------------------
# Bad input caught up front (nothing is written)

@pytest.mark.parametrize("argv,expected", [
    (["run", "depth", "--config.learning_rates=[]"], "config learning_rates: needs at least one value"),
    (["run", "depth", "--config.dataset=sawtooth:²"], "dataset names are plain ASCII"),
    (["run", "depth", "--config.dataset=paper_cut:٣"], "dataset names are plain ASCII"),
    (["run", "search", "--config.tasks=[digits@x]"], "'digits@x': write NAME@S with S the image side, 1 to 512"),
    (["run", "search", "--config.tasks=[digits@600]"], "'digits@600': write NAME@S with S the image side, 1 to 512"),
    (["run", "search", "--config.tasks=[sawtooth:3@8]"], "sawtooth:3 is not images"),
    (["run", "search", "--config.grid_learning_rates=[]"], "config grid_learning_rates: needs at least one value"),
    (["run", "search", "--config.random_candidates=100000000"], "would hold about"),
    (["run", "search", "--config.max_depth=100000"], "h (20 GFLOP/s, 0.25 s to compile a layer); the bound is"),
    (["run", "search", "--config.grid_width=100000"], "x a 2 x 100000 grid net of 10,007,400,000"),
    (["run", "search", "--config.max_depth=0", "--config.grid_depths=[0]", "--config.learning_rates=[0.01]"],
     "holds only 1 distinct candidates"),
])
def test_bad_input_is_one_line_before_anything_is_written(run_dir, argv, expected):
  before = _files(run_dir)
  line = _one_line([*argv, "--profile", "tiny", "--no-progress"])
  assert expected in line, line
  assert _files(run_dir) == before


def test_an_x64_environment_is_one_line(run_dir):
  before = _files(run_dir)
  jax.config.update("jax_enable_x64", True)
  try:
    line = _one_line(RUN)
  finally:
    jax.config.update("jax_enable_x64", False)
  assert "JAX_ENABLE_X64 is set" in line and _files(run_dir) == before


def test_debug_shows_the_traceback_of_a_fault(run_dir, monkeypatch):
  monkeypatch.setenv("RESEARCH_RESULTS_DIR", str(run_dir / "a-file"))
  (run_dir / "a-file").write_text("x")
  from research.system.errors import UserError
  with pytest.raises(UserError, match="is not a folder"):
    cli_main(["render", "depth", "--profile", "tiny", "--debug"])


# ----------------------------------------------------------------------------
# The run lock

_HOLDER = """
import sys, time
from research.system import lock
with lock.hold(sys.argv[1], "depth_vs_accuracy"):
  print("held", flush=True)
  time.sleep(60)
"""


@pytest.mark.slow
def test_a_deleted_lock_file_lets_no_second_writer_in(run_dir):
  ckpt = run_dir / "checkpoints" / "tiny" / NAME
  holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(ckpt)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline() == "held\n"
    (ckpt / lock.LOCK_FILE).unlink()  # deleted during the run
    before = _files(run_dir)
    line = _one_line(RUN)
    assert f"another run of {NAME} (PID {holder.pid}" in line and f"holds {ckpt}" in line
    assert _files(run_dir) == before
  finally:
    holder.kill()
    holder.wait()
  assert _cli(RUN)[0] == 0  # the holder gone, the lock is free


# ----------------------------------------------------------------------------
# Publishing recovers in every reader; links are resolved or refused

def _torn(run_dir):
  """As if a publish was killed between the two renames of results.replace_dir."""
  out = run_dir / "results" / "tiny" / NAME
  os.replace(out, out.with_name(f".old-{NAME}"))
  return out


@pytest.mark.parametrize("command", [["render", "depth", "--profile", "tiny"], ["report", "--profile", "tiny"], RUN])
def test_every_reader_finishes_a_torn_publish_and_says_so(run_dir, command, reference):
  out = run_dir / "results" / "tiny" / NAME
  before = _files(out)
  _torn(run_dir)
  rc, lines = _cli(command)
  assert rc == 0 and len(lines) == 1, lines
  assert lines[0] == (f"{out}: a publish was interrupted between its two renames; restored the previous results "
                      f"from .old-{NAME}")
  assert not out.with_name(f".old-{NAME}").exists()
  if command[0] == "report":
    assert _files(out) == before and NAME in (out.parent / "REPORT.md").read_text()
  else:
    assert _numbers(run_dir) == reference[1]


def test_a_torn_publish_in_a_folder_that_cannot_change_is_read_from_its_old_copy(run_dir):
  out = _torn(run_dir)
  err = io.StringIO()
  with read_only(out.parent), redirect_stderr(err):
    folder = sealed.recover(out)
  assert folder == out.with_name(f".old-{NAME}") and (folder / "results.json").exists()
  assert "cannot be changed" in err.getvalue() and f"reading the previous results in .old-{NAME}" in err.getvalue()


@pytest.fixture
def outside(tmp_path):
  """A folder outside the configured ones, with a file that must survive every command."""
  folder = tmp_path / "outside"
  folder.mkdir()
  (folder / "sentinel").write_text("keep\n")
  return folder


@pytest.mark.parametrize("command", [RUN, ["render", "depth", "--profile", "tiny"]])
def test_a_linked_experiment_folder_is_refused_and_its_target_kept(run_dir, outside, command):
  out = run_dir / "results" / "tiny" / NAME
  shutil.rmtree(out)
  out.symlink_to(outside)
  line = _one_line(command)
  assert f"{out} is a symbolic link (to {outside})" in line and "RESEARCH_RESULTS_DIR" in line
  assert _files(outside) == {"sentinel": b"keep\n"} and out.is_symlink()


def test_a_linked_cell_folder_is_refused_and_its_target_kept(run_dir, outside):
  cell = next((run_dir / "checkpoints" / "tiny" / NAME).glob("L1-*"))
  shutil.move(cell, outside / "cell")
  cell.symlink_to(outside / "cell")
  before = _files(outside)
  line = _one_line(RUN)
  assert f"{cell} is a symbolic link" in line and "RESEARCH_CHECKPOINTS_DIR" in line
  assert _files(outside) == before


def test_a_linked_results_root_is_resolved(run_dir, monkeypatch, reference, outside):
  real = run_dir / "real-results"
  shutil.move(run_dir / "results", real)
  (run_dir / "results").symlink_to(real)
  rc, lines = _cli(RUN)
  assert rc == 0, lines
  assert (real / "tiny" / NAME / "results.json").exists() and _numbers(run_dir) == reference[1]


def test_a_stale_old_link_is_removed_never_followed(tmp_path, outside):
  final, staging = tmp_path / "res", tmp_path / "staging"
  final.mkdir()
  staging.mkdir()
  (staging / "new").write_text("new\n")
  (tmp_path / ".old-res").symlink_to(outside)
  results.replace_dir(staging, final)
  assert (final / "new").read_text() == "new\n" and not (tmp_path / ".old-res").exists()
  assert _files(outside) == {"sentinel": b"keep\n"}


# ----------------------------------------------------------------------------
# Kills and interrupts

_KILL_AT_FINAL_SEAL = """
import os, signal, sys
from research.engine import cells, integrity
real = integrity.seal_cell
def seal(ckpt_dir, step):
  if step == 3 and "L1-" in str(ckpt_dir):  # the final checkpoint is saved, not yet sealed
    os.kill(os.getpid(), signal.SIGKILL)
  return real(ckpt_dir, step)
cells.integrity.seal_cell = seal
from research.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_kill_during_the_final_save_resumes_from_the_last_checkpoint(reference, tmp_path):
  env = _env(tmp_path)
  p = subprocess.run([sys.executable, "-c", _KILL_AT_FINAL_SEAL, *RUN], cwd=ROOT, env=env, capture_output=True,
                     text=True, timeout=600)
  assert p.returncode == -signal.SIGKILL, p.stderr
  p = subprocess.run([sys.executable, "-m", "research", *RUN], cwd=ROOT, env=env, capture_output=True, text=True,
                     timeout=600)
  assert p.returncode == 0, p.stderr
  notices = [l for l in p.stderr.splitlines() if l.strip()]
  assert len(notices) == 1 and notices[0].startswith("cell L1-plain: ") and "resuming from epoch 2" in notices[0], \
      p.stderr
  assert _numbers(tmp_path) == reference[1]


@pytest.mark.slow
def test_ctrl_c_through_make_is_one_line_and_exit_130(tmp_path):
  stamp = tmp_path / "stamp"
  stamp.touch()  # make's set-up step counts as done: no venv, no pip
  env = dict(_env(tmp_path), FASHION_MNIST_DIR=str(tmp_path / "none"), PYTHONPATH=str(ROOT))
  p = subprocess.Popen(["make", "-s", "depth", f"PY={sys.executable}", f"PYTHON={sys.executable}", f"STAMP={stamp}",
                        "PROFILE=tiny", "ARGS=" + " ".join(TINY)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, start_new_session=True)
  ckpt = tmp_path / "checkpoints" / "tiny" / NAME
  deadline = time.time() + 120
  while time.time() < deadline and p.poll() is None and not ckpt.exists():
    time.sleep(0.05)
  assert p.poll() is None, p.communicate()
  os.killpg(p.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
  out, err = p.communicate(timeout=120)
  assert p.returncode in (130, -signal.SIGINT), (p.returncode, err)  # make ends by the signal: a shell says 130
  assert err == interrupts.LINE + "\n", err


@pytest.mark.slow
def test_a_read_only_home_gives_no_matplotlib_warnings(tmp_path):
  home = tmp_path / "home"
  home.mkdir()
  with read_only(home):
    p = subprocess.run([sys.executable, "-c", "import research, matplotlib.pyplot as plt; plt.figure()"], cwd=ROOT,
                       env=dict(os.environ, HOME=str(home), RESEARCH_CACHE_DIR=str(tmp_path / "cache")),
                       capture_output=True, text=True, timeout=120)
  assert p.returncode == 0 and p.stderr == "", p.stderr
