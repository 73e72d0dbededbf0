"""Figures: example images of each environment (channel 0 red, channel 1 green), and bars of the
training- and test-environment accuracy of each contender under each rule."""
import matplotlib.pyplot as plt
import numpy as np

from research.report import stats

from experiments.colored import contenders, published

EXAMPLES = 8  # images shown per environment


def examples(envs):
  """A few images per environment for the figure, as 0-255 integers: the two training environments'
  first training images and the test environment's first validation images (the same environment;
  the test split itself is not shown, so that nothing in results.json but test numbers reads it)."""
  out = []
  for env, e in enumerate(envs.train_e):
    idx = np.flatnonzero(envs.train.env == env)[:EXAMPLES]
    out.append(_example(envs.train, idx, f"training environment {env + 1}", e))
  shown = np.arange(min(EXAMPLES, len(envs.oracle_val.y)))
  out.append(_example(envs.oracle_val, shown, "test environment", envs.test_e))
  return out


def _example(split, idx, name, e):
  """Each image as one hex string of its 14 x 14 x 2 bytes: results.json stays small and readable."""
  return dict(name=name, e=float(e), shape=list(split.x.shape[1:]),
              images=[np.round(x * 255).astype(np.uint8).tobytes().hex() for x in split.x[idx]],
              labels=split.y[idx].tolist(), colours=split.colour[idx].tolist())


def rgb(image_hex, shape):
  """Channel 0 as red, channel 1 as green, on black."""
  x = np.frombuffer(bytes.fromhex(image_hex), np.uint8).reshape(shape).astype(float) / 255.0
  return np.concatenate([x, np.zeros_like(x[..., :1])], -1)


def figures(doc):
  res = doc["results"]["sources"]
  return {"environments.png": _environments(res), "accuracy.png": _bars(doc)}


def _environments(res):
  """Per source a row, per environment a panel of its images in two rows (labels above each)."""
  cols = max(len(r["examples"]) for r in res.values())
  fig, axes = plt.subplots(len(res), cols, figsize=(4.2 * cols, 2.6 * len(res)), squeeze=False)
  for i, (source, r) in enumerate(res.items()):
    for ax, ex in zip(axes[i], r["examples"]):
      imgs = [rgb(im, ex["shape"]) for im in ex["images"]]
      per_row = -(-len(imgs) // 2)
      h, w = imgs[0].shape[:2]
      canvas = np.ones((2 * (h + 2), per_row * (w + 2), 3))
      for k, im in enumerate(imgs):
        y, x = divmod(k, per_row)
        canvas[y * (h + 2):y * (h + 2) + h, x * (w + 2):x * (w + 2) + w] = im
      ax.imshow(canvas, interpolation="nearest")
      agree = np.mean(np.asarray(ex["colours"]) == np.asarray(ex["labels"]))
      ax.set_title(f"{source}, {ex['name']} (e = {ex['e']:g})\nlabels {' '.join(map(str, ex['labels']))}; "
                   f"colour = label for {agree:.0%} of these", fontsize=8)
      ax.axis("off")
  fig.suptitle("Colored environments: the digit drawn in red (channel 0) or green (channel 1)", fontsize=9)
  fig.tight_layout()
  return fig


def _bars(doc):
  res, cfg = doc["results"]["sources"], doc["config"]
  rules = list(cfg["rules"])
  fig, axes = plt.subplots(len(res), len(rules), figsize=(5.5 * len(rules), 3.8 * len(res)), squeeze=False)
  for i, (source, r) in enumerate(res.items()):
    for j, rule in enumerate(rules):
      ax = axes[i][j]
      rows = [row for row in r["rows"] if row["rule"] == rule]
      x = np.arange(len(rows))
      for k, (key, label, color) in enumerate((("train_acc", "training environments", "C0"),
                                               ("test_acc", "test environment", "C3"))):
        ms = [stats.mean_sd(row[key]) for row in rows]
        ax.bar(x + (k - 0.5) * 0.38, [m for m, _ in ms], 0.38, yerr=[s for _, s in ms], capsize=2, color=color,
               alpha=0.85, label=label)
      ax.axhline(published.OPTIMUM, color="k", lw=1, ls="--", label="75%: shape alone, at best")
      ax.axhline(50, color="gray", lw=0.8, ls=":", label="50%: chance")
      ax.set_xticks(x, [contenders.CONTENDERS[row["contender"]].label for row in rows], fontsize=8)
      ax.set_ylim(0, 100)
      ax.set_ylabel("accuracy (%)")
      ax.set_title(f"{source}, {contenders.RULES[rule].short}", fontsize=9)
      ax.grid(axis="y", alpha=0.3)
  handles, labels = axes[0][0].get_legend_handles_labels()
  fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
  fig.tight_layout(rect=(0, 0.06, 1, 1))
  return fig
