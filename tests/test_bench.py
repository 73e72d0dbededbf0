"""The bench's tables run and count what they time (no timing is asserted: see `make bench`)."""
from bench import run as bench


def test_step_parts_count_the_step_and_its_pieces(digits):
  _, arrays = digits
  text, doc = bench.step_parts(arrays, bench.reference_model(), rounds=1, peak=100.0)
  products, passes, step = (doc[k]["gflop_per_step"] for k in
                            ("matrix products only", "forward and backward", "whole step (Adam update)"))
  d, (w1, w2) = 64, bench.WIDTHS
  # forward, weight gradients, and input gradients of every layer but the first
  forward = 2 * bench.BATCH * (d * w1 + w1 * w2 + w2 * 10)
  expected = 2 * forward + 2 * bench.BATCH * (w1 * w2 + w2 * 10)
  assert abs(products * 1e9 - expected) / expected < 0.01
  assert products <= passes <= step < 1.1 * products  # what the step adds to its products is small
  assert all(row["s_per_epoch"] > 0 for row in doc.values()) and "% of peak" in text
