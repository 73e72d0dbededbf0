"""Plain vs residual CNNs of growing depth on Fashion-MNIST (He et al. 2016, Section 4.2, scaled down).

  make resnet_ladder                # full profile, 34 min on 2 shared CPU cores (see Expect)
  make resnet PROFILE=quick         # a smoke test of the same pipeline
  make resnet ARGS="--config.blocks=[1,3]"                   # fewer rungs
  make resnet ARGS="$(.venv/bin/python -m experiments.resnet_ladder.recipes)"   # He's CIFAR-10 setting, GPU

CIFAR-style nets of 6n + 2 layers (research/models/resnet.py): a 3x3 conv, three stages of n blocks of two
3x3 convs (widths doubling, the size halving between stages), global average pooling, a classifier;
batch normalization after every conv. Residual nets add the paper's parameter-free shortcut (option A)
around every block; plain nets are the same nets without it, so both have the same parameters. The
ladder scales He's setting to 2 CPU cores: 12x12 inputs (Fashion-MNIST resized), channels 4/8/16
instead of 16/32/64, a stratified 5,000-image training subset, n in {1, 3, 5} (8 to 32 layers);
n = 7 (44 layers) is one override away and costs about 20 minutes more.

Every net trains under the project's protocol: a 5,000-image validation split carved from the
training set, up to `epochs` epochs stopped after `patience` without a better validation accuracy,
the best-validation parameters (and their batch-norm running statistics) evaluated once on the test
set; the learning rate chosen per net on validation from one grid. Comparisons: Welch's t-test,
Holm-corrected over the reading's family (residual minus plain at every depth; deepest minus
shallowest, train and test error, per variant). He's two findings are read off that family: plain nets
degrade with depth (higher training and test error), residual nets improve.

Expect (full, 3 seeds x 2 learning rates, 2026-11-29): 34.3 min on 2 CPU cores shared with the
test suite (the helper's estimate for idle cores was 28). Test error plain / residual: 8 layers
18.7 / 18.1, 20 layers 20.6 / 19.1, 32 layers 23.9 / 19.5. He's first finding reproduces on test
(plain-32 minus plain-8: +5.2 points, Holm p = 0.001; train error +6.3, not resolved), residual beats
plain at 32 layers (-4.4, p = 0.043); his second (residual nets improve with depth) is not resolved
(+1.5 test, -1.7 train). 5 of 18 members (the deep plain nets) still improved at the 20th epoch.
"""
import matplotlib.pyplot as plt
import ml_collections
import numpy as np

from research.cli import config
from research.report import protocol, readings, stats
from research.models import resnet
from research.system import results
from research.report.depth_verdicts import DepthPair

from experiments.resnet_ladder import ladder, published

NAME = "resnet_ladder"
ALIAS = "resnet"
ORDER = 2.7  # right after depth_pays
TITLE = "Plain vs residual CNNs of 8 to 44 layers on Fashion-MNIST (He et al. 2016, scaled to 2 CPU cores)"


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  # Scaled to fit about 30 minutes on 2 CPU cores (the estimate in the docstring): every knob below
  # multiplies the cost. 16x16 costs about 1.8x 12x12; widths 8/16/32 about 4x 4/8/16; n = 7 adds
  # about 20 minutes; 10,000 training images about 1.7x 5,000.
  c.resize = 12             # input side (12 -> 6 -> 3 through the stages); 0 keeps 28x28
  c.n_train = 5000          # a stratified subset of the 55,000 left after the validation split; 0 = all
  c.val_size = 5000         # carved from the 60,000 training images; every choice reads it
  c.blocks = [1, 3, 5]      # n: 6n + 2 = 8, 20, 32 layers (He's ladder also has 7, 9, 18)
  c.widths = [4, 8, 16]     # the three stages' channels (He: 16, 32, 64)
  c.optimizer = "adam"
  c.learning_rates = [1e-3, 3e-3]  # one grid; each net takes the value best on validation
  c.momentum = 0.9          # read only by optimizers that take it (momentum_l2: He's recipe)
  c.weight_decay = 1e-4
  c.batch_size = 128
  c.epochs = 20             # the maximum; patience ends a member earlier
  c.patience = 5
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.seeds = 3
  c.chunk_epochs = 1        # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(n_train=2000, val_size=1000, blocks=[1, 3], epochs=5, patience=2, seeds=2),
            "tiny": dict(dataset="digits", resize=0, n_train=0, val_size=150, blocks=[1, 2], widths=[4, 4, 8],
                         learning_rates=[3e-3, 1e-2], epochs=3, patience=2, seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "blocks", "widths", "learning_rates")
  config.positive(cfg, "blocks", "widths")
  config.require(len(cfg.widths) == 3, f"config widths={list(cfg.widths)}: one per stage, three stages")
  config.require(list(cfg.widths) == sorted(cfg.widths), f"config widths={list(cfg.widths)}: the option-A "
                 "shortcut pads channels, so a stage may not have fewer than the one before")
  config.require(len(set(cfg.blocks)) == len(cfg.blocks), f"config blocks={list(cfg.blocks)}: a value twice")


def run(cfg, ctx):
  ctx.plan(2 * len(cfg.blocks))
  return ladder.run(cfg, ctx)


# ----------------------------------------------------------------------------
# Table, plots, reading

def _err(cell, split):
  return stats.mean_sd_text(ladder.error(cell[f"{split}_acc"]))


def _contender(cell, tuned):
  return ([_err(cell, "train"), _err(cell, "test"), protocol.epochs_cell(cell)]
          + ([f"{cell['learning_rate']:g}"] if tuned else []))


def _diff_cell(tests, key):
  if key not in tests:
    return "diverged"
  c = tests[key]
  return c.cell()


def _lr_text(cfg):
  lrs = cfg["learning_rates"]
  return (f"lr {lrs[0]:g}" if len(lrs) == 1 else
          f"lr chosen per net on validation from {{{', '.join(f'{v:g}' for v in lrs)}}}")


def table(doc):
  cfg, res = doc["config"], doc["results"]
  tests = ladder.comparisons(res)
  tuned = len(cfg["learning_rates"]) > 1
  ds = res["dataset"]
  per = ["train err", "test err", "epochs"] + (["lr"] if tuned else [])
  rows = [[f"{r['layers']} (n = {r['blocks']})", results.human(r["plain"]["params"]),
           results.human(r["plain"]["flops"])] + _contender(r["plain"], tuned) + _contender(r["residual"], tuned)
          + [_diff_cell(tests, ("pair", r["layers"])),
             f"{published.HE_RESNET_TEST_ERROR[r['layers']]:.2f}" if r["layers"] in published.HE_RESNET_TEST_ERROR
             else ""] for r in res["rows"]]
  side = "x".join(map(str, ds["shape"][:2])) if "shape" in ds else ""
  caption = (
      f"**Plain vs residual CNNs of 6n + 2 layers (He et al. 2016, Section 4.2, scaled down).** Error (%) on "
      f"{ds['name']} ({ds['n_train']} train / {ds['n_val']} validation / {ds['n_test']} test{', input ' + side if side else ''}), "
      f"channels {'/'.join(map(str, cfg['widths']))} in the three stages, batch normalization after every conv, "
      f"mean ± std over {cfg['seeds']} seeds; {cfg['optimizer']} ({_lr_text(cfg)}, batch {cfg['batch_size']}), "
      f"{protocol.rule(cfg)}; no data augmentation. epochs: to the best validation accuracy, median (range); + marks a "
      "net with a member still improving at the maximum. Residual nets add the parameter-free identity shortcut (option "
      "A) around every block; params and FLOPs/ex (forward, per example) are the same for both. residual − plain: "
      f"difference of test-error means (points), Welch's p after Holm's correction over the {len(tests)} comparisons "
      f"of the reading; called only at p < {stats.ALPHA}. He: {published.HE_CONDITIONS}, test error of the ResNet "
      "with as many layers (plain: " + published.HE_PLAIN_FINDING + "). Fashion-MNIST benchmark, test accuracy: "
      + "; ".join(f"{name} {acc}%" for name, acc in published.FASHION_BENCHMARK) + ".")
  header = (["layers", "params", "FLOPs/ex"] + [f"plain {a}" for a in per] + [f"residual {a}" for a in per]
            + ["residual − plain", "He CIFAR-10 ResNet test err"])
  return results.markdown_table(header, rows, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  rows = res["rows"]
  fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
  layers = [r["layers"] for r in rows]
  for ax, split in zip(axes[:2], ("train", "test")):
    for variant, color in (("plain", "C1"), ("residual", "C0")):
      ms = [stats.mean_sd(ladder.error(r[variant][f"{split}_acc"])) for r in rows]
      ax.errorbar(layers, [m for m, _ in ms], yerr=[sd for _, sd in ms], marker="o", capsize=3, color=color,
                  label=variant)
    ax.set_xticks(layers)
    ax.set_xlabel("layers (6n + 2)")
    ax.set_ylabel(f"{split} error (%)")
    ax.set_title(f"{split} error of the best-validation epoch")
    ax.grid(alpha=0.3)
    ax.legend()
  ax = axes[2]
  for r, style in ((rows[0], ":"), (rows[-1], "-")):
    for variant, color in (("plain", "C1"), ("residual", "C0")):
      curve = np.array([np.nan if v is None else 100 * (1 - v) for v in r[variant]["curve"]], float)
      ax.plot(np.arange(1, len(curve) + 1), curve, style, color=color, label=f"{variant}-{r['layers']}")
  ax.set_xlabel("epoch")
  ax.set_ylabel("validation error (%), mean over seeds")
  ax.set_title("validation error per epoch (chosen lr)")
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  return {"ladder.png": fig}


def _finding(c, sign):
  """'reproduces' when the difference is resolved in the paper's direction (sign), else what it is."""
  if c is None:
    return "no verdict (a net diverged)"
  if c.resolved:
    return ("reproduces" if np.sign(c.diff) == sign else "the opposite") + f" ({c.numbers()})"
  return f"not resolved at {c.seeds} ({c.numbers()})"


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  tests = ladder.comparisons(res)
  rows = res["rows"]
  cells = [r[v] for r in rows for v in ladder.VARIANTS]
  lines = [f"- Budget: {protocol.rule(cfg)} ({cfg['optimizer']}, learning rate chosen per net on validation). "
           + protocol.convergence(cells, cfg)]
  if not tests:
    why = "every net diverged" if not any(ladder.finite(c) for c in cells) else "no pair of nets stayed finite"
    return "\n".join(lines + [readings.nothing(why)])
  pairs = [f"{r['layers']} layers: " + (tests[("pair", r["layers"])].text() if ("pair", r["layers"]) in tests
                                        else "a net diverged") for r in rows]
  lines.append(f"- Residual minus plain test error, Welch, {readings.family_text(tests, verb='Holm')}: "
               + "; ".join(pairs) + ".")
  if len(rows) > 1:
    first, last = rows[0]["layers"], rows[-1]["layers"]
    plain = {s: tests.get(("deeper", "plain", s)) for s in ("train", "test")}
    resid = {s: tests.get(("deeper", "residual", s)) for s in ("train", "test")}
    lines.append(f"- He's first finding, plain nets degrade with depth (plain-{last} minus plain-{first}, error, "
                 f"positive = deeper is worse): train error {_finding(plain['train'], 1)}; test error "
                 f"{_finding(plain['test'], 1)}.")
    lines.append(f"- He's second finding, residual nets improve with depth (residual-{last} minus residual-{first}, "
                 f"negative = deeper is better): test error {_finding(resid['test'], -1)}; train error "
                 f"{_finding(resid['train'], -1)}.")
  best = min((r for r in rows if ladder.finite(r["residual"])),
             key=lambda r: stats.mean_sd(ladder.error(r["residual"]["val_acc"]))[0], default=None)
  if best is not None:
    acc = stats.mean_sd(best["residual"]["test_acc"])[0]
    which = ("The residual net best on validation" if sum(ladder.finite(r["residual"]) for r in rows) > 1 else
             "The residual net" if len(rows) == 1 else "The only residual net that stayed finite")
    lines.append(f"- {which} ({best['layers']} layers) reaches {acc:.1f}% test accuracy; "
                 "the Fashion-MNIST benchmark's rows: " + "; ".join(f"{n} {a}%" for n, a in published.FASHION_BENCHMARK)
                 + f" (full 28x28 data). He's CIFAR-10 ResNets: "
                 + ", ".join(f"{k} layers {v}%" for k, v in published.HE_RESNET_TEST_ERROR.items())
                 + " test error, with augmentation and 64k iterations: another data set, scale and budget.")
  return "\n".join(lines)


def depth_pairs(doc):
  """REPORT.md's depth summary: per variant, every deeper net of the ladder against its shallowest."""
  cfg, rows = doc["config"], doc["results"]["rows"]
  out = []
  for variant in ladder.VARIANTS:
    ok = [r for r in rows if ladder.finite(r[variant])]
    for r in ok[1:]:
      out.append(DepthPair(f"{cfg['dataset']} CNNs ({doc['results']['dataset']['n_train']:,} images), {variant}",
                           f"{r['layers']} layers", f"{ok[0]['layers']} layers", r[variant]["test_acc"],
                           ok[0][variant]["test_acc"], r["layers"], ok[0]["layers"]))
  return out


def title(cfg):
  layers = [resnet.layers(b) for b in cfg.blocks]
  return (f"Plain vs residual CNNs of {min(layers)} to {max(layers)} layers on {cfg.dataset} "
          f"(He et al. 2016, scaled to 2 CPU cores)")


__all__ = ["NAME", "ALIAS", "ORDER", "TITLE", "PROFILES", "get_config", "validate", "run", "table", "plots",
           "reading", "title", "depth_pairs"]
