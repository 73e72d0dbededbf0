"""How deep is deep? One reading over every depth table of the paper (REPORT.md's summary).

An experiment takes part by defining `depth_pairs(doc) -> [DepthPair]`: the deeper-vs-shallower
comparisons its table supports, each deeper net picked on validation where a pick is made. The
summary tests them all as one family (Welch's t-test on per-seed test accuracy, Holm's correction
over every pair of every experiment, since the summary's reading makes all of them at once), and
says per setting whether depth paid, cost, or was not resolved, with the budget the verdict holds for.
"""
from typing import NamedTuple

from research.system import results
from research.report import stats


class DepthPair(NamedTuple):
  setting: str        # task, input and data size: what the verdict is about
  deeper: str         # the deeper net, and how it was chosen
  shallower: str
  deeper_acc: list    # per-seed test accuracy (fractions)
  shallower_acc: list
  deeper_layers: int  # hidden layers (a CNN: its layers): 0 is logistic regression, 1 a shallow net
  shallower_layers: int


def _finite(values):
  return bool(values) and stats.diverged(values) == 0


def verdict(c):
  """'depth paid' / 'depth cost' when the corrected test resolves the sign, else 'not resolved'."""
  if not c.resolved:
    return f"not resolved at {c.seeds}"
  return "depth paid" if c.diff > 0 else "depth cost"


def compare(found):
  """[(experiment, budget, DepthPair)] -> [(experiment, budget, DepthPair, Comparison)], one Holm family;
  pairs with a diverged member are left out (their experiment's own reading reports them)."""
  kept = [(e, b, p) for e, b, p in found if _finite(p.deeper_acc) and _finite(p.shallower_acc)]
  tests = stats.compare({i: (p.deeper_acc, p.shallower_acc) for i, (_, _, p) in enumerate(kept)})
  return [(e, b, p, tests[i]) for i, (e, b, p) in enumerate(kept)]


def _ci(c):
  if c.low != c.low:  # NaN: one seed a side, no interval
    return f"{c.diff:+.1f}"
  return f"{c.diff:+.1f} ({c.low:+.1f} to {c.high:+.1f})"


def _p(c):
  return "—" if c.p_holm != c.p_holm else ("< 0.001" if c.p_holm < 0.001 else f"{c.p_holm:.3f}")


def _means(p):
  return f"{stats.mean_sd(p.deeper_acc)[0]:.1f} / {stats.mean_sd(p.shallower_acc)[0]:.1f}"


def _where(rows, word):
  return [f"{p.setting}: {p.deeper} vs {p.shallower} ({c.diff:+.1f})" for _, _, p, c in rows if verdict(c) == word]


def section(found):
  """REPORT.md's cross-table depth summary: a table of every pair and the reading derived from it."""
  rows = compare(found)
  if not rows:
    return []
  table = results.markdown_table(
      ["experiment", "setting", "deeper", "shallower", "deeper − shallower, points (95% CI)",
       "test %: deeper / shallower", f"p (Holm, {len(rows)})", "verdict", "budget"],
      [[f"`{e}`", p.setting, p.deeper, p.shallower, _ci(c), _means(p), _p(c), verdict(c), b] for e, b, p, c in rows],
      "Every deeper-vs-shallower comparison of the paper's depth tables, on test accuracy (deeper net minus "
      "shallower net, mean over seeds, points). Deeper nets marked 'best on validation' were picked on the "
      "validation split; the test split picked nothing. Welch's t-test, Holm-corrected over all the rows of "
      "this table together; budget: the stopping rule every net of that experiment trained under.")
  paid, cost = _where(rows, "depth paid"), _where(rows, "depth cost")
  unresolved = sum(1 for *_, c in rows if not c.resolved)
  lines = [f"- Of {len(rows)} deeper-vs-shallower comparisons, depth paid in {len(paid)}, cost in {len(cost)}, "
           f"{unresolved} not resolved at their seeds (Holm over all {len(rows)})."]
  lines.append("- Where depth paid: " + ("; ".join(paid) if paid else "nowhere at these budgets") + ".")
  lines.append("- Where depth cost: " + ("; ".join(cost) if cost else "nowhere at these budgets") + ".")
  deep = [r for r in rows if r[2].shallower_layers >= 1]
  deep_paid = [r for r in deep if verdict(r[3]) == "depth paid"]
  lines.append(f"- More depth where the shallower net already has hidden layers: {len(deep_paid)} of {len(deep)} "
               "comparisons resolved in favour of depth" + (" (" + "; ".join(f"{p.setting}, {p.deeper}" for _, _, p, _ in deep_paid)
                                                 + ")" if deep_paid else "") + "".join(
                   f"; a hidden layer against none ({p.setting}): {verdict(c)}, {c.diff:+.1f} points"
                   for _, _, p, c in rows if p.shallower_layers == 0) + ".")
  largest = max(rows, key=lambda r: r[3].diff if r[3].resolved else float("-inf"))
  if largest[3].resolved and largest[3].diff > 0:
    e, b, p, c = largest
    lines.append(f"- The largest resolved gain: {p.setting}, {p.deeper} over {p.shallower}, {c.text()} "
                 f"(`{e}`, {b}).")
  return ["## How deep is deep? Every depth table together\n", table.markdown(), "**Reading.**\n\n" + "\n".join(lines) + "\n"]
