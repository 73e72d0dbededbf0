"""Pruning: how many of a trained network's weights does it need?

  make pruning                   # full profile, about 4.5 minutes on 2 CPU cores
  make pruning PROFILE=quick     # 2 rounds on a subset: a smoke test
  make pruning ARGS="--config.prune_rate=0.4 --config.rounds=6 --config.lottery=false"

LeNet-300-100 (784-300-100-10) is trained on Fashion-MNIST, then pruned iteratively (Han et al. 2015):
each round removes, in every layer, the given fraction of the remaining weights closest to zero and
retrains the survivors at a tenth of the learning rate. The mask is part of the training state and
applied after every step inside the compiled program, so pruned weights stay exactly zero. A
control chain retrains the dense net the same way without pruning (the lower rate alone adds a
point). Optionally (lottery=True, Frankle and Carbin 2019) a second chain rewinds the survivors to
their initial values at every round and trains them from there, to ask whether the sparse net
could have been trained from the start.

Expect (full, measured): dense 88.1% after 6 epochs, the control 89.4-89.6%; pruned and retrained
within 0.5 points of the control down to 25% of the weights (4x), -1.3 points at 12.6% (7.9x) and
-2.8 at 6.4% (15.7x): Han's 12x without loss (on MNIST) does not carry over with this short
retraining. Rewound tickets stay at ~89% down to 6.4% of the weights (15.7x), +0.9 points over
the dense net trained the same way. The reading says where each chain crosses the 0.5-point line.
"""

import jax
import matplotlib.pyplot as plt
import matplotlib.ticker
import ml_collections
import numpy as np

from research import config, masks, models, results, stats, train

NAME = "pruning"
ORDER = 6
TITLE = "Pruning: LeNet-300-100 on Fashion-MNIST, iterative magnitude pruning and lottery tickets"

# Han, Pool, Tran, Dally 2015, Table 1 and 2: LeNet-300-100 on MNIST.
HAN = dict(error_before=1.64, error_after=1.59, weights_before=267e3, weights_after=22e3, compression=12,
           layer_kept=dict(fc1=0.08, fc2=0.09, fc3=0.26))


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.n_train = 0
  c.val_size = 0
  c.optimizer = "adam"
  c.learning_rate = 1e-3
  c.batch_size = 128
  c.epochs = 6                  # the dense net, and every rewound lottery ticket
  c.rounds = 4                  # pruning rounds: 50%, 25%, 12.5%, 6.25% of the hidden weights kept
  c.prune_rate = 0.5            # fraction of the remaining hidden-layer weights removed per round
  c.output_prune_rate = 0.2     # the small output layer is pruned at half the rate (Frankle and Carbin)
  c.retrain_epochs = 2          # Han-style retraining after each round
  c.retrain_lr_factor = 0.1     # Han et al.: retrain at 1/10 of the original learning rate
  c.lottery = True              # also rewind the survivors to their initial values (lottery tickets)
  # The fair baseline for the retrained chain: the dense net retrained the same way (lr x 0.1, same
  # epochs per round) without pruning, since the lower rate alone changes the accuracy.
  c.control = True
  c.max_drop = 0.5              # the target: at most this many points of accuracy lost
  c.seeds = 5
  c.chunk_epochs = 1
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(n_train=2000, epochs=1, rounds=2, retrain_epochs=1, seeds=2),
            # Tiny: scikit-learn's 8x8 digits (1.3K training images), end to end in seconds.
            "tiny": dict(dataset="digits", epochs=2, rounds=2, retrain_epochs=1, seeds=2)}


def validate(cfg):
  config.positive(cfg, "rounds", "retrain_epochs", "retrain_lr_factor", "max_drop")
  for k in ("prune_rate", "output_prune_rate"):
    config.require(0 < cfg[k] < 1, f"config {k}={cfg[k]!r}: must be between 0 and 1")


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, n_train=cfg.n_train, val_size=cfg.val_size)
  seeds = list(range(cfg.seeds))
  model = models.lenet_300_100(ds.num_classes)
  trainer = train.make_trainer(model, cfg.optimizer, cfg.batch_size)
  v = train.vmapped(trainer)
  hp = [{"learning_rate": cfg.learning_rate}] * len(seeds)
  hp_retrain = [{"learning_rate": cfg.learning_rate * cfg.retrain_lr_factor}] * len(seeds)
  base = dict(model="lenet_300_100", optimizer=cfg.optimizer, batch_size=cfg.batch_size, dataset=ds.describe())
  ctx.plan(1 + cfg.rounds * (1 + cfg.lottery + cfg.control))

  dense = ctx.cell(trainer, arrays, name="dense", spec=base, seeds=seeds, hparams=hp, need_state=True)
  # The dense cell's starting weights, as run_cell drew them: the lottery chain rewinds to these.
  init_params = jax.jit(v.init)(train.keys(seeds), train.stack(hp), arrays, None, None).params
  evaluate = jax.jit(v.evaluate)
  names = masks.layers(dense.state.params)
  rates = {l: cfg.output_prune_rate if l == names[-1] else cfg.prune_rate for l in names}

  def masked_test_acc(params, mask):
    p = jax.tree.map(lambda a, m: a * m, params, mask)
    return np.asarray(evaluate(p, arrays["x_test"], arrays["y_test"])[1]).tolist()

  rows = [dict(round=0, kept=1.0, layer_kept={l: 1.0 for l in names}, han=dense.summary.numbers(),
               lottery=None, control=None, before_retraining=None)]
  han_params, han_mask = dense.state.params, masks.ones_mask(dense.state.params)
  lot_params, lot_mask = dense.state.params, han_mask
  ctl_params = dense.state.params
  for r in range(1, cfg.rounds + 1):
    han_mask = masks.prune(han_params, han_mask, rates)
    frac, per = masks.kept(han_mask)
    before = masked_test_acc(han_params, han_mask)
    spec = dict(base, chain="retrain", round=r)  # the cell identity covers the mask and start values
    han = ctx.cell(trainer, arrays, name=f"retrain-r{r}", spec=spec, seeds=seeds, hparams=hp_retrain,
                   epochs=cfg.retrain_epochs, masks=han_mask, init_params=han_params, need_state=True)
    han_params = han.state.params
    row = dict(round=r, kept=frac, layer_kept=per, han=han.summary.numbers(), lottery=None, control=None,
               before_retraining=before, exact_zeros=masks.exact_zeros(han_params, han_mask))
    if cfg.control:
      spec = dict(base, chain="control", round=r)
      ctl = ctx.cell(trainer, arrays, name=f"control-r{r}", spec=spec, seeds=seeds, hparams=hp_retrain,
                     epochs=cfg.retrain_epochs, init_params=ctl_params, need_state=True)
      ctl_params = ctl.state.params
      row.update(control=ctl.summary.numbers())
    if cfg.lottery:
      lot_mask = masks.prune(lot_params, lot_mask, rates)
      spec = dict(base, chain="lottery", round=r)
      lot = ctx.cell(trainer, arrays, name=f"lottery-r{r}", spec=spec, seeds=seeds, hparams=hp,
                     masks=lot_mask, init_params=init_params, need_state=True)
      lot_params = lot.state.params
      row.update(lottery=lot.summary.numbers(), lottery_kept=masks.kept(lot_mask)[0])
    rows.append(row)
  return dict(dataset=ds.describe(), layers=names, rates=rates, rows=rows, **models.describe(model, ds.shape))


def mean_test_acc(numbers):
  """Mean test accuracy (%) over seeds of a cell's numbers; NaN for a chain not trained."""
  return stats.mean_sd((numbers or {}).get("test_acc", []))[0]


def _base(row, key, dense):
  """The fair reference of a chain: the control of the same round for the retrained chain (when
  trained), the dense net for the lottery chain (the same schedule from the same start)."""
  return mean_test_acc(row["control"]) if key == "han" and row.get("control") else dense


def _delta(row, key, dense):
  return mean_test_acc(row[key]) - _base(row, key, dense)


def table(doc):
  cfg, res = doc["config"], doc["results"]
  ds = res["dataset"]
  dense = mean_test_acc(res["rows"][0]["han"])
  names = res["layers"]
  control = any(r.get("control") for r in res["rows"])
  header = (["round", "weights kept", "compression", "kept per layer", "pruned, not retrained"]
            + (["dense, retrained alike (control)"] if control else [])
            + ["retrained (Han)", "Δ vs control" if control else "Δ vs dense",
               "rewound to init (lottery)", "Δ vs dense"])
  rows = []
  for r in res["rows"]:
    per = " / ".join(f"{100 * r['layer_kept'][l]:.0f}%" for l in names)
    rows.append([r["round"] or "dense", f"{100 * r['kept']:.1f}%", f"{1 / r['kept']:.1f}x", per,
                 stats.mean_sd_text(r["before_retraining"]) if r["before_retraining"] else "—"]
                + ([stats.mean_sd_text(r["control"]["test_acc"]) if r.get("control") else "—"] if control else [])
                + [stats.mean_sd_text(r["han"]["test_acc"]), f"{_delta(r, 'han', dense):+.2f}" if r["round"] else "",
                   stats.mean_sd_text(r["lottery"]["test_acc"]) if r["lottery"] else "—",
                   f"{_delta(r, 'lottery', dense):+.2f}" if r["lottery"] else "—"])
  h = HAN
  rows.append(["published: Han et al. 2015, LeNet-300-100 on **MNIST**",
               f"{100 * h['weights_after'] / h['weights_before']:.1f}%", f"{h['compression']}x",
               " / ".join(f"{100 * v:.0f}%" for v in h["layer_kept"].values()), "—"]
              + (["—"] if control else [])
              + [f"{100 - h['error_after']:.2f} (dense {100 - h['error_before']:.2f})",
                 f"{h['error_before'] - h['error_after']:+.2f}", "—", "—"])
  caption = (f"**Pruning LeNet-300-100** ({results.human(res['params'])} parameters) on {ds['name']} "
             f"({ds['n_train']} train / {ds['n_test']} test). Test accuracy (%), mean ± std over {cfg['seeds']} "
             f"seeds. Dense: {cfg['epochs']} epochs of {cfg['optimizer']} (lr {cfg['learning_rate']:g}, batch "
             f"{cfg['batch_size']}). Each round removes {100 * cfg['prune_rate']:.0f}% of the remaining weights of "
             f"the hidden layers and {100 * cfg['output_prune_rate']:.0f}% of the output layer's, smallest "
             f"magnitude first, per layer and per seed. Retrained (Han): the survivors train "
             f"{cfg['retrain_epochs']} more epochs at lr × {cfg['retrain_lr_factor']:g} after each round, "
             f"continuing the chain" +
             (", compared with the control: the dense net retrained the same way, round after round, without "
              "pruning (the lower rate alone changes the accuracy)" if control else "") +
             f". Rewound (lottery, Frankle and Carbin 2019): a separate chain whose survivors restart from their "
             f"initial values and train {cfg['epochs']} epochs at the original rate, compared with the dense net "
             "(the same schedule). Weights: kernel entries (biases are not pruned). Δ: points. The published row "
             "is Han's LeNet-300-100 on MNIST, an easier dataset (98.4% dense), trained with their recipe: compare "
             "the compression at which no accuracy is lost, not the accuracies.")
  return results.markdown_table(header, rows, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  dense = mean_test_acc(res["rows"][0]["han"])
  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  pruned = res["rows"][1:]
  ctl = any(r.get("control") for r in pruned)
  means = []
  for key, label, color in (("han", "retrained (Han) - control" if ctl else "retrained (Han) - dense", "C0"),
                            ("lottery", "rewound to init (lottery) - dense", "C1"),
                            ("before_retraining", "pruned, not retrained - dense", "C7")):
    pts = [(100 * r["kept"], stats.mean_sd(r[key]["test_acc"] if isinstance(r[key], dict) else r[key]),
            _base(r, key, dense)) for r in pruned if r.get(key)]
    if not pts:
      continue
    y = [m - b for _, (m, _), b in pts]
    if key != "before_retraining":
      means += y
    ax.errorbar([p[0] for p in pts], y, yerr=[s for _, (_, s), _ in pts],
                marker="o", capsize=3, color=color, label=label)
  ax.axhline(0, color="k", lw=1)
  ax.axhspan(-cfg["max_drop"], cfg["max_drop"], color="k", alpha=0.08, label=f"±{cfg['max_drop']:g} points")
  han_kept = 100 * HAN["weights_after"] / HAN["weights_before"]
  ax.plot([han_kept], [HAN["error_before"] - HAN["error_after"]], "k*", ms=12,
          label="Han et al. 2015 (MNIST, published)")
  ax.set_xscale("log")
  ax.invert_xaxis()
  ax.set_xlabel("weights kept (%)")
  ax.set_ylabel("test accuracy change (points)")
  ax.set_ylim(max(min([-3.0] + means) - 0.5, -15), max([2.0] + means) + 0.5)
  ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
  ax.xaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
  ax.set_title(f"LeNet-300-100, {res['dataset']['name']}, dense {dense:.1f}%, {cfg['seeds']} seeds")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8, loc="lower left")
  return {"pruning.png": fig}


def _chain_reading(rows, key, dense, lim, what, versus):
  """Lines on one chain: how far it stays within `lim` points of its reference, the 10x target,
  where it breaks."""
  kept_of = lambda r: r["lottery_kept"] if key == "lottery" else r["kept"]
  pruned = [r for r in rows[1:] if r.get(key)]
  ok = [r for r in pruned if _delta(r, key, dense) >= -lim]
  if not ok:
    return [f"- {what}: already the first round ({100 * kept_of(pruned[0]):.1f}% kept) loses more than {lim:g} "
            f"points against {versus} ({_delta(pruned[0], key, dense):+.2f})."]
  best = min(ok, key=kept_of)
  x = 1 / kept_of(best)
  lines = [f"- {what}: within {lim:g} points of {versus} down to {100 * kept_of(best):.1f}% of the weights "
           f"({x:.1f}x fewer; {_delta(best, key, dense):+.2f} points)."]
  broke = [r for r in pruned if kept_of(r) < kept_of(best) and _delta(r, key, dense) < -lim]
  if x >= 10:
    lines.append(f"  The target (at least 10x fewer weights, at most {lim:g} points lost) is met.")
  elif not broke:
    lines.append("  The rounds stop short of 10x: the target is not tested.")
  else:
    lines.append(f"  The target (at least 10x fewer weights, at most {lim:g} points lost) is not met.")
  if broke:
    b = broke[0]
    lines.append(f"  Where it breaks: at {100 * kept_of(b):.1f}% of the weights ({1 / kept_of(b):.1f}x) it is "
                 f"{_delta(b, key, dense):+.2f} points from {versus}.")
  elif best is pruned[-1]:
    lines.append(f"  It did not break within the {len(pruned)} rounds run: more rounds would find the limit.")
  return lines


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  rows = res["rows"]
  dense = mean_test_acc(rows[0]["han"])
  lim = cfg["max_drop"]
  ctl = [r for r in rows[1:] if r.get("control")]
  lines = [f"- Dense LeNet-300-100: {dense:.2f}% test accuracy after {cfg['epochs']} epochs ({cfg['seeds']} seeds)."]
  if ctl:
    lines.append(f"- Retraining without pruning (the control) moves it to {mean_test_acc(ctl[0]['control']):.2f}% after one "
                 f"round and {mean_test_acc(ctl[-1]['control']):.2f}% after {len(ctl)}: more training at the lower rate alone "
                 f"is worth {mean_test_acc(ctl[0]['control']) - dense:+.2f} points after one round, so the retrained "
                 "chain is measured against the control of the same round.")
  lines += _chain_reading(rows, "han", dense, lim, "Pruned and retrained (Han)",
                          "the control" if ctl else "the dense net")
  lines.append(f"  Han et al. report {HAN['compression']}x with no loss ({HAN['error_before'] - HAN['error_after']:+.2f}"
               f" points) for LeNet-300-100 on MNIST.")
  if len(rows) > 1 and rows[1]["before_retraining"]:
    last = rows[-1]
    lines.append(f"- Retraining matters: right after the last pruning step, before retraining, the net is at "
                 f"{mean_test_acc({'test_acc': last['before_retraining']}):.1f}% ({100 * last['kept']:.1f}% kept), "
                 f"{mean_test_acc(last['han']):.1f}% after.")
  if all(r.get("exact_zeros", True) for r in rows):
    lines.append("- Every pruned weight of every seed was still exactly 0.0 after retraining (the mask is applied "
                 "inside the compiled step).")
  if any(r.get("lottery") for r in rows):
    lines += _chain_reading(rows, "lottery", dense, lim,
                            "Lottery tickets (survivors rewound to their initial values, trained from there)",
                            "the dense net")
    if ctl:
      sparsest = [r for r in rows[1:] if r.get("lottery")][-1]
      lines.append(f"  The dense net they are compared with trained the same {cfg['epochs']} epochs at one rate; "
                   f"against the best dense number here (the control after {len(ctl)} rounds, "
                   f"{mean_test_acc(ctl[-1]['control']):.2f}%) the sparsest tickets ({100 * sparsest['lottery_kept']:.1f}%) "
                   f"are {mean_test_acc(sparsest['lottery']) - mean_test_acc(ctl[-1]['control']):+.2f} points.")
    lines.append("  Frankle and Carbin report, on MNIST, tickets at 21% that match or beat the dense net and "
                 "fall back to its accuracy at 3.6%.")
  return "\n".join(lines)
