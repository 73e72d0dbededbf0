"""Does deep learning need big data? Test accuracy vs training-set size, shallow vs deep vs CNN.

  make data_hunger                  # full profile, about 4 minutes on 2 CPU cores
  make data_hunger PROFILE=quick    # two sizes, 2 seeds: a smoke test
  make data_hunger ARGS="--config.sizes=[250,1000,4000]"

Fashion-MNIST at 16x16 (the article's 256 inputs; a CNN on 28x28 costs too much CPU time for 5 sizes
x 5 seeds), training sets of 500, 2k, 8k, 32k and all 60k images (stratified subsets), four models:
logistic regression, a shallow MLP (one hidden layer of 320) and a deep one (four of 128) with about
the same number of parameters (~85K), and a small CNN (33K). Every model gets the same number of
gradient steps (~1000) at every size, so a small set is seen many times and only the amount of data
differs. The test set is always the full 10k.

Expect (full, measured): at 500 images all four within ~1.3 points (77-78%); at 60k the MLPs at
~86%, the small CNN ~85%, logistic regression 81%. Depth at equal parameter count never pays beyond
the seed noise; what grows with the data is the lead of the non-linear models over the linear one
(from under 1 to ~5 points). The reading measures where each gap first exceeds the noise.
"""
import jax.numpy as jnp
import matplotlib.pyplot as plt
import ml_collections

from research import config, models, results, stats, train

NAME = "data_hunger"
ORDER = 7
TITLE = "Data hunger: test accuracy vs training-set size for logistic, shallow MLP, deep MLP and CNN"

def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.resize = 16
  c.sizes = [500, 2000, 8000, 32000, 0]   # 0 = all
  # The contenders: a registered model and its options each; `models` picks which run, in order.
  c.contenders = ml_collections.ConfigDict(dict(
      logistic=dict(model="logistic"),
      shallow=dict(model="mlp", depth=1, width=320),   # 1 x 320: 86K parameters at 256 inputs
      deep=dict(model="mlp", depth=4, width=128),      # 4 x 128: 84K parameters
      cnn=dict(model="cnn", channels=[6, 16], kernel=3, padding="SAME", pool=2, dense=[120])))
  c.models = ["logistic", "shallow", "deep", "cnn"]
  # Every run: `epochs` epochs of about `epoch_rows` rows (a small set is repeated a whole number of
  # times), so about the same number of gradient steps at every size: 2 x 500 = 1000 of batch 128.
  c.epochs = 2
  c.epoch_rows = 64000
  c.optimizer = "adam"
  c.learning_rate = 1e-3
  c.batch_size = 128
  c.seeds = 5
  c.chunk_epochs = 1
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(sizes=[500, 2000], epochs=1, epoch_rows=2000, seeds=2),
            "tiny": dict(dataset="digits", resize=0, sizes=[200, 0], epochs=1, epoch_rows=1400,
                         learning_rate=1e-2, seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "sizes", "models")
  config.non_negative(cfg, "sizes")
  config.positive(cfg, "epoch_rows")
  for m in cfg.models:
    config.require(m in cfg.contenders, f"config models: '{m}' is not a contender; valid: {', '.join(cfg.contenders)}")
    config.require("model" in cfg.contenders[m], f"config contenders.{m}: needs a model (a name in models.MODELS)")
    build(cfg, m, 10)
  for n in cfg.sizes:
    config.require(n == 0 or n >= cfg.batch_size,
                   f"config sizes: {n} is smaller than batch_size={cfg.batch_size}")


def build(cfg, contender, num_classes):
  """(model, label) of a contender: its registered model with its options."""
  options = cfg.contenders[contender].to_dict()
  name = options.pop("model")
  return models.build(name, num_classes, **options), models.label(name, options)


def repeat(arrays, rows):
  """The training set repeated a whole number of times to about `rows` examples: one 'epoch' then
  holds many passes, so a small set does not pay a full test-set evaluation per pass."""
  n = arrays["y_train"].shape[0]
  t = max(1, rows // n)
  if t == 1:
    return arrays, 1
  tiled = dict(arrays)
  for k in ("x_train", "y_train"):
    tiled[k] = jnp.tile(arrays[k], (t,) + (1,) * (arrays[k].ndim - 1))
  return tiled, t


def run(cfg, ctx):
  seeds = list(range(cfg.seeds))
  ctx.plan(len(cfg.sizes) * len(cfg.models))
  rows = []
  full = None
  for n in cfg.sizes:
    ds, arrays = ctx.data(cfg.dataset, resize=cfg.resize, n_train=n)  # resized once per process
    arrays, reps = repeat(arrays, cfg.epoch_rows)
    steps_per_epoch = arrays["y_train"].shape[0] // cfg.batch_size
    for name in cfg.models:
      model, label = build(cfg, name, ds.num_classes)
      trainer = train.make_trainer(model, cfg.optimizer, cfg.batch_size)
      spec = dict(model=name, label=label, optimizer=cfg.optimizer, learning_rate=cfg.learning_rate,
                  batch_size=cfg.batch_size, dataset=ds.describe(), repeats=reps)
      out = ctx.cell(trainer, arrays, name=f"n{len(ds.y_train)}-{name}", spec=spec, seeds=seeds,
                     hparams=[{"learning_rate": cfg.learning_rate}] * len(seeds))
      rows.append(dict(n_train=len(ds.y_train), model=name, label=label, steps=cfg.epochs * steps_per_epoch,
                       passes=cfg.epochs * steps_per_epoch * cfg.batch_size / len(ds.y_train),
                       test_acc=out.summary.final("test_acc"), train_acc=out.summary.final("train_acc"),
                       s_per_model=out.summary.timing.s_per_model,
                       **models.describe(model, ds.shape)))
    full = ds.describe()
  return dict(dataset=full, rows=rows)


def _test_mean(row):
  return stats.mean_sd(row["test_acc"])[0]


def _std(row):
  return stats.mean_sd(row["test_acc"])[1]


def _get(res, n, model):
  return next((r for r in res["rows"] if r["n_train"] == n and r["model"] == model), None)


def _sizes(res):
  return sorted({r["n_train"] for r in res["rows"]})


def _names(res):
  """The contenders in the results, in the order they ran."""
  return list(dict.fromkeys(r["model"] for r in res["rows"]))


def table(doc):
  cfg, res = doc["config"], doc["results"]
  names = _names(res)
  labels = {m: next(r["label"] for r in res["rows"] if r["model"] == m) for m in names}
  params = {m: results.human(next(r["params"] for r in res["rows"] if r["model"] == m)) for m in names}
  header = ["n train", "steps", "passes over the set"] + [f"{labels[m]} ({params[m]})" for m in names]
  rows = []
  for n in _sizes(res):
    first = _get(res, n, names[0])
    rows.append([f"{n:,}", first["steps"], f"{first['passes']:.0f}"] +
                [stats.mean_sd_text(_get(res, n, m)["test_acc"]) for m in names])
  ds = res["dataset"]
  caption = (f"**Data hunger.** Test accuracy (%) on the full {ds['n_test']}-image {ds['name']} test set, "
             f"inputs resized to {'x'.join(map(str, ds['shape']))}, vs the number of training images "
             f"(stratified subsets, the same subset for every model and seed), mean ± std over {cfg['seeds']} seeds "
             f"(initialization and batch order). Every run takes about the same number of steps (column) of {cfg['optimizer']} "
             f"(lr {cfg['learning_rate']:g}, batch {cfg['batch_size']}); parameters in brackets. Published "
             "reference (qualitative, no table): the \"paper cutting\" example of Hung-yi Lee's \"Why deep?\" "
             "lecture, in which a deep net degrades more gracefully than a shallow one of the same size when "
             "the data shrinks (deep nets need less data), against the popular \"deep learning needs big data\".")
  return results.markdown_table(header, rows, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  fig, ax = plt.subplots(figsize=(6, 4))
  for i, m in enumerate(_names(res)):
    rows = [_get(res, n, m) for n in _sizes(res)]
    ax.errorbar([r["n_train"] for r in rows], [_test_mean(r) for r in rows], yerr=[_std(r) for r in rows],
                marker="o", capsize=3, color=f"C{i}", label=f"{rows[0]['label']} ({results.human(rows[0]['params'])})")
  ax.set_xscale("log")
  ax.set_xlabel("training images")
  ax.set_ylabel("test accuracy (%)")
  ax.set_title(f"{res['dataset']['name']} {'x'.join(map(str, res['dataset']['shape'][:2]))}, "
               f"~{res['rows'][0]['steps']} steps, {cfg['seeds']} seeds")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  return {"accuracy_vs_data.png": fig}


def _pays(res, a, b):
  """Sizes where model a beats model b by more than twice the larger of their seed std's."""
  out = []
  for n in _sizes(res):
    ra, rb = _get(res, n, a), _get(res, n, b)
    if ra and rb and _test_mean(ra) - _test_mean(rb) > 2 * max(_std(ra), _std(rb), 0.05):
      out.append(n)
  return out


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  sizes = _sizes(res)
  names = _names(res)
  lines = []
  for n in (sizes[0], sizes[-1]):
    accs = {m: _test_mean(_get(res, n, m)) for m in names}
    best = max(accs, key=accs.get)
    lines.append(f"- {n:,} training images: " + ", ".join(f"{m} {a:.1f}%" for m, a in accs.items()) +
                 f"; best {best}, spread {max(accs.values()) - min(accs.values()):.1f} points ({cfg['seeds']} seeds).")
  for a, b, what in (("deep", "shallow", "Depth (same parameter count)"), ("cnn", "deep", "Convolution over the deep MLP"),
                     ("deep", "logistic", "The deep MLP over the linear model")):
    if a in names and b in names:
      wins = _pays(res, a, b)
      loses = _pays(res, b, a)
      gaps = ", ".join(f"{_test_mean(_get(res, n, a)) - _test_mean(_get(res, n, b)):+.1f}" for n in sizes)
      text = (f"pays from {wins[0]:,} images on" if wins and wins == [n for n in sizes if n >= wins[0]]
              else f"pays at {', '.join(f'{n:,}' for n in wins)} images" if wins else "never pays beyond the noise")
      lines.append(f"- {what} {text} (gaps {gaps} points at {', '.join(f'{n:,}' for n in sizes)})"
                   + (f"; it is worse at {', '.join(f'{n:,}' for n in loses)}." if loses else "."))
  if "deep" in names and "shallow" in names:
    small, large = sizes[0], sizes[-1]
    d = lambda n: _test_mean(_get(res, n, "deep")) - _test_mean(_get(res, n, "shallow"))
    drop = lambda m: _test_mean(_get(res, large, m)) - _test_mean(_get(res, small, m))
    lines.append(f"- From {large:,} down to {small:,} images the shallow MLP loses {drop('shallow'):.1f} points and "
                 f"the deep one {drop('deep'):.1f}. The lecture's claim (the deep net degrades more gracefully) "
                 + ("holds here." if drop("deep") < drop("shallow") - 2 * max(_std(_get(res, small, "deep")),
                                                                              _std(_get(res, small, "shallow")), 0.05)
                    else "does not show beyond the noise here.")
                 + f" Deep minus shallow: {d(small):+.1f} points at {small:,}, {d(large):+.1f} at {large:,}.")
  nonlinear = [m for m in ("shallow", "deep", "cnn") if m in names]
  if "logistic" in names and nonlinear:
    small, large = sizes[0], sizes[-1]
    lead = lambda n: max(_test_mean(_get(res, n, m)) for m in nonlinear) - _test_mean(_get(res, n, "logistic"))
    lines.append(f"- \"Deep learning needs big data\", read as \"the gain of a non-linear model over a linear one "
                 f"grows with the data\": the best non-linear model leads logistic regression by {lead(small):+.1f} "
                 f"points at {small:,} images and {lead(large):+.1f} at {large:,}"
                 + (" (the claim holds in that sense)." if lead(large) > lead(small) + 1 else " (the claim does not show)."))
  if "cnn" in names and not _pays(res, "cnn", "deep") and not _pays(res, "cnn", "shallow"):
    lines.append(f"- The small CNN never beats the MLPs here: at {res['dataset']['shape'][0]}x"
                 f"{res['dataset']['shape'][1]} pixels and this short training it has no edge (see the architectures "
                 "experiment for LeNet-5 at full resolution).")
  return "\n".join(lines)
