"""The three figures: compression vs accuracy with the controls, each layer's sensitivity (Han's
Figure 5), and exact zeros over training under L1."""
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from research.report import stats

from experiments.pruning import choices
from experiments.pruning.published import HAN
from experiments.pruning.tables import TICKET_LABELS, layer_label


def _points(res, source, keep):
  """[(weights kept in %, Comparison with the dense net)] of a source's rows that `keep` accepts."""
  if not choices.trained(res["dense"]):
    return []
  dense = res["dense"]["test_acc"]
  return [(100 * r["kept"], stats.welch(r["numbers"]["test_acc"], dense))
          for r in res[source]["rows"] if keep(r) and choices.trained(r["numbers"])]


def _series(res):
  """(label, style, points) of every line the compression plot draws."""
  out = [(f"Han, tolerance {tol:g}", dict(marker="o", color=f"C{k}"),
          _points(res, "han", lambda r, tol=tol: r["tolerance"] == tol))
         for k, tol in enumerate(res["han"]["tolerances"])]
  if res.get("tickets"):
    for k, variant in enumerate(("init", "early", "reinit", "random")):
      style = dict(marker="s^vD"[k], color=f"C{k + 3}", ls="-" if variant in ("init", "early") else "--")
      out.append((TICKET_LABELS[variant], style, _points(res, "tickets", lambda r, v=variant: r["variant"] == v)))
  if res.get("l1"):
    out.append(("L1, proximal (strength > 0)", dict(marker="P", color="C7"),
                _points(res, "l1", lambda r: r["l1"] > 0)))
    magnitude = [dict(r, numbers=r["magnitude"]) for r in res["l1"]["rows"] if choices.trained(r["numbers"])]
    out.append(("magnitude, L1's counts, no retraining", dict(marker="x", color="C7", ls=":"),
                _points(dict(res, magnitude=dict(rows=magnitude)), "magnitude", lambda r: r["l1"] > 0)))
  return out


def compression_plot(doc):
  cfg, res = doc["config"], doc["results"]
  fig, ax = plt.subplots(figsize=(7.5, 4.6))
  ys = []
  for label, style, pts in _series(res):
    if not pts:
      continue
    pts = sorted(pts, key=lambda p: -p[0])
    x = [p[0] for p in pts]
    y = [c.diff for _, c in pts]
    err = np.nan_to_num([[c.diff - c.low for _, c in pts], [c.high - c.diff for _, c in pts]])
    ys += y
    ax.errorbar(x, y, yerr=err, capsize=3, label=label, **style)
  ax.axhline(0, color="k", lw=1)
  ax.axhspan(-cfg["max_drop"], cfg["max_drop"], color="k", alpha=0.08,
             label=f"±{cfg['max_drop']:g} points (the tolerance, read on validation)")
  ax.axvline(10, color="k", lw=0.8, ls=":", label="10x compression")
  ax.plot([100 * HAN["weights_after"] / HAN["weights_before"]], [HAN["error_before"] - HAN["error_after"]], "k*",
          ms=12, label="Han et al. 2015 (MNIST, published)")
  ax.set_xscale("log")
  ax.invert_xaxis()
  ax.set_xlabel("weights kept (%)")
  ax.set_ylabel("test accuracy − dense net (points, 95% CI)")
  ax.set_ylim(max(min([-3.0] + ys) - 0.5, -15), max([2.0] + ys) + 0.5)
  # The tickets' targets and the 10x line, labelled; log-scale minor labels would overlap.
  ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator([2, 3.6, 5, 7, 10, 21, 30, 50, 100]))
  ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
  ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
  ax.set_title(f"LeNet-300-100, {res['dataset']['name']}, dense {choices.mean(res['dense']):.1f}%, "
               f"{cfg['seeds']} seeds, best-validation epochs", fontsize=10)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: never over a point
  return fig


def sensitivity_plot(doc):
  """Validation accuracy against the fraction of one layer pruned, that layer alone, no retraining,
  from the dense net (the scan that sets round 1's q); the lines of base − tolerance."""
  res = doc["results"]
  han = res["han"]
  scan = han["sensitivity"]
  size = doc["config"]["seeds"]  # round 1's members are the dense net tiled: the first group is enough
  avg = lambda values: stats.mean_sd(values, scale=1.0)[0]  # NaN, without a warning, where every member diverged
  base = avg(scan["val_acc"][:size])
  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  if not np.isfinite(base):
    ax.set_title("Sensitivity per layer: the dense net diverged", fontsize=10)
    return fig
  for k, (layer, s) in enumerate(scan["layers"].items()):
    x = [100 * np.mean(p[:size]) for p in s["pruned"]]
    y = [avg(a[:size]) for a in s["val_acc"]]
    ax.plot(x, y, marker="o", ms=3, color=f"C{k}", label=f"{layer_label(res['layers'], layer)} alone")
  for tol in han["tolerances"]:
    ax.axhline(base - tol, color="k", ls=":", lw=1)
    ax.text(0.01, base - tol, f"tolerance {tol:g}", fontsize=7, va="bottom", transform=ax.get_yaxis_transform())
  ax.axhline(base, color="k", lw=1, label="dense net")
  ax.set_xlabel("weights of the layer pruned (%), that layer alone, no retraining")
  ax.set_ylabel("validation accuracy (%)")
  ax.set_ylim(max(base - 20, 0), base + 1.5)
  ax.set_title(f"Sensitivity per layer (Han et al.'s Figure 5), {res['dataset']['name']}", fontsize=10)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  return fig


def zeros_plot(doc):
  """Per layer, the fraction of weights exactly 0.0 after each epoch under each L1 strength."""
  res = doc["results"]
  names = res["layers"]
  fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4), sharey=True)
  for ax, layer in zip(np.atleast_1d(axes), names):
    for k, r in enumerate(res["l1"]["rows"]):
      if r["l1"] == 0:
        continue
      z = [np.nan if v is None else 100 * v for v in r["zeros_per_epoch"][layer]]
      ax.plot(range(1, len(z) + 1), z, marker=".", color=f"C{k}", label=f"L1 {r['l1']:g}")
    ax.set_title(f"{layer_label(names, layer)} ({res['layer_sizes'][layer]:,} weights)", fontsize=9)
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
  np.atleast_1d(axes)[0].set_ylabel("weights exactly 0.0 (%)")
  np.atleast_1d(axes)[-1].legend(fontsize=7)
  fig.suptitle("Exact zeros over training under an L1 proximal step (mean over seeds)", fontsize=10)
  fig.tight_layout()
  return fig


def plots(doc):
  res = doc["results"]
  figs = {"pruning.png": compression_plot(doc), "sensitivity.png": sensitivity_plot(doc)}
  if res.get("l1"):
    figs["zeros.png"] = zeros_plot(doc)
  return figs
