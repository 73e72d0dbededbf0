"""The numbers every table and reading is built from: mean ± std over seeds and the 2-SE test."""
import math

import numpy as np
import pytest

from research.report import stats


def test_mean_and_std_leave_out_missing_and_diverged_seeds():
  assert stats.mean_sd([0.8, None, 0.9, float("nan")]) == (85.0, np.std([80.0, 90.0], ddof=1))
  assert stats.mean_sd([0.8]) == (80.0, 0.0)
  m, s = stats.mean_sd([None, float("inf")])
  assert math.isnan(m) and s == 0.0


def test_mean_std_text_counts_the_diverged():
  assert stats.mean_sd_text([0.8, 0.9]) == "85.0 ± 7.1"
  assert stats.mean_sd_text([0.8, 0.9, None]) == "85.0 ± 7.1 (1 of 3 diverged)"
  assert stats.mean_sd_text([None, float("nan")]) == "diverged"
  assert stats.mean_sd_text([248, 248], scale=1.0, digits=0) == "248 ± 0"


def test_difference_and_welch():
  a, b = [0.90, 0.91, 0.92], [0.80, 0.81, 0.82]
  d, se = stats.difference(a, b, scale=100)
  assert math.isclose(d, 10.0) and math.isclose(se, math.sqrt(2 / 3))
  assert stats.welch(a, b).resolved and not stats.welch(a, [0.905, 0.91, 0.915]).resolved
  assert stats.difference([0.5], [0.4]) == (0.5 - 0.4, 0.0)  # one value each adds no variance
  assert not stats.welch([0.5], [0.4]).resolved  # one seed a side: no test, never called


def test_comparisons_refuse_diverged_members():
  """A row with a diverged member is reported as diverged, never compared as a number or a tie."""
  for bad in ([0.5, None], [float("nan"), 0.4], [float("inf")], []):
    with pytest.raises(ValueError, match="finite"):
      stats.welch([0.5, 0.6], bad)
    with pytest.raises(ValueError, match="finite"):
      stats.difference(bad, [0.5, 0.6])
  assert stats.diverged([0.5, None, float("nan")]) == 2
