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
from research.report import protocol, readings, stats
from research.system import results
from research.engine import train
from research.report.depth_verdicts import DepthPair

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

def _finite(row):
  return stats.diverged(row["test_acc"]) == 0 and stats.diverged(row["val_acc"]) == 0


def best_deep(rows):
  """The deep net with the best mean validation accuracy (its shape); None if every one diverged. Reads
  validation numbers only."""
  ok = [r for r in rows if r["role"] == "deep" and not any(r["diverged"])]
  return max(ok, key=lambda r: stats.mean_sd(r["val_acc"])[0])["shape"] if ok else None


def errors(values):
  """Error rates from accuracies, None kept (a diverged member)."""
  return [None if v is None else 1.0 - v for v in values]


def _by(rows, role, shape=None, matches=None):
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
      m = _by(rows, "matched", matches=d["shape"])
      pairs[("matched", k, d["shape"])] = (d, m)
    best = res["selected"]["best_deep"].get(str(k))
    wide = _by(rows, "wide")
    if best:
      pairs[("wide", k)] = (_by(rows, "deep", best), wide)
    if _by(rows, "spread"):
      pairs[("spread", k)] = (_by(rows, "spread"), wide)
  family = {key: (errors(a["test_acc"]), errors(b["test_acc"])) for key, (a, b) in pairs.items()
            if a and b and _finite(a) and _finite(b)}
  return stats.compare(family) if family else {}


# ----------------------------------------------------------------------------
# Table, plot, reading

def _label(r, k):
  return {"exact": f"exact {r['shape']} (tent map composed {k} times)",
          "deep": f"deep {r['shape']}",
          "matched": f"1 x {r['width']} (params of {r.get('matches')})",
          "wide": f"1 x {r['width']} (2^k)",
          "spread": f"1 x {r['width']}, kinks spread at init"}[r["role"]]


def _error_text(values):
  """'12.3 ± 0.4' (%) over seeds; one value (the exact net) without a spread."""
  if len(values) == 1 and values[0] is not None:
    return f"{100 * (1 - values[0]):.1f}"
  return stats.mean_sd_text(errors(values))


def _spread_text(values):
  """Median (range) of per-seed integers, e.g. pieces: '37 (20-51)'."""
  v = [x for x in values if x is not None]
  if not v:
    return "—"
  med = int(np.median(v))
  return str(med) if min(v) == max(v) else f"{med} ({min(v)}-{max(v)})"


def _p_text(c):
  return f"{c.diff:+.1f} (p {'< 0.001' if c.p_holm < 0.001 else f'= {c.p_holm:.3f}'})"


def _compared(r, k, res, tests):
  """The comparison a row carries: matched: its deep net minus it; wide: the best deep net minus it;
  spread: it minus the wide net."""
  key = {"matched": ("matched", k, r.get("matches")), "wide": ("wide", k), "spread": ("spread", k)}.get(r["role"])
  if key is None:
    return ""
  if key not in tests:
    return "diverged" if key[0] != "wide" or res["selected"]["best_deep"].get(str(k)) else ""
  who = {"matched": f"{r.get('matches')} − this", "wide": f"{res['selected']['best_deep'][str(k)]} − this",
         "spread": "this − 1 x 2^k"}[r["role"]]
  return f"{who}: {_p_text(tests[key])}"


def table(cfg, res):
  tests = comparisons(res)
  tuned = len(cfg["learning_rates"]) > 1
  rows = []
  for t in res["tables"]:
    k = t["k"]
    for r in t["rows"]:
      exact = r["role"] == "exact"
      widths = [r["width"]] * r["depth"]
      rows.append([k, _label(r, k), results.human(r["params"]), results.human(max_pieces(widths)),
                   "≥ 16.7" if bound_applies(k, widths) else "—",
                   *(_error_text(r[f"{s}_acc"]) for s in ("train", "val", "test", "points")),
                   _spread_text(r["pieces"]), "—" if exact else protocol.epochs_cell(r)]
                  + (["—" if exact else f"{r['learning_rate']:g}"] if tuned else []) + [_compared(r, k, res, tests)])
  ds = res["tables"][0]["dataset"]
  lr = (f"lr chosen per net on validation from {{{', '.join(f'{v:g}' for v in cfg['learning_rates'])}}}" if tuned
        else f"lr {cfg['learning_rates'][0]:g}")
  caption = (
      f"**Telgarsky's sawtooth: what depth represents, and what gradient descent finds.** Error (%) on points "
      f"of [0, 1] labelled by the 2^k-piece sawtooth ({ds['n_train']} train / {ds['n_val']} validation / "
      f"{ds['n_test']} test points drawn uniformly; points: Telgarsky's 2^k points i / 2^k themselves), "
      f"mean ± std over {cfg['seeds']} seeds; {cfg['optimizer']} ({lr}, batch {cfg['batch_size']}, the engine's "
      f"initialization), {protocol.rule(cfg)}; an epoch is at least {cfg['epoch_rows']:,} examples. epochs: to the "
      "best validation accuracy, median (range); + marks a net with a member still improving at the maximum. "
      "The exact net is the construction itself, not trained. pieces: linear pieces of the learned logit gap "
      f"z1 − z0 on [0, 1], median (range) over seeds, from slope changes on a grid of {cfg['pieces_grid']:,} points "
      "(the target needs 2^k); possible: (m + 1)^L, the most that L hidden layers of m units can make on one "
      "input. Telgarsky: ≥ 16.7 where his theorem guarantees at least 1/6 error on the 2^k points (at most "
      "2^((k − 3)/l − 1) units per layer, l = L + 1 layers). compared: difference of test errors (points), "
      f"Welch's p after Holm's correction over the {len(tests)} comparisons of the reading; called only at "
      f"p < {stats.ALPHA}.")
  header = (["k", "net", "params", "possible pieces", "Telgarsky", "train error", "val error", "test error",
             "points error", "pieces", "epochs"] + (["lr"] if tuned else []) + ["compared"])
  return results.markdown_table(header, rows, caption)


ROLE_STYLE = {"exact": ("k", "exact k x 2"), "deep": ("C0", "deep"), "matched": ("C1", "1 x N' (same params)"),
              "wide": ("C2", "1 x 2^k"), "spread": ("C3", "1 x 2^k, spread init")}


def _mean_error(r, split="test"):
  return stats.mean_sd(errors(r[f"{split}_acc"]))[0]


def plot(cfg, res, axes):
  """Three panels: pieces vs k, test error vs k, the learned functions at plot_k."""
  ax_p, ax_e, ax_f = axes
  ks = [t["k"] for t in res["tables"]]
  ax_p.plot(ks, [2 ** k for k in ks], "k:", label="2^k: the target's pieces")
  markers = {}
  for role, (color, label) in ROLE_STYLE.items():
    for fam in dict.fromkeys(r["family"] for t in res["tables"] for r in t["rows"] if r["role"] == role):
      pts = [(t["k"], r) for t in res["tables"] for r in t["rows"] if r["role"] == role and r["family"] == fam]
      marker = markers.setdefault(fam, "osD^v<>"[len(markers) % 7])
      name = {"deep": f"deep, {fam}", "matched": f"1 x N' = params of deep, {fam}"}.get(role, label)
      style = dict(color=color, marker=marker, alpha=0.8, label=name, ls="--" if role == "matched" else "-")
      med = [np.median([p for p in r["pieces"] if p is not None] or [np.nan]) for _, r in pts]
      ax_p.plot([k for k, _ in pts], med, **style)
      ax_e.plot([k for k, _ in pts], [_mean_error(r) for _, r in pts], **style)
  for ax in (ax_p, ax_e):
    ax.set_xticks(ks)
  ax_p.set_yscale("log", base=2)
  ax_p.set_xlabel("k")
  ax_p.set_ylabel("linear pieces on [0, 1] (median over seeds)")
  ax_p.set_title("pieces: what the nets compute")
  ax_e.axhline(100 * TELGARSKY_ERROR, color="gray", ls="--", label="1/6 (Telgarsky's bound level)")
  ax_e.axhline(50, color="gray", ls=":", label="chance")
  ax_e.set_xlabel("k")
  ax_e.set_ylabel("test error (%), mean over seeds")
  ax_e.set_title("error at the best validation epoch")
  for ax in (ax_p, ax_e):
    ax.grid(alpha=0.3)
  ax_p.legend(fontsize=7)
  ax_e.legend(fontsize=7)
  t = next((t for t in res["tables"] if any("function" in r for r in t["rows"])), None)
  if t is None:
    ax_f.set_title("learned functions: plot_k not among ks")
    return
  x = unit_grid(len(next(r["function"] for r in t["rows"] if "function" in r)))
  k = t["k"]
  ax_f.fill_between(x, -1.1, 1.1, where=synthetic.sawtooth_labels(x, k) == 1, color="0.9", step="mid",
                    label="class 1 (target)")
  best = res["selected"]["best_deep"].get(str(k))
  for r in t["rows"]:
    # One deep net, the best on validation, and its shallow net of the same size.
    if "function" not in r or (r["role"] == "deep" and r["shape"] != best) or (
        r["role"] == "matched" and r.get("matches") != best):
      continue
    g = np.asarray(r["function"])
    color, _ = ROLE_STYLE[r["role"]]
    ax_f.plot(x, g / max(np.abs(g).max(), 1e-12), color=color, lw=1, label=_label(r, k))
  ax_f.axhline(0, color="k", lw=0.5)
  ax_f.set_xlabel("x")
  ax_f.set_ylabel("z1 − z0, scaled to its largest value")
  ax_f.set_title(f"k = {k}: learned functions (first seed; the deep net best on validation)")
  ax_f.legend(fontsize=6, loc="lower right")


def _call(c):
  return ("deep ahead" if c.diff < 0 else "shallow ahead") if c.resolved else "not resolved"


def reading(cfg, res):
  tests = comparisons(res)
  tabs = res["tables"]
  trained = [r for t in tabs for r in t["rows"] if r["role"] != "exact"]
  lines = [f"- Sawtooth budget: {protocol.rule(cfg)}, epochs of at least {cfg['epoch_rows']:,} examples "
           f"({cfg['optimizer']}, learning rate chosen per net on validation; the same rule for every net). "
           + protocol.convergence(trained, cfg)]
  exact = [(t["k"], _by(t["rows"], "exact")) for t in tabs]
  all_exact = all(r["pieces"][0] == 2 ** k for k, r in exact)
  errs = lambda keys: [100 * (1 - r[key][0]) for _, r in exact for key in keys if r[key][0] is not None]
  worst, points = errs(("train_acc", "val_acc", "test_acc")), errs(("points_acc",))
  k_top, r_top = exact[-1]
  if worst and points:
    lines.append(
        f"- Representation: the exact construction ({r_top['params']} parameters at k = {k_top}) errs on "
        f"{max(points):.1f}% of the 2^k points and on at most {max(worst):.2f}% of the sampled points at k = "
        f"{', '.join(str(k) for k, _ in exact)}, and its measured pieces are "
        + ("exactly 2^k at every k" if all_exact else
           "; ".join(f"k = {k}: {r['pieces'][0]} (2^k = {2 ** k})" for k, r in exact)) + ".")
  found = []
  for t in tabs:
    ok = [r for r in t["rows"] if r["role"] != "exact" and not any(r["diverged"])]
    if ok:
      top = max(ok, key=lambda r: stats.mean_sd(r["val_acc"])[0])
      found.append(f"k = {t['k']}: {_label(top, t['k'])}{' (the only one that stayed finite)' if len(ok) == 1 else ''}"
                   f", {_mean_error(top):.1f}% test error, "
                   f"{_spread_text(top['pieces'])} pieces (the target has {2 ** t['k']})")
  if not found:
    return lines + [readings.nothing("every trained net of the sawtooth diverged")]
  lines.append("- What gradient descent found (per k, the trained net best on validation): " + "; ".join(found) + ".")
  if not tests:
    lines.append(readings.nothing("no deep net has a finite one-hidden-layer net to be compared with"))
  below = [t["k"] for t in tabs if any(r["role"] != "exact" and _finite(r) and _mean_error(r) < 100 * TELGARSKY_ERROR
                                       for r in t["rows"])]
  never = [t["k"] for t in tabs if t["k"] > max(below, default=0)]
  text = (f"- Trained nets with mean test error under 1/6 (the level of Telgarsky's bound): at k = "
          f"{', '.join(map(str, below))}" if below else "- No trained net reached a mean test error under 1/6 at any k")
  if never and below:
    text += f"; none at k = {', '.join(map(str, never))}, though the exact net of {k_top} x 2 shows the pieces exist"
  lines.append(text + ".")
  matched = [(key, c) for key, c in tests.items() if key[0] == "matched"]
  if matched:
    calls = [_call(c) for _, c in matched]
    counts = ", ".join(f"{w} in {calls.count(w)}" for w in ("deep ahead", "shallow ahead", "not resolved")
                       if calls.count(w))
    resolved = "; ".join(f"k = {key[1]}, {key[2]}: {c.text()}" for key, c in matched if c.resolved)
    lines.append(f"- Deep net minus the one-hidden-layer net of the same size (test error, Welch, "
                 f"{readings.family_text(tests, 'this part', 'Holm')}): {counts} of {len(matched)} pairs"
                 + (f". Resolved: {resolved}." if resolved else "."))
  wide = [(key, c) for key, c in tests.items() if key[0] == "wide"]
  if wide:
    lines.append("- The best deep net on validation minus 1 x 2^k (the narrowest one-hidden-layer net that can "
                 "represent the target): " + "; ".join(f"k = {key[1]}: {c.text()}" for key, c in wide) + ".")
  spread = [(key, c) for key, c in tests.items() if key[0] == "spread"]
  if spread:
    lines.append("- Initialization: 1 x 2^k with its kinks spread over [0, 1] minus the engine's init, whose zero "
                 "biases start every kink at one point: " + "; ".join(f"k = {key[1]}: {c.text()}" for key, c in spread)
                 + ".")
  lines += _pieces_lines(tabs)
  return lines


def _per_unit(r):
  v = [p for p in r["pieces"] if p is not None]
  return float(np.median(v)) / (r["width"] * r["depth"]) if v else None


def _pieces_lines(tabs):
  """Learned pieces per hidden unit, deep against one-hidden-layer nets, against the construction."""
  deep = [x for t in tabs for r in t["rows"] if r["role"] == "deep" and (x := _per_unit(r)) is not None]
  shallow = [x for t in tabs for r in t["rows"] if r["role"] in ("matched", "wide", "spread")
             and (x := _per_unit(r)) is not None]
  k_top = tabs[-1]["k"]
  lines = []
  if deep and shallow:
    grows = max(deep) < 2.0
    lines.append(
        f"- Pieces per hidden unit (median over seeds): deep nets {min(deep):.2f}-{max(deep):.2f}, one-hidden-layer "
        f"nets {min(shallow):.2f}-{max(shallow):.2f}; the exact net has {2 ** k_top / (2 * k_top):.1f} at k = {k_top}. "
        + ("No trained deep net made two pieces per hidden unit: depth did not multiply the pieces gradient "
           "descent found, as Hanin and Rolnick (2019) saw in trained and initialized ReLU nets." if grows else
           "Some trained deep net made more than two pieces per unit: depth multiplied pieces there, beyond what "
           "Hanin and Rolnick (2019) found typical."))
  bounded = [(t["k"], r) for t in tabs for r in t["rows"] if r["role"] != "exact" and _finite(r)
             and bound_applies(t["k"], [r["width"]] * r["depth"])]
  if bounded:
    worst = min(stats.mean_sd(errors(r["points_acc"]))[0] for _, r in bounded)
    lines.append(f"- Telgarsky's bound covers {len(bounded)} trained nets; the lowest mean error among them on the "
                 f"2^k points is {worst:.1f}% (the theorem guarantees at least 16.7%).")
  else:
    lines.append("- Telgarsky's bound covers none of the trained nets (their layers are wider than "
                 "2^((k − 3)/l − 1)): their errors are measured, not bounded.")
  return lines


def depth_pairs(res):
  """REPORT.md's depth summary: at every k, the validation-best deep net against the one-hidden-layer
  net of its size and against 1 x 2^k (the width that can represent the task)."""
  out = []
  for t in res["tables"]:
    k, rows = t["k"], t["rows"]
    best = res["selected"]["best_deep"].get(str(k))
    deep = _by(rows, "deep", best) if best else None
    if not deep:
      continue
    setting = f"sawtooth, 2^{k} pieces"
    for shallow in (_by(rows, "matched", matches=best), _by(rows, "wide")):
      if shallow:
        what = "same size" if shallow["role"] == "matched" else "represents it"
        out.append(DepthPair(setting, f"{best} (best deep on validation)", f"{shallow['shape']} ({what})",
                             deep["test_acc"], shallow["test_acc"], deep["depth"], shallow["depth"]))
  return out
