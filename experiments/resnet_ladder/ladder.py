"""The ladder's cells: one per depth and variant, over seeds x the learning-rate grid, and its Holm family."""
from research import models
from research.engine import optim
from research.report import protocol, stats
from research.models import resnet

VARIANTS = ("plain", "residual")


def build(cfg, num_classes, blocks, variant):
  return models.build("resnet", num_classes, blocks=blocks, widths=list(cfg.widths), shortcut=variant == "residual")


def hparams_of(cfg):
  """(seeds, hparams): the grid's members, each with the optimizer's other values from the config
  (momentum, weight decay) where it takes them."""
  seeds, grid = protocol.grid(cfg.learning_rates, range(cfg.seeds))
  extra = {k: float(cfg[k]) for k in optim.defaults(cfg.optimizer, 0.0) if k != "learning_rate" and k in cfg}
  return seeds, [dict(optim.defaults(cfg.optimizer, hp["learning_rate"]), **extra) for hp in grid]


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, resize=cfg.resize, val_size=cfg.val_size, n_train=cfg.n_train)
  seeds, hparams = hparams_of(cfg)
  rows = []
  for blocks in cfg.blocks:
    row = dict(blocks=blocks, layers=resnet.layers(blocks))
    for variant in VARIANTS:
      model = build(cfg, ds.num_classes, blocks, variant)
      spec = dict(model="resnet", blocks=blocks, widths=list(cfg.widths), shortcut=variant == "residual",
                  optimizer=cfg.optimizer, batch_size=cfg.batch_size, dataset=ds.describe())
      out = ctx.cell(ctx.trainer(model), arrays, name=f"{variant}-{resnet.layers(blocks)}", spec=spec,
                     seeds=seeds, hparams=hparams)
      row[variant] = dict(**models.describe(model, ds.shape), **protocol.tuned(out.summary))
    rows.append(row)
  return dict(dataset=ds.describe(), rows=rows)


def finite(cell):
  return stats.diverged(cell["test_acc"]) == 0 and stats.diverged(cell["train_acc"]) == 0


def error(accs):
  """Per-seed error (%) from per-seed accuracies (fractions); None stays None (a diverged member)."""
  return [None if a is None else 1.0 - a for a in accs]


def comparisons(res):
  """The reading's family, Holm-corrected together, in points of error (a - b):
  ("pair", layers): residual minus plain test error at every depth;
  ("deeper", variant, split): the deepest net minus the shallowest, test and train error, per variant
  (He's two findings: plain nets degrade with depth, residual nets improve)."""
  rows = res["rows"]
  pairs = {("pair", r["layers"]): (error(r["residual"]["test_acc"]), error(r["plain"]["test_acc"]))
           for r in rows if finite(r["residual"]) and finite(r["plain"])}
  if len(rows) > 1:
    first, last = rows[0], rows[-1]
    for variant in VARIANTS:
      if finite(first[variant]) and finite(last[variant]):
        for split in ("train", "test"):
          pairs[("deeper", variant, split)] = (error(last[variant][f"{split}_acc"]),
                                               error(first[variant][f"{split}_acc"]))
  return stats.compare(pairs) if pairs else {}
