"""Lee's paper cutting: a deep and a shallow net of equal size on a folded target, as data shrinks.

The target (research/data/synthetic.py paper_cut:F): fold the square [-1, 1]^2 in half along both axes F
times, cut one disc, unfold: 4^F discs. A deep ReLU net can fold too (|u| is two ReLUs), so it can
draw one disc and reuse it for every copy; a one-hidden-layer net has to draw every disc apart.
Hung-yi Lee's lecture: with 100,000 examples both nets fit such a target, with 20,000 the shallow
one collapses and the deep one degrades gracefully.
"""
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from research import models
from research.data import synthetic
from research.report import protocol, readings, stats
from research.system import results
from research.engine import train
from research.report.depth_verdicts import DepthPair


def build(depth, width):
  return models.build("mlp", 2, depth=depth, width=width)


def shapes(cfg):
  """(depth, width) of the deep net and of the one-hidden-layer net with its parameter count."""
  deep = build(cfg.fold_depth, cfg.fold_width)
  n = models.width_for_params(lambda w: build(1, w), models.param_count(deep, (2,)), (2,))
  return (cfg.fold_depth, cfg.fold_width), (1, n)


def pixel_centers(side):
  """Raw inputs x_Px2 of a side x side image of [-1, 1]^2, row by row from the top (y = +1)."""
  c = (np.arange(side) + 0.5) / side * 2.0 - 1.0
  x, y = np.meshgrid(c, c[::-1])
  return np.stack([x.ravel(), y.ravel()], 1)


def to_hex_rows(bits_SxS):
  """A 0/1 image as one hex string per row (4 pixels a digit): small enough for results.json."""
  out = []
  for row in np.asarray(bits_SxS, bool):
    padded = np.concatenate([row, np.zeros(-len(row) % 4, bool)]).reshape(-1, 4)
    out.append("".join(f"{int(''.join('1' if b else '0' for b in q), 2):x}" for q in padded))
  return out


def from_hex_rows(rows, side):
  return np.array([[int(b) for ch in r for b in f"{int(ch, 16):04b}"][:side] for r in rows], bool)


def target_image(folds, side):
  return synthetic.paper_cut_labels(pixel_centers(side), folds).reshape(side, side).astype(bool)


def decision_image(model, params, ds, side):
  """The class a net predicts at every pixel of [-1, 1]^2 (the input standardized as in training)."""
  logits = model.apply(params, jnp.asarray(ds.standardize(pixel_centers(side))))
  return np.asarray(jnp.argmax(logits, -1) == 1).reshape(side, side)


def run(cfg, ctx, passes_per_epoch, repeat):
  seeds, hparams = protocol.grid(cfg.learning_rates, range(cfg.seeds))
  (dd, dw), (sd, sw) = shapes(cfg)
  rows = []
  for n in cfg.fold_sizes:
    # The validation points are drawn first, by the same seed at every size: one validation split.
    ds, arrays = ctx.data(f"paper_cut:{cfg.folds}", val_size=cfg.val_size, n_train=n)
    passes = passes_per_epoch(len(ds.y_train), cfg.epoch_rows)
    tiled = repeat(arrays, passes)
    row = dict(n_train=len(ds.y_train), passes_per_epoch=passes,
               steps_per_epoch=passes * len(ds.y_train) // cfg.batch_size, dataset=ds.describe())
    for role, depth, width in (("deep", dd, dw), ("shallow", sd, sw)):
      model = build(depth, width)
      spec = dict(model="mlp", widths=[width] * depth, optimizer=cfg.optimizer, batch_size=cfg.batch_size,
                  dataset=ds.describe(), passes_per_epoch=passes)
      out = ctx.cell(ctx.trainer(model), tiled, name=f"cut{cfg.folds}-n{len(ds.y_train)}-{depth}x{width}", spec=spec,
                     seeds=seeds, hparams=hparams, need_state=True)
      tuned = protocol.tuned(out.summary)
      # The picture: the first seed of the learning rate chosen on validation.
      first = hparams.index({"learning_rate": tuned["learning_rate"]})
      params = jax.tree.map(lambda a: a[first], train.selected(out.state))
      row[role] = dict(shape=f"{depth} x {width}", depth=depth, width=width,
                       params=models.param_count(model, ds.shape), **tuned,
                       image=to_hex_rows(decision_image(model, params, ds, cfg.image_side)),
                       image_seed=seeds[first])
    rows.append(row)
  return dict(folds=cfg.folds, rows=rows)


# ----------------------------------------------------------------------------
# Comparisons

LECTURE_SIZES = (20_000, 100_000)
# What the reading calls the shallow net's collapse from 100,000 to 20,000 examples: a resolved loss of
# more than this many points of test accuracy (the lecture shows a collapse, not a number).
COLLAPSE_POINTS = 5.0


def _finite(cell):
  return stats.diverged(cell["test_acc"]) == 0 and stats.diverged(cell["val_acc"]) == 0


def _at(res, n):
  return next((r for r in res["rows"] if r["n_train"] == n), None)


def comparisons(res):
  """The reading's family, Holm-corrected together, on test accuracy (points): deep minus shallow at
  every size, and each net's loss from 100,000 to 20,000 examples (when both sizes ran)."""
  pairs = {("pair", r["n_train"]): (r["deep"]["test_acc"], r["shallow"]["test_acc"]) for r in res["rows"]
           if _finite(r["deep"]) and _finite(r["shallow"])}
  small, large = (_at(res, n) for n in LECTURE_SIZES)
  if small and large:
    for role in ("deep", "shallow"):
      if _finite(small[role]) and _finite(large[role]):
        pairs[("drop", role)] = (large[role]["test_acc"], small[role]["test_acc"])
  return stats.compare(pairs) if pairs else {}


# ----------------------------------------------------------------------------
# Table, plot, reading

def _contender(cell, tuned):
  return ([stats.mean_sd_text(cell[f"{s}_acc"]) for s in ("train", "val", "test")] + [protocol.epochs_cell(cell)]
          + ([f"{cell['learning_rate']:g}"] if tuned else []))


def _diff_cell(tests, key):
  if key not in tests:
    return "diverged"
  c = tests[key]
  return c.cell()


def table(cfg, res):
  tests = comparisons(res)
  tuned = len(cfg["learning_rates"]) > 1
  per = ["train", "val", "test", "epochs"] + (["lr"] if tuned else [])
  first = res["rows"][0]
  d, s = first["deep"], first["shallow"]
  rows = [[r["n_train"], r["steps_per_epoch"]] + _contender(r["deep"], tuned) + _contender(r["shallow"], tuned)
          + [_diff_cell(tests, ("pair", r["n_train"]))] for r in res["rows"]]
  ds = first["dataset"]
  lr = (f"lr chosen per net and size on validation from {{{', '.join(f'{v:g}' for v in cfg['learning_rates'])}}}"
        if tuned else f"lr {cfg['learning_rates'][0]:g}")
  caption = (
      f"**Paper cutting: deep {d['shape']} ({results.human(d['params'])} params) vs shallow {s['shape']} "
      f"({results.human(s['params'])}) on {4 ** res['folds']} discs cut from paper folded {res['folds']} times.** "
      f"Accuracy (%) on uniform points of [-1, 1]^2 ({ds['n_val']} validation points, the same at every size; "
      f"{ds['n_test']} test points), mean ± std over {cfg['seeds']} seeds; {cfg['optimizer']} ({lr}, batch "
      f"{cfg['batch_size']}), {protocol.rule(cfg)}; an epoch is the smallest whole number of passes holding at "
      f"least {cfg['epoch_rows']:,} examples (steps/epoch). epochs: to the best validation accuracy, median (range); + "
      "marks a net with a member still improving at the maximum. deep − shallow: difference of test means (points), "
      f"Welch's p after Holm's correction over the {len(tests)} comparisons of the reading (the sizes, and each "
      f"net's loss from 100,000 to 20,000 examples); called only at p < {stats.ALPHA}. Lee's lecture: both fit with "
      "100,000 examples; with 20,000 the shallow net collapses, the deep one degrades gracefully.")
  header = (["n_train", "steps/epoch"] + [f"deep {a}" for a in per] + [f"shallow {a}" for a in per]
            + ["deep − shallow"])
  return results.markdown_table(header, rows, caption)


def plot(cfg, res):
  """The target beside each net's decision regions at every size (first seed of the chosen rate), and
  test accuracy against training-set size."""
  side = cfg["image_side"]
  rows = res["rows"]
  fig, axes = plt.subplots(2, len(rows) + 1, figsize=(2.4 * (len(rows) + 1), 5.0), squeeze=False)
  show = lambda ax, img, title: (ax.imshow(img, cmap="Greys", vmin=0, vmax=1, extent=(-1, 1, -1, 1)),
                                 ax.set_title(title, fontsize=8), ax.set_xticks([]), ax.set_yticks([]))
  show(axes[0, 0], target_image(res["folds"], side), f"target: {4 ** res['folds']} discs")
  for j, r in enumerate(rows, 1):
    for i, role in enumerate(("deep", "shallow")):
      c = r[role]
      show(axes[i, j], from_hex_rows(c["image"], side),
           f"{role} {c['shape']}, n={r['n_train']:,}\ntest {stats.mean_sd(c['test_acc'])[0]:.1f}%")
  ax = axes[1, 0]
  for role, color in (("deep", "C0"), ("shallow", "C1")):
    ms = [stats.mean_sd(r[role]["test_acc"]) for r in rows]
    ax.errorbar([r["n_train"] for r in rows], [m for m, _ in ms], yerr=[sd for _, sd in ms], marker="o",
                capsize=3, color=color, label=f"{role} {rows[0][role]['shape']}")
  ax.set_xscale("log")
  ax.minorticks_off()
  sizes = [r["n_train"] for r in rows]
  ax.set_xticks(sizes, [f"{n / 1000:g}k" if n >= 1000 else str(n) for n in sizes])
  ax.set_xlabel("training examples", fontsize=8)
  ax.set_ylabel("test accuracy (%)", fontsize=8)
  ax.tick_params(labelsize=7)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=6)
  fig.tight_layout()
  return fig


def _call(c):
  return ("deep ahead" if c.diff > 0 else "shallow ahead") if c.resolved else "not resolved"


def _capital(text):
  return text[:1].upper() + text[1:]


def reading(cfg, res):
  tests = comparisons(res)
  rows = res["rows"]
  cells = [r[role] for r in rows for role in ("deep", "shallow")]
  d, s = rows[0]["deep"], rows[0]["shallow"]
  lines = [f"- Paper-cutting budget: {protocol.rule(cfg)}, epochs of at least {cfg['epoch_rows']:,} examples "
           f"({cfg['optimizer']}, learning rate chosen per net and size on validation). "
           + protocol.convergence(cells, cfg)]
  if not tests:
    return lines + [readings.nothing(f"at every size a net of the pair (deep {d['shape']}, shallow {s['shape']}) "
                                     "diverged")]
  pairs = [f"n = {r['n_train']:,}: " + (tests[("pair", r["n_train"])].text() if ("pair", r["n_train"]) in tests
                                        else "a net diverged") for r in rows]
  calls = [_call(tests[("pair", r["n_train"])]) for r in rows if ("pair", r["n_train"]) in tests]
  lines.append(f"- Deep {d['shape']} minus shallow {s['shape']} ({d['params']} and {s['params']} parameters), test "
               f"accuracy, Welch, {readings.family_text(tests, 'this part', 'Holm')}: " + "; ".join(pairs) + ". "
               + _capital(", ".join(f"{w} at {calls.count(w)}" for w in ("deep ahead", "shallow ahead", "not resolved")
                                    if calls.count(w)) + f" of {len(rows)} sizes."))
  drops = {role: tests.get(("drop", role)) for role in ("deep", "shallow")}
  if all(drops.values()):
    lines.append("- From 100,000 to 20,000 examples, test accuracy lost: " + "; ".join(
        f"{role} {c.text()}" for role, c in drops.items()) + ".")
    small = tests.get(("pair", LECTURE_SIZES[0]))
    collapse = drops["shallow"].resolved and drops["shallow"].diff > COLLAPSE_POINTS
    if small is None:
      verdict = "a net diverged at 20,000 examples: no verdict on the lecture's claim."
    elif small.resolved and small.diff > 0 and collapse:
      verdict = (f"the lecture's claim shows here: the shallow net loses more than {COLLAPSE_POINTS:g} points at "
                 "20,000 and the deep one leads.")
    elif small.resolved and small.diff > 0:
      verdict = (f"the deep net leads at 20,000 examples ({small.diff:+.1f} points), but the shallow net does not "
                 f"collapse (no resolved loss over {COLLAPSE_POINTS:g} points): the lecture's direction, not its size.")
    elif small.resolved:
      verdict = "the shallow net leads at 20,000 examples: the lecture's claim does not show on this target."
    else:
      verdict = (f"deep minus shallow at 20,000 examples is not resolved at {small.seeds}: no evidence here for or "
                 "against the lecture's claim at its sizes.")
    lines.append("  " + verdict[0].upper() + verdict[1:])
  else:
    lines.append("- The lecture's sizes (20,000 and 100,000) were not both run (or a net diverged): no verdict on "
                 "its claim.")
  return lines


def depth_pairs(res):
  """REPORT.md's depth summary: the deep net against the one-hidden-layer net of its size at every
  training-set size."""
  return [DepthPair(f"paper cutting, {4 ** res['folds']} discs, {r['n_train']:,} examples", r["deep"]["shape"],
                    f"{r['shallow']['shape']} (same size)", r["deep"]["test_acc"], r["shallow"]["test_acc"],
                    r["deep"]["depth"], r["shallow"]["depth"])
          for r in res["rows"]]
