"""What a trained cell reports, as typed values: the one way experiments read a cell's numbers.

  cell = ctx.cell(...).summary          # a Summary
  cell.final("test_acc")                # one number per member (None where it diverged)
  cell.curve("val_acc")                 # the members' mean per epoch
  cell.numbers()                        # the per-cell fields every results.json row carries

On disk (a cell's result.json) a Summary is plain JSON: `to_json` / `from_json`.
"""
import warnings
from typing import NamedTuple

import numpy as np


class Final(NamedTuple):
  """A member's numbers for its selected parameters (those after best_epoch, chosen on the
  validation split); NaN (None in JSON) where the member diverged."""
  train_loss: float
  train_acc: float
  val_loss: float
  val_acc: float
  test_loss: float
  test_acc: float
  diverged: bool
  diverged_epoch: int = None  # the epoch whose step first gave a non-finite loss or gradient
  best_epoch: int = None      # epochs to the selected parameters (1-based)
  epochs_run: int = None      # epochs it trained: best_epoch + patience when patience stopped it, the
                              # rung's epoch when successive halving did, else the cell's
  stopped: bool = False       # patience ran out before the maximum epochs (converged by the rule)


class Member(NamedTuple):
  seed: int
  hparams: dict
  final: Final
  history: dict  # metric name -> one value per epoch (train_loss, val_loss, val_acc)


class Timing(NamedTuple):
  compile_s: float
  train_s: float
  epochs_trained: int
  resumed_from_epoch: int
  devices: int
  s_per_model: float
  s_per_model_epoch: float
  identity_s: float = 0.0  # hashing the programs and data that identify the cell
  layout: str = "vmap"     # how the members shared the program (research/engine/train.py LAYOUTS)
  flops: float = 0.0       # training and evaluation FLOPs of the epochs trained here (XLA's count)
  eval_s: float = 0.0      # evaluating the selected parameters on train, validation and test
  epochs_run: int = 0      # epochs of the cell's clock: until every member stopped, or the maximum


class Summary(NamedTuple):
  name: str
  spec: dict
  members: tuple
  timing: Timing
  reused: bool = False
  checkpoint: dict = None  # {"step", "manifest"}: the sealed final checkpoint (research/engine/integrity.py)

  def final(self, key):
    """One value of Final.<key> per member."""
    return [getattr(m.final, key) for m in self.members]

  def history(self, key):
    """Per member, the per-epoch values of `key` (None for NaN)."""
    return [m.history[key] for m in self.members]

  def curve(self, key="val_acc"):
    """Per epoch, the mean of `key` over the members that have a value."""
    values = np.array([[np.nan if v is None else v for v in h] for h in self.history(key)], float)
    if not values.size:
      return []
    with warnings.catch_warnings():  # an epoch every member skipped (stopped) has no mean: None
      warnings.simplefilter("ignore", RuntimeWarning)
      return [None if np.isnan(v) else float(v) for v in np.nanmean(values, 0)]

  def only(self, keep):
    """The same cell with only the members for which keep(member) is true."""
    return self._replace(members=tuple(m for m in self.members if keep(m)))

  def select(self, key="learning_rate"):
    """The hyperparameter value whose members have the best mean validation accuracy, with those
    members alone and every value's mean: tuning on validation, one choice per cell. A value with a
    diverged member is never chosen (its score is None) unless every value has one. Returns
    (value, Summary, {value: mean val acc or None})."""
    values = list(dict.fromkeys(m.hparams[key] for m in self.members))
    score = {}
    for v in values:
      accs = [m.final.val_acc for m in self.members if m.hparams[key] == v]
      ok = all(a is not None and np.isfinite(a) for a in accs)
      score[v] = float(np.mean(accs)) if ok else None
    finite = [v for v in values if score[v] is not None] or values
    best = max(finite, key=lambda v: score[v] or 0.0)  # the first of equals: the grid's order decides ties
    return best, self.only(lambda m: m.hparams[key] == best), score

  @property
  def seeds(self):
    return [m.seed for m in self.members]

  def numbers(self):
    """The fields an experiment's results row takes from a cell (JSON-able)."""
    return dict(test_acc=self.final("test_acc"), train_acc=self.final("train_acc"),
                val_acc=self.final("val_acc"), test_loss=self.final("test_loss"),
                best_epoch=self.final("best_epoch"), epochs_run=self.final("epochs_run"),
                stopped=self.final("stopped"), diverged=self.final("diverged"), seeds=self.seeds,
                curve=self.curve("val_acc"), s_per_model=self.timing.s_per_model,
                s_per_model_epoch=self.timing.s_per_model_epoch, compile_s=self.timing.compile_s,
                reused=self.reused)

  def to_json(self):
    return dict(name=self.name, spec=self.spec,
                members=[dict(seed=m.seed, hparams=m.hparams, final=m.final._asdict(), history=m.history)
                         for m in self.members],
                timing=self.timing._asdict(), reused=self.reused, checkpoint=self.checkpoint)

  @classmethod
  def from_json(cls, d):
    """Raises KeyError or TypeError on a document that is not a cell summary."""
    members = tuple(Member(m["seed"], m["hparams"], Final(**m["final"]), m["history"]) for m in d["members"])
    return cls(d["name"], d["spec"], members, Timing(**d["timing"]), bool(d.get("reused", False)),
               d.get("checkpoint"))
