"""Statistics over per-seed numbers: what every table, reading and plot is built from.

  mean_sd(values)        (mean, std) of the finite values, in percent by default
  mean_sd_text(values)   '89.3 ± 0.2', 'diverged', or with '(k of n diverged)'
  difference(a, b)       (difference of means, its standard error)
  separated(a, b)        whether two sets differ by more than two standard errors
  diverged(values)       how many members diverged

Comparisons refuse non-finite numbers (ValueError): a reading reports a row with diverged
members as diverged, with the count, and never compares it.
"""
import numpy as np


def finite(values, scale=1.0):
  """The finite per-seed numbers (None, NaN and inf left out), times scale, as an array."""
  v = np.asarray([np.nan if x is None else x for x in values], float) * scale
  return v[np.isfinite(v)]


def mean_sd(values, scale=100.0):
  """(mean, std with ddof=1) of the finite values times scale; the mean is NaN when there are none,
  the std 0 when there are fewer than two."""
  v = finite(values, scale)
  return (float(v.mean()) if len(v) else float("nan")), (float(v.std(ddof=1)) if len(v) > 1 else 0.0)


def mean_sd_text(values, scale=100.0, digits=1):
  """'89.3 ± 0.2' over the finite values (std with ddof=1); 'diverged' if none are finite."""
  n_ok = len(finite(values))
  if not n_ok:
    return "diverged"
  m, sd = mean_sd(values, scale)
  s = f"{m:.{digits}f} ± {sd:.{digits}f}"
  if n_ok < len(values):
    s += f" ({len(values) - n_ok} of {len(values)} diverged)"
  return s


def diverged(values):
  """How many of the per-seed values are not finite (None, NaN, inf: the member diverged)."""
  return len(values) - len(finite(values))


def _all_finite(values, scale):
  """The values times scale; a comparison refuses non-finite ones rather than drop them quietly."""
  v = finite(values, scale)
  if len(v) != len(values) or not len(v):
    raise ValueError(f"a comparison needs finite numbers; got {list(values)!r} ({diverged(values)} not "
                     "finite): report the row as diverged instead")
  return v


def difference(a, b, scale=1.0):
  """(mean of a - mean of b, the standard error of that difference), times scale; a set of one
  value adds no variance. Raises ValueError if a value is not finite."""
  a, b = _all_finite(a, scale), _all_finite(b, scale)
  se = np.sqrt(sum(v.var(ddof=1) / len(v) for v in (a, b) if len(v) > 1))
  return float(a.mean() - b.mean()), float(se)


def separated(a, b, z=2.0):
  """Whether two sets of per-seed numbers differ by more than z standard errors of the difference
  of their means (about a two-sided 95% test). Raises ValueError if a value is not finite: a
  diverged row is reported as diverged, never as a number or a tie."""
  d, se = difference(a, b)
  if len(a) < 2 or len(b) < 2:
    return abs(d) > 0
  return bool(abs(d) > z * max(se, 1e-12))
