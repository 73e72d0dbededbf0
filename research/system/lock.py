"""One writer per folder: two runs of one experiment would train the same cells and race on their files.

  with lock.hold(ckpt_root, "depth_vs_accuracy"):               # run: exclusive
    ...
  with lock.hold(results_dir, "depth_vs_accuracy", shared=True):  # render/report: a consistent snapshot
    ...

flock locks belong to the open file, so the kernel drops them when the holder
exits, however it exits (SIGKILL included): there is never a stale lock to
clean up. The lock is taken on the folder itself (an open directory), not on
the lock file: a lock file deleted or replaced during a run would let a second
writer lock a new file beside the first. The lock file only keeps the holder's
PID and command line, to name it in the error the next run gets.
"""
import contextlib
import errno
import fcntl
import os
import pathlib
import time
import sys

from research.system.errors import UserError

LOCK_FILE = ".lock"


def _command_line():
  """This process's command line on one line (python -c programs have newlines), at most 200 characters."""
  return _cmdline_of(os.getpid()) or _one_line([sys.executable, *sys.argv])


def _one_line(args):
  line = " ".join(" ".join(args).split())
  return line if len(line) <= 200 else line[:197] + "..."


def _flock_pids(fd):
  """PIDs holding a flock on fd's file, from /proc/locks: the lock file's record may name a reader that left."""
  inode = os.fstat(fd).st_ino
  pids = []
  try:
    lines = pathlib.Path("/proc/locks").read_text().splitlines()
  except OSError:
    return pids
  for line in lines:
    fields = line.split()
    # "1: FLOCK  ADVISORY  WRITE 5233 00:2d:1234 0 EOF"; waiters are marked "->"
    if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
      pids.append(int(fields[4]))
  return [p for p in pids if p > 0 and p != os.getpid()]  # 0: a holder in another PID namespace


def _cmdline_of(pid):
  try:
    args = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
  except OSError:
    return None
  return _one_line(args)


def _holder(fd, record_path):
  for pid in _flock_pids(fd):
    cmd = _cmdline_of(pid)
    if cmd:
      return f"PID {pid}: {cmd}"
  try:
    record = record_path.read_text().splitlines()[0].strip()
  except (OSError, IndexError, UnicodeDecodeError):
    record = ""
  return record or "PID unknown"


def _open_folder(folder):
  """An open descriptor of the folder, what the lock is taken on (a directory can be flocked)."""
  return os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _write_record(path, shared):
  """The holder's PID and command line in the lock file. Readers of a read-only folder keep none; a
  writer there is one line (it could write nothing else either); a lock file that cannot be one (a
  folder in its place) only loses the record: the lock is on the folder."""
  try:
    # "a+" neither truncates another holder's record before it is ours nor needs the file to exist.
    with open(path, "a+") as f:
      f.seek(0)
      f.truncate()
      f.write(f"PID {os.getpid()}: {_command_line()}\n")
  except OSError as e:
    if e.errno not in (errno.EACCES, errno.EROFS, errno.EPERM):
      return
    if not shared:
      from research.system import faults
      raise UserError(faults.one_line(e, f"taking the lock of {path.parent}", path.parent)) from None


@contextlib.contextmanager
def hold(folder, what, shared=False, wait_s=0.0):
  """Holds a lock on folder while the block runs (its .lock file names the holder); UserError naming the
  holder if another process has it (after waiting up to wait_s seconds: for locks that are only ever
  held for a moment)."""
  folder = pathlib.Path(folder)
  if not shared:
    folder.mkdir(parents=True, exist_ok=True)
  elif not folder.is_dir():
    yield  # nothing to read, nothing to protect
    return
  fd = _open_folder(folder)
  try:
    deadline = time.monotonic() + wait_s
    while True:
      try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        break
      except BlockingIOError:
        if time.monotonic() >= deadline:
          raise UserError(f"another run of {what} ({_holder(fd, folder / LOCK_FILE)}) holds {folder}; "
                          "wait for it to finish or stop it") from None
        time.sleep(0.05)
    # For systems without /proc/locks: several readers may hold it at once, the record names the last one.
    _write_record(folder / LOCK_FILE, shared)
    try:
      yield
    finally:
      fcntl.flock(fd, fcntl.LOCK_UN)
  finally:
    os.close(fd)
