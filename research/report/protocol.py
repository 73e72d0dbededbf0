"""The rules every table is trained and selected by, and the words that state them.

  rule(cfg)               'up to 40 epochs, stopped after 5 without a better validation accuracy, ...'
  epochs_cell(row)        '18 (12-31)': median (range) of the members' epochs to their best
  convergence(rows, cfg)  a sentence: how many members stopped by the rule, how many hit the maximum
  tuned(summary)          the row fields of a cell whose members span a learning-rate grid:
                          the value chosen on validation, its members' numbers, every value's score

Selection reads the validation split only (research/engine/train.py keeps each member's best-validation
parameters; research/engine/cells.py evaluates those once on the test set), so a reading that calls
the best of anything names the validation numbers it chose by.
"""
import numpy as np


def rule(cfg, epochs=None):
  """The stopping rule and schedule of a config, as a phrase."""
  epochs = epochs or cfg["epochs"]
  stop = (f"stopped after {cfg['patience']} epochs without a better validation accuracy"
          if cfg["patience"] else "no early stop")
  sched = (f", cosine learning-rate decay with {cfg['warmup_epochs']:g} warmup epochs"
           if cfg["schedule"] == "cosine" else "")
  return f"up to {epochs} epochs, {stop}{sched}; the epoch with the best validation accuracy is reported"


def _epochs(row, key="best_epoch"):
  return [e for e in row.get(key, []) if e is not None]


def epochs_cell(row):
  """'18 (12-31)': the median and range of the members' epochs to their best validation accuracy,
  with '+' where a member was still improving at the maximum (it did not converge by the rule)."""
  e = _epochs(row)
  if not e:
    return "—"
  text = f"{int(np.median(e))}" if min(e) == max(e) else f"{int(np.median(e))} ({min(e)}-{max(e)})"
  return text + ("+" if not all(row.get("stopped", [True])) else "")


def convergence(rows, cfg, epochs=None):
  """A sentence on whether the rows' members converged by the rule at this budget."""
  epochs = epochs or cfg["epochs"]
  stopped = [s for r in rows for s, d in zip(r.get("stopped", []), r.get("diverged", [])) if not d]
  best = [e for r in rows for e in _epochs(r)]
  if not stopped or not best:
    return "Every member diverged." if any(r.get("diverged") for r in rows) else ""
  span = (f"epochs to the best validation accuracy {min(best)}" if min(best) == max(best) else
          f"epochs to the best validation accuracy {min(best)}-{max(best)} (median {int(np.median(best))})")
  if all(stopped):
    return f"Every member stopped by the rule before {epochs} epochs; {span}."
  if not cfg["patience"]:
    return f"No early stop: every member trained {epochs} epochs; {span}."
  return (f"{len(stopped) - sum(stopped)} of {len(stopped)} members had not stopped by the maximum of {epochs} "
          f"epochs (a better validation accuracy within the last {cfg['patience']}): not converged by the rule "
          f"at this budget; {span}.")


def tuned(summary, key="learning_rate"):
  """A row's fields from a cell over seeds x a grid of `key`: the numbers of the value with the best
  mean validation accuracy, that value, and each value's mean validation accuracy (the grid)."""
  value, chosen, scores = summary.select(key)
  return dict(chosen.numbers(), **{key: value}, grid={str(k): v for k, v in scores.items()})


def grid(values, seeds):
  """Members of a cell over seeds x values: (seeds, hparams), seed-major within each value."""
  return ([s for _ in values for s in seeds],
          [{"learning_rate": float(v)} for v in values for _ in seeds])
