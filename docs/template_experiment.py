"""Does a wider hidden layer read 8x8 digits better? The template experiment (docs/extending.md).

Copy it to experiments/<name>.py and set NAME = "<name>"; tests/test_extend.py runs this very file.
"""
import matplotlib.pyplot as plt
import ml_collections

from research.cli import config
from research import models
from research.report import protocol, stats
from research.system import results

NAME = "width_vs_accuracy"
ORDER = 50  # its place in `make paper` and REPORT.md
TITLE = "Width vs accuracy: one hidden layer of growing width on scikit-learn's 8x8 digits"
DELTA = 3.0  # equivalence margin, points: twice the binomial sd (1.4) of one accuracy near 90% on 450 digits


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "digits"
  c.widths = [4, 16, 64]                 # the first is the baseline every other width is compared with
  c.val_size = 150                       # the protocol: every choice reads this validation split,
  c.epochs = 100                         # the maximum epochs,
  c.patience = 5                         # the stopping rule,
  c.schedule = "constant"                # and the learning-rate schedule
  c.warmup_epochs = 0.0
  c.learning_rates = [3e-3, 1e-2, 3e-2]  # one grid for every width, the value chosen on validation
  c.seeds = 5
  c.optimizer = "adam"
  c.batch_size = 64
  return c


PROFILES = {"quick": dict(epochs=40, seeds=3), "tiny": dict(epochs=2, seeds=2, widths=[4, 16])}


def validate(cfg):
  config.nonempty(cfg, "widths", "learning_rates")  # one line, before anything trains
  config.positive(cfg, "widths", "learning_rates")


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, val_size=cfg.val_size)
  seeds, hparams = protocol.grid(cfg.learning_rates, list(range(cfg.seeds)))
  rows = []
  for w in cfg.widths:  # one cell per width: seeds x learning rates in one compiled call
    model = models.build("mlp", ds.num_classes, depth=1, width=w)
    out = ctx.cell(ctx.trainer(model), arrays, name=f"w{w}", spec=dict(width=w), seeds=seeds, hparams=hparams)
    rows.append(dict(width=w, **protocol.tuned(out.summary)))  # the rate best on validation, its members
  return dict(rows=rows)


def table(doc):
  cfg, rows = doc["config"], doc["results"]["rows"]
  edge = (min(cfg["learning_rates"]), max(cfg["learning_rates"]))  # a pick there: the best may lie outside
  body = [[r["width"], stats.mean_sd_text(r["val_acc"]), stats.mean_sd_text(r["test_acc"]),
           f"{r['learning_rate']:g}" + (" (grid edge)" if r["learning_rate"] in edge else ""),
           protocol.epochs_cell(r)] for r in rows]
  return results.markdown_table(["width", "val acc (%)", "test acc (%)", "lr (on validation)", "epochs"], body,
                                f"**Width.** Mean ± std over {cfg['seeds']} seeds; {protocol.rule(cfg)}.")


def plots(doc):
  rows = doc["results"]["rows"]
  fig, ax = plt.subplots(figsize=(4, 3))
  ax.errorbar([r["width"] for r in rows], *zip(*[stats.mean_sd(r["test_acc"]) for r in rows]), marker="o")
  ax.set(xscale="log", xlabel="hidden units", ylabel="test accuracy (%)")
  return {"width.png": fig}


def reading(doc):
  rows = doc["results"]["rows"]
  base = rows[0]
  found = stats.verdicts({r["width"]: (r["test_acc"], base["test_acc"]) for r in rows[1:]}, DELTA)
  answer = "; ".join(f"width {w}: {v.text()}" for w, v in found.items())
  return (f"- Does a wider hidden layer read digits better than width {base['width']}? {answer}.\n"
          f"- Verdicts: Welch over seeds, Holm over the family of {len(found)}; equivalent means within "
          f"±{DELTA:g} points (twice the binomial noise of one accuracy on 450 test digits).\n"
          f"- Budget: {protocol.rule(doc['config'])}. {protocol.convergence(rows, doc['config'])}\n")
