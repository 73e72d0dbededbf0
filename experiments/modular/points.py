"""Looking up a results document's points, the validation choices, and the numbers the tables and the
reading share."""
import math

import numpy as np

from research.report import stats

from experiments.modular.contenders import CONTENDERS, ROBUST, point_key

# The contenders of the training-cost table: those with a 4-way validation curve of their own.
COSTED = tuple(k for k in CONTENDERS if k != "own")


def point(res, rho, n, source=None):
  """The results row trained at (rho, n_train = n) on `source` (the main attribute set by default)."""
  source = source or res["attributes"]
  return next(r for r in res["points"] if r["source"] == source and math.isclose(r["rho"], rho) and r["n_train"] == n)


def main_point(res):
  return point(res, res["rho_main"], res["n_main"])


def by_rho(res, source=None):
  """A rare-fraction sweep's rows at the main size, rho ascending: the main attribute set's rhos, or
  the contrast's."""
  source = source or res["attributes"]
  rhos = res["rhos"] if source == res["attributes"] else res["contrast"]["rhos"]
  return [point(res, rho, res["n_main"], source) for rho in sorted(rhos)]


def by_size(res):
  """The data sweep's rows at the main rho, size ascending."""
  return [point(res, res["rho_main"], n) for n in sorted(res["sizes"])]


def key(p):
  return point_key(p["source"], p["rho"], p["n_train"])


def mean(values):
  """The mean over members, as a fraction (not in percent)."""
  return stats.mean_sd(values, scale=1.0)[0]


def pct(rho):
  return f"{100 * rho:g}%"


def val_score(values):
  """Mean validation accuracy over the members, a diverged member counting 0 (as Summary.select does)."""
  return float(np.mean([0.0 if v is None or not np.isfinite(v) else v for v in values]))


def gains(p, k, versus="monolithic", metric="test_rare"):
  """Per member, contender k's number minus `versus`'s: members pair up by data seed and init seed."""
  a, b = p["contenders"][k][metric], p["contenders"][versus][metric]
  return [None if x is None or y is None else x - y for x, y in zip(a, b)]


def to_target(c, target):
  """Per member: optimizer steps until its validation accuracy first reaches target (its modules'
  whole run first, for the combiner), or None. Read once per epoch, so resolved to one epoch."""
  spe = c["steps_per_epoch"]
  out = []
  for curve, before in zip(c["val_curves"], c["before_steps"]):
    hit = next((e for e, a in enumerate(curve) if a is not None and a >= target), None)
    out.append(None if hit is None or before is None else before + (hit + 1) * spe)
  return out


def seconds_to(c, steps):
  """Training seconds per model for a member's steps to target (the modules' seconds first)."""
  return [None if s is None else b_s + (s - b) / c["steps_per_epoch"] * c["s_per_model_epoch"]
          for s, b, b_s in zip(steps, c["before_steps"], c["before_s"])]


def select(res, cfg):
  """Every choice the tables and the reading make, on validation numbers only:
  best_robust: per point, the one-network fix (reweighting or Group DRO) with the best mean worst-group
               validation accuracy (the fix the modules are compared with);
  steps_to_target: per contender at the main point, each member's steps to cfg.target_acc validation accuracy;
  reuse_scratch: the network from scratch with the best mean validation accuracy on the new task."""
  best = {key(p): max(ROBUST, key=lambda k: val_score(p["contenders"][k]["val_worst"])) for p in res["points"]}
  main = main_point(res)["contenders"]
  out = dict(best_robust=best, steps_to_target={k: to_target(main[k], cfg.target_acc) for k in COSTED})
  scratch = [k for k in ("scratch", "composition_scratch") if k in res["reuse"]["rows"]]
  if scratch:
    out["reuse_scratch"] = max(scratch, key=lambda k: val_score(res["reuse"]["rows"][k]["val_acc"]))
  return out
