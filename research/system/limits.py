"""Values that parse but cannot run: infinities, absurd sizes, cells larger than memory.

  limits.finite(cfg)                  every float in a (nested) config is finite
  limits.bounded(cfg)                 seeds, epochs, resize, widths within BOUNDS
  limits.distinct(cfg, "depths")      no list entry twice
  est = limits.cell_bytes(param_shapes, members, batch_size, data_bytes, epochs=...)
  limits.check_fits(est, "cell L4-plain")   UserError with the numbers if it cannot fit

`1e999` parses to inf and passes `> 0`; `epochs=10**12` asked for a 7 TiB
history buffer on the host. Both fail here before anything is written.
"""
import math
import os
import pathlib
from typing import NamedTuple

import jax
import ml_collections
import numpy as np

from research.system.errors import UserError

# Far above anything the paper runs, far below what breaks the machine.
BOUNDS = {"seeds": 1000, "epochs": 100_000, "resize": 512, "width": 65_536, "widths": 65_536}


def _walk(node, prefix=""):
  """(dotted key, value) of every leaf of a ConfigDict / dict, list items included."""
  items = node.items() if isinstance(node, (dict, ml_collections.ConfigDict)) else []
  for k, v in items:
    key = f"{prefix}{k}"
    if isinstance(v, (dict, ml_collections.ConfigDict)):
      yield from _walk(v, key + ".")
    else:
      yield key, v


def _values(v):
  return list(v) if isinstance(v, (list, tuple)) else [v]


def finite(cfg):
  for key, v in _walk(cfg):
    for x in _values(v):
      if isinstance(x, float) and not math.isfinite(x):
        raise UserError(f"config {key}={v!r}: must be a finite number")


def bounded(cfg, bounds=None):
  bounds = BOUNDS if bounds is None else bounds
  for key, v in _walk(cfg):
    limit = bounds.get(key.rsplit(".", 1)[-1])
    if limit is None:
      continue
    for x in _values(v):
      if isinstance(x, (int, float)) and not isinstance(x, bool) and x > limit:
        raise UserError(f"config {key}={v!r}: at most {limit}")


def distinct(cfg, *keys):
  for k in keys:
    v = list(cfg[k])
    twice = sorted({x for x in v if v.count(x) > 1}, key=str)
    if twice:
      raise UserError(f"config {k}={v!r}: {', '.join(map(str, twice))} listed more than once; list each once")


# ----------------------------------------------------------------------------
# Memory

class Estimate(NamedTuple):
  total: int
  parts: str  # how total is made up, for the error message


def human_bytes(n):
  for unit in ("TiB", "GiB", "MiB", "KiB"):
    div = 1024 ** "KMGT".index(unit[0]) * 1024
    if n >= div:
      return f"{n / div:.1f} {unit}"
  return f"{int(n)} B"


def cell_bytes(param_shapes, members, batch_size, data_bytes, *, epochs=0, optimizer_slots=2,
               activation_floats_per_example=0, bytes_per_float=4, history_fields=6):
  """Roughly what one cell holds at once: a lower bound, enough to catch the hopeless.

  param_shapes: a pytree of shapes (tuples) or arrays/ShapeDtypeStructs of one member.
  Copies per member: the params, the best (selected) params, their gradient and the optimizer's slots.
  The history (members x epochs x history_fields float32) lives on the host.
  """
  # A shape is a tuple of ints; other tuples (a model's params may be a tuple of dicts) are nodes.
  leaves = jax.tree.leaves(param_shapes, is_leaf=lambda x: isinstance(x, tuple) and all(
      isinstance(i, int) for i in x))
  params = sum(int(np.prod(getattr(leaf, "shape", leaf))) for leaf in leaves) * bytes_per_float
  copies = 3 + optimizer_slots
  acts = members * batch_size * activation_floats_per_example * bytes_per_float
  history = members * epochs * history_fields * 4
  total = params * members * copies + acts + int(data_bytes) + history
  parts = (f"params {human_bytes(params)} x {members} members x {copies} copies"
           f" + data {human_bytes(data_bytes)}")
  if acts:
    parts += f" + activations {human_bytes(acts)}"
  if history:
    parts += f" + history {human_bytes(history)}"
  return Estimate(total, parts)


def _host_available():
  try:
    for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
      if line.startswith("MemAvailable:"):
        return int(line.split()[1]) * 1024
  except OSError:
    pass
  return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def available_bytes(device=None):
  """Free memory where the cell's arrays live: the accelerator's if it reports it, else the host's."""
  device = device or jax.devices()[0]
  stats = None
  try:
    stats = device.memory_stats()
  except Exception:  # noqa: BLE001 - CPU backends raise or return None
    pass
  if stats and "bytes_limit" in stats:
    return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
  return _host_available()


def check_fits(estimate, what, available=None):
  available = available_bytes() if available is None else available
  if estimate.total > available:
    raise UserError(f"{what} needs about {human_bytes(estimate.total)} ({estimate.parts}), "
                    f"{human_bytes(available)} free; use fewer seeds, epochs or a smaller model")


def check_history_fits(members, epochs, what, history_fields=6):
  """The host-side history buffer alone; the one check that needs no model."""
  check_fits(Estimate(members * epochs * history_fields * 4,
                      f"history {members} members x {epochs} epochs x {history_fields} float32"),
             what, _host_available())
