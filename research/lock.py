"""One writer per folder: two runs of one experiment would train the same cells and race on their files.

  with lock.hold(ckpt_root, "depth_vs_accuracy"):               # run: exclusive
    ...
  with lock.hold(results_dir, "depth_vs_accuracy", shared=True):  # render/report: a consistent snapshot
    ...

flock locks belong to the open file, so the kernel drops them when the holder
exits, however it exits (SIGKILL included): there is never a stale lock to
clean up. The lock file keeps the holder's PID and command line, to name it in
the error the next run gets.
"""
import contextlib
import fcntl
import os
import pathlib
import sys

from research.errors import UserError

LOCK_FILE = ".lock"


def _command_line():
  try:
    return pathlib.Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
  except OSError:
    return " ".join([sys.executable, *sys.argv])


def _holder(f):
  f.seek(0)
  text = f.read().strip()
  return text or "PID unknown"


@contextlib.contextmanager
def hold(folder, what, shared=False):
  """Holds folder/.lock while the block runs; UserError naming the holder if another process has it."""
  folder = pathlib.Path(folder)
  folder.mkdir(parents=True, exist_ok=True)
  # "a+" neither truncates another holder's record nor needs the file to exist.
  with open(folder / LOCK_FILE, "a+") as f:
    try:
      fcntl.flock(f, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
      raise UserError(f"another run of {what} ({_holder(f)}) holds {folder}; "
                      "wait for it to finish or stop it") from None
    # Several readers may hold it at once: the record names the last one, enough to find them.
    f.seek(0)
    f.truncate()
    f.write(f"PID {os.getpid()}: {_command_line()}\n")
    f.flush()
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)
