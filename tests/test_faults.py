"""Fault safety: corrupt checkpoints, a second writer, absurd values, full disks, Ctrl-C at any moment."""
import errno
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import ml_collections
import orbax.checkpoint as ocp
import pytest

from research.engine import cells, checkpoints, integrity, train
from research.system import faults, limits, lock, results
from research.cli import interrupts
from research import models
from research.system.errors import UserError

ROOT = pathlib.Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------
# integrity

@pytest.fixture(scope="module")
def sealed_cell(tiny, tmp_path_factory):
  """A trained cell whose final checkpoint is sealed and named in its result.json."""
  root = tmp_path_factory.mktemp("cells")
  trainer = train.make_trainer(models.mlp(4, depth=1, width=16), "adam", 32)
  cells.run_cell(trainer, tiny, name="c", spec={}, seeds=[0, 1], hparams=[{"learning_rate": 1e-2}] * 2,
                 epochs=2, root=root, progress=False)
  cell_dir = next(root.glob("c-*"))
  summary = json.loads((cell_dir / "result.json").read_text())
  summary["checkpoint"] = integrity.seal_cell(cell_dir / "ckpt", 2)
  results.write_json(cell_dir / "result.json", summary)
  return cell_dir


@pytest.fixture
def cell(sealed_cell, tmp_path):
  """A copy of the sealed cell to damage."""
  return pathlib.Path(shutil.copytree(sealed_cell, tmp_path / sealed_cell.name))


def _largest_data_file(step_dir):
  return max((step_dir / "default" / "ocdbt.process_0" / "d").iterdir(), key=lambda p: p.stat().st_size)


def test_a_sealed_checkpoint_checks_and_orbax_still_lists_and_restores_it(cell):
  assert integrity.check(cell / "ckpt" / "2") is None
  assert integrity.check_cell(cell) is None
  assert integrity.verified_latest_step(cell / "ckpt") == (2, [])
  mngr = checkpoints.manager(cell / "ckpt")
  assert mngr.all_steps() == [2]
  assert mngr.restore(2, args=ocp.args.StandardRestore()) is not None


def test_flipped_bytes_are_reported(cell):
  step_dir = cell / "ckpt" / "2"
  f = _largest_data_file(step_dir)
  b = bytearray(f.read_bytes())
  mid = len(b) // 2
  b[mid:mid + 64] = bytes(x ^ 0xFF for x in b[mid:mid + 64])
  f.write_bytes(bytes(b))
  assert integrity.check(step_dir) == f"file {f.relative_to(step_dir).as_posix()} of {step_dir} changed"
  assert "changed" in integrity.check_cell(cell)
  assert integrity.verified_latest_step(cell / "ckpt") == (None, [integrity.check(step_dir)])


def test_a_truncated_file_is_reported(cell):
  f = _largest_data_file(cell / "ckpt" / "2")
  os.truncate(f, f.stat().st_size // 2)
  assert "changed size" in integrity.check(cell / "ckpt" / "2")


def test_a_deleted_metadata_file_is_reported(cell):
  (cell / "ckpt" / "2" / "default" / "_METADATA").unlink()
  assert integrity.check(cell / "ckpt" / "2").startswith("file default/_METADATA of ")
  assert integrity.check(cell / "ckpt" / "2").endswith(" is missing")


def test_a_stray_empty_step_folder_is_reported_not_picked(cell):
  (cell / "ckpt" / "7").mkdir()
  assert checkpoints.manager(cell / "ckpt").latest_step() == 7  # what orbax alone would restore
  step, problems = integrity.verified_latest_step(cell / "ckpt")
  assert step == 2 and problems == [f"{cell / 'ckpt' / '7'} has no manifest integrity.json"]


def test_result_json_and_checkpoint_must_agree(cell, sealed_cell):
  # Another finished checkpoint under the same step (e.g. copied in by hand) is not this result's.
  other = cell.parent / "other"
  shutil.copytree(sealed_cell, other)
  (other / "ckpt" / "2" / "commit_success.txt").write_text("another run\n")
  integrity.seal(other / "ckpt" / "2")
  shutil.rmtree(cell / "ckpt")
  shutil.copytree(other / "ckpt", cell / "ckpt")
  assert "not the checkpoint its result.json was written from" in integrity.check_cell(cell)
  (cell / "result.json").write_text("{}")
  assert "names no sealed checkpoint" in integrity.check_cell(cell)
  (cell / "result.json").write_text("{")
  assert "unreadable" in integrity.check_cell(cell)


# ----------------------------------------------------------------------------
# lock

_HOLDER = """
import sys, time
from research.system import lock
with lock.hold(sys.argv[1], "depth_vs_accuracy", shared=sys.argv[2] == "shared"):
  print("held", flush=True)
  time.sleep(60)
"""


def _holder(folder, mode="exclusive"):
  folder.mkdir(exist_ok=True)  # readers lock only folders that exist
  p = subprocess.Popen([sys.executable, "-c", _HOLDER, str(folder), mode], cwd=ROOT, stdout=subprocess.PIPE,
                       text=True)
  assert p.stdout.readline() == "held\n"
  return p


@pytest.mark.slow
def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
  p = _holder(tmp_path / "ck")
  try:
    with pytest.raises(UserError) as e:
      with lock.hold(tmp_path / "ck", "depth_vs_accuracy"):
        pass
    with pytest.raises(UserError):
      with lock.hold(tmp_path / "ck", "depth_vs_accuracy", shared=True):
        pass
  finally:
    p.kill()
    p.wait()
  line = str(e.value)
  assert line.startswith(f"another run of depth_vs_accuracy (PID {p.pid}: ")
  assert "research.system import lock" in line and f"holds {tmp_path / 'ck'};" in line and "\n" not in line.strip()
  with lock.hold(tmp_path / "ck", "depth_vs_accuracy"):  # a killed holder leaves no stale lock
    pass


@pytest.mark.slow
def test_readers_share_and_keep_writers_out(tmp_path):
  p = _holder(tmp_path / "res", "shared")
  try:
    with lock.hold(tmp_path / "res", "render", shared=True):
      pass
    with pytest.raises(UserError, match=f"PID {p.pid}"):
      with lock.hold(tmp_path / "res", "depth_vs_accuracy"):
        pass
  finally:
    p.kill()
    p.wait()


# ----------------------------------------------------------------------------
# limits

def _cfg(**kw):
  return ml_collections.ConfigDict(dict(dict(epochs=10, seeds=5, learning_rate=1e-3, depths=[1, 2],
                                             model=dict(widths=[64, 64], dropout=0.0)), **kw))


def test_infinite_and_nan_values_are_refused_anywhere_in_a_config():
  limits.finite(_cfg())
  with pytest.raises(UserError, match=r"config learning_rate=inf: must be a finite number"):
    limits.finite(_cfg(learning_rate=float("1e999")))
  with pytest.raises(UserError, match=r"config model.dropout=nan"):
    limits.finite(_cfg(model=dict(widths=[1], dropout=float("nan"))))


def test_upper_bounds():
  limits.bounded(_cfg())
  with pytest.raises(UserError, match=r"config seeds=1001: at most 1000"):
    limits.bounded(_cfg(seeds=1001))
  with pytest.raises(UserError, match=r"config epochs=1000000000000: at most 100000"):
    limits.bounded(_cfg(epochs=10**12))
  with pytest.raises(UserError, match=r"config model.widths=\[64, 100000\]: at most 65536"):
    limits.bounded(_cfg(model=dict(widths=[64, 100_000], dropout=0.0)))


def test_duplicates():
  limits.distinct(_cfg(), "depths")
  with pytest.raises(UserError, match=r"config depths=\[1, 1, 2\]: 1 listed more than once"):
    limits.distinct(_cfg(depths=[1, 1, 2]), "depths")


def test_memory_estimate_and_the_message_when_it_does_not_fit():
  shapes = {"w": (1024, 1024), "b": (1024,)}
  est = limits.cell_bytes(shapes, members=8, batch_size=128, data_bytes=200 * 2**20, epochs=10)
  params = (1024 * 1024 + 1024) * 4
  # Per member: params, best (selected) params, gradient and Adam's two slots.
  assert est.total == params * 8 * 5 + 200 * 2**20 + 8 * 10 * 6 * 4
  limits.check_fits(est, "cell L4-plain", available=2 * est.total)
  with pytest.raises(UserError) as e:
    limits.check_fits(est, "cell L4-plain", available=100 * 2**20)
  assert str(e.value) == ("cell L4-plain needs about 360.2 MiB (params 4.0 MiB x 8 members x 5 copies"
                          " + data 200.0 MiB + history 1.9 KiB), 100.0 MiB free"
                          "; use fewer seeds, epochs or a smaller model")
  assert limits.available_bytes() > 0


def test_a_history_of_a_trillion_epochs_does_not_fit():
  with pytest.raises(UserError, match=r"cell c needs about 21.8 TiB \(history 1 members x 1000000000000 epochs"):
    limits.check_history_fits(1, 10**12, "cell c")


# ----------------------------------------------------------------------------
# faults

def test_a_full_disk_is_one_line_naming_the_folder_and_free_space(tmp_path, monkeypatch):
  def full(*a, **kw):
    raise OSError(errno.ENOSPC, "No space left on device")
  monkeypatch.setattr(results.os, "fsync", full)
  with pytest.raises(UserError) as e:
    with faults.reported("writing results", tmp_path, needed=3 * 2**20):
      results.write_json(tmp_path / "results.json", {"a": 1})
  line = str(e.value)
  assert line.startswith(f"writing results: the disk of {tmp_path} is full (about 3.0 MiB needed, ")
  assert " free); free some space and run the same command again" in line and "\n" not in line
  assert list(tmp_path.iterdir()) == []  # the atomic write left nothing behind


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.EPERM])
def test_read_only_is_one_line(tmp_path, code):
  with pytest.raises(UserError, match=f"writing results: {tmp_path}/x is read-only"):
    with faults.reported("writing results", tmp_path):
      raise OSError(code, os.strerror(code), str(tmp_path / "x"))


def test_out_of_memory_is_one_line_and_bugs_pass_through():
  XlaRuntimeError = type("XlaRuntimeError", (RuntimeError,), {})
  for exc in (MemoryError(), XlaRuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 7 TiB")):
    with pytest.raises(UserError, match="training cell L4-plain: out of memory; use fewer seeds"):
      with faults.reported("training cell L4-plain"):
        raise exc
  with pytest.raises(ZeroDivisionError):
    with faults.reported("training"):
      1 / 0
  with pytest.raises(XlaRuntimeError):
    with faults.reported("training"):
      raise XlaRuntimeError("INVALID_ARGUMENT: a bug")


def test_corrupt_or_empty_results_json(tmp_path):
  """The driver's one reader of results.json (render, report, README) names what is wrong."""
  from research.cli.experiment import read_doc
  path = tmp_path / "results.json"
  path.write_text('{"experiment": ')
  with pytest.raises(UserError, match=f"{path} is unreadable or corrupt \\(JSONDecodeError\\); run the experiment"):
    read_doc(path)
  path.write_text("{}")
  with pytest.raises(UserError, match=f"{path} is not an experiment's results \\(keys config, results, environment "
                                      "missing\\)"):
    read_doc(path)
  with pytest.raises(UserError, match="run the experiment first"):
    read_doc(tmp_path / "nothing.json")
  doc = {"experiment": "x", "config": {}, "results": {}, "environment": {}}
  path.write_text(json.dumps(doc))
  with pytest.raises(UserError, match="carries no digest: not rendered or reported; rebuild it with `make x`"):
    read_doc(path)
  from research.cli.experiment import seal
  path.write_text(json.dumps(seal(doc)))
  assert read_doc(path) == seal(doc)


# ----------------------------------------------------------------------------
# interrupts

@pytest.mark.slow
@pytest.mark.parametrize("after_s", [0.3, 0.7, 1.5, 3.0])  # imports, then the driver
def test_ctrl_c_at_any_moment_is_one_line_and_130(tmp_path, after_s):
  env = dict(os.environ, RESEARCH_RESULTS_DIR=str(tmp_path / "r"), RESEARCH_CHECKPOINTS_DIR=str(tmp_path / "c"))
  p = subprocess.Popen([sys.executable, "-m", "research", "run", "depth", "--profile", "quick", "--no-progress"],
                       cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  time.sleep(after_s)
  p.send_signal(signal.SIGINT)
  out, err = p.communicate(timeout=60)
  assert (p.returncode, err) == (130, interrupts.LINE + "\n")


@pytest.mark.slow
def test_an_interrupt_in_a_callback_ends_the_process_not_just_the_callback():
  code = ("from research.cli import interrupts; interrupts.install()\n"
          "class A:\n  def __del__(self): raise KeyboardInterrupt\n"
          "A()\nprint('carried on')\n")
  p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
  assert (p.returncode, p.stdout, p.stderr) == (130, "", interrupts.LINE + "\n")


def test_a_reader_of_a_read_only_or_missing_folder_still_reads(tmp_path, monkeypatch):
  with lock.hold(tmp_path / "absent", "render", shared=True):
    pass
  with lock.hold(tmp_path / "res", "depth_vs_accuracy"):
    pass
  real_open = open

  def read_only(path, mode="r", *a, **kw):
    if "a" in mode:
      raise OSError(errno.EROFS, "Read-only file system", str(path))
    return real_open(path, mode, *a, **kw)
  monkeypatch.setattr("builtins.open", read_only)
  with lock.hold(tmp_path / "res", "render", shared=True):
    pass
  with pytest.raises(UserError, match=f"taking the lock of {tmp_path / 'res'}: .* is read-only"):  # one line
    with lock.hold(tmp_path / "res", "depth_vs_accuracy"):
      pass
  monkeypatch.setattr("builtins.open", real_open)
  (tmp_path / "res" / lock.LOCK_FILE).unlink()
  (tmp_path / "res" / lock.LOCK_FILE).mkdir()  # a folder where the lock file was: the lock holds all the same
  with lock.hold(tmp_path / "res", "depth_vs_accuracy"):
    with pytest.raises(UserError, match="another run of"):
      with lock.hold(tmp_path / "res", "depth_vs_accuracy"):
        pass
