"""The modular experiment's plots: the rare group against rho (zero-shot included) and against the
training-set size, and the two attribute sets side by side."""
import matplotlib.pyplot as plt
import numpy as np

from research.system import results
from research.report import stats

from experiments.modular.attribute_tables import source_meta, sources
from experiments.modular.contenders import LABELS, SHORT, SWEEP
from experiments.modular.points import by_rho, by_size, pct


def rare_lines(ax, points, ticks, rare_name, metric="test_rare"):
  """Each sweep contender's rare-group test accuracy over the points (evenly spaced: rho = 0 has no
  place on a log axis), mean ± std over the members."""
  xs = np.arange(len(points))
  for i, k in enumerate(SWEEP):
    ms = [stats.mean_sd(p["contenders"][k][metric]) for p in points]
    ax.errorbar(xs + 0.04 * (i - 2), [m for m, _ in ms], yerr=[s for _, s in ms], marker="o", capsize=3,
                color=f"C{i}", label=LABELS[k])
  ax.set_xticks(xs, ticks)
  ax.set_ylabel(f"rare-group ({rare_name}) test accuracy (%)" if metric == "test_rare"
                else "worst-group test accuracy (%)")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  members = len(cfg["data_seeds"]) * cfg["seeds"]
  figs = {}
  fig, ax = plt.subplots(figsize=(6.5, 4))
  points = by_rho(res)
  rare_lines(ax, points, [pct(p["rho"]) for p in points], res["rare_name"])
  ax.set_xlabel("rare group's share of the training set, rho (0: never seen)")
  ax.set_title(f"n = {res['n_main']:,} training examples, {members} members (mean ± std)")
  figs["rare_vs_rho.png"] = fig

  fig, ax = plt.subplots(figsize=(6.5, 4))
  points = by_size(res)
  rare_lines(ax, points, [results.human(p["n_train"]).replace(".0K", "K") for p in points], res["rare_name"],
             metric="test_worst")
  ax.set_xlabel("training examples")
  ax.set_title(f"rho = {pct(res['rho_main'])}, {members} members (mean ± std)")
  figs["rare_vs_size.png"] = fig

  if res.get("contrast"):
    rhos = sorted(res["contrast"]["rhos"])
    fig, axes = plt.subplots(1, len(rhos), figsize=(4 * len(rhos) + 1, 4), sharey=True, squeeze=False)
    for ax, rho in zip(axes[0], rhos):
      for j, source in enumerate(sources(res)):
        p = next(q for q in by_rho(res, source) if q["rho"] == rho)
        ms = [stats.mean_sd(p["contenders"][k]["test_rare"]) for k in SWEEP]
        ax.bar(np.arange(len(SWEEP)) + 0.4 * j - 0.2, [m for m, _ in ms], 0.4, yerr=[s for _, s in ms], capsize=2,
               label=f"b = {source_meta(res, source)['names']['b_title']}")
      ax.set_xticks(np.arange(len(SWEEP)), [SHORT[k] for k in SWEEP], rotation=30, ha="right", fontsize=8)
      ax.set_title(f"rho = {pct(rho)}")
      ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel("rare-group test accuracy (%)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"entangled vs disentangled b, {members} members (mean ± std)")
    figs["attributes.png"] = fig
  return figs
