"""Writing results: atomic files, the environment, and paper-style numbers."""
import hashlib
import json
import math
import os
import pathlib
import platform
import shutil
import tempfile

import jax
import numpy as np

from research.system import pages


def write_atomic(path, data):
  """Writes bytes or text to path through a temporary file and a rename: never a torn file."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  data = data.encode() if isinstance(data, str) else data
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}.")
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make results private
    os.replace(tmp, path)
  except BaseException:
    pathlib.Path(tmp).unlink(missing_ok=True)
    raise


def clean_json(x):
  """numpy and NaN/inf to plain JSON (NaN and inf become null)."""
  if isinstance(x, dict):
    return {str(k): clean_json(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return [clean_json(v) for v in x]
  if isinstance(x, np.ndarray):
    return clean_json(x.tolist())
  if isinstance(x, (np.floating, float)):
    return float(x) if math.isfinite(x) else None
  if isinstance(x, (np.integer,)):
    return int(x)
  if isinstance(x, np.bool_):
    return bool(x)
  return x


def dumps(obj):
  return json.dumps(clean_json(obj), indent=1, allow_nan=False)


def digest_json(obj):
  """sha256 of a JSON value in canonical form (sorted keys, NaN as null): what a seal records."""
  return hashlib.sha256(json.dumps(clean_json(obj), sort_keys=True, allow_nan=False).encode()).hexdigest()


def write_json(path, obj):
  write_atomic(path, dumps(obj) + "\n")


def replace_dir(staging, final):
  """Puts a complete staging folder in place of `final`; the old one goes only after."""
  final = pathlib.Path(final)
  old = final.with_name(f".old-{final.name}")
  if old.is_symlink():  # the link goes, never what it points at
    old.unlink()
  shutil.rmtree(old, ignore_errors=True)
  if final.exists() or final.is_symlink():
    os.replace(final, old)
  os.replace(staging, final)
  if old.is_symlink():
    old.unlink()
  shutil.rmtree(old, ignore_errors=True)


def environment():
  dev = jax.devices()
  return dict(jax=jax.__version__, backend=jax.default_backend(),
              devices=f"{len(dev)} x {dev[0].device_kind}", cpu=platform.processor() or platform.machine(),
              cpu_count=os.cpu_count(), python=platform.python_version(), host=platform.node())


# ----------------------------------------------------------------------------
# Numbers as a paper shows them

def human(n):
  """12345 -> '12.3K'; for parameter and FLOP counts."""
  for unit, div in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
    if abs(n) >= div:
      return f"{n / div:.{1 if n / div < 100 else 0}f}{unit}"
  return str(int(n))


def markdown_table(header, rows, caption=""):
  """A pages.Table of these headers, rows (cells as text) and caption; `+` joins it to text and
  other tables into a pages.Page; .markdown() is its pipe table."""
  return pages.Table(tuple(str(h) for h in header), tuple(tuple(str(c) for c in row) for row in rows), caption)
