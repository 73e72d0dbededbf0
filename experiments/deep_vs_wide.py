"""Deep-thin vs shallow-fat at the same parameter count (Seide, Li, Yu 2011, as in Hung-yi Lee's "Why deep?").

  make wide                       # full profile: the README's tables
  make wide PROFILE=quick         # a smoke test, under a minute on 2 CPU cores
  make wide ARGS="--config.resolutions=[28,16]"   # also at the article's 256 inputs
  make wide ARGS="--config.hunger_depth=5"        # a fixed data-hunger depth instead of the validation pick

Every L x N network (L hidden layers of N units) stands beside the
one-hidden-layer network 1 x N' with the same number of parameters, and a
data-hunger variant trains one such pair on 1k, 4k, 16k and all training
images. Every contender, deep or shallow, gets the same stopping rule (patience
on a 5,000-image validation split carved from the training set) and the same
learning-rate grid, its learning rate chosen on validation; each member is
evaluated once on the test set at its best validation epoch. The data-hunger
depth is the deep net best on validation (unless the config fixes one).

Expect (full, 3 seeds x 2 learning rates; 24 min on 2 CPU cores, 2026-11-29, the machine partly
shared): one hidden layer of 256 is the best deep net on validation (90.1% val, 88.9% test); at
equal parameters the shallow net is ahead at 2 x 256 vs 1 x 339 (-0.4 points, Holm p = 0.04) and
not resolved at 5 and 7 layers; in the data-hunger rows (2 x 256 vs 1 x 339, 1k to 55k images)
nothing is resolved below 55k, so no evidence for or against the lecture's "shallow collapses
first". Best epochs 8-26; 2 of 21 members still improving at the 30-epoch maximum.
"""
import math

import matplotlib.pyplot as plt
import ml_collections

from research.cli import config
from research import models
from research.report import protocol, readings, stats
from research.system import results
from research.report.depth_verdicts import DepthPair

NAME = "deep_vs_wide"
ALIAS = "wide"
ORDER = 2
TITLE = "Deep vs wide at equal parameter count (Seide et al. 2011 redone on Fashion-MNIST)"

# Seide, Li, Yu 2011 (shared/anchors.md): word error rate (%) on Switchboard speech, L x 2k and
# 1 x N' of equal size, as quoted in Lee's lecture.
SEIDE_DEEP = {1: 24.2, 2: 20.4, 3: 18.4, 4: 17.8, 5: 17.2, 7: 17.1}
SEIDE_SHALLOW = {5: ("1 x 3772", 22.5), 7: ("1 x 4634", 22.6)}
SEIDE_SETTING = ("Seide et al. 2011: word error rates (%, lower is better) of DNN-HMM recognisers on "
                 "Switchboard conversational speech (309 h of training speech, Hub5'00 test set), N = 2k, "
                 "no data augmentation, trained by their own schedule: a different task, scale and budget, "
                 "shown for the shape of the comparison")


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.val_size = 5000               # carved from the 60,000 training images; every choice reads it
  c.model = "mlp"                 # a registered model with depth, width and activation options
  c.width = 256                   # N; Seide used 2048 on speech
  c.depths = [1, 2, 5, 7]         # 3 and 4 left out of the full run for time (~4 min each); 5 and 7
                                  # are the depths Seide matched with shallow nets
  c.resolutions = [28]            # input side; 16 gives the article's 256 inputs (~18 min more)
  c.n_train = 0                   # the tables' training set; 0 = all 55,000 left after the validation split
  # The data-hunger pair: hunger_depth x N vs 1 x N'. 0: the depth (> 1) whose deep net has the best
  # validation accuracy at hunger_resolution, which must then be one of the resolutions.
  c.hunger_depth = 0
  c.hunger_n_train = [1000, 4000, 16000, 0]  # 0 = all 55,000 left after the validation split
  c.hunger_resolution = 28
  # Small training sets get a larger maximum: at least this many steps (patience still stops them).
  c.min_steps = 1000
  c.activation = "relu"
  c.precision = "fp32"      # or bf16: matrix math in bfloat16, fp32 master weights
  c.optimizer = "adam"
  # One grid for every contender; each takes the value best on validation. In a trial (2 x 256 and
  # 1 x 502 at 16x16) 3e-3 lost about half a point of validation accuracy to both of these.
  c.learning_rates = [3e-4, 1e-3]
  c.batch_size = 128
  c.epochs = 30             # the maximum; patience ends a member earlier (the trial's best epochs: 12-27)
  c.patience = 5
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.seeds = 3
  c.chunk_epochs = 1        # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(val_size=1000, n_train=4000, width=32, depths=[1, 3], resolutions=[16],
                          hunger_n_train=[500, 2000], hunger_resolution=16, min_steps=30, epochs=4, patience=2,
                          seeds=2),
            "tiny": dict(dataset="digits", val_size=150, width=16, depths=[1, 2], resolutions=[8],
                         hunger_n_train=[400, 0], hunger_resolution=8, min_steps=20, learning_rates=[3e-3, 1e-2],
                         epochs=4, patience=2, seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "depths", "resolutions", "learning_rates")
  config.positive(cfg, "depths", "width", "resolutions", "min_steps", "learning_rates")
  config.non_negative(cfg, "n_train", "hunger_n_train", "hunger_depth")
  config.one_of(cfg, "activation", tuple(models.ACTIVATIONS))
  if cfg.hunger_n_train and not cfg.hunger_depth:
    config.require(any(d > 1 for d in cfg.depths) and cfg.hunger_resolution in cfg.resolutions,
                   f"config hunger_depth=0 picks the data-hunger depth on validation among depths > 1 at "
                   f"hunger_resolution={cfg.hunger_resolution}: it needs such a depth in depths={list(cfg.depths)} "
                   f"and the resolution in resolutions={list(cfg.resolutions)} (or give hunger_depth)")
  build(cfg, 10, 1, cfg.width)


def build(cfg, num_classes, depth, width):
  return models.build(cfg.model, num_classes, depth=depth, width=width, activation=cfg.activation)


def matched_width(cfg, params, ds):
  """N' such that 1 x N' has about `params` parameters (for an MLP, N'(inputs + 1 + classes) + classes)."""
  return models.width_for_params(lambda w: build(cfg, ds.num_classes, 1, w), params, ds.shape)


def max_epochs(cfg, n_train):
  """The maximum epochs on n_train examples: the config's, or more where an epoch is so short that
  it would end before min_steps. The same for both nets of a pair, and for a table and a data-hunger
  pair on the same data (so that one is the other's cell, trained once)."""
  return max(cfg.epochs, math.ceil(cfg.min_steps / max(1, n_train // cfg.batch_size)))


def _resize(ds_shape, resolution):
  return 0 if resolution == ds_shape[0] else resolution


def _val(cell):
  return stats.mean_sd(cell["val_acc"])[0]


def _finite(cell):
  return stats.diverged(cell["test_acc"]) == 0 and stats.diverged(cell["val_acc"]) == 0


def best_depth(rows, min_depth=1):
  """The depth (>= min_depth) whose deep net has the best mean validation accuracy; None if every
  such row diverged. A choice made on validation only."""
  ok = [r for r in rows if r["depth"] >= min_depth and _finite(r["deep"])]
  return max(ok, key=lambda r: _val(r["deep"]))["depth"] if ok else None


def run(cfg, ctx):
  raw_ds, _ = ctx.data(cfg.dataset)
  native = raw_ds.shape
  seeds, hparams = protocol.grid(cfg.learning_rates, range(cfg.seeds))
  pairs_per_table = 2 * len(cfg.depths) - cfg.depths.count(1)
  ctx.plan(len(cfg.resolutions) * pairs_per_table + 2 * len(cfg.hunger_n_train))

  def load(resolution, n_train):
    return ctx.data(cfg.dataset, resize=_resize(native, resolution), val_size=cfg.val_size, n_train=n_train)

  def train_net(ds, arrays, depth, width, resolution):
    """One contender: its cell over seeds x the learning-rate grid, reported at the value best on validation."""
    model = build(cfg, ds.num_classes, depth, width)
    epochs = max_epochs(cfg, len(ds.y_train))
    trainer = ctx.trainer(models.with_precision(model, cfg.precision), epochs=epochs)
    spec = dict(model=cfg.model, widths=[width] * depth, activation=cfg.activation, precision=cfg.precision,
                optimizer=cfg.optimizer, batch_size=cfg.batch_size, dataset=ds.describe())
    # Named by what it trains on: a data-hunger pair on a table's data is that table's cell again.
    name = f"r{resolution}-n{len(ds.y_train)}-{depth}x{width}"
    out = ctx.cell(trainer, arrays, name=name, spec=spec, seeds=seeds, hparams=hparams, epochs=epochs)
    return dict(shape=f"{depth} x {width}", depth=depth, width=width, max_epochs=epochs,
                **models.describe(model, ds.shape), **protocol.tuned(out.summary))

  def pair(resolution, n_train, depth):
    ds, arrays = load(resolution, n_train)
    deep = train_net(ds, arrays, depth, cfg.width, resolution)
    shallow = (deep if depth == 1 else
               train_net(ds, arrays, 1, matched_width(cfg, deep["params"], ds), resolution))
    return dict(depth=depth, deep=deep, shallow=shallow)

  tables = []
  for res in cfg.resolutions:
    ds, _ = load(res, cfg.n_train)
    tables.append(dict(resolution=res, dataset=ds.describe(), max_epochs=max_epochs(cfg, len(ds.y_train)),
                       rows=[pair(res, cfg.n_train, d) for d in cfg.depths]))
  selected = dict(best_depth={str(t["resolution"]): best_depth(t["rows"]) for t in tables})
  depth = cfg.hunger_depth or next((best_depth(t["rows"], min_depth=2) for t in tables
                                    if t["resolution"] == cfg.hunger_resolution), None)
  selected["hunger_depth"] = depth
  hunger = []
  for n in (cfg.hunger_n_train if depth else []):
    ds, _ = load(cfg.hunger_resolution, n)
    epochs = max_epochs(cfg, len(ds.y_train))
    hunger.append(dict(n_train=len(ds.y_train), resolution=cfg.hunger_resolution, max_epochs=epochs,
                       max_steps=epochs * (len(ds.y_train) // cfg.batch_size), **pair(cfg.hunger_resolution, n, depth)))
  return dict(tables=tables, hunger=hunger, selected=selected)


# ----------------------------------------------------------------------------
# The comparisons: one family per results, shared by the table and the reading

def _pair_key(resolution, n_train, depth):
  """A deep/shallow pair by what it trained on; a data-hunger pair on a table's data has the table's key."""
  return ("pair", resolution, n_train, depth)


def _pair_rows(res):
  """(key, row) of every deep/shallow pair (depth > 1), each trained pair once."""
  out = {}
  for t in res["tables"]:
    for r in t["rows"]:
      if r["depth"] > 1:
        out[_pair_key(t["resolution"], t["dataset"]["n_train"], r["depth"])] = r
  for h in res["hunger"]:
    out.setdefault(_pair_key(h["resolution"], h["n_train"], h["depth"]), h)
  return out


def _deeper(t, res):
  """(the first depth's row, the validation-best depth's row) of a table; None if there is nothing to
  compare (one depth, the first is the best, or a side diverged)."""
  best = res["selected"]["best_depth"].get(str(t["resolution"]))
  first = t["rows"][0]
  top = next((r for r in t["rows"] if r["depth"] == best), None)
  if top is None or top is first or not (_finite(first["deep"]) and _finite(top["deep"])):
    return None
  return first, top


def comparisons(res):
  """The reading's family, Holm-corrected together: deep minus shallow test accuracy for every pair
  with no diverged member, and per table the validation-best depth minus the first depth."""
  family = {k: (r["deep"]["test_acc"], r["shallow"]["test_acc"]) for k, r in _pair_rows(res).items()
            if _finite(r["deep"]) and _finite(r["shallow"])}
  for t in res["tables"]:
    d = _deeper(t, res)
    if d:
      family[("deeper", t["resolution"])] = (d[1]["deep"]["test_acc"], d[0]["deep"]["test_acc"])
  return stats.compare(family) if family else {}


def _diverged_text(cell):
  return f"diverged ({stats.diverged(cell['test_acc'])} of {len(cell['test_acc'])})"


def _diff_cell(row, tests, key):
  """deep − shallow for a table: the difference of test means and its Holm-corrected p."""
  if row["depth"] == 1:
    return ""
  if key not in tests:
    return "diverged"
  c = tests[key]
  return f"{c.diff:+.1f} (p {'< 0.001' if c.p_holm < 0.001 else f'= {c.p_holm:.3f}'})"


# ----------------------------------------------------------------------------
# Tables, plots, reading

def _lr_text(cfg):
  lrs = cfg["learning_rates"]
  if len(lrs) == 1:
    return f"lr {lrs[0]:g}"
  return f"lr chosen per contender on validation from {{{', '.join(f'{v:g}' for v in lrs)}}}"


def _contender(cell, tuned):
  return ([stats.mean_sd_text(cell["val_acc"]), stats.mean_sd_text(cell["test_acc"]), protocol.epochs_cell(cell)]
          + ([f"{cell['learning_rate']:g}"] if tuned else []))


def _caption_rule(cfg, epochs):
  return (f"mean ± std over {cfg['seeds']} seeds; {cfg['optimizer']} ({_lr_text(cfg)}, batch {cfg['batch_size']}), "
          f"{protocol.rule(cfg, epochs)}. epochs: to the best validation accuracy, median (range); + marks a "
          "contender with a member still improving at the maximum.")


def _caption_diff(tests):
  return (f"deep − shallow: difference of the test means (points), Welch's p after Holm's correction over "
          f"the {len(tests)} comparisons of the reading; a difference is called only at p < {stats.ALPHA}.")


def table(doc):
  cfg, res = doc["config"], doc["results"]
  tests = comparisons(res)
  tuned = len(cfg["learning_rates"]) > 1
  per = ["val", "test", "epochs"] + (["lr"] if tuned else [])
  out = []
  for t in res["tables"]:
    ds = t["dataset"]
    rows = []
    for r in t["rows"]:
      d, s = r["deep"], r["shallow"]
      seide_s = SEIDE_SHALLOW.get(r["depth"])
      same = r["depth"] == 1
      rows.append([d["shape"], results.human(d["params"])] + _contender(d, tuned)
                  + ["(same net)" if same else s["shape"], "" if same else results.human(s["params"])]
                  + ([""] * len(per) if same else _contender(s, tuned))
                  + [_diff_cell(r, tests, _pair_key(t["resolution"], ds["n_train"], r["depth"])),
                     SEIDE_DEEP.get(r["depth"], ""), f"{seide_s[0]}: {seide_s[1]}" if seide_s else ""])
    out.append(results.markdown_table(
        ["deep L x N", "params"] + [f"deep {a}" for a in per] + ["shallow 1 x N'", "params"]
        + [f"shallow {a}" for a in per] + ["deep − shallow", "Seide WER L x 2k", "Seide WER 1 x N'"], rows,
        f"**Deep vs shallow at equal parameters, {t['resolution']}x{t['resolution']} input "
        f"({math.prod(ds['shape'])} inputs, {ds['num_classes']} outputs).** Accuracy (%) on {ds['name']} "
        f"({ds['n_train']} train / {ds['n_val']} validation / {ds['n_test']} test), "
        + _caption_rule(cfg, t["max_epochs"]) + " Both nets of a row get the same rule and the same grid. "
        + _caption_diff(tests) + f" Published: {SEIDE_SETTING}."))
  h = res["hunger"]
  if h:
    rows = [[x["n_train"], x["max_epochs"], x["deep"]["shape"]] + _contender(x["deep"], tuned)
            + [x["shallow"]["shape"]] + _contender(x["shallow"], tuned)
            + [_diff_cell(x, tests, _pair_key(x["resolution"], x["n_train"], x["depth"]))] for x in h]
    side = cfg["hunger_resolution"]
    chosen = ("fixed by the config" if cfg["hunger_depth"] else
              f"the depth whose deep net was best on validation at {side}x{side}")
    out.append(results.markdown_table(
        ["n_train", "max epochs", "deep"] + [f"deep {a}" for a in per] + ["shallow"]
        + [f"shallow {a}" for a in per] + ["deep − shallow"], rows,
        f"**Data hunger: the {h[0]['deep']['shape']} net ({chosen}) vs its equal-size {h[0]['shallow']['shape']} "
        f"on growing training sets** ({cfg['hunger_resolution']}x{cfg['hunger_resolution']} input, the same "
        f"{cfg['val_size']}-image validation split for every size); "
        + _caption_rule(cfg, "the row's max") + f" Small sets get more epochs: at least {cfg['min_steps']} steps. "
        + _caption_diff(tests) + " Lee's lecture: with fewer examples the shallow net should collapse first."))
  return "\n".join(out)


def plots(doc):
  res = doc["results"]
  mean = lambda c: stats.mean_sd(c["test_acc"])[0]
  std = lambda c: stats.mean_sd(c["test_acc"])[1]
  fig, axes = plt.subplots(1, len(res["tables"]) + 1, figsize=(5 * (len(res["tables"]) + 1), 4))
  for ax, t in zip(axes, res["tables"]):
    for key, label, color in (("deep", "deep L x N", "C0"), ("shallow", "shallow 1 x N' (same params)", "C1")):
      p = [r[key]["params"] for r in t["rows"]]
      ax.errorbar(p, [mean(r[key]) for r in t["rows"]], yerr=[std(r[key]) for r in t["rows"]],
                  marker="o", capsize=3, color=color, label=f"{label}: test")
      ax.plot(p, [_val(r[key]) for r in t["rows"]], ls="--", color=color, alpha=0.6, label=f"{label}: val")
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{t['resolution']}x{t['resolution']} input, best-validation epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
  ax = axes[-1]
  h = res["hunger"]
  for key, color in (("deep", "C0"), ("shallow", "C1")):
    if h:
      ax.errorbar([x["n_train"] for x in h], [mean(x[key]) for x in h], yerr=[std(x[key]) for x in h],
                  marker="o", capsize=3, color=color, label=f"{key}: {h[0][key]['shape']}, test")
  ax.set_xscale("log")
  ax.set_xlabel("training examples")
  ax.set_ylabel("test accuracy (%)")
  ax.set_title("data hunger" if h else "data hunger: not run")
  ax.grid(alpha=0.3)
  if h:
    ax.legend(fontsize=8)
  fig.tight_layout()
  return {"deep_vs_wide.png": fig}


def _call(c):
  """'deep ahead' / 'shallow ahead' for a resolved difference, else 'not resolved'."""
  return ("deep ahead" if c.diff > 0 else "shallow ahead") if c.resolved else "not resolved"


def _pair_text(r, tests, key):
  lost = [k for k in ("deep", "shallow") if not _finite(r[k])]
  if lost:
    return f"{r['deep']['shape']} vs {r['shallow']['shape']}: " + " and ".join(
        f"{k} {_diverged_text(r[k])}" for k in lost)
  if key not in tests:  # the same pair as a table row's that diverged
    return f"{r['deep']['shape']} vs {r['shallow']['shape']}: not compared (a net of the pair diverged)"
  return f"{r['deep']['shape']} vs {r['shallow']['shape']}: {tests[key].text()}"


def _calls_text(calls):
  counts = {c: calls.count(c) for c in ("deep ahead", "shallow ahead", "not resolved", "diverged")}
  text = ", ".join(f"{c} in {n}" for c, n in counts.items() if n) + f" of {len(calls)} pairs"
  return text[0].upper() + text[1:]


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  tests = comparisons(res)
  table_cells = [r[k] for t in res["tables"] for r in t["rows"] for k in ("deep", "shallow")
                 if k == "deep" or r["depth"] > 1]
  lines = [f"- Budget: {protocol.rule(cfg, res['tables'][0]['max_epochs'])} ({cfg['optimizer']}, {_lr_text(cfg)}; "
           f"the same rule and grid for every contender). " + protocol.convergence(table_cells, cfg,
                                                                                  res["tables"][0]["max_epochs"]),
           f"- Comparisons: Welch's t-test on test accuracy (deep minus shallow, points), 95% CI, "
           f"{readings.family_text(tests)}; every choice (learning rate, best "
           "depth, data-hunger depth) was made on the validation split." if tests else readings.nothing(
               "no deep net has a shallow net of its size to be compared with (only one hidden layer was trained)"
               if not _pair_rows(res) else "every pair of a deep and a shallow net of the same size had a member "
               "that diverged")]
  for t in res["tables"]:
    pairs = [r for r in t["rows"] if r["depth"] > 1]
    keys = [_pair_key(t["resolution"], t["dataset"]["n_train"], r["depth"]) for r in pairs]
    if pairs:
      calls = [_call(tests[k]) if k in tests else "diverged" for k in keys]
      lines.append(f"- {t['resolution']}x{t['resolution']} input: " + "; ".join(
          _pair_text(r, tests, k) for r, k in zip(pairs, keys)) + f". {_calls_text(calls)}.")
    lines.append("  " + _deeper_text(t, res, tests))
  if res["tables"]:
    lines.append(f"  Seide's speech nets gained {SEIDE_DEEP[1] - SEIDE_DEEP[7]:.1f} WER points from 1 to 7 layers "
                 f"and kept a lead of {min(w - SEIDE_DEEP[d] for d, (_, w) in SEIDE_SHALLOW.items()):.1f} points or "
                 "more over the matched shallow nets (Switchboard, 309 h; a different task and budget).")
  lines += _hunger_lines(cfg, res, tests)
  return "\n".join(lines)


def _deeper_text(t, res, tests):
  """Going deeper at fixed width: the validation-best depth against the first, or why there is no such
  comparison."""
  best = res["selected"]["best_depth"].get(str(t["resolution"]))
  top = next((r for r in t["rows"] if r["depth"] == best), None)
  first = t["rows"][0]
  d = _deeper(t, res)
  if d:
    return (f"Going deeper at fixed N: the best deep net on validation is {top['deep']['shape']} "
            f"({_val(top['deep']):.1f}% validation); against {first['deep']['shape']}: "
            f"{tests[('deeper', t['resolution'])].text()}.")
  finite = [r for r in t["rows"] if _finite(r["deep"])]
  if top is None or not finite:
    return readings.nothing("every deep net diverged, so no depth was chosen", indent="")
  if len(t["rows"]) == 1:
    return readings.nothing(f"one depth was trained ({first['deep']['shape']}), so going deeper is not "
                            "compared", indent="")
  if len(finite) == 1:
    return readings.nothing(f"one depth stayed finite ({finite[0]['deep']['shape']}), so going deeper is not "
                            "compared", indent="")
  if top is first and _finite(first["deep"]):
    return f"Going deeper at fixed N: the best deep net on validation is the first, {first['deep']['shape']}."
  return "Going deeper at fixed N: not compared (the first or the chosen deep net diverged)."


def _hunger_convergence(h):
  """Per training-set size, how many members were still improving at that size's maximum."""
  open_ = []
  for x in h:
    ran = [s for c in (x["deep"], x["shallow"]) for s, d in zip(c["stopped"], c["diverged"]) if not d]
    if ran and not all(ran):
      open_.append(f"n={x['n_train']} ({len(ran) - sum(ran)} of {len(ran)} members)")
  if not open_:
    return "Every member stopped by the rule before its size's maximum."
  return "Still improving at their size's maximum, not converged by the rule: " + ", ".join(open_) + "."


def _hunger_lines(cfg, res, tests):
  h = res["hunger"]
  if not h:
    return ([] if not cfg["hunger_n_train"] else
            ["- Data hunger: not run, every deep net of depth > 1 diverged at its resolution."])
  keys = [_pair_key(x["resolution"], x["n_train"], x["depth"]) for x in h]
  if not any(k in tests for k in keys):
    return [readings.nothing(f"data hunger ({h[0]['deep']['shape']} vs {h[0]['shallow']['shape']}): at every "
                             "training-set size a net of the pair diverged")]
  how = ("fixed by the config" if cfg["hunger_depth"] else "best deep net on validation")
  lines = [f"- Data hunger ({h[0]['deep']['shape']}, {how}, minus {h[0]['shallow']['shape']}; maximum epochs "
           f"{', '.join(str(x['max_epochs']) for x in h)} for n = {', '.join(str(x['n_train']) for x in h)}): "
           + "; ".join(f"n={x['n_train']}: " + (tests[k].text() if k in tests else _pair_text(x, tests, k))
                       for x, k in zip(h, keys)) + ". " + _hunger_convergence(h)]
  smallest = min(zip(h, keys), key=lambda xk: xk[0]["n_train"])
  c = tests.get(smallest[1])
  if c is None:
    verdict = "a net diverged on the smallest set: no verdict on the lecture's claim."
  elif not c.resolved:
    verdict = (f"on the smallest set (n={smallest[0]['n_train']}) the difference is not resolved at {c.seeds}: "
               "no evidence here for or against the lecture's claim that the shallow net collapses first.")
  elif c.diff > 0:
    verdict = (f"the deep net leads on the smallest set (n={smallest[0]['n_train']}), resolved: the lecture's "
               "claim shows on this data.")
  else:
    verdict = (f"the shallow net leads on the smallest set (n={smallest[0]['n_train']}), resolved: the "
               "lecture's claim does not show on this data.")
  lines.append("  " + verdict[0].upper() + verdict[1:])
  return lines


def depth_pairs(doc):
  """This table's deeper-vs-shallower comparisons for REPORT.md's depth summary: every deep net against
  the one-hidden-layer net of the same parameter count, at each input resolution and training-set size."""
  cfg = doc["config"]
  data = {"fashion_mnist": "Fashion-MNIST"}.get(cfg["dataset"], cfg["dataset"])
  out = []
  for (_, resolution, n_train, _), r in sorted(_pair_rows(doc["results"]).items()):
    out.append(DepthPair(f"{data} {resolution}x{resolution}, {n_train:,} examples, equal parameters",
                         r["deep"]["shape"], r["shallow"]["shape"], r["deep"]["test_acc"], r["shallow"]["test_acc"],
                         r["deep"]["depth"], r["shallow"]["depth"]))
  return out
