"""Two pictures: every corruption on the same few test images, and accuracy per corruption per model."""
import matplotlib.pyplot as plt
import numpy as np

from research import data as data_lib
from research.report import stats

from experiments.stable_world import corruptions, report

PLACES = (0.15, 0.55, 0.85)  # the grid's test images, by their place in the test set (never by label)
SHOWN = len(PLACES)


def _examples(dataset, names, seed):
  """The clean and corrupted versions of SHOWN test images spread over the test set (mnist16's is
  sorted by class: the digits 1, 5 and 8)."""
  x = data_lib.load_raw(dataset).x_test
  x = x[(np.array(PLACES) * len(x)).astype(int)]
  return [("clean", x)] + [(c, corruptions.corrupt(c, x, seed)) for c in names]


def grid(doc):
  cfg = doc["config"]
  datasets = list(doc["results"]["datasets"])
  sets = {d: _examples(d, cfg["corruptions"], cfg["corruption_seed"]) for d in datasets}
  cols = len(cfg["corruptions"]) + 1
  fig, axes = plt.subplots(SHOWN * len(datasets), cols, figsize=(1.0 * cols, 1.05 * SHOWN * len(datasets)),
                           squeeze=False)
  for k, d in enumerate(datasets):
    for j, (name, x) in enumerate(sets[d]):
      for i in range(SHOWN):
        ax = axes[k * SHOWN + i, j]
        ax.imshow(x[i, ..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if k * SHOWN + i == 0:
          ax.set_title(name.replace("_", "\n"), fontsize=7)
        if j == 0 and i == 0:
          ax.set_ylabel(d, fontsize=7)
  fig.suptitle("MNIST-C's corruptions (our implementation, one severity each) on the same test images; the "
               "draws here are of this small batch", fontsize=8)
  fig.tight_layout()
  return fig


def accuracy(doc):
  cfg, res = doc["config"], doc["results"]["datasets"]
  fig, axes = plt.subplots(len(res), 1, figsize=(12, 3.6 * len(res)), squeeze=False)
  labels = ["clean"] + list(cfg["corruptions"]) + ["mean corrupted"]
  x = np.arange(len(labels))
  for ax, (dataset, r) in zip(axes[:, 0], res.items()):
    rows = [row for row in r["rows"] if report.finite(row)]
    width = 0.8 / max(1, len(rows))
    for k, row in enumerate(rows):
      per = [row["test_acc"]] + [report.corrupted(row)[c] for c in cfg["corruptions"]] + [report.corrupted_mean(row)]
      ms = [stats.mean_sd(v) for v in per]
      ax.bar(x + (k - (len(rows) - 1) / 2) * width, [m for m, _ in ms], width, yerr=[s for _, s in ms],
             capsize=1.5, label=report.NAMES.get(row["contender"], row["contender"]), color=f"C{k}")
    ax.set_xticks(x, [lab.replace("_", " ") for lab in labels], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 115)  # the legend above the bars
    ax.set_yticks(range(0, 101, 20))
    ax.axhline(100 / r["dataset"]["num_classes"], color="k", lw=0.8, ls=":", label="chance")
    ax.set_title(f"{r['dataset']['name']}: trained on clean images, mean ± std over {cfg['seeds']} seeds")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=6, loc="upper center")
  fig.tight_layout()
  return fig


def plots(doc):
  return {"corruptions.png": grid(doc), "accuracy.png": accuracy(doc)}
