"""Successive halving inside a cell: at each rung, the worse members still training stop.

  out = cells.run_cell(..., rungs=halving.Rungs(epochs=(1, 2, 4), keep=0.5))

Li et al. 2017's successive halving over a cell's members, with the engine's chunks as rungs: after
the chunk that ends at a rung's epoch, of the members still training (not stopped by patience,
not diverged) the best `keep` fraction by best validation accuracy so far continues; the rest are
marked stopped, exactly as the stopping rule marks them, so their later epochs are skipped (free
under the `map` layout, where a stopped member's epoch costs nothing) and they keep their
best-validation parameters. The rungs change the numbers, so they are part of the cell's identity.
Selection reads the validation split only.
"""
import math
from typing import NamedTuple

import numpy as np


class Rungs(NamedTuple):
  epochs: tuple = ()  # the epochs (of the cell's clock) after which a cut is made
  keep: float = 0.5   # the fraction of the members still training that continues

  def to_json(self):
    return dict(epochs=[int(e) for e in self.epochs], keep=float(self.keep))


def cut(best_val_N: np.ndarray, done_N: np.ndarray, keep: float) -> np.ndarray:
  """The members to stop now: of those not done, all but the ceil(keep x count) with the best
  validation accuracy (ties: the earlier member stays). A pure function of host arrays."""
  best_val_N, done_N = np.asarray(best_val_N, float), np.asarray(done_N, bool)
  alive = np.flatnonzero(~done_N)
  stay = math.ceil(keep * len(alive) - 1e-9)
  score = np.where(np.isfinite(best_val_N[alive]), best_val_N[alive], -np.inf)
  order = alive[np.lexsort((alive, -score))]  # best first, then by index
  out = np.zeros(len(done_N), bool)
  out[order[stay:]] = True
  return out


def next_boundary(rungs: Rungs | None, done: int) -> int | None:
  """The first rung epoch after `done` (None when there is none): a chunk must end there."""
  later = [e for e in (rungs.epochs if rungs else ()) if e > done]
  return min(later) if later else None
