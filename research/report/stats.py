"""Statistics over per-seed numbers: what every table, reading and plot is built from.

  mean_sd(values)        (mean, std) of the finite values, in percent by default
  mean_sd_text(values)   '89.3 ± 0.2', 'diverged', or with '(k of n diverged)'
  difference(a, b)       (difference of means, its standard error)
  welch(a, b)            a Comparison: difference, its 95% CI and Welch's two-sided p
  compare({k: (a, b)})   the Comparisons of one reading's family, Holm-corrected together
  diverged(values)       how many members diverged

The rule every reading follows: a difference is called only when its Holm-corrected p-value
is under ALPHA; otherwise it is "not resolved at N seeds". Comparisons refuse non-finite
numbers (ValueError): a reading reports a row with diverged members as diverged, with the
count, and never compares it.
"""
from typing import NamedTuple

import numpy as np
from scipy import stats as scipy_stats

ALPHA = 0.05


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


class Comparison(NamedTuple):
  """a - b over seeds, in the units of `scale` (points of accuracy by default)."""
  diff: float    # difference of the means
  low: float     # 95% confidence interval of the difference (Welch-Satterthwaite degrees of freedom)
  high: float
  p: float       # two-sided Welch t-test; NaN when a side has fewer than two seeds
  p_holm: float  # after Holm's correction over the family it was tested in (= p when alone)
  n_a: int
  n_b: int
  family: int = 1  # how many comparisons the Holm correction ran over

  @property
  def resolved(self):
    """Whether the difference survives the correction (a NaN p never does)."""
    return bool(self.p_holm < ALPHA)

  @property
  def seeds(self):
    """'5 seeds', or '3 and 5 seeds' when the sides differ."""
    return f"{self.n_a} seeds" if self.n_a == self.n_b else f"{self.n_a} and {self.n_b} seeds"

  def numbers(self, unit="points"):
    """'+0.8 points, 95% CI +0.3 to +1.3, p = 0.004' (p after Holm when corrected)."""
    if not np.isfinite(self.p):
      return f"{self.diff:+.1f} {unit}, no test with {self.seeds}"
    corrected = f" (Holm, {self.family} comparisons)" if self.family > 1 else ""
    return (f"{self.diff:+.1f} {unit}, 95% CI {self.low:+.1f} to {self.high:+.1f}, "
            f"p {_p_text(self.p_holm)}{corrected}")

  def cell(self):
    """The difference as a table cell: '+0.8 (p = 0.004)', p after Holm ('n/a' without a test)."""
    return f"{self.diff:+.1f} (p {_p_text(self.p_holm) if np.isfinite(self.p_holm) else 'n/a'})"

  def text(self, unit="points"):
    """The numbers, prefixed with 'not resolved at N seeds' unless the difference is resolved."""
    return self.numbers(unit) if self.resolved else f"not resolved at {self.seeds} ({self.numbers(unit)})"

  def to_json(self):
    return dict(self._asdict(), resolved=self.resolved)


def _p_text(p):
  return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def welch(a, b, scale=100.0):
  """Welch's t-test of mean(a) - mean(b) with its 95% CI, times scale. Raises ValueError if a
  value is not finite (report that row as diverged instead)."""
  a, b = _all_finite(a, scale), _all_finite(b, scale)
  diff = float(a.mean() - b.mean())
  if len(a) < 2 or len(b) < 2:
    return Comparison(diff, float("nan"), float("nan"), float("nan"), float("nan"), len(a), len(b))
  va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
  se = float(np.sqrt(va + vb))
  if se == 0.0:  # both sides constant: the difference is exact
    p = 0.0 if diff != 0.0 else 1.0
    return Comparison(diff, diff, diff, p, p, len(a), len(b))
  df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
  p = float(2 * scipy_stats.t.sf(abs(diff) / se, df))
  half = float(scipy_stats.t.ppf(1 - ALPHA / 2, df) * se)
  return Comparison(diff, diff - half, diff + half, p, p, len(a), len(b))


def holm(ps):
  """Holm-Bonferroni adjusted p-values, in the order given. Refuses a p-value that is not a number
  (ValueError): a comparison with no test is left out of the family (compare does), never corrected over."""
  ps = np.asarray(ps, float)
  if not np.isfinite(ps).all():
    raise ValueError(f"Holm's correction over p-values that are not numbers ({ps.tolist()}): leave a comparison "
                     "with no test (fewer than 2 seeds a side) out of the family")
  adjusted = np.full(len(ps), np.nan)
  running = 0.0
  for rank, i in enumerate(np.argsort(ps, kind="stable")):
    running = max(running, min(1.0, (len(ps) - rank) * ps[i]))
    adjusted[i] = running
  return adjusted.tolist()


def _holm_tested(ps, untested):
  """holm() over the comparisons that had a test; NaN for those that could not (untested[i]: a side
  with fewer than 2 seeds). A NaN p-value of a comparison that had one is refused: a verdict would
  rest on it."""
  ps = np.asarray(ps, float)
  bad = [i for i, (p, u) in enumerate(zip(ps, untested)) if not u and not np.isfinite(p)]
  if bad:
    raise ValueError(f"comparisons {bad} have at least 2 seeds a side but a p-value that is not a number: "
                     "no verdict can rest on them")
  tested = [i for i, u in enumerate(untested) if not u]
  out = np.full(len(ps), np.nan)
  out[tested] = holm(ps[tested])
  return out.tolist()


def compare(pairs, scale=100.0):
  """{key: (a, b)} -> {key: Comparison} with Holm's correction over all of them: the family is
  every comparison one reading makes that has a test (a side with one seed has none: its p stays NaN,
  "no test with 1 seeds", and it is not counted)."""
  tests = {k: welch(a, b, scale) for k, (a, b) in pairs.items()}
  untested = [min(c.n_a, c.n_b) < 2 for c in tests.values()]
  adjusted = _holm_tested([c.p for c in tests.values()], untested)
  family = untested.count(False)
  return {k: c._replace(p_holm=q, family=family) for (k, c), q in zip(tests.items(), adjusted)}


# ----------------------------------------------------------------------------
# Four verdicts: better, worse, equivalent within ±delta, or unresolved with what the seeds could
# have detected. Every reading states a comparison in one of these words.

BETTER, WORSE, EQUIVALENT, UNRESOLVED = "better", "worse", "equivalent", "unresolved"
POWER = 0.8  # the minimum detectable difference is the one found with this probability


class Verdict(NamedTuple):
  """One comparison's verdict within its family: a - b, in points."""
  word: str              # BETTER, WORSE, EQUIVALENT or UNRESOLVED (a better or worse than b)
  comparison: Comparison  # the difference test, Holm-corrected over the family
  delta: float           # the equivalence margin (points)
  p_equivalent: float    # two one-sided tests (the larger p), Holm-corrected over the family
  detectable: float      # smallest |a - b| the family's test finds with POWER (NaN below 2 seeds a side)

  def text(self, unit="points"):
    """The verdict first, then its numbers: what a reading quotes."""
    c = self.comparison
    if self.word in (BETTER, WORSE):
      return f"{self.word} ({c.numbers(unit)})"
    if not np.isfinite(c.p):
      return f"unresolved ({c.numbers(unit)})"
    corrected = f", Holm over {c.family}" if c.family > 1 else ""
    if self.word == EQUIVALENT:
      return (f"equivalent within ±{self.delta:g} {unit} ({c.diff:+.1f}, 95% CI {c.low:+.1f} to {c.high:+.1f}; "
              f"two one-sided tests p {_p_text(self.p_equivalent)}{corrected})")
    return (f"unresolved at {c.seeds} ({c.diff:+.1f}, 95% CI {c.low:+.1f} to {c.high:+.1f}, p {_p_text(c.p_holm)}"
            f"{corrected}; the seeds could detect ±{self.detectable:.1f} {unit})")

  def to_json(self):
    return dict(word=self.word, delta=self.delta, p_equivalent=self.p_equivalent, detectable=self.detectable,
                **self.comparison.to_json())


def _welch_parts(a, b):
  """(standard error, Welch-Satterthwaite degrees of freedom) of mean(a) - mean(b); NaN below 2 a side."""
  if len(a) < 2 or len(b) < 2:
    return float("nan"), float("nan")
  va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
  se = float(np.sqrt(va + vb))
  if se == 0.0:
    return 0.0, float("inf")
  return se, float((va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)))


def equivalence_p(a, b, delta, scale=100.0):
  """Two one-sided Welch tests of |mean(a) - mean(b)| < delta (in the units of scale): the larger
  of the two p-values; NaN when a side has fewer than two values."""
  a, b = _all_finite(a, scale), _all_finite(b, scale)
  se, df = _welch_parts(a, b)
  diff = float(a.mean() - b.mean())
  if not np.isfinite(se):
    return float("nan")
  if se == 0.0:
    return 0.0 if abs(diff) < delta else 1.0
  return float(max(scipy_stats.t.sf((diff + delta) / se, df), scipy_stats.t.sf((delta - diff) / se, df)))


def detectable(a, b, family=1, scale=100.0, power=POWER):
  """The smallest true difference a two-sided Welch test at ALPHA / family (Holm's strictest step)
  finds with `power`, at these seeds and this spread (the sample std standing in for the true one)."""
  a, b = _all_finite(a, scale), _all_finite(b, scale)
  se, df = _welch_parts(a, b)
  if not np.isfinite(se):
    return float("nan")
  if se == 0.0:
    return 0.0
  return float((scipy_stats.t.ppf(1 - ALPHA / (2 * family), df) + scipy_stats.t.ppf(power, df)) * se)


def check_family(pairs):
  """Refuses what no verdict can come from: an empty family, a side with no values."""
  if not pairs:
    raise ValueError("no comparison to make: a reading with nothing to compare says so instead of a verdict")
  for key, (a, b) in pairs.items():
    if not len(a) or not len(b):
      raise ValueError(f"comparison {key!r} has a side with no values")


def verdicts(pairs, delta, scale=100.0):
  """{key: (a, b)} -> {key: Verdict}, the family Holm-corrected together twice: the difference tests
  (better / worse) and the equivalence tests (within ±delta points). A comparison that is neither is
  unresolved, with the difference its seeds could have detected."""
  check_family(pairs)
  if not delta > 0:
    raise ValueError(f"the equivalence margin must be > 0 points, not {delta!r}")
  tests = compare(pairs, scale)
  p_eq = _holm_tested([equivalence_p(a, b, delta, scale) for a, b in pairs.values()],
                      [min(c.n_a, c.n_b) < 2 for c in tests.values()])
  out = {}
  for (key, (a, b)), q in zip(pairs.items(), p_eq):
    c = tests[key]
    word = ((BETTER if c.diff > 0 else WORSE) if c.resolved else EQUIVALENT if q < ALPHA else UNRESOLVED)
    out[key] = Verdict(word, c, float(delta), q, detectable(a, b, len(pairs), scale))
  return out


def paired_verdicts(pairs, delta, scale=100.0):
  """verdicts() on per-unit differences: {key: (a, b)} with a[i] and b[i] from the same unit (data
  draw, seed), tested as one sample of a[i] - b[i] against zero (a paired t-test) instead of Welch's."""
  diffs = {k: ([x - y for x, y in zip(a, b)], [0.0] * len(a)) for k, (a, b) in pairs.items()}
  for k, (a, b) in pairs.items():
    if len(a) != len(b):
      raise ValueError(f"paired comparison {k!r}: {len(a)} and {len(b)} values")
  return verdicts(diffs, delta, scale)
