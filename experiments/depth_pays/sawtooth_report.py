"""The sawtooth's table, plot and reading (experiments/depth_pays/sawtooth.py trains it)."""
import numpy as np

from research.data import synthetic
from research.report import protocol, readings, stats
from research.report.depth_verdicts import DepthPair
from research.system import results

from experiments.depth_pays.sawtooth import (TELGARSKY_ERROR, bound_applies, comparisons, errors, max_pieces,
                                             none_diverged, row_of, unit_grid)


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
  return f"{who}: {tests[key].cell()}"


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
  exact = [(t["k"], row_of(t["rows"], "exact")) for t in tabs]
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
  lines.append(_under_the_bound(tabs, k_top))
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


def _under_the_bound(tabs, k_top):
  """At which k some trained net's mean test error is under Telgarsky's 1/6, and at which none is."""
  below = [t["k"] for t in tabs
           if any(r["role"] != "exact" and none_diverged(r) and _mean_error(r) < 100 * TELGARSKY_ERROR
                  for r in t["rows"])]
  never = [t["k"] for t in tabs if t["k"] > max(below, default=0)]
  text = (f"- Trained nets with mean test error under 1/6 (the level of Telgarsky's bound): at k = "
          f"{', '.join(map(str, below))}" if below else "- No trained net reached a mean test error under 1/6 at any k")
  if never and below:
    text += f"; none at k = {', '.join(map(str, never))}, though the exact net of {k_top} x 2 shows the pieces exist"
  return text + "."


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
  bounded = [(t["k"], r) for t in tabs for r in t["rows"] if r["role"] != "exact" and none_diverged(r)
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
    deep = row_of(rows, "deep", best) if best else None
    if not deep:
      continue
    setting = f"sawtooth, 2^{k} pieces"
    for shallow in (row_of(rows, "matched", matches=best), row_of(rows, "wide")):
      if shallow:
        what = "same size" if shallow["role"] == "matched" else "represents it"
        out.append(DepthPair(setting, f"{best} (best deep on validation)", f"{shallow['shape']} ({what})",
                             deep["test_acc"], shallow["test_acc"], deep["depth"], shallow["depth"]))
  return out
