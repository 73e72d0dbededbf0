"""What a reading says when there is nothing to compare: the same words in every experiment.

  readings.nothing("only L = 1 trained")   '- Nothing was compared: only L = 1 trained; no verdict.'
  readings.family_text(tests)              'Holm-corrected over the 3 comparisons of this reading'

A reading with no comparison (one contender, every other one diverged) states that nothing was
compared and why, and makes no claim: no 'best', no 'peak', nothing resolved. The tests
(tests/test_no_verdict_from_nothing.py) hold every experiment's reading to this.
"""

NOTHING = "Nothing was compared"


def nothing(why, indent="- "):
  """The line a reading gives instead of a verdict."""
  return f"{indent}{NOTHING}: {why}; no verdict."


def family_text(tests, what="this reading", verb="Holm-corrected"):
  """How the family was corrected, in words: over the comparisons that have a test (stats.compare leaves
  out those with a side of one seed); None for an empty family (there is nothing to correct)."""
  if not tests:
    return None
  n = next(iter(tests.values())).family
  if not n:
    return "no test (every comparison has a side with fewer than 2 seeds)"
  return f"{verb} over the {n} comparison{'' if n == 1 else 's'} of {what}"

