"""Where depth pays: Telgarsky's sawtooth and Lee's paper cutting, under the engine and the protocol.

  make depth_pays                   # full profile, 14 minutes on 2 CPU cores
  make pays PROFILE=quick           # a smoke test, about a minute on 2 shared CPU cores
  make pays ARGS="--config.ks=[2,4,6]"                          # fewer sawtooths
  make pays ARGS="--config.deep_shapes=[[2,1],[4,2],[8,2]]"     # deep nets W wide, m x k deep

The paper's other depth tables measure Fashion-MNIST, where depth never limits anything. These two
tasks are built so that it can:

1. Sawtooth (Telgarsky 2015/2016; sawtooth.py). The 2^k + 1 alternating intervals around the points
   i / 2^k of [0, 1]. The tent map composed k times, written as the parameters of the registered MLP
   (k hidden layers of 2 units), classifies them exactly with 2^k linear pieces; one hidden layer
   needs 2^k units for as many pieces. Trained from the engine's initialization: deep narrow nets,
   one-hidden-layer nets of the same size, and of width 2^k (also with their kinks spread over
   [0, 1] at init, a control for the engine's zero biases). Measured: error, and the pieces of the
   learned function on [0, 1]. Does gradient descent find what depth can represent?
2. Paper cutting (Hung-yi Lee's "Why deep?"; paper_cut.py). 4^F discs cut from paper folded F times
   along both axes; a deep and a one-hidden-layer net of equal size at growing training-set sizes,
   their decision regions drawn beside the target.

Every net trains under one rule: up to `epochs` epochs of at least `epoch_rows` examples (a smaller
training set is repeated), stopped after `patience` epochs without a better validation accuracy, the
best-validation parameters reported and evaluated once on the test set; the learning rate is chosen
per net on validation from one grid. Pieces, decision images and errors on Telgarsky's 2^k points
are pure functions of those parameters. Comparisons: Welch's t-test with Holm's correction over
each part's family.

Expect (full, 5 seeds x 2 learning rates; 13.8 min on 2 CPU cores, 2026-11-29): the exact net has
0 error and exactly 2^k pieces at every k (2 to 10); trained nets get under Telgarsky's 1/6 only at
k = 2 and 3 (k = 4: deep 8 x 8 19.0% test error, best; k = 6 and up: every trained net near chance,
1 x 350 at k = 10 with about 300 pieces); deep vs same-size shallow resolved in 1 of 12 pairs (k = 8,
both at chance); no trained net made two pieces per hidden unit (Hanin and Rolnick). Paper cutting,
deep 3 x 32 vs shallow 1 x 454: not resolved at any of 2k, 20k, 50k, 100k examples, so no evidence
for or against the lecture's collapse of the shallow net at 20k.
"""
import matplotlib.pyplot as plt
import ml_collections

from research.cli import config

from experiments.data_hunger import passes_per_epoch, repeat
from experiments.depth_pays import paper_cut, sawtooth, sawtooth_report

NAME = "depth_pays"
ALIAS = "pays"
ORDER = 2.5  # right after deep_vs_wide
TITLE = "Where depth pays: Telgarsky's sawtooth and Lee's paper cutting, deep vs shallow at equal size"


def get_config():
  c = ml_collections.ConfigDict()
  # One protocol for both parts: the validation split all selection reads, and the stopping rule.
  c.val_size = 5000          # carved from each synthetic training pool (research/data/__init__.py)
  c.epoch_rows = 40000       # an epoch is at least this many examples (small sets are repeated)
  c.epochs = 60              # the maximum; patience ends a member earlier
  c.patience = 8
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.optimizer = "adam"
  # One grid; every net takes the value best on validation. In 5-seed trials at these settings
  # (sawtooth k = 4 and 10, paper cutting at 20,000 and 100,000) no net chose 1e-3 or 3e-2 from
  # {1e-3, 3e-3, 1e-2} or {3e-3, 1e-2, 3e-2}; each extra value costs a third more per cell.
  c.learning_rates = [3e-3, 1e-2]
  c.batch_size = 128
  c.seeds = 5
  # Sawtooth
  c.ks = [2, 3, 4, 6, 8, 10]
  # [W, m]: W units wide, m x k hidden layers deep. 2 wide and k deep is the exact net's own shape;
  # [4, 2] (4 wide, 2k deep) adds two cells per k.
  c.deep_shapes = [[2, 1], [8, 2]]
  c.n_train = 0              # 0 = all 20,000 points left after the validation split
  # Also 1 x 2^k with its first-layer kinks spread over [0, 1] at init, at every k up to this (0: never).
  # Beyond it the control costs the most of any cell and, in trials at k = 10, changed nothing (chance).
  c.spread_max_k = 6
  c.pieces_grid = 2 ** 17 + 1  # grid points on [0, 1] where the slope changes are counted
  c.plot_k = 4               # the k whose learned functions are drawn
  c.plot_points = 401
  # Paper cutting
  c.folds = 2                # 4^folds discs
  c.fold_depth = 3           # the deep net; the shallow one is 1 x N' of the same size
  c.fold_width = 32
  c.fold_sizes = [2000, 20000, 50000, 100000]  # the lecture's 20,000 and 100,000, one between, one far below
  c.image_side = 128
  c.chunk_epochs = 1         # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(val_size=1000, epoch_rows=8000, epochs=10, patience=3, seeds=2, learning_rates=[3e-3, 1e-2],
                          ks=[2, 4, 6], deep_shapes=[[4, 1]], n_train=8000, pieces_grid=2 ** 14 + 1,
                          fold_sizes=[2000, 20000], image_side=64),
            "tiny": dict(val_size=200, epoch_rows=1000, epochs=3, patience=2, seeds=2, learning_rates=[1e-2],
                         ks=[3], deep_shapes=[[2, 1]], n_train=1000, spread_max_k=0, pieces_grid=2 ** 12 + 1,
                         plot_k=3, plot_points=101, fold_sizes=[500], fold_width=8, image_side=32)}


def validate(cfg):
  config.nonempty(cfg, "ks", "deep_shapes", "fold_sizes", "learning_rates")
  config.non_negative(cfg, "spread_max_k")
  config.positive(cfg, "ks", "epoch_rows", "pieces_grid", "plot_points", "folds", "fold_depth", "fold_width",
                  "fold_sizes", "image_side")
  for key in ("ks", "fold_sizes"):
    config.require(len(set(cfg[key])) == len(cfg[key]), f"config {key}={list(cfg[key])}: a value twice")
  config.require(max(cfg.ks) <= 12, f"config ks={list(cfg.ks)}: at most 12 (1 x 2^k nets and the pieces grid grow "
                 "as 2^k)")
  config.require(cfg.pieces_grid >= 64 * 2 ** max(cfg.ks), f"config pieces_grid={cfg.pieces_grid}: at least 64 "
                 f"points per piece of the largest sawtooth (64 x 2^{max(cfg.ks)})")
  for shape in cfg.deep_shapes:
    config.require(len(shape) == 2 and all(isinstance(v, int) and v > 0 for v in shape),
                   f"config deep_shapes: {list(shape)} is not [width, multiple of k]")
  config.require(len({tuple(s) for s in cfg.deep_shapes}) == len(cfg.deep_shapes),
                 f"config deep_shapes={[list(s) for s in cfg.deep_shapes]}: a shape twice")
  config.require(cfg.folds <= 6, f"config folds={cfg.folds}: at most 6 (4^6 discs)")
  for n in cfg.fold_sizes:
    config.require(n >= cfg.batch_size, f"config fold_sizes: {n} is smaller than batch_size={cfg.batch_size}")


def run(cfg, ctx):
  ctx.plan(sawtooth.cells(cfg) + 2 * len(cfg.fold_sizes))
  return dict(sawtooth=sawtooth.run(cfg, ctx, passes_per_epoch, repeat),
              paper_cut=paper_cut.run(cfg, ctx, passes_per_epoch, repeat))


def table(doc):
  cfg, res = doc["config"], doc["results"]
  return sawtooth_report.table(cfg, res["sawtooth"]) + "\n" + paper_cut.table(cfg, res["paper_cut"])


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
  sawtooth_report.plot(cfg, res["sawtooth"], axes)
  fig.tight_layout()
  return {"sawtooth.png": fig, "paper_cut.png": paper_cut.plot(cfg, res["paper_cut"])}


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  return "\n".join(sawtooth_report.reading(cfg, res["sawtooth"]) + paper_cut.reading(cfg, res["paper_cut"]))


def depth_pairs(doc):
  res = doc["results"]
  return sawtooth_report.depth_pairs(res["sawtooth"]) + paper_cut.depth_pairs(res["paper_cut"])


def title(cfg):
  return (f"Where depth pays: Telgarsky's sawtooth (k = {min(cfg.ks)} to {max(cfg.ks)}) and Lee's paper cutting "
          f"({4 ** cfg.folds} discs, {min(cfg.fold_sizes):,} to {max(cfg.fold_sizes):,} examples)")


__all__ = ["NAME", "ALIAS", "ORDER", "TITLE", "PROFILES", "get_config", "validate", "run", "table", "plots",
           "reading", "title", "depth_pairs"]
