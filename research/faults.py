"""One line for every fault the machine, not the code, causes: disk full, read-only, out of memory, corrupt files.

  with faults.reported("writing results", out_dir):
    ...                       # OSError, MemoryError, XLA OOM, corrupt JSON -> UserError

  faults.one_line(exc, what, folder) -> str | None   the line, or None for a bug (let it raise)

Everything on disk is written atomically, so each line can promise that
running the same command again resumes where it stopped.
"""
import contextlib
import errno
import json
import pathlib
import shutil

from research.errors import UserError
from research.limits import human_bytes

AGAIN = "run the same command again to resume where it stopped"


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


def one_line(exc, what, folder=None, needed=None):
  """The line a user sees for exc raised while doing `what` in `folder`; None if exc is not a fault."""
  where = f" {folder}" if folder is not None else ""
  if isinstance(exc, json.JSONDecodeError):
    return f"{what}: {folder or 'a file'} is not valid JSON (line {exc.lineno}); delete it and {AGAIN}"
  if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
    free = _free(folder) if folder is not None else None
    need = f"about {human_bytes(needed)} needed, " if needed else ""
    has = f"{human_bytes(free)} free" if free is not None else "no space left"
    return f"{what}: the disk of{where} is full ({need}{has}); free some space and {AGAIN}"
  if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
    target = exc.filename or folder
    return (f"{what}: {target} is read-only ({exc.strerror}); fix its permissions or point "
            f"RESEARCH_RESULTS_DIR / RESEARCH_CHECKPOINTS_DIR elsewhere, then {AGAIN}")
  if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
    return f"{what}: {exc.filename or folder} is missing (it was moved or deleted during the run); {AGAIN}"
  if isinstance(exc, OSError):
    return f"{what}{where}: {exc.strerror or exc} (errno {exc.errno}); {AGAIN}"
  if _is_oom(exc):
    return (f"{what}: out of memory; use fewer seeds, a smaller batch_size or model, "
            f"or --config.shard to spread members over devices, then {AGAIN}")
  return None


@contextlib.contextmanager
def reported(what, folder=None, needed=None):
  """Turns a fault raised in the block into a UserError of one line (bugs pass through untouched)."""
  try:
    yield
  except UserError:
    raise
  except Exception as e:  # noqa: BLE001 - one_line picks the faults; the rest re-raise as they were
    line = one_line(e, what, folder, needed)
    if line is None:
      raise
    raise UserError(line) from e
