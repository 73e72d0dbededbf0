"""Pruning: how many of a trained network's weights does it need?

  make pruning                   # full profile: the README's table
  make pruning PROFILE=quick     # 2 rounds on a 2,000-image subset: a smoke test, under a minute on 2 CPU cores
  make pruning ARGS="--config.prune_rate=0.4 --config.rounds=6 --config.lottery=false"

LeNet-300-100 (784-300-100-10) is trained on Fashion-MNIST, then pruned iteratively (Han et al. 2015):
each round removes, in every layer, the given fraction of the remaining weights closest to zero and
retrains the survivors at a tenth of the learning rate. The mask is part of the training state and
applied after every step inside the compiled program, so pruned weights stay exactly zero. A
control chain retrains the dense net the same way without pruning, since more training at the
lower rate changes the accuracy by itself. Optionally (lottery=True, Frankle and Carbin 2019) a
second chain rewinds the survivors to their initial values at every round and trains them from
there, to ask whether the sparse net could have been trained from the start.

Every network here (the dense net, every retraining round, every control round, every rewound
ticket) trains under one rule: up to `epochs` epochs, stopped after `patience` epochs without a
better accuracy on a 5,000-image validation split, reporting its best-validation epoch. Each round
prunes the weights of that selected epoch (train.selected), not of the last one. Every choice the
reading makes (the sparsest round that keeps accuracy, the best dense net) reads validation
accuracy only; every statement that pruning costs accuracy or not is a Welch t-test on test
accuracy, Holm-corrected over the one family of comparisons the table and the reading share.

Expect (full, 5 seeds; 22 min on 2 CPU cores shared with other work, 2026-11-29): dense 89.0%
test; retrained pruning keeps the control's validation accuracy down to 25% of the weights (4x;
12.6% is 0.7 points below, resolved), so Han's 10x is not met here; lottery tickets stay within
0.5 points of the dense net on validation down to 6.4% (15.7x); retraining at a tenth of the rate
alone lifts the dense net by 0.8 points (not resolved after correction). The table gives, per round and
network, train / validation / test accuracy, the epochs to the best validation accuracy, and the
test difference from the fair reference with its 95% CI; the reading names, per chain, the
sparsest round within `max_drop` points of its reference on validation and whether the test
comparisons resolve a loss at the number of seeds run.
"""

import jax
import matplotlib.pyplot as plt
import matplotlib.ticker
import ml_collections
import numpy as np

from research import config, masks, models, protocol, results, stats, train

NAME = "pruning"
ORDER = 6
TITLE = ("Pruning: LeNet-300-100 on Fashion-MNIST, iterative magnitude pruning and lottery tickets, "
         "every network trained to convergence on validation")

# Han, Pool, Tran, Dally 2015, Tables 1 and 2: LeNet-300-100 on MNIST (Caffe, no augmentation; the
# paper does not state its training or retraining epochs).
HAN = dict(error_before=1.64, error_after=1.59, weights_before=267e3, weights_after=22e3, compression=12,
           layer_kept=dict(fc1=0.08, fc2=0.09, fc3=0.26))
# Frankle and Carbin 2019, Section 2 and Figure 2: LeNet-300-100 on MNIST (55,000 train / 5,000
# validation, no augmentation), Adam 1.2e-3, 50K iterations of batch 60 (about 55 epochs), the
# iteration of minimum validation loss reported.
FRANKLE_CARBIN = ("Frankle and Carbin report, for LeNet-300-100 on MNIST (no augmentation; Adam 1.2e-3, 50K "
                  "iterations of batch 60, about 55 epochs, early-stopped on validation loss), tickets at 21% of "
                  "the weights that match or beat the dense net and fall back to its accuracy at 3.6%.")

# The chains of a pruning round, as results rows name them.
CHAINS = ("retrained", "control", "lottery")
LABELS = dict(dense="dense", before="pruned, not retrained", retrained="retrained (Han)",
              control="control: dense, retrained alike", lottery="rewound to init (lottery)")


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.n_train = 0                 # 0 = all 55,000 left after the validation split
  c.val_size = 5000             # carved from the 60,000 training images; every choice reads it
  c.optimizer = "adam"
  c.learning_rate = 1e-3        # the dense net and every rewound ticket; no grid: one rate for all
  c.batch_size = 128
  # The one stopping rule of every cell (dense, each retraining and control round, each ticket):
  # the maximum epochs, and the epochs without a better validation accuracy before a member stops.
  c.epochs = 30
  c.patience = 5
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.rounds = 4                  # pruning rounds: 50%, 25%, 12.5%, 6.25% of the hidden weights kept
  c.prune_rate = 0.5            # fraction of the remaining hidden-layer weights removed per round
  c.output_prune_rate = 0.2     # the small output layer is pruned at half the rate (Frankle and Carbin)
  c.retrain_lr_factor = 0.1     # Han et al.: retrain at 1/10 of the original learning rate
  c.lottery = True              # also rewind the survivors to their initial values (lottery tickets)
  # The fair baseline for the retrained chain: the dense net retrained the same way (lr x 0.1, the
  # same rule per round) without pruning, since the lower rate alone changes the accuracy.
  c.control = True
  # The tolerance the reading chooses by: the sparsest round whose mean validation accuracy is at
  # most this many points below its reference's.
  c.max_drop = 0.5
  c.seeds = 5
  c.chunk_epochs = 1            # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(n_train=2000, val_size=1000, epochs=6, patience=2, rounds=2, seeds=2),
            # Tiny: scikit-learn's 8x8 digits (1.3K training images), end to end in seconds.
            "tiny": dict(dataset="digits", val_size=150, epochs=6, patience=2, rounds=2, seeds=2)}


def validate(cfg):
  config.positive(cfg, "rounds", "retrain_lr_factor", "max_drop", "learning_rate")
  for k in ("prune_rate", "output_prune_rate"):
    config.require(0 < cfg[k] < 1, f"config {k}={cfg[k]!r}: must be between 0 and 1")


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, n_train=cfg.n_train, val_size=cfg.val_size)
  seeds = list(range(cfg.seeds))
  model = models.lenet_300_100(ds.num_classes)
  # One trainer for every cell: every network gets the same stopping rule and schedule.
  trainer = ctx.trainer(model)
  v = train.vmapped(trainer)
  hp = [{"learning_rate": cfg.learning_rate}] * len(seeds)
  hp_retrain = [{"learning_rate": cfg.learning_rate * cfg.retrain_lr_factor}] * len(seeds)
  base = dict(model="lenet_300_100", optimizer=cfg.optimizer, batch_size=cfg.batch_size, dataset=ds.describe())
  ctx.plan(1 + cfg.rounds * (1 + cfg.lottery + cfg.control))

  dense = ctx.cell(trainer, arrays, name="dense", spec=base, seeds=seeds, hparams=hp, need_state=True)
  # The dense cell's starting weights, as run_cell drew them: the lottery chain rewinds to these.
  init_params = jax.jit(v.init)(train.keys(seeds), train.stack(hp), arrays, None, None).params
  evaluate = jax.jit(v.evaluate)
  dense_params = train.selected(dense.state)
  names = masks.layers(dense_params)
  rates = {l: cfg.output_prune_rate if l == names[-1] else cfg.prune_rate for l in names}

  def masked_numbers(params, mask):
    """Accuracy of pruned weights before any retraining (reported, never chosen by)."""
    p = jax.tree.map(lambda a, m: a * m, params, mask)
    return {f"{s}_acc": np.asarray(evaluate(p, arrays[f"x_{s}"], arrays[f"y_{s}"])[1]).tolist()
            for s in ("train", "val", "test")}

  rows = [dict(round=0, kept=1.0, layer_kept={l: 1.0 for l in names}, dense=dense.summary.numbers())]
  # Each chain continues from its previous round's selected (best-validation) weights.
  han_params, han_mask = dense_params, masks.ones_mask(dense_params)
  lot_params, lot_mask = dense_params, han_mask
  ctl_params = dense_params
  for r in range(1, cfg.rounds + 1):
    han_mask = masks.prune(han_params, han_mask, rates)
    frac, per = masks.kept(han_mask)
    before = masked_numbers(han_params, han_mask)
    spec = dict(base, chain="retrain", round=r)  # the cell identity covers the mask and start values
    han = ctx.cell(trainer, arrays, name=f"retrain-r{r}", spec=spec, seeds=seeds, hparams=hp_retrain,
                   masks=han_mask, init_params=han_params, need_state=True)
    han_params = train.selected(han.state)
    row = dict(round=r, kept=frac, layer_kept=per, retrained=han.summary.numbers(), control=None, lottery=None,
               before=before, exact_zeros=masks.exact_zeros(han_params, han_mask))
    if cfg.control:
      spec = dict(base, chain="control", round=r)
      ctl = ctx.cell(trainer, arrays, name=f"control-r{r}", spec=spec, seeds=seeds, hparams=hp_retrain,
                     init_params=ctl_params, need_state=True)
      ctl_params = train.selected(ctl.state)
      row.update(control=ctl.summary.numbers())
    if cfg.lottery:
      lot_mask = masks.prune(lot_params, lot_mask, rates)
      spec = dict(base, chain="lottery", round=r)
      lot = ctx.cell(trainer, arrays, name=f"lottery-r{r}", spec=spec, seeds=seeds, hparams=hp,
                     masks=lot_mask, init_params=init_params, need_state=True)
      lot_params = train.selected(lot.state)
      lot_frac, lot_per = masks.kept(lot_mask)
      row.update(lottery=lot.summary.numbers(), lottery_kept=lot_frac, lottery_layer_kept=lot_per,
                 exact_zeros=row["exact_zeros"] and masks.exact_zeros(lot_params, lot_mask))
    rows.append(row)
  return dict(dataset=ds.describe(), layers=names, rates=rates, rows=rows, selected=select(rows, cfg.max_drop),
              **models.describe(model, ds.shape))


# ----------------------------------------------------------------------------
# Choices (validation only) and the one family of comparisons (test)

def _trained(numbers):
  """A cell that was trained and has no diverged member (a diverged one enters no comparison)."""
  return bool(numbers) and not any(numbers["diverged"])


def _mean(numbers, key="test_acc"):
  """Mean over seeds, in percent."""
  return stats.mean_sd(numbers[key])[0]


def reference(rows, row, chain):
  """(label, numbers) of a chain's fair reference at a round: the control of the same round for the
  retrained chain (when trained), else the dense net (for the tickets, the same rule from the same
  start)."""
  if chain == "retrained" and row.get("control"):
    return "control", row["control"]
  return "dense", rows[0]["dense"]


def kept_of(row, chain):
  return {"lottery": row.get("lottery_kept"), "control": 1.0}.get(chain, row["kept"])


def select(rows, max_drop):
  """What the reading chooses, on validation accuracy only: per pruned chain, the sparsest round whose
  mean validation accuracy is at most max_drop points below its reference's (None if none is);
  and the dense net with the best mean validation accuracy, the dense net itself (round 0) or a
  control round."""
  chosen = {}
  for chain in ("retrained", "lottery"):
    ok = [r["round"] for r in rows[1:] if _trained(r.get(chain)) and _trained(reference(rows, r, chain)[1])
          and _mean(r[chain], "val_acc") - _mean(reference(rows, r, chain)[1], "val_acc") >= -max_drop]
    chosen[chain] = max(ok) if ok else None  # every round prunes more: the last that keeps is the sparsest
  dense = [(0, rows[0]["dense"])] + [(r["round"], r["control"]) for r in rows[1:] if r.get("control")]
  dense = [(k, n) for k, n in dense if _trained(n)]
  chosen["best_dense"] = max(dense, key=lambda kn: _mean(kn[1], "val_acc"))[0] if dense else None
  return chosen


def comparisons(res):
  """The one family of Welch t-tests on test accuracy that the table and the reading report,
  Holm-corrected together: {(what, round): Comparison}.

  (chain, r): a chain's round r against its reference (the retrained chain against the control
  of the same round, the control and the tickets against the dense net); ("retraining", R): the
  last round retrained against the same weights before retraining; ("train", R): train accuracy
  of the last retrained round against its control; ("best_dense", r): the ticket round chosen on
  validation against the dense net best on validation, when that is a control round.
  """
  rows, chosen = res["rows"], res["selected"]
  pairs = {}
  for r in rows[1:]:
    for chain in CHAINS:
      ref = reference(rows, r, chain)[1]
      if _trained(r.get(chain)) and _trained(ref):
        pairs[(chain, r["round"])] = (r[chain]["test_acc"], ref["test_acc"])
  last = rows[-1]
  if len(rows) > 1 and _trained(last["retrained"]):
    if stats.diverged(last["before"]["test_acc"]) == 0:
      pairs[("retraining", last["round"])] = (last["retrained"]["test_acc"], last["before"]["test_acc"])
    if _trained(last.get("control")):
      pairs[("train", last["round"])] = (last["retrained"]["train_acc"], last["control"]["train_acc"])
  ticket, best = chosen.get("lottery"), chosen.get("best_dense")
  if ticket is not None and best:  # best = 0 is the dense net: already ("lottery", ticket)
    pairs[("best_dense", ticket)] = (rows[ticket]["lottery"]["test_acc"], rows[best]["control"]["test_acc"])
  return stats.compare(pairs)


# ----------------------------------------------------------------------------
# Table, plot, reading

def _delta_cell(c, ref):
  if not np.isfinite(c.p):
    return f"{c.diff:+.2f} vs {ref} (no test at {c.seeds})"
  return f"{c.diff:+.2f} vs {ref} ({c.low:+.2f} to {c.high:+.2f})" + ("" if c.resolved else ", n.r.")


def _per_layer(layer_kept, names):
  return " / ".join(f"{100 * layer_kept[l]:.0f}%" for l in names)


def _accs(numbers):
  return [stats.mean_sd_text(numbers[k]) for k in ("train_acc", "val_acc", "test_acc")]


def table(doc):
  cfg, res = doc["config"], doc["results"]
  ds, rows, names, chosen = res["dataset"], res["rows"], res["layers"], res["selected"]
  tests = comparisons(res)
  header = ["round", "network", "weights kept", "compression", "kept per layer", "train", "val", "test",
            "epochs", "Δ test (95% CI)"]
  d = rows[0]
  out = [["0", LABELS["dense"], "100.0%", "1.0x", _per_layer(d["layer_kept"], names), *_accs(d["dense"]),
          protocol.epochs_cell(d["dense"]), "—"]]
  for r in rows[1:]:
    kept, per = f"{100 * r['kept']:.1f}%", _per_layer(r["layer_kept"], names)
    out.append([r["round"], LABELS["before"], kept, f"{1 / r['kept']:.1f}x", per, *_accs(r["before"]), "—", "—"])
    for chain in CHAINS:
      numbers = r.get(chain)
      if not numbers:
        continue
      frac = kept_of(r, chain)
      layer = {l: 1.0 for l in names} if chain == "control" else r.get(f"{chain}_layer_kept", r["layer_kept"])
      key = (chain, r["round"])
      label = LABELS[chain] + (" (chosen)" if chosen.get(chain) == r["round"] else "")
      out.append([r["round"], label, f"{100 * frac:.1f}%", f"{1 / frac:.1f}x", _per_layer(layer, names),
                  *_accs(numbers), protocol.epochs_cell(numbers),
                  _delta_cell(tests[key], reference(rows, r, chain)[0]) if key in tests else "diverged"])
  h = HAN
  out.append(["published", "Han et al. 2015, LeNet-300-100 on **MNIST** (Caffe, no augmentation, epochs not stated)",
              f"{100 * h['weights_after'] / h['weights_before']:.1f}%", f"{h['compression']}x",
              " / ".join(f"{100 * v:.0f}%" for v in h["layer_kept"].values()), "—", "—",
              f"{100 - h['error_after']:.2f} (dense {100 - h['error_before']:.2f})", "—",
              f"{h['error_before'] - h['error_after']:+.2f} vs their dense"])
  caption = (f"**Pruning LeNet-300-100** ({results.human(res['params'])} parameters) on {ds['name']} "
             f"({ds['n_train']} train / {ds['n_val']} validation / {ds['n_test']} test). Accuracy (%), mean ± std "
             f"over {cfg['seeds']} seeds, of each member's best-validation epoch. Every network trains under one "
             f"rule: {protocol.rule(cfg)}; epochs: to the best validation accuracy, median (range), + where a "
             f"member was still improving at the maximum. {cfg['optimizer']}, batch {cfg['batch_size']}, lr "
             f"{cfg['learning_rate']:g} for the dense net and the rewound tickets. Each round removes "
             f"{100 * cfg['prune_rate']:.0f}% of the remaining weights of the hidden layers and "
             f"{100 * cfg['output_prune_rate']:.0f}% of the output layer's, smallest magnitude first, per layer "
             f"and per seed, from the previous round's best-validation weights. Retrained (Han): the survivors "
             f"train again at lr × {cfg['retrain_lr_factor']:g}, continuing the chain"
             + (", compared with the control: the dense net retrained the same way, round after round, without "
                "pruning (the lower rate alone changes the accuracy)" if cfg["control"] else
                ", compared with the dense net") +
             ". Rewound (lottery, Frankle and Carbin 2019): a separate chain whose survivors restart from their "
             "initial values and train at the original rate, compared with the dense net (the same rule from the "
             f"same start). (chosen): the sparsest round whose mean validation accuracy is at most "
             f"{cfg['max_drop']:g} points below its reference's. Δ test: points against the named reference, "
             f"Welch's 95% CI; n.r.: not resolved (Holm-corrected p ≥ {stats.ALPHA:g} over the {len(tests)} "
             "comparisons of this table and its reading). Weights: kernel entries (biases are not pruned). The "
             "published row is Han's LeNet-300-100 on MNIST, an easier dataset (98.4% dense), trained with their "
             "recipe: compare the compression at which no accuracy is lost, not the accuracies.")
  return results.markdown_table(header, out, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  rows, chosen = res["rows"], res["selected"]
  tests = comparisons(res)
  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  ctl = any(r.get("control") for r in rows[1:])
  diffs = []
  for chain, label, color in (("retrained", "retrained (Han) − " + ("control" if ctl else "dense"), "C0"),
                              ("lottery", "rewound to init (lottery) − dense", "C1")):
    pts = [(100 * kept_of(r, chain), tests[(chain, r["round"])], r["round"]) for r in rows[1:]
           if (chain, r["round"]) in tests]
    if not pts:
      continue
    x = [p[0] for p in pts]
    y = [c.diff for _, c, _ in pts]
    err = np.nan_to_num([[c.diff - c.low for _, c, _ in pts], [c.high - c.diff for _, c, _ in pts]])
    diffs += y + [v for _, c, _ in pts for v in (c.low, c.high) if np.isfinite(v)]
    ax.errorbar(x, y, yerr=err, marker="o", capsize=3, color=color, label=label)
    pick = [(xi, yi) for xi, yi, (_, _, rnd) in zip(x, y, pts) if rnd == chosen.get(chain)]
    if pick:
      ax.plot(*zip(*pick), "o", ms=13, mfc="none", color=color)
  ax.plot([], [], "o", ms=10, mfc="none", color="k", label="chosen on validation")
  ax.axhline(0, color="k", lw=1)
  ax.axhspan(-cfg["max_drop"], cfg["max_drop"], color="k", alpha=0.08, label=f"±{cfg['max_drop']:g} points (the tolerance, read on validation)")
  han_kept = 100 * HAN["weights_after"] / HAN["weights_before"]
  ax.plot([han_kept], [HAN["error_before"] - HAN["error_after"]], "k*", ms=12,
          label="Han et al. 2015 (MNIST, published)")
  ax.set_xscale("log")
  ax.invert_xaxis()
  ax.set_xlabel("weights kept (%)")
  ax.set_ylabel("test accuracy change (points, 95% CI)")
  ax.set_ylim(max(min([-3.0] + diffs) - 0.5, -15), max([2.0] + diffs) + 0.5)
  ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
  ax.xaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
  ax.set_title(f"LeNet-300-100, {res['dataset']['name']}, dense {_mean(rows[0]['dense']):.1f}%, "
               f"{cfg['seeds']} seeds, best-validation epochs")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: never over a point
  return {"pruning.png": fig}


def _where(row, chain):
  frac = kept_of(row, chain)
  return f"round {row['round']} ({100 * frac:.1f}% of the weights, {1 / frac:.1f}x fewer)"


def _chain_reading(res, tests, chain, lim, what):
  """Lines on one pruned chain: the round chosen on validation and its test comparison, the 10x
  target, where it breaks on validation, and which rounds the test comparisons resolve."""
  rows = res["rows"]
  pruned = [r for r in rows[1:] if r.get(chain)]
  if not pruned:
    return []
  versus = "the " + reference(rows, pruned[0], chain)[0] + (" of the same round" if reference(
      rows, pruned[0], chain)[0] == "control" else " net")
  val_delta = lambda r: _mean(r[chain], "val_acc") - _mean(reference(rows, r, chain)[1], "val_acc")
  test = lambda r: tests[(chain, r["round"])].text() if (chain, r["round"]) in tests else "diverged"
  pick = res["selected"][chain]
  if pick is None:
    first = pruned[0]
    lines = [f"- {what}: already the first round ({100 * kept_of(first, chain):.1f}% kept) is more than {lim:g} "
             f"points below {versus} on validation ({val_delta(first):+.2f}); on test: {test(first)}."]
  else:
    best = rows[pick]
    x = 1 / kept_of(best, chain)
    lines = [f"- {what}: the sparsest round within {lim:g} points of {versus} on validation is "
             f"{_where(best, chain)}, {val_delta(best):+.2f} points on validation; on test: {test(best)}."]
    broke = [r for r in pruned if r["round"] > pick]
    if x >= 10:
      lines.append(f"  The target (at least 10x fewer weights within {lim:g} points on validation) is met.")
    elif not broke:
      lines.append("  The rounds stop short of 10x: the target is not tested.")
    else:
      lines.append(f"  The target (at least 10x fewer weights within {lim:g} points on validation) is not met.")
    if broke:
      b = broke[0]
      lines.append(f"  Next round: {_where(b, chain)} is {val_delta(b):+.2f} points from {versus} on validation; "
                   f"on test: {test(b)}.")
    else:
      lines.append(f"  Every one of the {len(pruned)} rounds run stays within {lim:g} points on validation: more "
                   "rounds would find the limit.")
  calls = [(r, tests[(chain, r["round"])]) for r in pruned if (chain, r["round"]) in tests]
  at = lambda keep: ", ".join(f"{100 * kept_of(r, chain):.1f}%" for r, c in calls if keep(c)) or "no round"
  seeds = calls[0][1].seeds if calls else "these seeds"
  lines.append(f"  On test, after correction (weights kept): below {versus} at {at(lambda c: c.resolved and c.diff < 0)}; "
               f"above at {at(lambda c: c.resolved and c.diff > 0)}; not resolved at {seeds} at "
               f"{at(lambda c: not c.resolved)}.")
  return lines


def _fit_budget(cells, cfg):
  """Whether a train-accuracy gap can be put on the network: only when both cells stopped by the rule."""
  done = [s for n in cells for s, d in zip(n["stopped"], n["diverged"]) if not d]
  running = len(done) - sum(done)
  if not running:
    return ("Both stopped by the same rule before the maximum, so a resolved gap is the sparse net's, not a "
            "shorter budget's.")
  return (f"{running} of their {len(done)} members {'was' if running == 1 else 'were'} still improving at the "
          f"maximum ({cfg['epochs']} epochs): a gap here may be the budget's as much as the sparse net's.")


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  rows, chosen = res["rows"], res["selected"]
  tests = comparisons(res)
  lim = cfg["max_drop"]
  dense = rows[0]["dense"]
  lines = []
  trained = [(k, r[k]) for r in rows for k in ("dense", *CHAINS) if r.get(k)]
  lost = [f"{LABELS[k]} round {r['round']}" for r in rows for k in ("dense", *CHAINS)
          if r.get(k) and not _trained(r[k])]
  if lost:  # a diverged cell is reported as such and enters no comparison
    lines.append(f"- Diverged (non-finite loss or gradient), left out of every comparison: {', '.join(lost)}.")
  if not _trained(dense):
    lines.append("- The dense net diverged: nothing to compare.")
    return "\n".join(lines)
  by = lambda keys: [n for k, n in trained if k in keys]
  lines.append(f"- Budget, the same for every network: {protocol.rule(cfg)} ({cfg['optimizer']}, lr "
               f"{cfg['learning_rate']:g}, retraining and control at lr × {cfg['retrain_lr_factor']:g}; no tuning). "
               "Dense and control: " + protocol.convergence(by(("dense", "control")), cfg)
               + (" Retrained: " + protocol.convergence(by(("retrained",)), cfg) if len(rows) > 1 else "")
               + (" Tickets: " + protocol.convergence(by(("lottery",)), cfg) if cfg["lottery"] else ""))
  lines.append(f"- Dense LeNet-300-100: {_mean(dense, 'val_acc'):.2f}% validation, {_mean(dense):.2f}% test "
               f"({len(dense['test_acc'])} seeds, best epoch {protocol.epochs_cell(dense)}). Comparisons below: "
               f"Welch's t-test on test accuracy, 95% CI, Holm-corrected over the {len(tests)} comparisons of this "
               "reading and its table; choices read validation only.")
  ctl = [r for r in rows[1:] if ("control", r["round"]) in tests]
  if ctl:
    first, last = ctl[0], ctl[-1]
    lines.append(f"- Retraining without pruning (the control) against the dense net: after round {first['round']} "
                 f"{tests[('control', first['round'])].text()}"
                 + (f"; after round {last['round']} {tests[('control', last['round'])].text()}" if last is not first
                    else "") + ". The retrained chain is measured against the control of the same round.")
  lines += _chain_reading(res, tests, "retrained", lim, "Pruned and retrained (Han)")
  lines.append(f"  Han et al. report {HAN['compression']}x with no loss ({HAN['error_before'] - HAN['error_after']:+.2f}"
               " points) for LeNet-300-100 on MNIST (Caffe, no augmentation, training epochs not stated).")
  last = rows[-1]
  if ("retraining", last["round"]) in tests:
    lines.append(f"- Retraining matters: at round {last['round']} ({100 * last['kept']:.1f}% kept) the pruned weights "
                 f"score {_mean(last['before']):.1f}% on test before retraining, {_mean(last['retrained']):.1f}% after: "
                 f"{tests[('retraining', last['round'])].text()}.")
  if ("train", last["round"]) in tests:
    t = tests[("train", last["round"])]
    lines.append(f"- Fit at round {last['round']}: at their best-validation epochs the retrained net reaches "
                 f"{_mean(last['retrained'], 'train_acc'):.1f}% train accuracy, the control "
                 f"{_mean(last['control'], 'train_acc'):.1f}%: {t.text()}. "
                 + _fit_budget([last["retrained"], last["control"]], cfg))
  if len(rows) > 1 and all(r.get("exact_zeros", True) for r in rows):
    lines.append("- Every pruned weight of every seed was still exactly 0.0 in the selected weights (the mask is "
                 "applied inside the compiled step).")
  if cfg["lottery"] and any(r.get("lottery") for r in rows[1:]):
    lines += _chain_reading(res, tests, "lottery", lim,
                            "Lottery tickets (survivors rewound to their initial values, trained from there)")
    best, ticket = chosen.get("best_dense"), chosen.get("lottery")
    if ("best_dense", ticket) in tests:
      lines.append(f"  The dense net best on validation is the control after round {best} "
                   f"({_mean(rows[best]['control'], 'val_acc'):.2f}% validation); the chosen tickets "
                   f"({100 * rows[ticket]['lottery_kept']:.1f}%) against it on test: "
                   f"{tests[('best_dense', ticket)].text()}.")
    lines.append("  " + FRANKLE_CARBIN)
  return "\n".join(lines)
