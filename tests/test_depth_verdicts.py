"""REPORT.md's depth summary: one Holm family over every experiment's deeper-vs-shallower pairs."""
from research.report import depth_verdicts, stats
from research.report.depth_verdicts import DepthPair

GAIN = DepthPair("task A", "4 x 8", "1 x 60", [0.95, 0.96, 0.955, 0.952, 0.958], [0.80, 0.81, 0.79, 0.805, 0.80], 4, 1)
LOSS = DepthPair("task B", "8 x 8", "1 x 90", [0.70, 0.71, 0.69, 0.705, 0.70], [0.90, 0.91, 0.905, 0.902, 0.908], 8, 1)
NOISE = DepthPair("task C", "2 x 8", "1 x 20", [0.80, 0.90, 0.85, 0.82, 0.88], [0.84, 0.86, 0.83, 0.87, 0.85], 2, 1)
LAYER = DepthPair("task A", "1 x 60", "logistic", [0.80, 0.81, 0.79, 0.805, 0.80], [0.60, 0.61, 0.62, 0.6, 0.6], 1, 0)
LOST = DepthPair("task D", "16 x 8", "1 x 100", [None, 0.9, 0.9], [0.8, 0.8, 0.81], 16, 1)


def test_one_family_over_every_pair_diverged_ones_left_out():
  found = [("a", "budget a", GAIN), ("b", "budget b", LOSS), ("b", "budget b", NOISE), ("a", "budget a", LOST)]
  rows = depth_verdicts.compare(found)
  assert [p for _, _, p, _ in rows] == [GAIN, LOSS, NOISE]
  assert {c.family for *_, c in rows} == {3}
  expected = stats.compare({0: (GAIN.deeper_acc, GAIN.shallower_acc), 1: (LOSS.deeper_acc, LOSS.shallower_acc),
                            2: (NOISE.deeper_acc, NOISE.shallower_acc)})
  assert [c for *_, c in rows] == list(expected.values())
  assert [depth_verdicts.verdict(c) for *_, c in rows] == ["depth paid", "depth cost", "not resolved at 5 seeds"]


def test_section_reads_its_table():
  text = "\n".join(depth_verdicts.section([("a", "patience 5", GAIN), ("b", "patience 8", LOSS),
                                          ("b", "patience 8", NOISE), ("a", "patience 5", LAYER)]))
  assert "| `a` | task A | 4 x 8 | 1 x 60 | +15.4 (" in text and "| 95.5 / 80.1 | < 0.001 | depth paid | patience 5 |" in text
  assert "p (Holm, 4)" in text
  assert "depth paid in 2, cost in 1, 1 not resolved" in text
  assert "More depth where the shallower net already has hidden layers: 1 of 3 comparisons resolved in favour of depth" in text
  assert "a hidden layer against none (task A): depth paid, +19.5 points" in text
  assert "The largest resolved gain: task A, 1 x 60 over logistic, +19.5 points" in text
  assert depth_verdicts.section([]) == []
