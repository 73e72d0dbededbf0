"""How deep is deep? Test accuracy of MLPs vs number of hidden layers, plain and residual.

  make depth                      # full profile: the README's table
  make depth PROFILE=quick        # a smoke test, about a minute on 2 CPU cores
  make depth ARGS="--config.activation=sigmoid"   # the article's logistic neurons

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
  c.residual = True       # also train the residual variant of every L >= 2
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


PROFILES = {"quick": dict(n_train=4000, depths=[0, 1, 2, 4], width=64, epochs=2, seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "depths")
  config.non_negative(cfg, "depths")
  config.positive(cfg, "width")
  config.one_of(cfg, "activation", tuple(models.ACTIVATIONS))


def variants(cfg, depth):
  """Residual skips need a hidden-to-hidden layer: L >= 2."""
  return ["plain"] + (["residual"] if cfg.residual and depth >= 2 else [])


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, resize=cfg.resize, n_train=cfg.n_train, val_size=cfg.val_size)
  seeds = list(range(cfg.seeds))
  ctx.plan(sum(len(variants(cfg, d)) for d in cfg.depths))
  rows = []
  for depth in cfg.depths:
    for variant in variants(cfg, depth):
      model = models.mlp(depth, cfg.width, ds.num_classes, variant == "residual", cfg.activation)
      trainer = train.make_trainer(models.with_precision(model, cfg.precision), cfg.optimizer, cfg.batch_size)
      spec = dict(model="mlp", depth=depth, width=cfg.width, variant=variant, activation=cfg.activation,
                  precision=cfg.precision,
                  optimizer=cfg.optimizer, learning_rate=cfg.learning_rate, batch_size=cfg.batch_size,
                  dataset=ds.describe())
      out = ctx.cell(trainer, arrays, name=f"L{depth}-{variant}", spec=spec, seeds=seeds,
                     hparams=[{"learning_rate": cfg.learning_rate}] * len(seeds))
      rows.append(dict(depth=depth, variant=variant, **models.describe(model, ds.shape),
                       **out.summary.numbers()))
  return dict(dataset=ds.describe(), rows=rows)


def _by(res, depth, variant):
  return next((r for r in res["rows"] if r["depth"] == depth and r["variant"] == variant), None)


def table(doc):
  cfg, res = doc["config"], doc["results"]
  ds = res["dataset"]
  header = ["L", "params", "FLOPs/ex", "train acc plain", "test acc plain", "train acc residual",
            "test acc residual", "s / model"]
  rows = []
  for depth in cfg["depths"]:
    p, r = _by(res, depth, "plain"), _by(res, depth, "residual")
    secs = f"{p['s_per_model']:.1f}" + (f" / {r['s_per_model']:.1f}" if r else "")
    rows.append([depth, results.human(p["params"]), results.human(p["flops"]),
                 stats.mean_sd_text(p["train_acc"]), stats.mean_sd_text(p["test_acc"]),
                 stats.mean_sd_text(r["train_acc"]) if r else "= plain",
                 stats.mean_sd_text(r["test_acc"]) if r else "= plain", secs])
  caption = (f"**Depth vs accuracy.** Accuracy (%) of MLPs with L hidden layers of width {cfg['width']} "
             f"({cfg['activation']}) on {ds['name']} ({ds['n_train']} train / {ds['n_test']} test, "
             f"input {'x'.join(map(str, ds['shape']))}), mean ± std over {cfg['seeds']} seeds; "
             f"{cfg['epochs']} epochs of {cfg['optimizer']} (lr {cfg['learning_rate']:g}, batch {cfg['batch_size']}). "
             "L = 0 is logistic regression. Residual: the same net with skips around every hidden-to-hidden "
             "layer. FLOPs: forward, per example. s / model: training seconds per model (plain / residual), "
             f"{doc['environment']['devices']}.")
  return results.markdown_table(header, rows, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  fig, ax = plt.subplots(figsize=(6, 4))
  for variant, color in (("plain", "C0"), ("residual", "C1")):
    rows = [r for r in res["rows"] if r["variant"] == variant]
    if not rows:
      continue
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


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  mean = lambda r: stats.mean_sd(r["test_acc"])[0]
  std = lambda r: stats.mean_sd(r["test_acc"])[1]
  plain = [r for r in res["rows"] if r["variant"] == "plain"]
  best, base, deepest = max(plain, key=mean), plain[0], plain[-1]
  tie = lambda a, b: not stats.separated(a["test_acc"], b["test_acc"])
  lines = [f"- Best plain depth: L = {best['depth']} at {mean(best):.1f} ± {std(best):.1f}% test accuracy "
           f"(L = {base['depth']}: {mean(base):.1f} ± {std(base):.1f}%; {cfg['seeds']} seeds)."]
  if best is not base:
    lines.append(f"- Depth pays at first: L = {base['depth']} → {best['depth']} adds {mean(best) - mean(base):.1f} points.")
  near = [r["depth"] for r in plain if tie(r, best)]
  if len(near) > 1:
    lines.append(f"- Not separable from the best (difference under two standard errors): L in {near}. Past "
                 f"L = {min(near)}, more depth buys nothing measurable on this data.")
  else:
    lines.append(f"- Every other depth is more than two standard errors below L = {best['depth']}: a clear peak.")
  drop = mean(best) - mean(deepest)
  if deepest is not best:
    lines.append(f"- The deepest plain net (L = {deepest['depth']}) is {drop:.1f} points below the best"
                 + (" — within the seed spread: no degradation shows." if tie(best, deepest)
                    else ", more than two standard errors: plain nets degrade with depth, as He et al. saw "
                         "(far more strongly) on CIFAR-10."))
  res_deep = _by(res, deepest["depth"], "residual")
  if res_deep:
    verdict = "a tie" if tie(res_deep, deepest) else ("better" if mean(res_deep) > mean(deepest) else "worse")
    lines.append(f"- Residual skips at L = {deepest['depth']}: {mean(res_deep):.1f} ± {std(res_deep):.1f}% "
                 f"({mean(res_deep) - mean(deepest):+.1f} vs plain, {verdict}).")
  gap = [100 * (np.nanmean(np.array(r["train_acc"], float)) - np.nanmean(np.array(r["test_acc"], float)))
         for r in plain]
  widest = plain[int(np.argmax(gap))]
  lines.append(f"- Train minus test accuracy grows from {gap[0]:.1f} points (L = {base['depth']}) to {max(gap):.1f} "
               f"(L = {widest['depth']}): the extra capacity of depth goes into fitting the training set.")
  return "\n".join(lines)
