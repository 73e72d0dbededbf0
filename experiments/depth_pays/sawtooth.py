"""Telgarsky's sawtooth: what depth can represent, and what gradient descent finds.

The task: points of [0, 1] labelled by which of the 2^k + 1 alternating intervals around the 2^k
points i / 2^k they fall in (research/data/synthetic.py sawtooth:K). Contenders at each k:

  exact     the tent map f(x) = 2 relu(x) - 4 relu(x - 1/2) composed k times, written as the
            parameters of the registered MLP (k hidden layers of 2 units; `tent_params`): 2^k pieces
  deep      W x L nets (L = a multiple of k hidden layers of W units) trained from the engine's init
  matched   1 x N' with the parameters of a deep net (the nearest N')
  wide      1 x 2^k: the fewest units whose 2^k + 1 pieces can separate the 2^k + 1 intervals
  spread    the same 1 x 2^k started with its first-layer kinks spread uniformly over [0, 1]
            (the engine's zero biases put every kink of a one-input first layer at one point)

Every trained net's learned function is measured after training: its linear pieces on [0, 1]
(`count_pieces`, slope changes on a fine grid) and its error on Telgarsky's 2^k points themselves.
Both are pure functions of the selected parameters; neither reads a test label.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np

from research import models
from research.data import synthetic
from research.report import protocol, stats
from research.engine import train

# Telgarsky's theorem: any net with l layers of at most 2^((k - 3) / l - 1) units errs on at least
# 1/6 of the 2^k points.
TELGARSKY_ERROR = 1 / 6


# ----------------------------------------------------------------------------
# The exact construction, and the functions a net computes on [0, 1]

def tent_params(k, x_mean=0.0, x_std=1.0):
  """Parameters of models.build("mlp", 2, depth=k, width=2) that classify the sawtooth exactly.

  Hidden layer j holds (relu(f^(j-1)(x)), relu(f^(j-1)(x) - 1/2)), so f^j = 2 h_1 - 4 h_2 (the tent
  map: 2x up to 1/2, 2 - 2x after). Telgarsky counts 2 layers per tent map (the units, then their
  combination); in the MLP the combination folds into the next Dense, so k hidden layers suffice.
  The logits are (0, f^k(x) - 1/2): class 1 exactly where f^k > 1/2. The engine's input is the
  standardized x_std * s + x_mean = x, folded into the first layer.
  """
  f = np.float32
  combine_2x2 = np.array([[2.0, 2.0], [-4.0, -4.0]], f)   # rows: inputs (h_1, h_2); both units see 2h_1 - 4h_2
  halves_2 = np.array([0.0, -0.5], f)                     # the second unit is shifted by 1/2
  params = {"Dense_0": {"kernel": np.array([[x_std, x_std]], f), "bias": (x_mean + halves_2).astype(f)}}
  for j in range(1, k):
    params[f"Dense_{j}"] = {"kernel": combine_2x2, "bias": halves_2}
  params[f"Dense_{k}"] = {"kernel": np.array([[0.0, 2.0], [0.0, -4.0]], f), "bias": halves_2}
  return jax.tree.map(jnp.asarray, params)


def mlp_layers(params):
  """[(W_IxO, b_O)] of an MLP's Dense layers in order, as float64 numpy arrays."""
  names = sorted(params, key=lambda n: int(n.rsplit("_", 1)[1]))
  return [(np.asarray(params[n]["kernel"], np.float64), np.asarray(params[n]["bias"], np.float64)) for n in names]


def logit_gap(params, x_N, x_mean=0.0, x_std=1.0, chunk=8192):
  """z_1 - z_0 of a two-class MLP at raw inputs x_N, in float64 (the registered MLP's function; the
  engine runs it in float32, whose rounding would hide the smallest slope changes)."""
  layers = mlp_layers(params)
  out = []
  for x_C in np.array_split(np.asarray(x_N, np.float64), max(1, len(x_N) // chunk)):
    h_CxW = ((x_C - x_mean) / x_std)[:, None]
    for i, (w, b) in enumerate(layers):
      h_CxW = h_CxW @ w + b
      if i < len(layers) - 1:
        h_CxW = np.maximum(h_CxW, 0.0)
    out.append(h_CxW[:, 1] - h_CxW[:, 0])
  return np.concatenate(out)


def count_pieces(g_N, x_N, rtol=1e-6):
  """Linear pieces of a piecewise-linear g sampled at the sorted grid x_N: 1 + the number of slope
  changes. A kink strictly inside a grid cell changes the slope on both sides of that cell: one run of
  consecutive changes is one kink. Changes under rtol of the largest slope are rounding, not kinks;
  kinks closer than two grid cells count once."""
  slopes = np.diff(g_N) / np.diff(x_N)
  scale = max(float(np.abs(slopes).max(initial=0.0)), 1e-12)
  kink = np.abs(np.diff(slopes)) > rtol * scale
  runs = int(kink[0]) + int(np.count_nonzero(kink[1:] & ~kink[:-1])) if len(kink) else 0
  return 1 + runs


def count_intervals(g_N):
  """Intervals of constant predicted class along the grid (2^k + 1 for the target)."""
  cls = g_N > 0
  return 1 + int(np.count_nonzero(cls[1:] != cls[:-1]))


def unit_grid(points):
  return np.linspace(0.0, 1.0, points)


def max_pieces(widths):
  """The most pieces a one-input ReLU net with these hidden widths can have: each layer's m units
  each bend a linear piece at most once, so each layer splits every piece into at most m + 1."""
  return math.prod(w + 1 for w in widths)


def telgarsky_width(k, hidden_layers):
  """The most units per layer for which Telgarsky's bound (error >= 1/6 on the 2^k points) holds, with
  l = hidden layers + 1 (the output layer counted: the conservative reading, it covers fewer nets)."""
  return 2.0 ** ((k - 3) / (hidden_layers + 1) - 1)


def bound_applies(k, widths):
  return max(widths) <= telgarsky_width(k, len(widths))


# ----------------------------------------------------------------------------
# Training

def build(depth, width):
  return models.build("mlp", 2, depth=depth, width=width)


def family(width, multiple):
  """A deep net's name across k: width W, L = multiple x k hidden layers."""
  return f"{width} wide, {multiple}k deep" if multiple > 1 else f"{width} wide, k deep"


def _contenders(cfg, k, shape):
  """(role, depth, width, the deep net it matches, family) of every trained net at k, deep ones first."""
  deep = [("deep", m * k, w, None, family(w, m)) for w, m in cfg.deep_shapes]
  matched = [("matched", 1, models.width_for_params(lambda n: build(1, n), models.param_count(build(d, w), shape),
                                                    shape), f"{d} x {w}", f) for _, d, w, _, f in deep]
  rest = ([("wide", 1, 2 ** k, None, "1 x 2^k")]
          + ([("spread", 1, 2 ** k, None, "1 x 2^k, spread")] if k <= cfg.spread_max_k else []))
  return deep + matched + rest


def spread_init(model, seeds, ds, example_1xD):
  """Each member's engine init (the same key split as train.make_trainer's init) with the first
  layer's kinks moved to uniform points of [0, 1]: bias_j = -w_j * s_j, s_j uniform over the
  standardized [0, 1]."""
  lo, hi = ds.standardize([0.0, 1.0])

  def one(seed):
    key = jax.random.PRNGKey(int(seed))
    params = model.init(jax.random.split(key)[0], example_1xD)
    first = params["Dense_0"]
    s_W = jax.random.uniform(jax.random.fold_in(key, 1), first["bias"].shape, minval=lo, maxval=hi)
    return dict(params, Dense_0=dict(first, bias=-first["kernel"][0] * s_W))
  return jax.tree.map(lambda *a: jnp.stack(a), *[one(s) for s in seeds])


def _member(params, i):
  return jax.tree.map(lambda a: a[i], params)


def function_numbers(params_list, ds, k, grid_points, evaluate):
  """Per member: pieces and class intervals of its function on [0, 1], and accuracy on the 2^k points."""
  x_grid = unit_grid(grid_points)
  x_pts, y_pts = synthetic.sawtooth_points(k)
  x_pts = jnp.asarray(ds.standardize(x_pts)[:, None])
  out = dict(pieces=[], intervals=[], points_acc=[])
  for params in params_list:
    if params is None:  # diverged: its numbers are not reported
      for v in out.values():
        v.append(None)
      continue
    g = logit_gap(params, x_grid, ds.x_mean, ds.x_std)
    out["pieces"].append(count_pieces(g, x_grid))
    out["intervals"].append(count_intervals(g))
    out["points_acc"].append(float(evaluate(params, x_pts, jnp.asarray(y_pts))[1]))
  return out


def _sampled(params, ds, points):
  """The learned function on `points` raw inputs of [0, 1], for the plot (4 significant digits)."""
  return [float(f"{v:.4g}") for v in logit_gap(params, unit_grid(points), ds.x_mean, ds.x_std)]


def exact_row(cfg, ctx, ds, arrays, k):
  """The construction, evaluated by the engine on every split and on the 2^k points."""
  model = build(k, 2)
  params = tent_params(k, ds.x_mean, ds.x_std)
  evaluate = jax.jit(ctx.trainer(model).evaluate)
  acc = {s: [float(evaluate(params, arrays[f"x_{s}"], arrays[f"y_{s}"])[1])] for s in ("train", "val", "test")}
  fn = function_numbers([params], ds, k, cfg.pieces_grid, evaluate)
  row = dict(role="exact", shape=f"{k} x 2", depth=k, width=2, family="exact", params=models.param_count(model, ds.shape),
             **{f"{s}_acc": a for s, a in acc.items()}, **fn)
  if k == cfg.plot_k:
    row["function"] = _sampled(params, ds, cfg.plot_points)
  return row


def trained_row(cfg, ctx, ds, arrays, k, role, depth, width, matches, family_name, seeds, hparams):
  model = build(depth, width)
  trainer = ctx.trainer(model)
  init = spread_init(model, seeds, ds, arrays["x_train"][:1]) if role == "spread" else None
  spec = dict(model="mlp", role=role, widths=[width] * depth, optimizer=cfg.optimizer, batch_size=cfg.batch_size,
              dataset=ds.describe(), init="first-layer kinks spread over [0, 1]" if init is not None else "engine")
  name = f"k{k}-{depth}x{width}" + ("-spread" if init is not None else "")
  out = ctx.cell(trainer, arrays, name=name, spec=spec, seeds=seeds, hparams=hparams, init_params=init,
                 need_state=True)
  tuned = protocol.tuned(out.summary)
  chosen = [i for i, hp in enumerate(hparams) if hp["learning_rate"] == tuned["learning_rate"]]
  best = train.selected(out.state)
  params = [None if d else _member(best, i) for i, d in zip(chosen, tuned["diverged"])]
  fn = function_numbers(params, ds, k, cfg.pieces_grid, jax.jit(trainer.evaluate))
  row = dict(role=role, shape=f"{depth} x {width}", depth=depth, width=width, matches=matches, family=family_name,
             params=models.param_count(model, ds.shape), **tuned, **fn)
  if k == cfg.plot_k and params and params[0] is not None:
    row["function"] = _sampled(params[0], ds, cfg.plot_points)  # the first seed of the chosen rate
  return row


def run(cfg, ctx, passes_per_epoch, repeat):
  seeds, hparams = protocol.grid(cfg.learning_rates, range(cfg.seeds))
  tables = []
  for k in cfg.ks:
    ds, arrays = ctx.data(f"sawtooth:{k}", val_size=cfg.val_size, n_train=cfg.n_train)
    passes = passes_per_epoch(len(ds.y_train), cfg.epoch_rows)
    tiled = repeat(arrays, passes)
    rows = [exact_row(cfg, ctx, ds, arrays, k)]
    rows += [trained_row(cfg, ctx, ds, tiled, k, *c, seeds, hparams) for c in _contenders(cfg, k, ds.shape)]
    tables.append(dict(k=k, dataset=ds.describe(), passes_per_epoch=passes, rows=rows))
  return dict(tables=tables, selected=dict(best_deep={str(t["k"]): best_deep(t["rows"]) for t in tables}))


def cells(cfg):
  """The cells the sawtooth trains: per k, every deep net, its matched net, 1 x 2^k, and the spread control."""
  return sum(2 * len(cfg.deep_shapes) + 1 + (k <= cfg.spread_max_k) for k in cfg.ks)


# ----------------------------------------------------------------------------
# Selection and comparisons

def none_diverged(row):
  """Whether no member of the row diverged."""
  return stats.diverged(row["test_acc"]) == 0 and stats.diverged(row["val_acc"]) == 0


def best_deep(rows):
  """The deep net with the best mean validation accuracy (its shape); None if every one diverged. Reads
  validation numbers only."""
  ok = [r for r in rows if r["role"] == "deep" and not any(r["diverged"])]
  return max(ok, key=lambda r: stats.mean_sd(r["val_acc"])[0])["shape"] if ok else None


def errors(values):
  """Error rates from accuracies, None kept (a diverged member)."""
  return [None if v is None else 1.0 - v for v in values]


def row_of(rows, role, shape=None, matches=None):
  """The first row of a role (and shape, and matched deep shape, when given); None if there is none."""
  return next((r for r in rows if r["role"] == role and (shape is None or r["shape"] == shape)
               and (matches is None or r.get("matches") == matches)), None)


def comparisons(res):
  """The reading's family, Holm-corrected together, on test error (points): at every k each deep net
  minus its matched shallow net, the best deep net on validation minus 1 x 2^k, and 1 x 2^k with spread
  kinks minus 1 x 2^k. Pairs with a diverged member are left out (reported as diverged)."""
  pairs = {}
  for t in res["tables"]:
    k, rows = t["k"], t["rows"]
    for d in (r for r in rows if r["role"] == "deep"):
      m = row_of(rows, "matched", matches=d["shape"])
      pairs[("matched", k, d["shape"])] = (d, m)
    best = res["selected"]["best_deep"].get(str(k))
    wide = row_of(rows, "wide")
    if best:
      pairs[("wide", k)] = (row_of(rows, "deep", best), wide)
    if row_of(rows, "spread"):
      pairs[("spread", k)] = (row_of(rows, "spread"), wide)
  family = {key: (errors(a["test_acc"]), errors(b["test_acc"])) for key, (a, b) in pairs.items()
            if a and b and none_diverged(a) and none_diverged(b)}
  return stats.compare(family) if family else {}
