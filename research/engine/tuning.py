"""The learning-rate rule every contender is trained by: one cell of `seeds` members per value.

The grid starts from cfg.learning_rates, values of the 1-3-10 ladder (..., 1e-3, 3e-3, 1e-2, ...).
When the value best on validation is the grid's smallest or largest, the next ladder value beyond it
is trained too, at most cfg.extend times: a pick still at an edge after that is reported as such.
The members of every value tried form one Summary, so protocol.tuned chooses among them all.
"""
import math
from collections.abc import Sequence
from typing import Any, Callable

from research.engine.summary import Summary

KEY = "learning_rate"


def ladder_index(value: float) -> int | None:
  """The position of value on the 1-3-10 ladder (1e-3 -> -6, 3e-3 -> -5); None if it is not on it."""
  i = round(2 * math.log10(value))
  return i if math.isclose(ladder(i), value, rel_tol=1e-6) else None


def ladder(i: int) -> float:
  """The ladder's i-th value: 10^(i // 2), times 3 when i is odd (rounded to one digit)."""
  return float(f"{10.0 ** (i // 2) * (3 if i % 2 else 1):.1g}")


def merge(summaries: Sequence[Summary]) -> Summary:
  """One Summary of the members of several one-value cells, in increasing learning rate (ties in the
  choice go to the smaller value); its timing is their sum, per model over every member."""
  ordered = sorted(summaries, key=lambda s: s.members[0].hparams[KEY])
  members = tuple(m for s in ordered for m in s.members)
  t = [s.timing for s in ordered]
  train_s = sum(x.train_s for x in t)
  epochs = max(x.epochs_run for x in t)
  timing = t[0]._replace(compile_s=sum(x.compile_s for x in t), train_s=train_s,
                         epochs_trained=sum(x.epochs_trained for x in t), s_per_model=train_s / len(members),
                         s_per_model_epoch=train_s / len(members) / max(1, epochs),
                         identity_s=sum(x.identity_s for x in t), flops=sum(x.flops for x in t),
                         eval_s=sum(x.eval_s for x in t), epochs_run=epochs)
  return Summary(ordered[0].name, ordered[0].spec, members, timing, all(s.reused for s in ordered))


def chosen(summary: Summary) -> float:
  value, _, _ = summary.select(KEY)
  return value


def next_out(tried: Sequence[float], value: float) -> float | None:
  """The ladder value beyond `value` when it is the smallest or largest tried; None when inside."""
  if value == min(tried):
    return ladder(ladder_index(value) - 1)
  if value == max(tried):
    return ladder(ladder_index(value) + 1)
  return None


def tune(cfg: Any, train_value: Callable) -> tuple[dict, Summary]:
  """{value: CellResult} of every value tried, and their merged Summary. train_value(lr) trains
  (or reads back) the cell of one value."""
  cells = {float(v): train_value(float(v)) for v in cfg.learning_rates}
  for _ in range(cfg.extend):
    beyond = next_out(list(cells), chosen(merge([c.summary for c in cells.values()])))
    if beyond is None:
      break
    cells[beyond] = train_value(beyond)
  return cells, merge([c.summary for c in cells.values()])


def at_edge(tried: Sequence[float], value: float) -> bool:
  """Whether the chosen value is still the smallest or largest tried (the grid may be too narrow)."""
  return len(tried) > 1 and value in (min(tried), max(tried))
