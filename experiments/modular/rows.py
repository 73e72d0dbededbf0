"""A contender's results row: per-member group accuracies read from its predictions, the engine's
numbers of its cell, and the rows of several data seeds joined into one.

Every number read from the test set has 'test' in its key (tests/test_registry.py permutes the test
labels and checks that nothing else moves).
"""
import numpy as np

from experiments.modular import groups
from research import models


def nan_where(values, diverged):
  """Per-member numbers with NaN (null in results.json) where the member diverged: its predictions
  from non-finite weights are not accuracies."""
  a = np.array(values, float)
  a[np.asarray(diverged, bool)] = np.nan
  return a


def worst(acc_MxG):
  """Each member's lowest group accuracy over the groups the split has (at rho = 0 the validation set
  has no rare example); NaN for a diverged member."""
  a = np.where(np.isnan(acc_MxG), np.inf, acc_MxG).min(1)
  return np.where(np.isinf(a) | np.isnan(acc_MxG).all(1), np.nan, a)


def group_numbers(pred_val_MxN, pred_test_MxN, split, diverged, label_val=None, label_test=None):
  """Per-member accuracies of the predictions within each group, on validation and test, and what the
  tables read from them. The labels are the groups (4-way) unless given (a target-only model's)."""
  label_val = split.g_val if label_val is None else label_val
  label_test = split.g_test if label_test is None else label_test
  val_Mx4 = nan_where(groups.accuracy_by_group(pred_val_MxN, label_val, split.g_val), diverged)
  test_Mx4 = nan_where(groups.accuracy_by_group(pred_test_MxN, label_test, split.g_test), diverged)
  mix = np.asarray(groups.counts(split)["train_fraction"])
  return dict(test_group_acc=test_Mx4.tolist(), test_average=test_Mx4.mean(1).tolist(),
              test_train_mix=(test_Mx4 @ mix).tolist(), test_worst=worst(test_Mx4).tolist(),
              test_rare=test_Mx4[:, split.rare].tolist(),
              val_group_acc=val_Mx4.tolist(), val_worst=worst(val_Mx4).tolist(),
              val_rare=val_Mx4[:, split.rare].tolist())


def summarize(summary, pred_val_MxN, pred_test_MxN, split, *, model, shape, n, batch_size, **labels):
  """One trained contender's row at one point and data seed: group_numbers, the engine's numbers of
  the selected parameters, each member's validation curve, timing."""
  numbers = summary.numbers()
  del numbers["curve"]  # the members' mean; each member's own curve is kept below
  return dict(numbers, **group_numbers(pred_val_MxN, pred_test_MxN, split, summary.final("diverged"), **labels),
              val_curves=summary.history("val_acc"), steps_per_epoch=n // batch_size,
              before_steps=[0] * len(numbers["seeds"]), before_s=[0.0] * len(numbers["seeds"]),
              **models.describe(model, tuple(shape)))


def per_member(row):
  return len(row["seeds"])


def join_seeds(rows, data_seeds):
  """One row from a contender's rows at several data seeds: every per-member list joined in data-seed
  order (data_seed then says whose each member is), numbers that agree kept, timings averaged."""
  out = {}
  for k, first in rows[0].items():
    values = [r[k] for r in rows]
    if isinstance(first, list) and all(isinstance(v, list) and len(v) == per_member(r) for v, r in zip(values, rows)):
      out[k] = [x for v in values for x in v]
    elif isinstance(first, bool):
      out[k] = all(values)
    elif isinstance(first, dict):
      out[k] = join_seeds(values, data_seeds) if "seeds" in first else first
    elif all(v == first for v in values):
      out[k] = first
    elif isinstance(first, (int, float)):
      out[k] = float(np.mean(values))  # a timing of each seed's cell
    else:
      raise ValueError(f"rows of different data seeds disagree on '{k}'")
  out["data_seed"] = [d for d, r in zip(data_seeds, rows) for _ in range(per_member(r))]
  return out
