"""Deep-thin vs shallow-fat at the same parameter count (Seide, Li, Yu 2011, as in Hung-yi Lee's "Why deep?").

  make wide                       # full profile: the README's tables
  make wide PROFILE=quick         # a smoke test, under a minute on 2 CPU cores
  make wide ARGS="--config.resolutions=[28,16]"   # also at the article's 256 inputs
  make wide ARGS="--config.hunger_depth=5"        # a fixed data-hunger depth instead of the validation pick

Every L x N network (L hidden layers of N units) stands beside the
one-hidden-layer network 1 x N' with the same number of parameters, and a
data-hunger variant trains one such pair on 1k, 4k, 16k and all training
images. Every contender, deep or shallow, gets the same stopping rule (patience
on a 5,000-image validation split carved from the training set) and the same
learning-rate grid, its learning rate chosen on validation; each member is
evaluated once on the test set at its best validation epoch. The data-hunger
depth is the deep net best on validation (unless the config fixes one).

Expect (full, 3 seeds x 2 learning rates; 24 min on 2 CPU cores, 2026-11-29, the machine partly
shared): one hidden layer of 256 is the best deep net on validation (90.1% val, 88.9% test); at
equal parameters the shallow net is ahead at 2 x 256 vs 1 x 339 (-0.4 points, Holm p = 0.04) and
not resolved at 5 and 7 layers; in the data-hunger rows (2 x 256 vs 1 x 339, 1k to 55k images)
nothing is resolved below 55k, so no evidence for or against the lecture's "shallow collapses
first". Best epochs 8-26; 2 of 21 members still improving at the 30-epoch maximum.
"""
import math

import ml_collections

from research import models
from research.cli import config
from research.report import protocol

from experiments.deep_vs_wide.report import comparisons, depth_pairs, none_diverged, plots, reading, table, val_mean


NAME = "deep_vs_wide"
ALIAS = "wide"
ORDER = 2
TITLE = "Deep vs wide at equal parameter count (Seide et al. 2011 redone on Fashion-MNIST)"


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.val_size = 5000               # carved from the 60,000 training images; every choice reads it
  c.model = "mlp"                 # a registered model with depth, width and activation options
  c.width = 256                   # N; Seide used 2048 on speech
  c.depths = [1, 2, 5, 7]         # 3 and 4 left out of the full run for time (~4 min each); 5 and 7
                                  # are the depths Seide matched with shallow nets
  c.resolutions = [28]            # input side; 16 gives the article's 256 inputs (~18 min more)
  c.n_train = 0                   # the tables' training set; 0 = all 55,000 left after the validation split
  # The data-hunger pair: hunger_depth x N vs 1 x N'. 0: the depth (> 1) whose deep net has the best
  # validation accuracy at hunger_resolution, which must then be one of the resolutions.
  c.hunger_depth = 0
  c.hunger_n_train = [1000, 4000, 16000, 0]  # 0 = all 55,000 left after the validation split
  c.hunger_resolution = 28
  # Small training sets get a larger maximum: at least this many steps (patience still stops them).
  c.min_steps = 1000
  c.activation = "relu"
  c.precision = "fp32"      # or bf16: matrix math in bfloat16, fp32 master weights
  c.optimizer = "adam"
  # One grid for every contender; each takes the value best on validation. In a trial (2 x 256 and
  # 1 x 502 at 16x16) 3e-3 lost about half a point of validation accuracy to both of these.
  c.learning_rates = [3e-4, 1e-3]
  c.batch_size = 128
  c.epochs = 30             # the maximum; patience ends a member earlier (the trial's best epochs: 12-27)
  c.patience = 5
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.seeds = 3
  c.chunk_epochs = 1        # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(val_size=1000, n_train=4000, width=32, depths=[1, 3], resolutions=[16],
                          hunger_n_train=[500, 2000], hunger_resolution=16, min_steps=30, epochs=4, patience=2,
                          seeds=2),
            "tiny": dict(dataset="digits", val_size=150, width=16, depths=[1, 2], resolutions=[8],
                         hunger_n_train=[400, 0], hunger_resolution=8, min_steps=20, learning_rates=[3e-3, 1e-2],
                         epochs=4, patience=2, seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "depths", "resolutions", "learning_rates")
  config.positive(cfg, "depths", "width", "resolutions", "min_steps", "learning_rates")
  config.non_negative(cfg, "n_train", "hunger_n_train", "hunger_depth")
  config.one_of(cfg, "activation", tuple(models.ACTIVATIONS))
  if cfg.hunger_n_train and not cfg.hunger_depth:
    config.require(any(d > 1 for d in cfg.depths) and cfg.hunger_resolution in cfg.resolutions,
                   f"config hunger_depth=0 picks the data-hunger depth on validation among depths > 1 at "
                   f"hunger_resolution={cfg.hunger_resolution}: it needs such a depth in depths={list(cfg.depths)} "
                   f"and the resolution in resolutions={list(cfg.resolutions)} (or give hunger_depth)")
  build(cfg, 10, 1, cfg.width)


def build(cfg, num_classes, depth, width):
  return models.build(cfg.model, num_classes, depth=depth, width=width, activation=cfg.activation)


def matched_width(cfg, params, ds):
  """N' such that 1 x N' has about `params` parameters (for an MLP, N'(inputs + 1 + classes) + classes)."""
  return models.width_for_params(lambda w: build(cfg, ds.num_classes, 1, w), params, ds.shape)


def max_epochs(cfg, n_train):
  """The maximum epochs on n_train examples: the config's, or more where an epoch is so short that
  it would end before min_steps. The same for both nets of a pair, and for a table and a data-hunger
  pair on the same data (so that one is the other's cell, trained once)."""
  return max(cfg.epochs, math.ceil(cfg.min_steps / max(1, n_train // cfg.batch_size)))


def _resize(ds_shape, resolution):
  return 0 if resolution == ds_shape[0] else resolution


def best_depth(rows, min_depth=1):
  """The depth (>= min_depth) whose deep net has the best mean validation accuracy; None if every
  such row diverged. A choice made on validation only."""
  ok = [r for r in rows if r["depth"] >= min_depth and none_diverged(r["deep"])]
  return max(ok, key=lambda r: val_mean(r["deep"]))["depth"] if ok else None


def run(cfg, ctx):
  raw_ds, _ = ctx.data(cfg.dataset)
  native = raw_ds.shape
  seeds, hparams = protocol.grid(cfg.learning_rates, range(cfg.seeds))
  pairs_per_table = 2 * len(cfg.depths) - cfg.depths.count(1)
  ctx.plan(len(cfg.resolutions) * pairs_per_table + 2 * len(cfg.hunger_n_train))

  def load(resolution, n_train):
    return ctx.data(cfg.dataset, resize=_resize(native, resolution), val_size=cfg.val_size, n_train=n_train)

  def train_net(ds, arrays, depth, width, resolution):
    """One contender: its cell over seeds x the learning-rate grid, reported at the value best on validation."""
    model = build(cfg, ds.num_classes, depth, width)
    epochs = max_epochs(cfg, len(ds.y_train))
    trainer = ctx.trainer(models.with_precision(model, cfg.precision), epochs=epochs)
    spec = dict(model=cfg.model, widths=[width] * depth, activation=cfg.activation, precision=cfg.precision,
                optimizer=cfg.optimizer, batch_size=cfg.batch_size, dataset=ds.describe())
    # Named by what it trains on: a data-hunger pair on a table's data is that table's cell again.
    name = f"r{resolution}-n{len(ds.y_train)}-{depth}x{width}"
    out = ctx.cell(trainer, arrays, name=name, spec=spec, seeds=seeds, hparams=hparams, epochs=epochs)
    return dict(shape=f"{depth} x {width}", depth=depth, width=width, max_epochs=epochs,
                **models.describe(model, ds.shape), **protocol.tuned(out.summary))

  def pair(resolution, n_train, depth):
    ds, arrays = load(resolution, n_train)
    deep = train_net(ds, arrays, depth, cfg.width, resolution)
    shallow = (deep if depth == 1 else
               train_net(ds, arrays, 1, matched_width(cfg, deep["params"], ds), resolution))
    return dict(depth=depth, deep=deep, shallow=shallow)

  tables = []
  for res in cfg.resolutions:
    ds, _ = load(res, cfg.n_train)
    tables.append(dict(resolution=res, dataset=ds.describe(), max_epochs=max_epochs(cfg, len(ds.y_train)),
                       rows=[pair(res, cfg.n_train, d) for d in cfg.depths]))
  selected = dict(best_depth={str(t["resolution"]): best_depth(t["rows"]) for t in tables})
  depth = cfg.hunger_depth or next((best_depth(t["rows"], min_depth=2) for t in tables
                                    if t["resolution"] == cfg.hunger_resolution), None)
  selected["hunger_depth"] = depth
  hunger = []
  for n in (cfg.hunger_n_train if depth else []):
    ds, _ = load(cfg.hunger_resolution, n)
    epochs = max_epochs(cfg, len(ds.y_train))
    hunger.append(dict(n_train=len(ds.y_train), resolution=cfg.hunger_resolution, max_epochs=epochs,
                       max_steps=epochs * (len(ds.y_train) // cfg.batch_size), **pair(cfg.hunger_resolution, n, depth)))
  return dict(tables=tables, hunger=hunger, selected=selected)


__all__ = ["NAME", "ALIAS", "ORDER", "TITLE", "PROFILES", "get_config", "validate", "run", "table", "plots",
           "reading", "depth_pairs", "best_depth", "comparisons"]
