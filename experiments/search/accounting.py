"""What a search spent and when it knew what: pure functions of the cells' histories and timings.

Executed FLOPs are the engine's own count (cells.run_cell: member-epochs the program ran times the
trained model's XLA cost): for a population that is the supernet's shape for every member. Own
FLOPs are what each candidate's standalone network would have cost for the epochs it ran.
"""
import numpy as np


def ran_N(history):
  """Per epoch, whether the member trained (a skipped epoch has no training loss)."""
  return np.asarray([v is not None and np.isfinite(v) for v in history["train_loss"]], bool)


def anytime(cells):
  """[(GFLOP executed so far, best validation accuracy so far)] over cells run one after another;
  within a cell, epoch by epoch (the engine's chunks: every member's epoch e before any epoch e + 1).
  cells: [(member histories, executed FLOP per member-epoch)]."""
  points, spent, best = [], 0.0, -np.inf
  for histories, epoch_flops in cells:
    ran = [ran_N(h) for h in histories]
    vals = [np.asarray([np.nan if v is None else v for v in h["val_acc"]], float) for h in histories]
    for e in range(max((len(r) for r in ran), default=0)):
      spent += epoch_flops * sum(bool(r[e]) for r in ran if e < len(r))
      now = [v[e] for v, r in zip(vals, ran) if e < len(r) and r[e] and np.isfinite(v[e])]
      best = max([best, *now])
      if np.isfinite(best):
        points.append((spent / 1e9, float(best)))
  return points


def compute(timings, member_epochs, executed_flops, own_flops, candidates):
  """A strategy's bill over its cells' timings (seconds as the engine measured them)."""
  return dict(candidates=candidates, member_epochs=int(member_epochs), executed_gflop=executed_flops / 1e9,
              own_gflop=own_flops / 1e9, train_s=sum(t["train_s"] for t in timings),
              compile_s=sum(t["compile_s"] for t in timings), cells=len(timings))


def per_minute(bill):
  """Candidates per CPU-minute of training and compiling (None before any): a measurement of the
  machine, so computed for the table and never stored with the results' decisions."""
  minutes = (bill["train_s"] + bill["compile_s"]) / 60.0
  return bill["candidates"] / minutes if minutes > 0 else None
