"""Which architecture for which data? Logistic regression, MLP, CNN and GRU side by side.

  make architectures                  # full profile: at most ~33 minutes on 2 CPU cores (estimate below)
  make architectures PROFILE=quick    # MNIST-1D only, 1000 signals, 2 seeds: a smoke test (~1.5 minutes)
  make architectures ARGS="--config.fashion_mnist.n_train=0"   # all 55,000 images: ~5x the Fashion-MNIST time

Three datasets, the same four families:
  - MNIST-1D (4000 train / 1000 test signals of length 40), the paper's models: logistic, MLP 2x100,
    CNN (3 convs, 25 channels), bidirectional GRU (6 units);
  - MNIST-1D with its 40 positions shuffled by one fixed permutation: the CNN's and GRU's built-in
    assumption (nearby positions belong together) becomes false, the MLP's never held;
  - Fashion-MNIST: logistic, MLP 256-256, LeNet-5, GRU reading rows.

Every family of a table is trained by the same rule (research/report/protocol.py): up to the maximum
epochs, stopped after `patience` epochs without a better validation accuracy, the best validation
epoch's parameters reported, and the learning rate chosen on validation from the same grid. The
winner of each table is the family best on validation; test accuracy is only reported, with
Welch's t-test and Holm's correction over every comparison of the reading. Published rows stand
beside ours in a table of their own, each with its dataset, budget (epochs) and augmentation.

Expect (full, 5 seeds x 2 learning rates; 21 min on 2 CPU cores, 2026-11-29, the machine shared
for part of it): MNIST-1D CNN 90.1%, GRU 84.9% (CNN vs GRU not resolved at 5 seeds), MLP 61.5%,
logistic 31.3%; shuffled positions cost the CNN and GRU about 32 points each and the order-free
families nothing resolved (published: 38 and 34); Fashion-MNIST on 10,000 images LeNet-5 86.5%,
MLP 85.9% (not resolved), GRU 85.6%, logistic 82.9%. Every member stopped by the rule; best
epochs 4-32.

Budget (full profile, measured on 2 shared CPU cores in CPU seconds, members one after another):
one member-epoch costs on MNIST-1D about 0.13 s for all four families together (CNN 0.033, GRU
0.085); on Fashion-MNIST with 10,000 training and 5,000 validation images about 4.5 s (LeNet-5 2.8,
GRU 1.4, MLP 0.23). Worst case, every member running to the maximum: 2 x 10 members x 150 epochs x
0.13 s = 390 s for MNIST-1D, 10 x 30 x 4.5 s = 1335 s for Fashion-MNIST, ~4 minutes of compiling and
evaluation: ~33 minutes. Members stopped by patience skip their remaining epochs, so a run is
usually shorter. All 55,000 images would cost ~5x as much per epoch, hence the subset, the same
for every family, as the Fashion-MNIST caption says.
"""
from typing import NamedTuple

import matplotlib.pyplot as plt
import ml_collections
import numpy as np

from research.cli import config
from research.system import limits, results
from research import models
from research.report import protocol, readings, stats

NAME = "architectures"
ORDER = 4
TITLE = ("Architectures: logistic, MLP, CNN and GRU on MNIST-1D (plain, shuffled) and Fashion-MNIST, "
         "each trained to convergence on validation")

FAMILIES = ("logistic", "mlp", "cnn", "gru")
SIGNALS = ("mnist1d", "mnist1d_shuffled")
DATASETS = SIGNALS + ("fashion_mnist",)
# The families whose models assume that neighbouring positions belong together, and those that do not.
ORDERED, ORDERLESS = ("cnn", "gru"), ("logistic", "mlp")


class Published(NamedTuple):
  """One published number and the conditions it was obtained under: rows under other conditions
  are not one anchor (Fashion-MNIST's 2-conv nets without augmentation span 87.6 to 91.6, the
  latter after more than 300 epochs)."""
  family: str
  model: str
  acc: float          # test accuracy, %
  data: str
  epochs: str         # the training budget as the source states it
  augmentation: str
  source: str


_PAPER_1D = dict(data="MNIST-1D, 4000 train / 1000 test",
                 epochs="150 epochs (6000 steps of Adam, lr 0.01, batch 100)", augmentation="none",
                 source="Greydanus and Kobak, paper")
_NOTEBOOK_1D = dict(data="MNIST-1D, 4000 train / 1000 test", epochs="not stated", augmentation="none",
                    source="Greydanus and Kobak, repository notebook")
_SHUFFLED_1D = dict(_PAPER_1D, data="MNIST-1D shuffled positions, 4000 train / 1000 test")
_XIAO = dict(data="Fashion-MNIST, 60,000 train / 10,000 test", epochs="not stated (scikit-learn)",
             augmentation="none", source="Xiao et al. 2017, mean of 5 runs")
_LIST = dict(data="Fashion-MNIST, 60,000 train / 10,000 test", epochs="not stated", augmentation="none",
             source="Fashion-MNIST benchmark list (submitted, not re-tested)")

PUBLISHED = {
    "mnist1d": [
        Published("logistic", "logistic regression", 32, **_PAPER_1D),
        Published("mlp", "MLP 2x100", 68, **_PAPER_1D),
        Published("cnn", "CNN 3 conv x 25", 94, **_PAPER_1D),
        Published("gru", "GRU bidirectional 6", 91, **_PAPER_1D),
        Published("logistic", "linear", 31.5, **_NOTEBOOK_1D),
        Published("mlp", "MLP 2x100", 65.1, **_NOTEBOOK_1D),
        Published("cnn", "CNN 3 conv x 25 (5.2K params)", 92.3, **_NOTEBOOK_1D),
        Published("gru", "GRU bidirectional 6", 89.1, **_NOTEBOOK_1D),
    ],
    "mnist1d_shuffled": [
        Published("logistic", "logistic regression", 32, **_SHUFFLED_1D),
        Published("mlp", "MLP 2x100", 68, **_SHUFFLED_1D),
        Published("cnn", "CNN 3 conv x 25", 56, **_SHUFFLED_1D),
        Published("gru", "GRU bidirectional 6", 57, **_SHUFFLED_1D),
    ],
    "fashion_mnist": [
        Published("logistic", "LogisticRegression (scikit-learn)", 84.2, **_XIAO),
        Published("mlp", "MLPClassifier relu [100] (scikit-learn)", 87.1, **_XIAO),
        Published("mlp", "MLP 256-128-100", 88.3, **_LIST),
        Published("cnn", "2 conv + pooling (Keras)", 87.6, **_LIST),
        Published("cnn", "2 conv + pooling (TensorFlow tutorial)", 91.6, **dict(_LIST, epochs="> 300 epochs")),
        Published("cnn", "3 conv + pooling + BN", 90.3, **_LIST),
        Published("gru", "GRU + SVM", 88.8, **_LIST),
        Published("gru", "GRU + SVM with dropout", 89.7, **_LIST),
    ],
}
# How our setting differs from the published rows', per dataset: the caption of their table.
DIFFERS = {
    "mnist1d": "ours hold out a validation split of the 4000 training signals and stop by the rule "
               "instead of training a fixed 150 epochs",
    "mnist1d_shuffled": "ours hold out a validation split of the 4000 training signals and stop by the rule "
                        "instead of training a fixed 150 epochs",
    "fashion_mnist": "other architectures and recipes than ours (LeNet-5, a GRU reading rows); ours may train "
                     "on a subset of the training images (see the table above) and stop by the rule",
}


def get_config():
  c = ml_collections.ConfigDict()
  c.datasets = list(DATASETS)
  c.families = list(FAMILIES)
  c.optimizer = "adam"
  c.seeds = 5
  # The stopping rule and schedule every contender of every table gets. Constant: the MNIST-1D
  # paper's Adam runs at a constant rate; a cosine schedule would go to every family alike.
  c.patience = 5
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  # MNIST-1D, plain and shuffled: the paper's Adam and batch 100; its budget (150 epochs) is the
  # maximum, patience ends members earlier. 333 of the 4000 training signals are the validation split.
  c.epochs = 150
  c.val_size = 333
  c.n_train = 0             # 0 = all 3667 left after the validation split
  c.batch_size = 100
  c.learning_rates = [3e-3, 1e-2]  # each family takes the value best on validation; 1e-2 is the paper's
  # The paper's four models (registered name and options), for MNIST-1D plain and shuffled alike.
  c.models = ml_collections.ConfigDict(dict(
      logistic=dict(model="logistic"), mlp=dict(model="mlp", depth=2, width=100),
      cnn=dict(model="mnist1d_cnn"), gru=dict(model="mnist1d_gru")))
  # Fashion-MNIST: the same rule (patience, schedule) and one grid for every family. On 2 CPU cores
  # an epoch of LeNet-5 costs ~12x one of the MLP and the GRU's ~6x (measured), so every family
  # trains on the same stratified 10,000 of the 55,000 training images: the budget cuts the data
  # for all alike rather than the epochs of some (see the module docstring for the estimate).
  c.fashion_mnist = ml_collections.ConfigDict(dict(
      epochs=30, val_size=5000, n_train=10000, batch_size=128, learning_rates=[1e-3, 3e-3],
      models=dict(logistic=dict(model="logistic"), mlp=dict(model="mlp", depth=2, width=256),
                  cnn=dict(model="lenet5"), gru=dict(model="gru", hidden=64))))
  # Members one after another: on 2 CPU cores a batched (vmapped) LeNet-5 epoch costs 1.7x and a
  # GRU's 1.25x the sum of single runs (measured), and a member stopped by patience costs nothing
  # while its cellmates train; the small MNIST-1D models cost the same either way.
  c.layout = "map"
  c.chunk_epochs = 1        # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": {"datasets": list(SIGNALS), "seeds": 2, "epochs": 15, "patience": 3, "n_train": 1000,
                      "val_size": 333, "fashion_mnist.n_train": 2000, "fashion_mnist.val_size": 1000,
                      "fashion_mnist.epochs": 4},
            "tiny": {"datasets": ["mnist1d"], "seeds": 2, "epochs": 3, "patience": 2, "n_train": 1000,
                     "val_size": 200}}


def validate(cfg):
  config.nonempty(cfg, "datasets", "families", "learning_rates")
  for d in cfg.datasets:
    config.require(d in DATASETS, f"config datasets: '{d}' is not one of {', '.join(DATASETS)}")
  for f in cfg.families:
    config.require(f in FAMILIES, f"config families: '{f}' is not one of {', '.join(FAMILIES)}")
  fm = cfg.fashion_mnist
  for k in ("epochs", "batch_size", "val_size"):
    config.require(fm[k] > 0, f"config fashion_mnist.{k}={fm[k]!r}: must be > 0")
  config.require(fm.n_train >= 0, "config fashion_mnist.n_train: must be >= 0 (0 = all)")
  config.require(len(fm.learning_rates) > 0 and all(v > 0 for v in fm.learning_rates),
                 f"config fashion_mnist.learning_rates={list(fm.learning_rates)!r}: needs values > 0")
  config.require(len(set(fm.learning_rates)) == len(fm.learning_rates),
                 f"config fashion_mnist.learning_rates={list(fm.learning_rates)!r}: a value twice")
  config.require(cfg.warmup_epochs < fm.epochs, f"config warmup_epochs={cfg.warmup_epochs}: must be under "
                 f"fashion_mnist.epochs={fm.epochs}")
  if fm.n_train:
    config.require(fm.batch_size <= fm.n_train, f"config fashion_mnist.batch_size={fm.batch_size} is larger "
                   f"than fashion_mnist.n_train={fm.n_train}")
  limits.check_history_fits(cfg.seeds * len(fm.learning_rates), fm.epochs,
                            f"config seeds={cfg.seeds}, fashion_mnist.epochs={fm.epochs}")
  for where, recipe in (("models", cfg), ("fashion_mnist.models", fm)):
    for f in cfg.families:
      config.require(f in recipe.models and "model" in recipe.models[f],
                     f"config {where}.{f}: needs a model (a name in models.MODELS) and its options")
      build(f, recipe, 10)


def recipe(cfg, dataset):
  """The keys a dataset's table is trained by: the top level for MNIST-1D, fashion_mnist.* for it."""
  return cfg if dataset in SIGNALS else cfg.fashion_mnist


def build(family, recipe, num_classes, **extra):
  """(model, label) of a family: the registered model and options of recipe.models[family]."""
  options = recipe.models[family].to_dict()
  name = options.pop("model")
  return models.build(name, num_classes, **options, **extra), models.label(name, options)


def cost(family, recipe, num_classes, shape):
  """Parameters and forward FLOPs per example; a recurrent model's FLOPs on its unrolled twin, because
  XLA's cost analysis counts the body of a compiled loop once, not once per time step."""
  name = recipe.models[family].model
  model, _ = build(family, recipe, num_classes, **({"unroll": True} if "unroll" in models.options(name) else {}))
  return models.describe(model, shape)


def run(cfg, ctx):
  ctx.plan(len(cfg.datasets) * len(cfg.families))
  out = {}
  for dataset in cfg.datasets:
    r = recipe(cfg, dataset)
    ds, arrays = ctx.data(dataset, n_train=r.n_train, val_size=r.val_size)
    # Every family of the table: the same seeds, the same grid, the same stopping rule.
    seeds, hparams = protocol.grid(r.learning_rates, range(cfg.seeds))
    rows = []
    for family in cfg.families:
      model, label = build(family, r, ds.num_classes)
      trainer = ctx.trainer(model, optimizer=cfg.optimizer, batch_size=r.batch_size, epochs=r.epochs)
      spec = dict(family=family, model=label, dataset=ds.describe(), optimizer=cfg.optimizer,
                  batch_size=r.batch_size)
      res = ctx.cell(trainer, arrays, name=f"{dataset}-{family}", spec=spec, seeds=seeds, hparams=hparams,
                     epochs=r.epochs)
      rows.append(dict(family=family, model=label, **cost(family, r, ds.num_classes, ds.shape),
                       **protocol.tuned(res.summary)))
    out[dataset] = dict(dataset=ds.describe(), epochs=r.epochs, learning_rates=list(r.learning_rates),
                        batch_size=r.batch_size, rows=rows)
  return dict(datasets=out, selected=select(out))


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
  return "\n".join(parts)


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
    pub = {p.family: p.acc for p in PUBLISHED["mnist1d"] if p.source == _PAPER_1D["source"]}
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
