"""Does deep learning need big data? Accuracy vs training-set size, shallow vs deep vs CNN.

  make data_hunger                  # full profile: 5 sizes x 4 contenders x 5 seeds, trained to convergence
  make data_hunger PROFILE=quick    # two sizes, 2 seeds, 6 short epochs: a smoke test (mostly compiling)
  make data_hunger ARGS="--config.sizes=[250,1000,4000]"
  make data_hunger ARGS="--config.learning_rates=[3e-4,1e-3,3e-3]"   # every contender tuned on validation

Fashion-MNIST at 16x16 (the article's 256 inputs; a CNN on 28x28 costs too much CPU time for 5 sizes
x 5 seeds). A validation split of 5,000 images is carved once from the 60,000 training images and is
the same at every size; the training sets (500, 2k, 8k, 32k and all 55k that remain) are stratified
subsets of the other 55,000 (each smaller one inside the larger ones). Four contenders: logistic
regression, a shallow MLP (one hidden layer of 320) and a deep one (four of 128) with about the same
number of parameters (~85K), and a small CNN (33K). The test set is always the full 10k, read once
per member on its selected parameters.

Every size and contender trains under one rule: up to `epochs` epochs, stopped after `patience`
epochs without a better validation accuracy, the best-validation epoch reported. An epoch is one
pass over the training set, or, for a set under `epoch_rows` images, the smallest whole number of
passes that holds at least `epoch_rows` examples (16,000: at 500 images 32 passes, 125 steps):
validation is read every max(n, 16,000) examples, so patience never ends a small set after a handful
of steps (one pass over 500 images is 3 steps), and the epochs of every size are comparable. The
learning rate is the best on validation of the same grid for every contender and size.

Expect (full, 5 seeds; 17 min on 2 CPU cores shared with other work, 2026-11-29): every member
stopped by the rule; at 55,000 images the shallow MLP reaches 88.6%, the deep one 88.4% (not
resolved), the CNN 89.0% (ahead of the deep MLP, resolved); deep minus shallow is never resolved
in its favour at any size, so the deep net's graceful degradation does not show; the lead of the
best non-linear model over logistic regression grows from +0.6 points at 500 images to +5.6 at
55,000 (resolved).
"""
import math

import jax.numpy as jnp
import matplotlib.pyplot as plt
import ml_collections

from research.cli import config
from research import models
from research.report import protocol, readings, stats
from research.system import results

NAME = "data_hunger"
ORDER = 7
TITLE = "Data hunger: accuracy vs training-set size for logistic, shallow MLP, deep MLP and CNN"


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.resize = 16
  c.val_size = 5000        # carved once from the 60,000: the same validation images at every size
  c.sizes = [500, 2000, 8000, 32000, 0]   # 0 = all 55,000 left after the validation split
  # The contenders: a registered model and its options each; `models` picks which run, in order.
  c.contenders = ml_collections.ConfigDict(dict(
      logistic=dict(model="logistic"),
      shallow=dict(model="mlp", depth=1, width=320),   # 1 x 320: 86K parameters at 256 inputs
      deep=dict(model="mlp", depth=4, width=128),      # 4 x 128: 84K parameters
      cnn=dict(model="cnn", channels=[6, 16], kernel=3, padding="SAME", pool=2, dense=[120])))
  c.models = ["logistic", "shallow", "deep", "cnn"]
  c.optimizer = "adam"
  c.learning_rates = [1e-3]  # a grid: every (size, contender) takes the value best on validation
  c.batch_size = 128
  # The stopping rule, in epochs of at least `epoch_rows` examples: a smaller set is repeated a whole
  # number of times per epoch, so validation comes every >= 125 steps and patience means >= 625 steps
  # without a better validation accuracy at every size (one pass over 500 images is 3 steps).
  c.epoch_rows = 16000
  # The maximum; patience ends a member earlier. 1-seed probes: best epochs 4-29 at every size, except
  # logistic regression on 8,000 images, still creeping up (~0.05 points an epoch) at epoch 40.
  c.epochs = 50
  c.patience = 5
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.seeds = 5
  c.chunk_epochs = 1        # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(sizes=[500, 2000], val_size=1000, epoch_rows=2000, epochs=6, patience=2, seeds=2),
            "tiny": dict(dataset="digits", resize=0, val_size=150, sizes=[200, 0], epoch_rows=1000,
                         learning_rates=[3e-3, 1e-2], epochs=4, patience=2, seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "sizes", "models")
  config.non_negative(cfg, "sizes")
  config.positive(cfg, "epoch_rows")
  for m in cfg.models:
    config.require(m in cfg.contenders, f"config models: '{m}' is not a contender; valid: {', '.join(cfg.contenders)}")
    config.require("model" in cfg.contenders[m], f"config contenders.{m}: needs a model (a name in models.MODELS)")
    build(cfg, m, 10)
  for n in cfg.sizes:
    config.require(n == 0 or n >= cfg.batch_size,
                   f"config sizes: {n} is smaller than batch_size={cfg.batch_size}")


def build(cfg, contender, num_classes):
  """(model, label) of a contender: its registered model with its options."""
  options = cfg.contenders[contender].to_dict()
  name = options.pop("model")
  return models.build(name, num_classes, **options), models.label(name, options)


def passes_per_epoch(n, epoch_rows):
  """The passes over an n-image set that make one epoch: the fewest holding >= epoch_rows examples."""
  return max(1, math.ceil(epoch_rows / n))


def repeat(arrays, passes):
  """The training set repeated `passes` times: one epoch of the engine is then that many passes
  (each image exactly `passes` times, in one shuffle); validation and test are left as they are."""
  if passes == 1:
    return arrays
  tiled = dict(arrays)
  for k in ("x_train", "y_train"):
    tiled[k] = jnp.tile(arrays[k], (passes,) + (1,) * (arrays[k].ndim - 1))
  return tiled


def run(cfg, ctx):
  seeds, hparams = protocol.grid(cfg.learning_rates, range(cfg.seeds))
  ctx.plan(len(cfg.sizes) * len(cfg.models))
  rows = []
  splits = {}
  for n in cfg.sizes:
    # The validation rows are drawn first, from all 60,000, by the same seed at every size (research/data/__init__.py
    # prepare): every size is selected and stopped on the same images.
    ds, arrays = ctx.data(cfg.dataset, resize=cfg.resize, n_train=n, val_size=cfg.val_size)
    n_train = len(ds.y_train)
    passes = passes_per_epoch(n_train, cfg.epoch_rows)
    arrays = repeat(arrays, passes)
    splits[str(n_train)] = ds.describe()
    for name in cfg.models:
      model, label = build(cfg, name, ds.num_classes)
      trainer = ctx.trainer(model)
      spec = dict(model=name, label=label, optimizer=cfg.optimizer, batch_size=cfg.batch_size,
                  dataset=ds.describe(), passes_per_epoch=passes)
      out = ctx.cell(trainer, arrays, name=f"n{n_train}-{name}", spec=spec, seeds=seeds, hparams=hparams)
      rows.append(dict(n_train=n_train, model=name, label=label, passes_per_epoch=passes,
                       steps_per_epoch=passes * n_train // cfg.batch_size, **models.describe(model, ds.shape),
                       **protocol.tuned(out.summary)))
  return dict(dataset=ds.describe(), splits=splits, rows=rows, selected=select(rows))


def title(cfg):
  """The title of what this config runs (REPORT.md and README show it above the table)."""
  data = {"fashion_mnist": "Fashion-MNIST"}.get(cfg.dataset, cfg.dataset)
  return (f"Data hunger: accuracy vs training-set size for {', '.join(cfg.models)} on {data}, "
          "every size trained to convergence on the same validation split")


def _val_mean(row):
  return stats.mean_sd(row["val_acc"])[0]


def select(rows):
  """What the reading names best, chosen on mean validation accuracy (diverged rows left out): at
  each size, the best contender and the best non-linear one (the logistic lead is measured from it)."""
  best, nonlinear = {}, {}
  for n in dict.fromkeys(r["n_train"] for r in rows):
    ok = [r for r in rows if r["n_train"] == n and _finite(r)]
    if ok:
      best[str(n)] = max(ok, key=_val_mean)["model"]
    ok = [r for r in ok if r["model"] != "logistic"]
    if ok:
      nonlinear[str(n)] = max(ok, key=_val_mean)["model"]
  return dict(best=best, best_nonlinear=nonlinear)


def _finite(row):
  return stats.diverged(row["test_acc"]) == 0


def _test_mean(row):
  return stats.mean_sd(row["test_acc"])[0]


def _get(res, n, model):
  return next((r for r in res["rows"] if r["n_train"] == n and r["model"] == model), None)


def _sizes(res):
  return sorted({r["n_train"] for r in res["rows"]})


def _names(res):
  """The contenders in the results, in the order they ran."""
  return list(dict.fromkeys(r["model"] for r in res["rows"]))


def _lr_text(cfg):
  lrs = cfg["learning_rates"]
  return f"lr {lrs[0]:g}" if len(lrs) == 1 else f"lr chosen on validation from {{{', '.join(f'{v:g}' for v in lrs)}}}"


def _epoch_text(cfg):
  """What one epoch is here: the part of the rule that makes it the same at every size."""
  return (f"an epoch is one pass over the training set, or for a set under {cfg['epoch_rows']:,} images "
          f"the fewest whole passes holding at least {cfg['epoch_rows']:,} examples")


def table(doc):
  cfg, res = doc["config"], doc["results"]
  names = _names(res)
  tuned = len(cfg["learning_rates"]) > 1
  first = {m: next(r for r in res["rows"] if r["model"] == m) for m in names}
  per = ["val", "test", "epochs"] + (["lr"] if tuned else [])
  header = ["n train", "passes / epoch", "steps / epoch"] + [f"{m} {a}" for m in names for a in per]
  rows = []
  for n in _sizes(res):
    lead = _get(res, n, names[0])
    row = [f"{n:,}", lead["passes_per_epoch"], lead["steps_per_epoch"]]
    for m in names:
      r = _get(res, n, m)
      row += [stats.mean_sd_text(r["val_acc"]), stats.mean_sd_text(r["test_acc"]), protocol.epochs_cell(r)]
      row += [f"{r['learning_rate']:g}"] if tuned else []
    rows.append(row)
  ds = res["dataset"]
  caption = (f"**Data hunger.** Accuracy (%) on the same {ds['n_val']:,}-image validation split at every size and "
             f"on the full {ds['n_test']:,}-image {ds['name']} test set, inputs resized to "
             f"{'x'.join(map(str, ds['shape']))}, vs the number of training images (stratified subsets of the images "
             f"left after the validation split, the same subset for every contender and seed), mean ± std over "
             f"{cfg['seeds']} seeds (initialization and batch order); {cfg['optimizer']} ({_lr_text(cfg)}, batch "
             f"{cfg['batch_size']}), {protocol.rule(cfg)}; {_epoch_text(cfg)} (columns passes and steps per epoch). "
             "epochs: to the best validation accuracy, median (range); + marks a cell with a member still improving "
             "at the maximum. Contenders: " + "; ".join(
                 f"{m}: {first[m]['label']} ({results.human(first[m]['params'])} parameters)" for m in names)
             + ". Published reference (qualitative, no numbers compared): the "
             "\"paper cutting\" example of Hung-yi Lee's \"Why deep?\" lecture, a two-dimensional toy task shown as "
             "decision regions, not an image set, in which a deep net degrades more gracefully than a shallow one "
             "of the same size when the data shrinks; against it, the popular \"deep learning needs big data\".")
  return results.markdown_table(header, rows, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  fig, ax = plt.subplots(figsize=(6, 4))
  for i, m in enumerate(_names(res)):
    rows = [_get(res, n, m) for n in _sizes(res)]
    ms = [stats.mean_sd(r["test_acc"]) for r in rows]
    ax.errorbar([r["n_train"] for r in rows], [a for a, _ in ms], yerr=[s for _, s in ms], marker="o", capsize=3,
                color=f"C{i}", label=f"{m} ({results.human(rows[0]['params'])}): test")
    ax.plot([r["n_train"] for r in rows], [_val_mean(r) for r in rows], ls="--", color=f"C{i}", alpha=0.6)
  ax.plot([], [], ls="--", color="gray", label="validation (dashed)")
  ax.set_xscale("log")
  ax.set_xlabel("training images")
  ax.set_ylabel("accuracy (%)")
  ax.set_title(f"{res['dataset']['name']} {'x'.join(map(str, res['dataset']['shape'][:2]))}, up to {cfg['epochs']} "
               f"epochs, patience {cfg['patience']}, {cfg['seeds']} seeds", fontsize=9)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return {"accuracy_vs_data.png": fig}


# The gaps the reading tests at every size: (key, a, b, what a - b measures).
GAPS = (("depth", "deep", "shallow", "Depth at the same parameter count (deep - shallow)"),
        ("conv", "cnn", "deep", "Convolution over the deep MLP (cnn - deep)"),
        ("nonlinear", "deep", "logistic", "The deep MLP over the linear model (deep - logistic)"))


def _minus(a, b):
  """Per seed, a - b. Members of one seed start from the same initialization at every size
  (PRNGKey(seed)), so pairing by seed is the design's own pairing; the pairs are independent
  across contenders, which is what Welch's test of two such lists needs."""
  return [x - y for x, y in zip(a, b)]


def comparisons(res):
  """The one family of comparisons the reading makes, {key: (a, b)} on test accuracy: each gap of
  GAPS at each size, and the two trends between the smallest and the largest size."""
  names, sizes = _names(res), _sizes(res)
  ok = lambda n, m: m in names and _get(res, n, m) is not None and _finite(_get(res, n, m))
  acc = lambda n, m: _get(res, n, m)["test_acc"]
  pairs = {}
  for key, a, b, _ in GAPS:
    for n in sizes:
      if ok(n, a) and ok(n, b):
        pairs[(key, n)] = (acc(n, a), acc(n, b))
  if len(sizes) > 1:
    small, large = sizes[0], sizes[-1]
    if all(ok(n, m) for n in (small, large) for m in ("deep", "shallow")):
      # Accuracy gained from the smallest to the largest set: less for deep = it degrades more gracefully.
      pairs[("gain",)] = (_minus(acc(large, "deep"), acc(small, "deep")),
                          _minus(acc(large, "shallow"), acc(small, "shallow")))
    best = select(res["rows"])["best_nonlinear"]
    if all(str(n) in best and ok(n, "logistic") for n in (small, large)):
      # The lead of the best non-linear contender (on validation) over the linear one, large vs small.
      pairs[("lead",)] = (_minus(acc(large, best[str(large)]), acc(large, "logistic")),
                          _minus(acc(small, best[str(small)]), acc(small, "logistic")))
  return pairs


def _where(tests, key, sizes):
  """'ahead at 8,000 and 55,000; behind at 500; not resolved at 2,000' for one gap over the sizes."""
  parts = []
  for word, keep in (("ahead", lambda c: c.resolved and c.diff > 0), ("behind", lambda c: c.resolved and c.diff < 0),
                     ("not resolved", lambda c: not c.resolved)):
    at = [f"{n:,}" for n in sizes if (key, n) in tests and keep(tests[(key, n)])]
    if at:
      parts.append(f"{word} at {', '.join(at)}")
  return "; ".join(parts)


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  sizes, names = _sizes(res), _names(res)
  mean = lambda r, k="test_acc": stats.mean_sd(r[k])[0]
  lines = [f"- Budget: {protocol.rule(cfg)}; {_epoch_text(cfg)} ({cfg['optimizer']}, {_lr_text(cfg)}, batch "
           f"{cfg['batch_size']}). " + protocol.convergence(res["rows"], cfg)]
  lost = [r for r in res["rows"] if not _finite(r)]
  if lost:  # a diverged row is reported as such and enters no comparison
    lines.append("- Diverged (non-finite loss or gradient), left out of every comparison below: " + ", ".join(
        f"{r['model']} at {r['n_train']:,} ({stats.diverged(r['test_acc'])} of {len(r['test_acc'])} seeds)"
        for r in lost) + ".")
  sel = select(res["rows"])  # as results.json records it; from the rows, so a diverged row is never named
  for n in dict.fromkeys((sizes[0], sizes[-1])):
    rows = [r for r in (_get(res, n, m) for m in names) if r is not None and _finite(r)]
    best = sel["best"].get(str(n))
    shown = ", ".join(f"{r['model']} {mean(r, 'val_acc'):.1f} / {mean(r):.1f}%" for r in rows)
    lines.append(f"- {n:,} training images, validation / test: " + (
        "every contender diverged." if not rows else f"{shown}; best on validation: {best}." if len(rows) > 1
        else f"{shown} (the only contender {'trained' if len(names) == 1 else 'that stayed finite'})."))
  tests = stats.compare(comparisons(res))
  if not tests:
    why = ("one contender was trained" if len(names) == 1 else
           "at every size at most one contender of each gap stayed finite" if any(_finite(r) for r in res["rows"])
           else "every contender diverged at every size")
    return "\n".join(lines + [readings.nothing(why)])
  n_seeds = cfg["seeds"]
  lines.append(f"- Comparisons below: Welch's t-test on test accuracy over {n_seeds} seeds, 95% CI, "
               f"{readings.family_text(tests)}; a gap is called only where resolved.")
  for key, a, b, what in GAPS:
    calls = [(n, tests[(key, n)]) for n in sizes if (key, n) in tests]
    if calls:
      lines.append(f"- {what}: {_where(tests, key, sizes)}. By size: "
                   + "; ".join(f"{n:,}: {c.text()}" for n, c in calls) + ".")
  if ("gain",) in tests:
    small, large = sizes[0], sizes[-1]
    t = tests[("gain",)]
    gain = lambda m: mean(_get(res, large, m)) - mean(_get(res, small, m))
    verdict = ("the deep net degrades more gracefully here, as the lecture claims" if t.resolved and t.diff < 0
               else "the deep net degrades faster here, against the lecture's claim" if t.resolved
               else "no difference in how they degrade is resolved")
    lines.append(f"- From {small:,} to {large:,} images the shallow MLP gains {gain('shallow'):.1f} points and the deep "
                 f"one {gain('deep'):.1f}; deep minus shallow gain: {t.text()}: {verdict}.")
  if ("lead",) in tests:
    small, large = sizes[0], sizes[-1]
    best = sel["best_nonlinear"]
    t = tests[("lead",)]
    lead = lambda n: mean(_get(res, n, best[str(n)])) - mean(_get(res, n, "logistic"))
    verdict = ("the claim holds in that sense" if t.resolved and t.diff > 0
               else "the lead shrinks with the data" if t.resolved else "no growth is resolved")
    lines.append(f"- \"Deep learning needs big data\", read as \"the gain of a non-linear model over a linear one grows "
                 f"with the data\": the best non-linear contender on validation ({best[str(small)]} at {small:,}, "
                 f"{best[str(large)]} at {large:,}) leads logistic regression by {lead(small):+.1f} points at "
                 f"{small:,} images and {lead(large):+.1f} at {large:,}; the growth: {t.text()}: {verdict}.")
  return "\n".join(lines)
