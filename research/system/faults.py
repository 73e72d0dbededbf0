"""One line for every fault the machine, not the code, causes: disk full, read-only, out of memory, corrupt files.

  with faults.reported("writing results", out_dir):
    ...                       # OSError (or a library's error around one: orbax's RESOURCE_EXHAUSTED
                              # ValueError), MemoryError, XLA OOM, corrupt JSON -> UserError

  faults.one_line(exc, what, folder) -> str | None   the line, or None for a bug (let it raise)

Everything on disk is written atomically, so each line can promise that
running the same command again resumes where it stopped.
"""
import contextlib
import errno
import io
import json
import logging
import os
import pathlib
import re
import shutil
import sys

from research.system.errors import UserError
from research.system.limits import human_bytes

AGAIN = "run the same command again to resume where it stopped"
# The variable that moves each project folder (research/system/paths.py), to name in a read-only line.
FOLDER_VARIABLES = (("cache_dir", "RESEARCH_CACHE_DIR"), ("results_dir", "RESEARCH_RESULTS_DIR"),
                    ("checkpoints_dir", "RESEARCH_CHECKPOINTS_DIR"))


def _free(folder):
  """Free bytes on folder's file system (the nearest existing parent's), or None."""
  p = pathlib.Path(folder)
  while not p.exists() and p != p.parent:
    p = p.parent
  try:
    return shutil.disk_usage(p).free
  except OSError:
    return None


def _is_oom(exc):
  name = type(exc).__name__
  return (isinstance(exc, MemoryError)
          or (name in ("XlaRuntimeError", "JaxRuntimeError")
              and ("RESOURCE_EXHAUSTED" in str(exc) or "Out of memory" in str(exc))))


def _errno_in_text(exc):
  """The errno a library wrapped into its message (tensorstore, under orbax, raises
  ValueError('RESOURCE_EXHAUSTED: ... No space left on device [os_error_code=\'28\']')); None if none."""
  if isinstance(exc, OSError) or _is_oom(exc):
    return None
  text = str(exc)
  code = re.search(r"os_error_code='?(\d+)", text)
  if code:
    return int(code.group(1))
  for number, words in ((errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system"),
                        (errno.EACCES, "Permission denied")):
    if words in text:
      return number
  return None


def _variable(path):
  """RESEARCH_CACHE_DIR / _RESULTS_DIR / _CHECKPOINTS_DIR: the one that moves the folder path is in."""
  from research.system import paths
  try:
    p = pathlib.Path(os.path.abspath(path))
  except (TypeError, ValueError):
    return None
  for fn, var in FOLDER_VARIABLES:
    root = pathlib.Path(os.path.abspath(getattr(paths, fn)() if fn == "cache_dir" else getattr(paths, fn)(paths.FULL)))
    if p == root or root in p.parents:
      return var
  return None


def one_line(exc, what, folder=None, needed=None):
  """The line a user sees for exc raised while doing `what` in `folder`; None if exc is not a fault."""
  where = f" {folder}" if folder is not None else ""
  wrapped = _errno_in_text(exc)
  if wrapped is not None:  # a library's error around an OS one: the same line as the OSError's
    exc = OSError(wrapped, os.strerror(wrapped))
  if isinstance(exc, json.JSONDecodeError):
    return f"{what}: {folder or 'a file'} is not valid JSON (line {exc.lineno}); delete it and {AGAIN}"
  if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
    free = _free(folder) if folder is not None else None
    need = f"about {human_bytes(needed)} needed, " if needed else ""
    has = f"{human_bytes(free)} free" if free is not None else "no space left"
    return f"{what}: the disk of{where} is full ({need}{has}); free some space and {AGAIN}"
  if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
    target = exc.filename or folder
    var = (_variable(target) if target is not None else None) or "RESEARCH_RESULTS_DIR / RESEARCH_CHECKPOINTS_DIR"
    return (f"{what}: {target} is read-only ({exc.strerror}); fix its permissions or point "
            f"{var} elsewhere, then {AGAIN}")
  if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
    return f"{what}: {exc.filename or folder} is missing (it was moved or deleted during the run); {AGAIN}"
  if isinstance(exc, OSError):
    return f"{what}{where}: {exc.strerror or exc} (errno {exc.errno}); {AGAIN}"
  if _is_oom(exc):
    return (f"{what}: out of memory; use fewer seeds, a smaller batch_size or model, "
            f"or --config.shard to spread members over devices, then {AGAIN}")
  return None


_hushed = []  # the stderr a fault in a hushing block put aside, until unhush() hands it back


def unhush(restore=True):
  """The stream for the one line: the stderr a hushed fault put aside, else sys.stderr.
  restore=False leaves sys.stderr hushed: for a process about to exit, whose library threads may
  still print."""
  if not _hushed:
    return sys.stderr
  stream = _hushed.pop()
  if restore:
    sys.stderr = stream
  return stream


@contextlib.contextmanager
def reported(what, folder=None, needed=None, quiet=(), hush=False):
  """Turns a fault raised in the block into a UserError of one line (bugs pass through untouched).
  quiet: loggers silenced below CRITICAL in the block (orbax's threads log the error they hand on
  through absl, a second copy on stderr).
  hush: what the block's library threads print straight to sys.stderr is held back, and written out
  if the block ends well; after a fault it is dropped until unhush(). Orbax's tensorstore callbacks
  print 'Event loop is closed' tracebacks, at any moment from the fault to the exit."""
  loggers = [logging.getLogger(name) for name in quiet]
  levels = [lg.level for lg in loggers]
  for lg in loggers:
    lg.setLevel(logging.CRITICAL)
  stderr = sys.stderr
  held = io.StringIO() if hush else None
  if hush:
    sys.stderr = held
  try:
    yield
  except UserError:
    raise
  except Exception as e:  # noqa: BLE001 - one_line picks the faults; the rest re-raise as they were
    line = one_line(e, what, folder, needed)
    if line is None:
      raise
    if hush:
      _hushed.append(stderr)
      sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives until unhush() or the exit
      held = None
    raise UserError(line) from e
  finally:
    for lg, level in zip(loggers, levels):
      lg.setLevel(level)
    if held is not None:
      sys.stderr = stderr
      stderr.write(held.getvalue())
