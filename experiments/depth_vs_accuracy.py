"""How deep is deep? Test accuracy of MLPs vs number of hidden layers, plain and residual.

  make depth                      # full profile: the README's table
  make depth PROFILE=quick        # a smoke test, about a minute on 2 CPU cores
  make depth ARGS="--config.activation=sigmoid"   # the article's logistic neurons
  make depth ARGS="--config.variants=['mlp']"     # any registered models with a depth option
  make depth PROFILE=tiny ARGS="--config.variants=[/home/me/mine.py:highway]"   # a model of your own
                                  # (a builder, flax.linen or flax.nnx module: research/models/adapters.py)

Every variant (a name in models.MODELS) is trained at every depth, except where
its network is the same function as the first variant's (a residual net
without a hidden-to-hidden layer, L < 2): that row says so (same_as) instead.

Every depth and variant trains until its validation accuracy has not improved for 5 epochs
(at most 40), and reports the parameters of its best validation epoch; the best depth is
chosen on validation, and every comparison is a Welch test, Holm-corrected over the reading.

Expect (full, 5 seeds; 28 min on 2 CPU cores, 2026-11-29; members one after another, so a
stopped member costs nothing): logistic regression 84.2%, one or two hidden layers 88.8-88.9%
(L = 2 best on validation), then no depth resolved from the best at 5 seeds, plain or residual
(L = 16 plain 88.3 ± 0.8%, residual 88.3 ± 0.4%); best epochs 5-35, every member stopped by the
rule.
"""
import matplotlib.pyplot as plt
import ml_collections

from research.models import adapters
from research.cli import config
from research import models
from research.report import protocol, readings, stats
from research.system import results
from research.report.depth_verdicts import DepthPair

NAME = "depth_vs_accuracy"
ALIAS = "depth"
ORDER = 1
TITLE = "Depth vs accuracy: MLPs of width 256 on Fashion-MNIST, 0 to 16 hidden layers"


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.resize = 0            # 0 keeps 28x28; 16 gives the article's 256 inputs
  c.n_train = 0           # 0 = all 55,000 left after the validation split
  c.val_size = 5000       # carved from the 60,000 training images; every choice reads it
  c.width = 256
  c.depths = [0, 1, 2, 4, 8, 16]
  # Registered models with depth, width and activation options; the first is the baseline.
  c.variants = ["mlp", "residual_mlp"]
  c.activation = "relu"
  c.precision = "fp32"      # or bf16: matrix math in bfloat16, fp32 master weights
  c.optimizer = "adam"
  c.learning_rates = [1e-3]  # a grid: each (depth, variant) takes the value best on validation
  c.batch_size = 128
  c.epochs = 40             # the maximum; patience ends a member earlier
  c.patience = 5
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.seeds = 5
  c.chunk_epochs = 1        # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(n_train=4000, val_size=1000, depths=[0, 1, 2, 4], width=64, epochs=6, patience=2,
                          seeds=3),
            "tiny": dict(dataset="digits", val_size=150, depths=[0, 1, 2], width=16, learning_rates=[3e-3, 1e-2],
                         epochs=4, patience=2, seeds=2)}

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
  return LABELS.get(name, adapters.short_name(name))


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, resize=cfg.resize, n_train=cfg.n_train, val_size=cfg.val_size)
  seeds, hparams = protocol.grid(cfg.learning_rates, range(cfg.seeds))
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
    trainer = ctx.trainer(models.with_precision(model, cfg.precision))
    spec = dict(model=name, depth=depth, width=cfg.width, variant=variant, activation=cfg.activation,
                precision=cfg.precision, optimizer=cfg.optimizer, batch_size=cfg.batch_size, dataset=ds.describe())
    out = ctx.cell(trainer, arrays, name=f"L{depth}-{variant}", spec=spec, seeds=seeds, hparams=hparams)
    rows.append(dict(depth=depth, variant=variant, model=name, **models.describe(model, ds.shape),
                     **protocol.tuned(out.summary)))
  return dict(dataset=ds.describe(), rows=rows, selected=select(rows))


def select(rows):
  """What the reading calls best, chosen on validation accuracy: per variant, the depth with the
  best mean over its seeds (diverged rows excluded)."""
  best = {}
  for variant in dict.fromkeys(r["variant"] for r in rows):
    ok = [r for r in rows if r["variant"] == variant and "same_as" not in r and _finite(r)]
    if ok:
      best[variant] = max(ok, key=lambda r: stats.mean_sd(r["val_acc"])[0])["depth"]
  return dict(best_depth=best)


def _variants(res):
  """The variants in the results, in order of first appearance; the first is the baseline."""
  return list(dict.fromkeys(r["variant"] for r in res["rows"]))


def _by(res, depth, variant):
  """The trained row of a variant at a depth; None where it is missing or the same net as another's."""
  return next((r for r in res["rows"] if r["depth"] == depth and r["variant"] == variant
               and "same_as" not in r), None)


# Caption sentences for the variants that need one.
DESCRIBED = {"residual": "Residual: the same net with skips around every hidden-to-hidden layer. "}


def _lr_text(cfg):
  lrs = cfg["learning_rates"]
  return f"lr {lrs[0]:g}" if len(lrs) == 1 else f"lr chosen on validation from {{{', '.join(f'{v:g}' for v in lrs)}}}"


def table(doc):
  cfg, res = doc["config"], doc["results"]
  ds = res["dataset"]
  variants = _variants(res)
  first = variants[0]
  tuned = len(cfg["learning_rates"]) > 1
  per = ["train", "val", "test", "epochs"] + (["lr"] if tuned else [])
  header = ["L", "params", "FLOPs/ex"] + [f"{v} {a}" for v in variants for a in per] + ["s / model"]
  rows = []
  for depth in cfg["depths"]:
    p = _by(res, depth, first)
    row = [depth, results.human(p["params"]), results.human(p["flops"])]
    for v in variants:
      r = _by(res, depth, v)
      if r is None:
        row += [f"= {first}"] * len(per)
        continue
      row += [stats.mean_sd_text(r[a]) for a in ("train_acc", "val_acc", "test_acc")] + [protocol.epochs_cell(r)]
      row += [f"{r['learning_rate']:g}"] if tuned else []
    trained = [_by(res, depth, v) for v in variants]
    rows.append(row + [" / ".join(f"{r['s_per_model']:.1f}" for r in trained if r)])
  mlps = set(cfg["variants"]) <= {"mlp", "residual_mlp"}
  caption = (f"**Depth vs accuracy.** Accuracy (%) of {'MLPs' if mlps else 'networks'} with L hidden layers of "
             f"width {cfg['width']} "
             f"({cfg['activation']}) on {ds['name']} ({ds['n_train']} train / {ds['n_val']} validation / "
             f"{ds['n_test']} test, input {'x'.join(map(str, ds['shape']))}), mean ± std over {cfg['seeds']} seeds; "
             f"{cfg['optimizer']} ({_lr_text(cfg)}, batch {cfg['batch_size']}), {protocol.rule(cfg)}. "
             "epochs: to the best validation accuracy, median (range); + marks a cell with a member still "
             f"improving at the maximum. {'L = 0 is logistic regression. ' if mlps else ''}"
             + "".join(DESCRIBED.get(v, "") for v in variants) +
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
    tr = [stats.mean_sd(r["train_acc"])[0] for r in rows]  # NaN for a diverged row, without a warning
    ax.plot(d, tr, ls="--", color=color, alpha=0.6, label=f"{variant}: train")
  ax.set_xlabel("hidden layers L")
  ax.set_ylabel("accuracy (%)")
  ax.set_title(f"{res['dataset']['name']}, width {cfg['width']}, {cfg['seeds']} seeds (mean ± std), "
               "best-validation epoch")
  ax.grid(alpha=0.3)
  ax.legend()
  return {"accuracy_vs_depth.png": fig}


def title(cfg):
  """The title of what this config runs (REPORT.md and README show it above the table)."""
  family = ("MLPs" if set(cfg.variants) <= {"mlp", "residual_mlp"}
            else f"networks ({', '.join(map(adapters.short_name, cfg.variants))})")
  data = {"fashion_mnist": "Fashion-MNIST"}.get(cfg.dataset, cfg.dataset)
  return (f"Depth vs accuracy: {family} of width {cfg.width} on {data}, {min(cfg.depths)} to {max(cfg.depths)} "
          "hidden layers, trained to convergence on validation")


def _finite(row):
  return stats.diverged(row["test_acc"]) == 0


def _best(res, ladder, variant):
  """The depth chosen on validation (results' selection), among the finite rows of the ladder."""
  chosen = _by(res, res["selected"]["best_depth"].get(variant), variant)
  return chosen if chosen in ladder else max(ladder, key=lambda r: stats.mean_sd(r["val_acc"])[0])


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  mean = lambda r, k="test_acc": stats.mean_sd(r[k])[0]
  std = lambda r, k="test_acc": stats.mean_sd(r[k])[1]
  variants = _variants(res)
  first = variants[0]
  rows = [r for r in res["rows"] if r["variant"] == first]
  trained = [r for r in res["rows"] if "same_as" not in r]
  lost = [r for r in trained if not _finite(r)]
  lines = []
  if lost:  # a diverged row is reported as such and enters no comparison
    lines.append("- Diverged (non-finite loss or gradient), left out of every comparison below: " + ", ".join(
        f"{r['variant']} L = {r['depth']} ({stats.diverged(r['test_acc'])} of {len(r['test_acc'])} seeds)"
        for r in lost) + ".")
  ladder = [r for r in rows if _finite(r)]
  if not ladder:
    return "\n".join(lines + [readings.nothing(f"every {first} depth diverged ({_lr_text(cfg)})")])
  best = _best(res, ladder, first)
  base, deepest = ladder[0], ladder[-1]
  tests = stats.compare(_pairs(res, ladder, best, variants))
  n = len(best["test_acc"])
  lines.append(f"- Budget: {protocol.rule(cfg)} ({cfg['optimizer']}, {_lr_text(cfg)}). "
               + protocol.convergence(trained, cfg))
  if len(ladder) == 1:  # one depth: nothing to choose between, no depth compared
    why = (f"only one {first} depth was trained" if len(rows) == 1 else
           f"only one {first} depth stayed finite, every other one diverged")
    lines.append(f"- {first.capitalize()} L = {best['depth']}: {mean(best, 'val_acc'):.1f}% validation, "
                 f"{mean(best):.1f} ± {std(best):.1f}% test ({n} seeds).")
    if not tests:
      others = [v for v in variants[1:] if _by(res, best["depth"], v) is None]
      return "\n".join(lines + [readings.nothing(
          why + (f" (the {', '.join(others)} net is the same network at L = {best['depth']})" if others else "")
          + f", so no depth or variant is compared with another ({_lr_text(cfg)})")])
    lines.append(f"- No depth is compared with another: {why}.")
  else:
    lines.append(f"- Best {first} depth on validation: L = {best['depth']} ({mean(best, 'val_acc'):.1f}% validation, "
                 f"{mean(best):.1f} ± {std(best):.1f}% test; L = {base['depth']}: {mean(base):.1f} ± {std(base):.1f}% "
                 f"test; {n} seeds). Comparisons below: Welch's t-test on test accuracy, 95% CI, "
                 f"{readings.family_text(tests)}.")
    lines += _depth_lines(tests, ladder, best, base, deepest, first, n)
  for v in variants[1:]:
    what = "Residual skips" if v == "residual" else f"The {v} variant"
    calls = [(d, tests[(v, d)]) for (w, d) in tests if w == v]
    if calls:
      lines.append(f"- {what} against {first}, depth by depth: " + "; ".join(
          f"L = {d}: {c.text()}" for d, c in calls) + ".")
  lines.append(_train_line(ladder, base, deepest))
  return "\n".join(lines)


def _pairs(res, ladder, best, variants):
  """The family of comparisons the reading makes, Holm-corrected together: every other depth against the
  best, and every other variant against the first at each depth."""
  pairs = {("depth", r["depth"]): (best["test_acc"], r["test_acc"]) for r in ladder if r is not best}
  for v in variants[1:]:
    for r in ladder:
      other = _by(res, r["depth"], v)
      if other and _finite(other):
        pairs[(v, r["depth"])] = (other["test_acc"], r["test_acc"])
  return pairs


def _train_line(ladder, base, deepest):
  """The train accuracy of the selected epochs, and train minus test, from the shallowest to the deepest."""
  mean = lambda r, k="test_acc": stats.mean_sd(r[k])[0]
  gap = [mean(r, "train_acc") - mean(r) for r in ladder]
  span = (f"{mean(base, 'train_acc'):.1f}% at L = {base['depth']}, {mean(deepest, 'train_acc'):.1f}% at "
          f"L = {deepest['depth']}; train minus test {gap[0]:.1f} → {gap[-1]:.1f} points (largest {max(gap):.1f})"
          if len(ladder) > 1 else f"{mean(base, 'train_acc'):.1f}% at L = {base['depth']}; train minus test "
          f"{gap[0]:.1f} points")
  return (f"- Train accuracy of the selected epoch: {span}. These are the numbers at each member's best "
          "validation epoch, not after a fixed number of epochs.")


def _depth_lines(tests, ladder, best, base, deepest, first, n):
  """Every other depth against the validation-best one: which are below it, above it, or not resolved."""
  lines = []
  if best is not base:
    lines.append(f"- L = {base['depth']} → {best['depth']}: {tests[('depth', base['depth'])].text()}.")
  others = [(r["depth"], tests[("depth", r["depth"])]) for r in ladder if r is not best]
  below = [d for d, c in others if c.resolved and c.diff > 0]
  above = [d for d, c in others if c.resolved and c.diff < 0]
  unresolved = [d for d, c in others if not c.resolved]
  if len(below) == len(others):
    lines.append(f"- Every other depth is below L = {best['depth']} on test after correction: a resolved peak.")
  else:
    lines.append(f"- Not resolved from the best at {n} seeds: L in {unresolved or 'none'}; below it after correction: "
                 f"L in {below or 'none'}" + (f"; above it on test after correction: L in {above}" if above else "")
                 + ".")
  if deepest is not best:
    t = tests[("depth", deepest["depth"])]
    lines.append(f"- The deepest {first} net (L = {deepest['depth']}) against the best: {t.text()}"
                 + (f"; at this budget {first} nets lose accuracy with depth (He et al. saw the same, far more "
                    "strongly, on CIFAR-10)." if t.resolved and t.diff > 0 else "."))
  return lines


def depth_pairs(doc):
  """This table's deeper-vs-shallower comparisons for REPORT.md's depth summary: one hidden layer vs
  logistic regression, and, per variant, its validation-best depth of at least 2 and its deepest net
  vs one hidden layer."""
  cfg, res = doc["config"], doc["results"]
  data = {"fashion_mnist": "Fashion-MNIST"}.get(cfg["dataset"], cfg["dataset"])
  setting = f"{data} {res['dataset']['n_train']:,}, MLPs of width {cfg['width']}"
  first = _variants(res)[0]
  one, zero = _by(res, 1, first), _by(res, 0, first)
  if not (one and _finite(one)):
    return []
  pairs = []
  if zero and _finite(zero):
    pairs.append(DepthPair(setting, "L = 1", "L = 0 (logistic regression)", one["test_acc"], zero["test_acc"], 1, 0))
  for variant in _variants(res):
    deep = [r for r in res["rows"] if r["variant"] == variant and r["depth"] >= 2 and "same_as" not in r
            and _finite(r)]
    if not deep:
      continue
    best = max(deep, key=lambda r: stats.mean_sd(r["val_acc"])[0])
    name = "" if variant == first else f"{variant} "
    pairs.append(DepthPair(setting, f"{name}L = {best['depth']} (best of L ≥ 2 on validation)", "L = 1",
                           best["test_acc"], one["test_acc"], best["depth"], 1))
    if deep[-1] is not best:
      pairs.append(DepthPair(setting, f"{name}L = {deep[-1]['depth']} (deepest)", "L = 1", deep[-1]["test_acc"],
                             one["test_acc"], deep[-1]["depth"], 1))
  return pairs
