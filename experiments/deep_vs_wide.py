"""Deep-thin vs shallow-fat at the same parameter count (Seide, Li, Yu 2011, as in Hung-yi Lee's "Why deep?").

  make wide                       # full profile: the README's tables
  make wide PROFILE=quick         # a smoke test
  make wide ARGS="--config.width=512"

Every L x N network (L hidden layers of N units) stands beside the
one-hidden-layer network 1 x N' with the same number of parameters, at 28x28
input and at 16x16 (the article's 256 inputs), and in a data-hunger variant:
the 5 x N vs 1 x N' pair trained on 1k, 4k, 16k and all training images.

Expect (full, 5 seeds, ~17 min on 2 CPU cores): on Fashion-MNIST every deep
net and its matched shallow net land within 0.6 points of each other (87-88%)
at both input sizes, the shallow one never behind; on 1k-4k training images the
shallow net leads by about 0.8 points. Nothing like the 5-point WER gap of
speech recognition in 2011.
"""
import math

import matplotlib.pyplot as plt
import ml_collections

from research import config, models, results, stats, train

NAME = "deep_vs_wide"
ALIAS = "wide"
ORDER = 2
TITLE = "Deep vs wide at equal parameter count (Seide et al. 2011 redone on Fashion-MNIST)"

# Seide, Li, Yu 2011 (Switchboard WER %, shared/anchors.md): L x 2k, and 1 x N' of equal size.
SEIDE_DEEP = {1: 24.2, 2: 20.4, 3: 18.4, 4: 17.8, 5: 17.2, 7: 17.1}
SEIDE_SHALLOW = {5: ("1 x 3772", 22.5), 7: ("1 x 4634", 22.6)}


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.model = "mlp"                 # a registered model with depth, width and activation options
  c.width = 256                   # N; Seide used 2048 on speech
  c.depths = [1, 2, 3, 4, 5, 7]
  c.resolutions = [28, 16]        # input side; 16 gives the article's 256 inputs
  c.hunger_depth = 5              # the data-hunger pair: hunger_depth x N vs 1 x N'
  c.hunger_n_train = [1000, 4000, 16000, 0]  # 0 = all
  c.hunger_resolution = 28
  c.min_steps = 1000              # small training sets get more epochs, at least this many steps
  c.activation = "relu"
  c.precision = "fp32"      # or bf16: matrix math in bfloat16, fp32 master weights
  c.optimizer = "adam"
  c.learning_rate = 1e-3
  c.batch_size = 128
  c.epochs = 4
  c.seeds = 5
  c.chunk_epochs = 1
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(width=32, depths=[1, 3], resolutions=[16], hunger_depth=3,
                          hunger_n_train=[500, 2000], hunger_resolution=16, min_steps=30,
                          epochs=2, seeds=2),
            "tiny": dict(dataset="digits", width=16, depths=[1, 2], resolutions=[8], hunger_depth=2,
                         hunger_n_train=[400, 0], hunger_resolution=8, min_steps=20, learning_rate=1e-2,
                         epochs=2, seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "depths", "resolutions")
  config.positive(cfg, "depths", "width", "resolutions", "hunger_depth", "min_steps")
  config.non_negative(cfg, "hunger_n_train")
  config.one_of(cfg, "activation", tuple(models.ACTIVATIONS))
  build(cfg, 10, 1, cfg.width)


def build(cfg, num_classes, depth, width):
  return models.build(cfg.model, num_classes, depth=depth, width=width, activation=cfg.activation)


def matched_width(cfg, params, ds):
  """N' such that 1 x N' has about `params` parameters (for an MLP, N'(inputs + 1 + classes) + classes)."""
  return models.width_for_params(lambda w: build(cfg, ds.num_classes, 1, w), params, ds.shape)


def _resize(ds_shape, resolution):
  return 0 if resolution == ds_shape[0] else resolution


def run(cfg, ctx):
  raw_ds, _ = ctx.data(cfg.dataset)
  native = raw_ds.shape
  seeds = list(range(cfg.seeds))
  hp = [{"learning_rate": cfg.learning_rate}] * len(seeds)
  ctx.plan(len(cfg.resolutions) * (2 * len(cfg.depths) - cfg.depths.count(1)) + 2 * len(cfg.hunger_n_train))

  def train_net(ds, arrays, depth, width, tag, epochs):
    model = build(cfg, ds.num_classes, depth, width)
    trainer = train.make_trainer(models.with_precision(model, cfg.precision), cfg.optimizer, cfg.batch_size)
    spec = dict(model=cfg.model, widths=[width] * depth, activation=cfg.activation, precision=cfg.precision,
                optimizer=cfg.optimizer,
                learning_rate=cfg.learning_rate, batch_size=cfg.batch_size, dataset=ds.describe())
    name = f"{tag}-{depth}x{width}"
    out = ctx.cell(trainer, arrays, name=name, spec=spec, seeds=seeds, hparams=hp, epochs=epochs)
    return dict(shape=f"{depth} x {width}", depth=depth, width=width, epochs=epochs,
                **models.describe(model, ds.shape), **out.summary.numbers())

  def pair(ds, arrays, depth, tag, epochs):
    deep = train_net(ds, arrays, depth, cfg.width, tag, epochs)
    shallow = deep if depth == 1 else train_net(ds, arrays, 1, matched_width(cfg, deep["params"], ds), tag, epochs)
    return dict(depth=depth, deep=deep, shallow=shallow)

  tables = []
  for res in cfg.resolutions:
    ds, arrays = ctx.data(cfg.dataset, resize=_resize(native, res))
    tables.append(dict(resolution=res, dataset=ds.describe(),
                       rows=[pair(ds, arrays, d, f"r{res}", cfg.epochs) for d in cfg.depths]))
  hunger = []
  for n in cfg.hunger_n_train:
    ds, arrays = ctx.data(cfg.dataset, resize=_resize(native, cfg.hunger_resolution), n_train=n)
    steps_per_epoch = max(1, len(ds.y_train) // cfg.batch_size)
    epochs = max(cfg.epochs, math.ceil(cfg.min_steps / steps_per_epoch))
    row = pair(ds, arrays, cfg.hunger_depth, f"n{len(ds.y_train)}", epochs)
    hunger.append(dict(n_train=len(ds.y_train), steps=epochs * steps_per_epoch, **row))
  return dict(tables=tables, hunger=hunger)


def _test_text(cell):
  return stats.mean_sd_text(cell["test_acc"])


def _mean(cell):
  return stats.mean_sd(cell["test_acc"])[0]


def _std(cell):
  return stats.mean_sd(cell["test_acc"])[1]


def table(doc):
  cfg, res = doc["config"], doc["results"]
  out = []
  for t in res["tables"]:
    ds = t["dataset"]
    rows = []
    for r in t["rows"]:
      d, s = r["deep"], r["shallow"]
      seide_s = SEIDE_SHALLOW.get(r["depth"])
      rows.append([d["shape"], results.human(d["params"]), _test_text(d),
                   s["shape"] if r["depth"] > 1 else "(same net)", results.human(s["params"]),
                   _test_text(s) if r["depth"] > 1 else "", f"{_mean(d) - _mean(s):+.1f}" if r["depth"] > 1 else "",
                   SEIDE_DEEP.get(r["depth"], ""), f"{seide_s[0]}: {seide_s[1]}" if seide_s else ""])
    out.append(results.markdown_table(
        ["deep L x N", "params", "test acc", "shallow 1 x N'", "params", "test acc", "deep − shallow",
         "Seide WER L x 2k", "Seide WER 1 x N'"], rows,
        f"**Deep vs shallow at equal parameters, {t['resolution']}x{t['resolution']} input "
        f"({math.prod(ds['shape'])} inputs, 10 outputs).** Test accuracy (%) on {ds['name']} "
        f"({ds['n_train']} train / {ds['n_test']} test), mean ± std over {cfg['seeds']} seeds, "
        f"{cfg['epochs']} epochs of {cfg['optimizer']} (lr {cfg['learning_rate']:g}, batch {cfg['batch_size']}). "
        "Published: Seide et al. 2011 word error rates (%, lower is better) on Switchboard speech with N = 2k, "
        "a different task and scale, shown for the shape of the comparison."))
  rows = [[h["n_train"], h["steps"], h["deep"]["shape"], _test_text(h["deep"]), h["shallow"]["shape"], _test_text(h["shallow"]),
           f"{_mean(h['deep']) - _mean(h['shallow']):+.1f}"] for h in res["hunger"]]
  out.append(results.markdown_table(
      ["n_train", "steps", "deep", "test acc", "shallow", "test acc", "deep − shallow"], rows,
      f"**Data hunger: the {cfg['hunger_depth']} x {cfg['width']} net vs its equal-size 1 x N' on growing "
      f"training sets** ({cfg['hunger_resolution']}x{cfg['hunger_resolution']} input; mean ± std over "
      f"{cfg['seeds']} seeds; at least {cfg['epochs']} epochs and {cfg['min_steps']} steps each). "
      "Lee's lecture: with fewer examples the shallow net should collapse first."))
  return "\n".join(out)


def plots(doc):
  res = doc["results"]
  fig, axes = plt.subplots(1, len(res["tables"]) + 1, figsize=(5 * (len(res["tables"]) + 1), 4))
  for ax, t in zip(axes, res["tables"]):
    for key, label, color in (("deep", "deep L x N", "C0"), ("shallow", "shallow 1 x N' (same params)", "C1")):
      p = [r[key]["params"] for r in t["rows"]]
      ax.errorbar(p, [_mean(r[key]) for r in t["rows"]], yerr=[_std(r[key]) for r in t["rows"]],
                  marker="o", capsize=3, color=color, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{t['resolution']}x{t['resolution']} input")
    ax.grid(alpha=0.3)
    ax.legend()
  ax = axes[-1]
  for key, color in (("deep", "C0"), ("shallow", "C1")):
    h = res["hunger"]
    ax.errorbar([x["n_train"] for x in h], [_mean(x[key]) for x in h], yerr=[_std(x[key]) for x in h],
                marker="o", capsize=3, color=color, label=f"{key}: {h[0][key]['shape']}")
  ax.set_xscale("log")
  ax.set_xlabel("training examples")
  ax.set_ylabel("test accuracy (%)")
  ax.set_title("data hunger")
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  return {"deep_vs_wide.png": fig}


def _verdict(row):
  lost = [k for k in ("deep", "shallow") if stats.diverged(row[k]["test_acc"])]
  if lost:  # never a number or a tie
    return " and ".join(f"{k} diverged ({stats.diverged(row[k]['test_acc'])} of {len(row[k]['test_acc'])})"
                        for k in lost)
  if not stats.separated(row["deep"]["test_acc"], row["shallow"]["test_acc"]):
    return "tie"
  return "deep ahead" if _mean(row["deep"]) > _mean(row["shallow"]) else "shallow ahead"


def reading(doc):
  res = doc["results"]
  lines = []
  for t in res["tables"]:
    pairs = [r for r in t["rows"] if r["depth"] > 1]
    if not pairs:
      continue
    verdicts = [_verdict(r) for r in pairs]
    lines.append(f"- {t['resolution']}x{t['resolution']} input: " + "; ".join(
        f"{r['deep']['shape']} vs {r['shallow']['shape']}: "
        + (v if "diverged" in v else f"{_mean(r['deep']) - _mean(r['shallow']):+.1f} ({v})")
        for r, v in zip(pairs, verdicts)) + f". Deep ahead in {verdicts.count('deep ahead')}, shallow ahead in "
        f"{verdicts.count('shallow ahead')}, ties in {verdicts.count('tie')} of {len(pairs)} pairs"
        + (f", diverged in {sum('diverged' in v for v in verdicts)}" if any('diverged' in v for v in verdicts)
           else "") + " "
        "(ahead: more than two standard errors of the difference).")
    best = max(t["rows"], key=lambda r: _mean(r["deep"]))
    first = t["rows"][0]
    lines.append(f"  Going deeper at fixed N: {first['deep']['shape']} {_mean(first['deep']):.1f}% → best "
                 f"{best['deep']['shape']} {_mean(best['deep']):.1f}%. Seide's speech nets gained "
                 f"{SEIDE_DEEP[1] - SEIDE_DEEP[7]:.1f} WER points from 1 to 7 layers and kept a lead of "
                 f"{min(w - SEIDE_DEEP[d] for d, (_, w) in SEIDE_SHALLOW.items()):.1f} points or more over the "
                 "matched shallow nets.")
  h = res["hunger"]
  if h:
    gaps = [f"n={x['n_train']}: {_mean(x['deep']) - _mean(x['shallow']):+.1f}" for x in h]
    lines.append(f"- Data hunger ({h[0]['deep']['shape']} minus {h[0]['shallow']['shape']}, points): "
                 + ", ".join(gaps) + ". "
                 + ("The deep net's lead is largest on the smallest set, as the lecture claims."
                    if h and (_mean(h[0]["deep"]) - _mean(h[0]["shallow"])) == max(_mean(x["deep"]) - _mean(x["shallow"]) for x in h)
                    and _mean(h[0]["deep"]) > _mean(h[0]["shallow"])
                    else "The shallow net does not collapse first on small sets here: the lecture's claim does not show on this data."))
  return "\n".join(lines)
