"""Looking up a results document's points, and the numbers the tables and the reading share."""
import math

from research import stats


def point(res, rho, n):
  """The results row trained at (rho, n_train = n)."""
  return next(r for r in res["points"] if math.isclose(r["rho"], rho) and r["n_train"] == n)


def main_point(res):
  return point(res, res["rho_main"], res["n_main"])


def by_rho(res):
  """The rare-fraction sweep's rows at the main size, rho ascending."""
  return [point(res, rho, res["n_main"]) for rho in sorted(res["rhos"])]


def by_size(res):
  """The data sweep's rows at the main rho, size ascending."""
  return [point(res, res["rho_main"], n) for n in sorted(res["sizes"])]


def mean(values):
  """The mean over seeds, as a fraction (not in percent)."""
  return stats.mean_sd(values, scale=1.0)[0]


def pct(rho):
  return f"{100 * rho:g}%"


def to_target(c, target):
  """Per member: (steps, seconds) until the balanced test accuracy first reaches target, or None."""
  spe, sec = c["steps_per_epoch"], c["s_per_model_epoch"]
  out = []
  for curve in c["curve"]:
    hit = next((e for e, a in enumerate(curve) if a is not None and a >= target), None)
    out.append(None if hit is None else (c["before_steps"] + (hit + 1) * spe, c["before_s"] + (hit + 1) * sec))
  return out
