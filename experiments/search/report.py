"""The search's table, plots and reading, from results.json alone.

Comparisons: each search strategy's retrained pick minus the hand grid's retrained pick, on test
accuracy, Welch's t-test with Holm's correction over every such pair of the run (strategies x tasks).
"""
import matplotlib.pyplot as plt
import numpy as np

from research.report import protocol, readings, stats
from research.system import results

from experiments.search import accounting

ANCHORS = (
    "Published, under other conditions (CIFAR-10 images and Penn Treebank text, convolutional and recurrent "
    "cells, GPUs): Li and Talwalkar 2019: in DARTS's search spaces, random search with early stopping did at "
    "least as well as ENAS on both benchmarks, and random search with weight sharing was state of the art on "
    "PTB and competitive on CIFAR-10. Li et al. 2017 (Hyperband): over an order of magnitude faster than "
    "their competitors (random search among them) on deep-learning and kernel problems. Full NAS: Zoph and "
    "Le 2017 trained on 800 GPUs (thousands of GPU-days); DARTS (Liu et al. 2019): 2.76 ± 0.09% CIFAR-10 test "
    "error (with cutout) from a 4-GPU-day search, 3.00 ± 0.14% from 1.5 GPU-days. Here: MLPs, 2 CPU cores, "
    "minutes.")

# Depth "pays" on a task when its best deep candidate (3 or more hidden layers) beats its best shallow one
# (0 or 1) on validation by more than this: one seed per candidate, so smaller gaps are noise.
PAYS = 0.01

NAMES = {"random": "random search", "halving": "successive halving", "grid": "hand grid (depth experiment)"}


def _val(r):
  return stats.mean_sd_text(r["val_acc"])


def comparisons(res):
  """{(task, strategy): Comparison} of retrained picks, search minus grid, on test accuracy."""
  pairs = {}
  for t in res["tasks"]:
    grid = t["retrained"].get("grid")
    for s in t["retrained"]:
      if s == "grid" or grid is None:
        continue
      a, b = t["retrained"][s]["test_acc"], grid["test_acc"]
      if stats.diverged(a) == 0 and stats.diverged(b) == 0:
        pairs[(t["task"], s)] = (a, b)
  return stats.compare(pairs) if pairs else {}


def _ratio(a, b):
  return f"{a / b:.2f}" if b else "—"


def _p(c):
  if c is None:
    return ""
  return c.cell()


def _gflop(x):
  return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def _rate(bill):
  rate = accounting.per_minute(bill)
  return f"{rate:.1f}" if rate else "—"


def table(cfg, res):
  tests = comparisons(res)
  rows = []
  for t in res["tasks"]:
    grid_gflop = t["strategies"]["grid"]["compute"]["executed_gflop"]
    for s, rec in t["strategies"].items():
      c, r = rec["compute"], t["retrained"].get(s)
      pick = t["picks"].get(s)
      minutes = (c["train_s"] + c["compile_s"]) / 60
      if pick is None:  # every candidate diverged
        rows.append([t["task"], NAMES[s], c["candidates"], "every candidate diverged"] + ["—"] * 5
                    + [c["member_epochs"], _gflop(c["executed_gflop"]), _gflop(c["own_gflop"]),
                       _ratio(c["executed_gflop"], grid_gflop), f"{minutes:.1f}", _rate(c), ""])
        continue
      rows.append([t["task"], NAMES[s], c["candidates"], pick["label"], results.human(r["params"]),
                   f"{100 * pick['val_acc']:.1f}", _val(r), stats.mean_sd_text(r["test_acc"]), protocol.epochs_cell(r),
                   c["member_epochs"], _gflop(c["executed_gflop"]), _gflop(c["own_gflop"]),
                   _ratio(c["executed_gflop"], grid_gflop), f"{minutes:.1f}",
                   _rate(c), _p(tests.get((t["task"], s)))])
  caption = (
      f"**Architecture search with the engine.** Per task and strategy: the candidates searched, the pick "
      f"(best validation accuracy of the search, one seed per candidate: 'depth: widths per layer, r = residual, "
      f"activation, lr'), its search validation accuracy, and the pick retrained from scratch as its standalone "
      f"network over {cfg['seeds']} fresh seeds (accuracy %, mean ± std); {cfg['optimizer']} (batch "
      f"{cfg['batch_size']}), {protocol.rule(cfg)}; every candidate and every retraining under that one rule. "
      f"epochs: of the retrained pick to its best validation accuracy, median (range). Compute of the search "
      f"(retraining excluded): model-epochs executed; GFLOP executed (XLA's count: a supernet member computes "
      f"the supernet's full shape) and the candidates' own (their standalone networks for the epochs they ran); "
      f"× grid: executed GFLOP over the hand grid's; minutes of training and compiling on "
      f"{res.get('devices', 'the CPU')}; candidates per CPU-minute. vs grid: retrained pick minus the grid's "
      f"retrained pick, test accuracy (points), Welch's p after Holm's correction over the {len(tests)} "
      f"comparisons of the reading; called only at p < {stats.ALPHA}.")
  header = ["task", "strategy", "candidates", "pick (search)", "params", "search val", "val", "test", "epochs",
            "model-epochs", "GFLOP executed", "GFLOP own", "× grid", "minutes", "candidates / CPU-min", "vs grid"]
  return results.markdown_table(header, rows, caption)


STYLE = {"random": "C0", "halving": "C1", "grid": "C2"}


def plots(cfg, res):
  tasks = res["tasks"]
  fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
  for ax, t in zip(axes[0], tasks):
    for s, rec in t["strategies"].items():
      pts = np.asarray(rec["anytime"], float).reshape(-1, 2)
      if len(pts):
        ax.step(pts[:, 0], 100 * pts[:, 1], where="post", color=STYLE[s], label=NAMES[s])
    ax.set_xscale("log")
    ax.set_xlabel("GFLOP executed by the search so far")
    ax.set_ylabel("best validation accuracy so far (%)")
    ax.set_title(t["task"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  fig.tight_layout()
  fig2, axes2 = plt.subplots(2, len(tasks), figsize=(5 * len(tasks), 7), squeeze=False)
  for j, t in enumerate(tasks):
    ax, hx = axes2[0][j], axes2[1][j]
    for k, (s, rec) in enumerate(t["strategies"].items()):
      recs = [r for r in rec["records"] if r["val_acc"] is not None]
      jitter = (k - 1) * 0.15
      ax.scatter([r["depth"] + jitter for r in recs], [100 * r["val_acc"] for r in recs], s=10, alpha=0.6,
                 color=STYLE[s], label=NAMES[s])
      pick = t["picks"].get(s)
      if pick is not None:
        ax.scatter([pick["depth"] + jitter], [100 * pick["val_acc"]], marker="*", s=150, color=STYLE[s],
                   edgecolor="k")
      top = sorted(recs, key=lambda r: -r["val_acc"])[:cfg["top_k"]]
      counts = np.bincount([r["depth"] for r in top], minlength=cfg["max_depth"] + 1)
      hx.bar(np.arange(len(counts)) + jitter, counts, width=0.14, color=STYLE[s], alpha=0.8, label=NAMES[s])
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("validation accuracy of the search (%)")
    ax.set_title(f"{t['task']}: every candidate (★: the pick)")
    lo = min([100 * r["val_acc"] for rec in t["strategies"].values() for r in rec["records"]
              if r["val_acc"] is not None] or [0])
    ax.set_ylim(max(lo, 100 * max([r["val_acc"] or 0 for rec in t["strategies"].values()
                                    for r in rec["records"]] or [0]) - 30), None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    hx.set_xlabel("hidden layers")
    hx.set_ylabel(f"count among the top {cfg['top_k']} by validation")
    hx.set_title("depths chosen")
    hx.set_xticks(range(cfg["max_depth"] + 1))
    hx.legend(fontsize=7)
  fig2.tight_layout()
  return {"anytime.png": fig, "depths.png": fig2}


def _depth_pays(t):
  """The best search validation accuracy among shallow (0-1 hidden layers) and deep (3 or more)
  candidates of every strategy: validation numbers only."""
  recs = [r for rec in t["strategies"].values() for r in rec["records"] if r["val_acc"] is not None]
  shallow = max((r["val_acc"] for r in recs if r["depth"] <= 1), default=None)
  deep = max((r["val_acc"] for r in recs if r["depth"] >= 3), default=None)
  return shallow, deep


def _top_depths(rec, k):
  top = sorted((r for r in rec["records"] if r["val_acc"] is not None), key=lambda r: -r["val_acc"])[:k]
  return "[" + ", ".join(str(r["depth"]) for r in top) + "]"


def reading(cfg, res):
  tests = comparisons(res)
  runs = []  # (task, strategy, its test against the grid, cheaper than the grid)
  lines = [f"- Budget and rule: every candidate and every retrained pick {protocol.rule(cfg)}; the search "
           f"selects on validation only (one seed per candidate), the picks are retrained over {cfg['seeds']} "
           "fresh seeds and read once on test. Successive halving cuts after epochs "
           f"{', '.join(map(str, cfg['rungs']))} (keeping {cfg['keep']:g} of the members still training)."]
  for t in res["tasks"]:
    picks = t["picks"]
    shallow, deep = _depth_pays(t)
    pays = deep is not None and shallow is not None and deep > shallow + PAYS
    where = (f"deep candidates did better on validation by more than {100 * PAYS:g} point" if pays else
             f"deep candidates did not beat shallow ones on validation by more than {100 * PAYS:g} point")
    chosen = "; ".join(f"{NAMES[s]}: {picks[s]['label']}" if s in picks else f"{NAMES[s]}: none (every candidate "
                       "diverged)" for s in t["strategies"])
    margin = (f"best search validation accuracy, 0-1 hidden layers {100 * shallow:.1f}% vs 3 or more "
              f"{100 * deep:.1f}%" if shallow is not None and deep is not None else "too few candidates to say")
    fits = (lambda d: d >= 3) if pays else (lambda d: d <= 2)
    agree = [s for s in ("random", "halving") if s in picks and fits(picks[s]["depth"])]
    top = "; ".join(f"{NAMES[s]} {_top_depths(rec, cfg['top_k'])}" for s, rec in t["strategies"].items())
    lines.append(f"- {t['task']}: picks: {chosen}. Depth on this task: {where} ({margin}); the searches "
                 f"picked {'deep (3 or more hidden layers)' if pays else 'shallow (at most 2 hidden layers)'} in "
                 f"{len(agree)} of 2. Depths of the top {cfg['top_k']} by validation: {top}.")
    grid_c = t["strategies"]["grid"]["compute"]
    for s in ("random", "halving"):
      if s in t["strategies"]:
        line, run = _against_grid(t, s, tests.get((t["task"], s)), grid_c)
        lines.append(line)
        runs.append(run)
  lines.append(_as_good_line(runs))
  lines.append("- " + ANCHORS)
  return lines


def _against_grid(t, s, test, grid_c):
  """(the reading's line for search strategy s against the hand grid on task t, (task, s, test, cheaper))."""
  picks, c = t["picks"], t["strategies"][s]["compute"]
  cheaper = c["executed_gflop"] < grid_c["executed_gflop"]
  if test is None:
    verdict = ("no pick (every candidate diverged)" if s not in picks or "grid" not in picks else
               "no test (a retrained pick diverged)")
  elif not np.isfinite(test.p):
    verdict = f"on test {test.text()}"
  elif test.resolved:
    verdict = f"{'better' if test.diff > 0 else 'worse'} on test ({test.text()})"
  else:  # not resolved is not "as good": say how large a loss the interval still admits
    verdict = f"on test {test.text()}" + (
        f"; the interval admits a loss of up to {-test.low:.1f} points, so 'as good' is not shown"
        if test.low < -1.0 else "; as good within the resolution")
  line = (f"  - {NAMES[s]} vs the hand grid: {verdict}, with "
          f"{_ratio(c['executed_gflop'], grid_c['executed_gflop'])} x the grid's executed GFLOP "
          f"({'less' if cheaper else 'more'} compute; {c['candidates']} candidates against {grid_c['candidates']}, "
          f"{c['member_epochs']} model-epochs against {grid_c['member_epochs']}). The supernet executed "
          f"{_ratio(c['executed_gflop'], c['own_gflop'])} x its candidates' own FLOPs; "
          f"{_rate(c)} candidates per CPU-minute.")
  return line, (t["task"], s, test, cheaper)


def _as_good_line(runs):
  """How many searches were as good as the hand grid on test, and with less compute."""
  tested = [(task, s, test, cheaper) for task, s, test, cheaper in runs if test is not None and np.isfinite(test.p)]
  if not tested:
    return readings.nothing("no search has a retrained pick with a test against the hand grid's (a pick "
                            "diverged, or a side has fewer than 2 seeds)")
  good = [(task, s) for task, s, test, cheaper in tested
          if test.resolved and test.diff > 0 or not test.resolved and test.low >= -1.0]
  both = [(task, s) for task, s, test, cheaper in tested if (task, s) in good and cheaper]
  return (f"- As good as the hand grid on test (resolved ahead, or an interval that rules out a loss of more "
          f"than 1 point) in {len(good)} of {len(runs)} searches"
          + (f" ({', '.join(f'{NAMES[s]} on {task}' for task, s in good)})" if good else "")
          + f"; with less executed compute than the grid in {len(both)} of them. "
          + ("Why the searches cost more than the grid: every supernet member executes the largest shape, "
             "several times its own FLOPs (the ratios above)." if len(both) < len(runs) else ""))


__all__ = ["table", "plots", "reading", "comparisons"]
