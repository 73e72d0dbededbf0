"""How deep is deep? Test accuracy of MLPs vs number of hidden layers, plain and residual.

  make depth                      # full profile: the README's table
  make depth PROFILE=quick        # a smoke test, about a minute on 2 CPU cores
  make depth ARGS="--config.activation=sigmoid"   # the article's logistic neurons
  make depth ARGS="--config.variants=['mlp']"     # any registered models with a depth option

Every variant (a name in models.MODELS) is trained at every depth, except where
its network is the same function as the first variant's (a residual net
without a hidden-to-hidden layer, L < 2): that row says so (same_as) instead.

Expect (full, 5 seeds, ~14 min on 2 CPU cores): test accuracy climbs from
83.7% (L=0, logistic regression) to 87.6-87.8% at one or two hidden layers,
is flat to L=4, and drifts down to 86.6% for the plain L=16 net; residual
skips hold L=16 at 87.2%.
"""
import matplotlib.pyplot as plt
import ml_collections
import numpy as np

from research import config, models, results, stats, train

NAME = "depth_vs_accuracy"
ALIAS = "depth"
ORDER = 1
TITLE = "Depth vs accuracy: MLPs of width 256 on Fashion-MNIST, 0 to 16 hidden layers"


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.resize = 0            # 0 keeps 28x28; 16 gives the article's 256 inputs
  c.n_train = 0           # 0 = all 60,000
  c.val_size = 0
  c.width = 256
  c.depths = [0, 1, 2, 3, 4, 6, 8, 12, 16]
  # Registered models with depth, width and activation options; the first is the baseline.
  c.variants = ["mlp", "residual_mlp"]
  c.activation = "relu"
  c.precision = "fp32"      # or bf16: matrix math in bfloat16, fp32 master weights
  c.optimizer = "adam"
  c.learning_rate = 1e-3
  c.batch_size = 128
  c.epochs = 4
  c.seeds = 5
  c.chunk_epochs = 1
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(n_train=4000, depths=[0, 1, 2, 4], width=64, epochs=2, seeds=2),
            "tiny": dict(dataset="digits", depths=[0, 1, 2], width=16, learning_rate=1e-2, epochs=3, seeds=2)}

# What a variant is called in cell names, rows, tables and plots; other models by their registry name.
LABELS = {"mlp": "plain", "residual_mlp": "residual"}


def validate(cfg):
  config.nonempty(cfg, "depths", "variants")
  config.non_negative(cfg, "depths")
  config.positive(cfg, "width")
  config.one_of(cfg, "activation", tuple(models.ACTIVATIONS))
  config.require(len(set(cfg.variants)) == len(cfg.variants), f"config variants={list(cfg.variants)}: a name twice")
  for name in cfg.variants:
    build(cfg, name, 10, min(cfg.depths))


def build(cfg, name, num_classes, depth):
  return models.build(name, num_classes, depth=depth, width=cfg.width, activation=cfg.activation)


def label(name):
  return LABELS.get(name, name)


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, resize=cfg.resize, n_train=cfg.n_train, val_size=cfg.val_size)
  seeds = list(range(cfg.seeds))
  first = cfg.variants[0]
  # (depth, variant) -> its model, or None where it is the first variant's network again.
  nets = {}
  for depth in cfg.depths:
    base = build(cfg, first, ds.num_classes, depth)
    for name in cfg.variants:
      model = build(cfg, name, ds.num_classes, depth)
      nets[depth, name] = None if name != first and models.same_function(base, model, ds.shape) else model
  ctx.plan(sum(m is not None for m in nets.values()))
  rows = []
  for (depth, name), model in nets.items():
    variant = label(name)
    if model is None:
      rows.append(dict(depth=depth, variant=variant, model=name, same_as=label(first)))
      continue
    trainer = train.make_trainer(models.with_precision(model, cfg.precision), cfg.optimizer, cfg.batch_size)
    spec = dict(model=name, depth=depth, width=cfg.width, variant=variant, activation=cfg.activation,
                precision=cfg.precision,
                optimizer=cfg.optimizer, learning_rate=cfg.learning_rate, batch_size=cfg.batch_size,
                dataset=ds.describe())
    out = ctx.cell(trainer, arrays, name=f"L{depth}-{variant}", spec=spec, seeds=seeds,
                   hparams=[{"learning_rate": cfg.learning_rate}] * len(seeds))
    rows.append(dict(depth=depth, variant=variant, model=name, **models.describe(model, ds.shape),
                     **out.summary.numbers()))
  return dict(dataset=ds.describe(), rows=rows)


def _variants(res):
  """The variants in the results, in order of first appearance; the first is the baseline."""
  return list(dict.fromkeys(r["variant"] for r in res["rows"]))


def _by(res, depth, variant):
  """The trained row of a variant at a depth; None where it is missing or the same net as another's."""
  return next((r for r in res["rows"] if r["depth"] == depth and r["variant"] == variant
               and "same_as" not in r), None)


# Caption sentences for the variants that need one.
DESCRIBED = {"residual": "Residual: the same net with skips around every hidden-to-hidden layer. "}


def table(doc):
  cfg, res = doc["config"], doc["results"]
  ds = res["dataset"]
  variants = _variants(res)
  first = variants[0]
  header = ["L", "params", "FLOPs/ex"] + [f"{a} acc {v}" for v in variants for a in ("train", "test")] + ["s / model"]
  rows = []
  for depth in cfg["depths"]:
    p = _by(res, depth, first)
    row = [depth, results.human(p["params"]), results.human(p["flops"])]
    for v in variants:
      r = _by(res, depth, v)
      row += [stats.mean_sd_text(r[a]) for a in ("train_acc", "test_acc")] if r else [f"= {first}"] * 2
    trained = [_by(res, depth, v) for v in variants]
    rows.append(row + [" / ".join(f"{r['s_per_model']:.1f}" for r in trained if r)])
  caption = (f"**Depth vs accuracy.** Accuracy (%) of MLPs with L hidden layers of width {cfg['width']} "
             f"({cfg['activation']}) on {ds['name']} ({ds['n_train']} train / {ds['n_test']} test, "
             f"input {'x'.join(map(str, ds['shape']))}), mean ± std over {cfg['seeds']} seeds; "
             f"{cfg['epochs']} epochs of {cfg['optimizer']} (lr {cfg['learning_rate']:g}, batch {cfg['batch_size']}). "
             "L = 0 is logistic regression. " + "".join(DESCRIBED.get(v, "") for v in variants) +
             f"FLOPs: forward, per example. s / model: training seconds per model ({' / '.join(variants)}), "
             f"{doc['environment']['devices']}.")
  return results.markdown_table(header, rows, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  fig, ax = plt.subplots(figsize=(6, 4))
  for i, variant in enumerate(_variants(res)):
    color = f"C{i}"
    rows = [r for r in res["rows"] if r["variant"] == variant and "same_as" not in r]
    d = [r["depth"] for r in rows]
    ms = [stats.mean_sd(r["test_acc"]) for r in rows]
    ax.errorbar(d, [m for m, _ in ms], yerr=[s for _, s in ms],
                marker="o", capsize=3, color=color, label=f"{variant}: test")
    tr = [100 * np.nanmean(np.array(r["train_acc"], float)) for r in rows]
    ax.plot(d, tr, ls="--", color=color, alpha=0.6, label=f"{variant}: train")
  ax.set_xlabel("hidden layers L")
  ax.set_ylabel("accuracy (%)")
  ax.set_title(f"{res['dataset']['name']}, width {cfg['width']}, {cfg['seeds']} seeds (mean ± std)")
  ax.grid(alpha=0.3)
  ax.legend()
  return {"accuracy_vs_depth.png": fig}


def title(cfg):
  """The title of what this config runs (REPORT.md and README show it above the table)."""
  family = "MLPs" if set(cfg.variants) <= {"mlp", "residual_mlp"} else f"networks ({', '.join(cfg.variants)})"
  data = {"fashion_mnist": "Fashion-MNIST"}.get(cfg.dataset, cfg.dataset)
  return (f"Depth vs accuracy: {family} of width {cfg.width} on {data}, {min(cfg.depths)} to {max(cfg.depths)} "
          "hidden layers")


def _finite(row):
  return stats.diverged(row["test_acc"]) == 0


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  mean = lambda r: stats.mean_sd(r["test_acc"])[0]
  std = lambda r: stats.mean_sd(r["test_acc"])[1]
  variants = _variants(res)
  first = variants[0]
  rows = [r for r in res["rows"] if r["variant"] == first]
  lost = [r for r in res["rows"] if "same_as" not in r and not _finite(r)]
  lines = []
  if lost:  # a diverged row is reported as such and enters no comparison
    lines.append("- Diverged (non-finite loss or gradient), left out of every comparison below: " + ", ".join(
        f"{r['variant']} L = {r['depth']} ({stats.diverged(r['test_acc'])} of {len(r['test_acc'])} seeds)"
        for r in lost) + ".")
  ladder = [r for r in rows if _finite(r)]
  if not ladder:
    lines.append(f"- Every {first} depth diverged: nothing to compare at lr {cfg['learning_rate']:g}.")
    return "\n".join(lines)
  best, base, deepest = max(ladder, key=mean), ladder[0], ladder[-1]
  tie = lambda a, b: not stats.separated(a["test_acc"], b["test_acc"])
  lines.append(f"- Best {first} depth: L = {best['depth']} at {mean(best):.1f} ± {std(best):.1f}% test accuracy "
               f"(L = {base['depth']}: {mean(base):.1f} ± {std(base):.1f}%; {cfg['seeds']} seeds).")
  if best is not base:
    lines.append(f"- Depth pays at first: L = {base['depth']} → {best['depth']} adds {mean(best) - mean(base):.1f} points.")
  near = [r["depth"] for r in ladder if tie(r, best)]
  if len(near) > 1:
    lines.append(f"- Not separable from the best (difference under two standard errors): L in {near}. Past "
                 f"L = {min(near)}, more depth buys nothing measurable on this data.")
  else:
    lines.append(f"- Every other depth is more than two standard errors below L = {best['depth']}: a clear peak.")
  drop = mean(best) - mean(deepest)
  if deepest is not best:
    lines.append(f"- The deepest {first} net (L = {deepest['depth']}) is {drop:.1f} points below the best"
                 + (" — within the seed spread: no degradation shows." if tie(best, deepest)
                    else f", more than two standard errors: {first} nets degrade with depth, as He et al. saw "
                         "(far more strongly) on CIFAR-10."))
  for v in variants[1:]:
    other = _by(res, deepest["depth"], v)
    if other and _finite(other):
      verdict = "a tie" if tie(other, deepest) else ("better" if mean(other) > mean(deepest) else "worse")
      what = "Residual skips" if v == "residual" else f"The {v} variant"
      lines.append(f"- {what} at L = {deepest['depth']}: {mean(other):.1f} ± {std(other):.1f}% "
                   f"({mean(other) - mean(deepest):+.1f} vs {first}, {verdict}).")
  gap = [100 * (np.nanmean(np.array(r["train_acc"], float)) - np.nanmean(np.array(r["test_acc"], float)))
         for r in ladder]
  widest = ladder[int(np.argmax(gap))]
  lines.append(f"- Train minus test accuracy grows from {gap[0]:.1f} points (L = {base['depth']}) to {max(gap):.1f} "
               f"(L = {widest['depth']}): the extra capacity of depth goes into fitting the training set.")
  return "\n".join(lines)
