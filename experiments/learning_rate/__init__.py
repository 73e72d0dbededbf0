"""Gradient descent's step size: plain SGD and Adam over learning rates from 1e-4 to 10.

  make lr                        # full profile, 7 minutes on 2 shared CPU cores
  make lr PROFILE=quick          # 3 rates, 2 seeds, at most 4 epochs: a smoke test, about a minute
  make lr ARGS="--config.optimizers=[sgd,momentum,adam]"

Every rate and seed of one optimizer is a member of one vmapped, compiled training program (11
rates x 5 seeds = 55 small MLPs at once). A run whose loss or gradient stops being finite is
frozen inside the program at that step and reported as "diverged"; the others carry on. A
diverged member enters no choice and no comparison.

Every optimizer gets the same grid of rates and the same stopping rule (up to `epochs`, stopped
after `patience` epochs without a better validation accuracy, constant rate). Every choice reads
the validation split: each optimizer's rate (best mean validation accuracy over its seeds), which
optimizer wins, the target of time-to-target (a fraction of the best validation accuracy of any
row) and the steps each member takes to reach it (read from its validation-accuracy curve). The
test set is evaluated once, on each member's best-validation parameters, and only reported.

Expect (full, 5 seeds; 7 min on 2 CPU cores shared with other work, 2026-11-29): SGD chosen at
0.03 (82.7% test), too slow below 1e-3 (0.0001 and 0.0003 never reach the target in 60 epochs)
and overflowing from 1 up (diverged); Adam chosen at 3e-4 (83.0% test), wrecked to near chance
from 0.1 up without overflowing (its steps are normalized); Adam against SGD at their chosen
rates is not resolved at 5 seeds.
"""
import ml_collections
import numpy as np

from research import models
from research.cli import config
from research.engine import optim
from research.report import protocol

from experiments.learning_rate.report import (comparisons, none_diverged, plots, reading, select, steps_text, table,
                                              val_mean)


NAME = "learning_rate"
ALIAS = "lr"
ORDER = 5
TITLE = ("Learning rate: SGD and Adam from 1e-4 to 10, each rate chosen on validation, divergence detected in the "
         "compiled program")


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.n_train = 4000          # a subset of the 55,000 left after validation: 55 members at once, short epochs
  c.val_size = 5000         # carved from the 60,000 training images; every choice reads it
  c.model = "mlp"           # a registered model with depth and width options
  c.depth = 2
  c.width = 64
  c.optimizers = ["sgd", "adam"]
  # One grid for every optimizer; from too small to slow to too large to stay finite.
  c.learning_rates = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0]
  # Time to target: steps until a member's validation accuracy first reaches this fraction of
  # the best mean validation accuracy of any (optimizer, rate) row; one target for all.
  c.target_fraction = 0.95
  c.batch_size = 64         # 62 steps per epoch: the resolution of steps-to-target
  c.epochs = 60             # the maximum; patience ends a member earlier, a too-small rate runs to it
  c.patience = 5
  c.schedule = "constant"   # a schedule would change the very step size the table varies
  c.warmup_epochs = 0.0
  c.seeds = 5
  c.chunk_epochs = 1        # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(n_train=1000, val_size=1000, learning_rates=[1e-3, 0.1, 10.0], epochs=4, patience=2,
                          seeds=2),
            "tiny": dict(dataset="digits", n_train=0, val_size=150, learning_rates=[1e-2, 0.3, 100.0], epochs=4,
                         patience=2, seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "optimizers", "learning_rates")
  for o in cfg.optimizers:
    optim.check(o)
  config.positive(cfg, "depth", "width", "target_fraction")
  config.require(cfg.target_fraction <= 1, f"config target_fraction={cfg.target_fraction}: a fraction of the "
                 "best validation accuracy, at most 1")
  build(cfg, 10)


def build(cfg, num_classes):
  return models.build(cfg.model, num_classes, depth=cfg.depth, width=cfg.width)


def members(opt, learning_rates, seeds):
  """(seeds, hparams) of one optimizer's cell: rate-major, seed-minor (protocol.grid's order), each
  member with the optimizer's other defaults (momentum's 0.9) kept."""
  seeds_, grid = protocol.grid(learning_rates, seeds)
  return seeds_, [optim.defaults(opt, hp["learning_rate"]) for hp in grid]


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, n_train=cfg.n_train, val_size=cfg.val_size)
  model = build(cfg, ds.num_classes)
  steps_per_epoch = len(ds.y_train) // cfg.batch_size
  ctx.plan(len(cfg.optimizers))
  rows = []
  for opt in cfg.optimizers:
    # The same stopping rule and schedule for every optimizer: the config's, through ctx.trainer.
    trainer = ctx.trainer(model, optimizer=opt)
    seeds, hparams = members(opt, cfg.learning_rates, range(cfg.seeds))
    spec = dict(model=cfg.model, depth=cfg.depth, width=cfg.width, optimizer=opt,
                batch_size=cfg.batch_size, dataset=ds.describe())
    cell = ctx.cell(trainer, arrays, name=opt, spec=spec, seeds=seeds, hparams=hparams).summary
    for lr in cfg.learning_rates:
      rows.append(dict(optimizer=opt, learning_rate=lr,
                       **rate_numbers(cell.only(lambda m, lr=lr: m.hparams["learning_rate"] == lr))))
  target = target_val_acc(rows, cfg.target_fraction)
  for r in rows:
    r["steps_to_target"] = steps_to_target(r, target, steps_per_epoch)
  return dict(dataset=ds.describe(), steps_per_epoch=steps_per_epoch, rows=rows,
              selected=select(rows, cfg.optimizers, target), **models.describe(model, ds.shape))


def rate_numbers(cell):
  """The seeds of one learning rate: the cell's numbers (selected parameters), and per member its
  validation-accuracy and training-loss curves cut where it diverged (after that step the member
  is frozen: no curve)."""
  cut = lambda m, key: [None if v is None or not np.isfinite(v) else float(v)
                        for v in m.history[key][:m.final.diverged_epoch if m.final.diverged else None]]
  losses = [cut(m, "train_loss") for m in cell.members]
  return dict(cell.numbers(), train_loss=cell.final("train_loss"), diverged_epoch=cell.final("diverged_epoch"),
              val_curves=[cut(m, "val_acc") for m in cell.members], loss_curves=losses,
              peak_loss=[max((v for v in c if v is not None), default=None) for c in losses])


def target_val_acc(rows, fraction):
  """The time-to-target threshold (a fraction in [0, 1]): `fraction` of the best mean validation
  accuracy of any row that did not diverge; None if every row diverged."""
  ok = [val_mean(r) / 100 for r in rows if none_diverged(r)]
  return fraction * max(ok) if ok else None


def steps_to(val_acc_E, target, steps_per_epoch):
  """Steps until a member's validation accuracy (per epoch, cut at divergence) first is >= target;
  None if never within its run. Resolution: one epoch."""
  if target is None:
    return None
  acc = np.array([np.nan if v is None else v for v in val_acc_E], float)
  with np.errstate(invalid="ignore"):
    ok = np.flatnonzero(acc >= target)
  return None if not len(ok) else int((ok[0] + 1) * steps_per_epoch)


def steps_to_target(row, target, steps_per_epoch):
  """Per member of a row, steps to the target on its validation curve; None for a diverged member
  (it is reported as diverged, with no time)."""
  return [None if d else steps_to(c, target, steps_per_epoch) for c, d in zip(row["val_curves"], row["diverged"])]


def title(cfg):
  """The title of what this config runs."""
  data = {"fashion_mnist": "Fashion-MNIST"}.get(cfg.dataset, cfg.dataset)
  rates = f"{min(cfg.learning_rates):g} to {max(cfg.learning_rates):g}"
  return (f"Learning rate: {' and '.join(cfg.optimizers)} from {rates} on {data}, each rate chosen on validation, "
          "divergence detected in the compiled program")


__all__ = ["NAME", "ALIAS", "ORDER", "TITLE", "PROFILES", "get_config", "validate", "run", "title", "table", "plots",
           "reading", "comparisons", "members", "rate_numbers", "select", "steps_text", "steps_to",
           "steps_to_target", "target_val_acc"]
