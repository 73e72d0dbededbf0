"""The four verdicts: better, worse, equivalent within ±delta, unresolved with the detectable difference."""
import numpy as np
import pytest

from research.report import stats


def _draw(mean, sd, n, seed):
  return list(mean + sd * np.random.default_rng(seed).standard_normal(n))


def test_each_word_where_the_numbers_call_for_it():
  close_a, close_b = _draw(0.900, 0.001, 8, 0), _draw(0.900, 0.001, 8, 1)
  far = _draw(0.850, 0.002, 8, 2)
  noisy = _draw(0.900, 0.06, 3, 3)
  v = stats.verdicts({"same": (close_a, close_b), "ahead": (close_a, far), "behind": (far, close_a),
                      "noisy": (close_a, noisy)}, delta=0.5)
  assert [v[k].word for k in ("same", "ahead", "behind", "noisy")] == ["equivalent", "better", "worse", "unresolved"]
  assert v["noisy"].detectable > 5 and "could detect" in v["noisy"].text()
  assert v["same"].text().startswith("equivalent within ±0.5 points")
  assert all(x.comparison.family == 4 for x in v.values())


def test_equivalence_needs_the_whole_interval_inside_the_margin():
  a, b = _draw(0.900, 0.001, 8, 0), _draw(0.897, 0.001, 8, 1)  # 0.3 points apart, tightly measured
  assert stats.verdicts({"k": (a, b)}, delta=1.0)["k"].word == "better"  # resolved first
  wide_a, wide_b = _draw(0.90, 0.01, 4, 4), _draw(0.90, 0.01, 4, 5)
  assert stats.verdicts({"k": (wide_a, wide_b)}, delta=0.2)["k"].word == "unresolved"


def test_detectable_difference_shrinks_with_seeds_and_grows_with_the_family():
  small = stats.detectable(_draw(0.9, 0.01, 3, 0), _draw(0.9, 0.01, 3, 1))
  large = stats.detectable(_draw(0.9, 0.01, 30, 0), _draw(0.9, 0.01, 30, 1))
  assert large < small
  a, b = _draw(0.9, 0.01, 5, 0), _draw(0.9, 0.01, 5, 1)
  assert stats.detectable(a, b, family=10) > stats.detectable(a, b, family=1)


def test_paired_verdicts_remove_the_shared_variance():
  base = _draw(0.9, 0.02, 8, 0)  # a large spread between units, shared by both arms
  a, b = base, [x - 0.01 + 0.0005 * e for x, e in zip(base, np.random.default_rng(1).standard_normal(8))]
  assert stats.verdicts({"k": (a, b)}, 0.5)["k"].word == "unresolved"
  assert stats.paired_verdicts({"k": (a, b)}, 0.5)["k"].word == "better"


def test_no_verdict_from_nothing():
  with pytest.raises(ValueError, match="nothing to compare"):
    stats.verdicts({}, 0.5)
  with pytest.raises(ValueError, match="no values"):
    stats.verdicts({"k": ([], [0.5, 0.6])}, 0.5)
  with pytest.raises(ValueError, match="finite"):
    stats.verdicts({"k": ([0.5, float("nan")], [0.5, 0.6])}, 0.5)
  with pytest.raises(ValueError, match="margin"):
    stats.verdicts({"k": ([0.5, 0.6], [0.5, 0.6])}, 0.0)
