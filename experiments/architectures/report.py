"""The tables, plots and reading of architectures, from its results.json."""
import matplotlib.pyplot as plt
import numpy as np

from research.report import protocol, readings, stats
from research.system import pages, results

from experiments.architectures.published import DIFFERS, PAPER_1D, PUBLISHED


SIGNALS = ("mnist1d", "mnist1d_shuffled")


# The families whose models assume that neighbouring positions belong together, and those that do not.
ORDERED, ORDERLESS = ("cnn", "gru"), ("logistic", "mlp")


def _finite(row):
  """No member diverged: read from the training flags, so that selection never touches test numbers."""
  return not any(row["diverged"])


def select(datasets):
  """What the reading calls best, chosen on validation accuracy: per dataset, the family with the best
  mean over its seeds (diverged rows excluded) and the order of all by validation accuracy."""
  out = {}
  for dataset, r in datasets.items():
    ok = sorted((row for row in r["rows"] if _finite(row)), key=lambda row: -_mean(row, "val_acc"))
    out[dataset] = dict(best_family=ok[0]["family"] if ok else None, by_validation=[row["family"] for row in ok])
  return out


def _mean(row, key="test_acc"):
  return stats.mean_sd(row[key])[0]


def _std(row, key="test_acc"):
  return stats.mean_sd(row[key])[1]


def _lr_text(r):
  lrs = r["learning_rates"]
  return f"lr {lrs[0]:g}" if len(lrs) == 1 else f"lr chosen on validation from {{{', '.join(f'{v:g}' for v in lrs)}}}"


def _subset_text(cfg, dataset):
  """A caption's note when the training split is a subset chosen for the budget, not the whole."""
  n_train = cfg["fashion_mnist"]["n_train"] if dataset == "fashion_mnist" else 0
  return (f" Training split: a stratified {n_train} of the training images left after validation, the same "
          "for every family, so that the CNN and GRU reach the stopping rule within the CPU budget."
          if n_train else "")


def _pub_acc(dataset, family):
  return [p.acc for p in PUBLISHED[dataset] if p.family == family]


def table(doc):
  cfg, res = doc["config"], doc["results"]
  devices = doc["environment"]["devices"]
  parts = []
  for dataset, r in res["datasets"].items():
    ds = r["dataset"]
    tuned = len(r["learning_rates"]) > 1
    header = (["model", "params", "FLOPs/ex"] + (["lr"] if tuned else []) +
              ["epochs", "train acc", "val acc", "test acc", "s / model"])
    rows = [[row["model"], results.human(row["params"]), results.human(row["flops"])]
            + ([f"{row['learning_rate']:g}"] if tuned else []) + [protocol.epochs_cell(row)]
            + [stats.mean_sd_text(row[k]) for k in ("train_acc", "val_acc", "test_acc")]
            + [f"{row['s_per_model']:.1f}"] for row in r["rows"]]
    caption = (f"**{ds['name']}** ({ds['n_train']} train / {ds['n_val']} validation / {ds['n_test']} test, input "
               f"{'x'.join(map(str, ds['shape']))}): accuracy (%) at each member's best validation epoch, mean ± std "
               f"over {cfg['seeds']} seeds; {cfg['optimizer']} ({_lr_text(r)}, batch {r['batch_size']}), "
               f"{protocol.rule(cfg, r['epochs'])}. Every family gets this rule and this grid. epochs: to the "
               "best validation accuracy, median (range); + marks a cell with a member still improving at the "
               f"maximum.{_subset_text(cfg, dataset)} FLOPs: forward, per example (the GRU's counted over "
               f"every time step). s / model: training seconds per member (every grid value), {devices}.")
    parts.append(results.markdown_table(header, rows, caption))
    pub = PUBLISHED[dataset]
    parts.append(results.markdown_table(
        ["family", "published model", "test acc", "data", "budget", "augmentation", "source"],
        [[p.family, p.model, f"{p.acc:g}", p.data, p.epochs, p.augmentation, p.source] for p in pub],
        f"**{ds['name']}, published** (not re-run here): test accuracy (%) with the conditions each source "
        f"states. Against the table above: {DIFFERS[dataset]}."))
  return pages.join("\n", parts)


def plots(doc):
  res = doc["results"]["datasets"]
  fig, axes = plt.subplots(1, len(res), figsize=(4.2 * len(res), 3.8), squeeze=False)
  for ax, (dataset, r) in zip(axes[0], res.items()):
    fams = [row["family"] for row in r["rows"]]
    x = np.arange(len(fams))
    ax.bar(x, [_mean(row) for row in r["rows"]], yerr=[_std(row) for row in r["rows"]], capsize=3,
           color="C0", alpha=0.8, label=f"ours, test ({doc['config']['seeds']} seeds)")
    ax.plot(x, [_mean(row, "val_acc") for row in r["rows"]], "o", color="C1", label="ours, validation")
    marked = False
    for i, f in enumerate(fams):
      for acc in _pub_acc(dataset, f):
        ax.plot([i - 0.35, i + 0.35], [acc, acc], color="k", lw=1.5, label=None if marked else "published rows")
        marked = True
    ax.set_xticks(x, fams)
    # From 10 points under the lowest bar or published mark: the Fashion-MNIST bars differ by a few points.
    low = min([_mean(row) for row in r["rows"]] + [a for f in fams for a in _pub_acc(dataset, f)])
    ax.set_ylim(max(0, 10 * np.floor((low - 5) / 10)), 100)
    ax.set_title(r["dataset"]["name"])
    ax.set_ylabel("accuracy (%)")
    ax.grid(axis="y", alpha=0.3)
  axes[0][0].legend(loc="upper left", fontsize=8)
  fig.tight_layout()
  return {"architectures.png": fig}


def _drops(plain, shuffled):
  """Per seed, plain minus shuffled test accuracy. The two cells are independent runs, so pairing
  them by seed index gives independent draws of the drop (variance: the sum of the two), which a
  Welch test between two families' drops can use."""
  return [a - b for a, b in zip(plain["test_acc"], shuffled["test_acc"])]


def comparisons(res):
  """The family of comparisons the reading makes, Holm-corrected together: per dataset, every other
  family against the one best on validation; per family, plain against shuffled MNIST-1D; and each
  order-assuming family's drop against each order-free family's. Rows with diverged members enter none."""
  pairs = {}
  sel = _selected(res)
  for dataset, r in res["datasets"].items():
    rows = {row["family"]: row for row in r["rows"] if _finite(row)}
    best = sel[dataset]["best_family"]
    for f, row in rows.items():
      if best is not None and f != best:
        pairs[("best", dataset, f)] = (rows[best]["test_acc"], row["test_acc"])
  if set(SIGNALS) <= set(res["datasets"]):
    plain, shuf = ({row["family"]: row for row in res["datasets"][d]["rows"] if _finite(row)} for d in SIGNALS)
    both = [f for f in plain if f in shuf]
    for f in both:
      pairs[("shuffle", f)] = (plain[f]["test_acc"], shuf[f]["test_acc"])
    for a in (f for f in ORDERED if f in both):
      for b in (f for f in ORDERLESS if f in both):
        pairs[("drop", a, b)] = (_drops(plain[a], shuf[a]), _drops(plain[b], shuf[b]))
  return stats.compare(pairs)


def _selected(res):
  """The selection results.json records, checked against the rows' divergence flags (select() again
  where it names a family that diverged: a reading never builds on a diverged row)."""
  sel = res["selected"]
  rows = {d: {row["family"]: row for row in r["rows"]} for d, r in res["datasets"].items()}
  ok = all(s["best_family"] is None or _finite(rows[d][s["best_family"]]) for d, s in sel.items())
  return sel if ok else select(res["datasets"])


def _why_nothing(res, data):
  """Why a reading has no comparison: every family diverged, or one family trained per dataset."""
  finite = {d: [row["family"] for row in r["rows"] if _finite(row)] for d, r in data.items()}
  if not any(finite.values()):
    return "every family diverged on every dataset"
  trained = {d: [row["family"] for row in r["rows"]] for d, r in data.items()}
  if all(len(v) <= 1 for v in trained.values()):
    return f"one family was trained ({', '.join(sorted({f for v in trained.values() for f in v}))})"
  return "at most one family per dataset stayed finite, the others diverged"


def _published_text(dataset, family):
  return " / ".join(f"{a:g}" for a in _pub_acc(dataset, family)) or "none"


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  data = res["datasets"]
  tests = comparisons(res)
  sel = _selected(res)
  lines = [f"- Comparisons below: Welch's t-test on test accuracy over {cfg['seeds']} seeds, 95% CI, "
           f"{readings.family_text(tests)}. Winners are chosen on validation accuracy." if tests
           else readings.nothing(_why_nothing(res, data))]
  for dataset, r in data.items():
    name = r["dataset"]["name"]
    rows = {row["family"]: row for row in r["rows"]}
    lost = [row for row in r["rows"] if not _finite(row)]
    lines.append(f"- {name}: {protocol.rule(cfg, r['epochs'])} ({cfg['optimizer']}, {_lr_text(r)}, the same for "
                 f"every family). " + protocol.convergence(r["rows"], cfg, r["epochs"]))
    if lost:  # a diverged row is reported as such and enters no comparison
      lines.append("  Diverged (non-finite loss or gradient), left out of every comparison: " + ", ".join(
          f"{row['family']} ({sum(row['diverged'])} of {len(row['diverged'])} seeds)" for row in lost) + ".")
    best = sel[dataset]["best_family"]
    if best is None:
      lines.append(readings.nothing("every family diverged", indent="  "))
      continue
    b = rows[best]
    order = sel[dataset]["by_validation"]
    numbers = f"{_mean(b, 'val_acc'):.1f}% validation, {_mean(b):.1f} ± {_std(b):.1f}% test, lr {b['learning_rate']:g}"
    if len(order) == 1:  # one family: nothing to order or to compare
      lines.append(f"  {best} ({numbers}): " + ("the only family trained." if len(rows) == 1 else
                                                "the only family that stayed finite."))
    else:
      lines.append(f"  Order on validation: {' > '.join(order)}. Best: {best} ({numbers}).")
    against = [(f, tests[("best", dataset, f)]) for f in order if f != best]
    if against:
      lines.append(f"  {best} against each other family on test: " + "; ".join(
          f"{f}: {c.text()}" for f, c in against) + ".")
    lines.append("  Published beside ours (other conditions, see the published table): " + "; ".join(
        f"{f} ours {_mean(row):.1f}, published {_published_text(dataset, f)}"
        for f, row in rows.items() if _finite(row)) + ".")
  shuffle = [(k[1], c) for k, c in tests.items() if k[0] == "shuffle"]
  if shuffle:
    pub = {p.family: p.acc for p in PUBLISHED["mnist1d"] if p.source == PAPER_1D["source"]}
    pub_shuf = {p.family: p.acc for p in PUBLISHED["mnist1d_shuffled"]}
    lines.append("- Shuffling the positions costs (plain minus shuffled, test): " + "; ".join(
        f"{f} {c.text()} (published {pub[f] - pub_shuf[f]:+g})" for f, c in shuffle) + ".")
    drops = [(k[1], k[2], c) for k, c in tests.items() if k[0] == "drop"]
    if drops:
      held = [c.resolved and c.diff > 0 for _, _, c in drops]
      verdict = ("holds at this budget: each of them loses more than each order-free family after correction"
                 if all(held) else f"is not shown at this budget: {sum(held)} of {len(held)} drop-against-drop "
                 "comparisons resolve a larger loss")
      lines.append(f"  That {' and '.join(ORDERED)} owe their lead to the order of the inputs {verdict}. "
                   "Drop against drop: " + "; ".join(f"{a} vs {b}: {c.text()}" for a, b, c in drops) + ".")
  return "\n".join(lines)
