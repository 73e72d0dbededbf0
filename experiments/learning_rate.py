"""Gradient descent's step size: plain SGD and Adam over learning rates from 1e-4 to 10.

  make lr                        # full profile, about 2 minutes on 2 CPU cores
  make lr PROFILE=quick          # 3 rates, 2 seeds: a smoke test
  make lr ARGS="--config.optimizers=[sgd,momentum,adam]"

Every rate and seed of one optimizer is a member of one vmapped, compiled training program (11
rates x 5 seeds = 55 small MLPs at once). A run whose loss or gradient stops being finite is
frozen inside the program at that step and reported as "diverged"; the others carry on.

Expect (full, measured): SGD is slow below 3e-3 (the target loss not reached in 1860 steps), best
around 0.03-0.3 (~82.7%), and every run at rates 1, 3 and 10 overflows to inf/NaN in its first
epoch ("diverged"); Adam is best from 1e-4 to 3e-3 (~83%), and from 0.1 up fails without
overflowing: its steps are normalized, so the net is wrecked (chance accuracy, after a loss spike
to ~1e6) rather than blown to infinity.
"""
import matplotlib.pyplot as plt
import ml_collections
import numpy as np

from research import config, models, optim, results, stats, train

NAME = "learning_rate"
ALIAS = "lr"
ORDER = 5
TITLE = "Learning rate: SGD and Adam from 1e-4 to 10, divergence detected in the compiled program"


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "fashion_mnist"
  c.n_train = 4000          # a subset: 55 members train at once, and many short epochs
  c.val_size = 0
  c.model = "mlp"           # a registered model with depth and width options
  c.depth = 2
  c.width = 64
  c.optimizers = ["sgd", "adam"]
  c.learning_rates = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0]
  c.target_loss = 0.5       # mean training loss of an epoch; steps to reach it are counted
  c.batch_size = 64         # 62 steps per epoch: the resolution of steps-to-target
  c.epochs = 30
  c.seeds = 5
  c.chunk_epochs = 10
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(n_train=1000, learning_rates=[1e-3, 0.1, 10.0], epochs=3, seeds=2, chunk_epochs=3),
            "tiny": dict(dataset="digits", n_train=0, learning_rates=[1e-2, 0.3, 10.0], epochs=3, seeds=2,
                         chunk_epochs=3)}


def validate(cfg):
  config.nonempty(cfg, "optimizers", "learning_rates")
  for o in cfg.optimizers:
    optim.check(o)
  config.positive(cfg, "depth", "width", "target_loss")
  build(cfg, 10)


def build(cfg, num_classes):
  return models.build(cfg.model, num_classes, depth=cfg.depth, width=cfg.width)


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, n_train=cfg.n_train, val_size=cfg.val_size)
  seeds = list(range(cfg.seeds))
  model = build(cfg, ds.num_classes)
  steps_per_epoch = len(ds.y_train) // cfg.batch_size
  ctx.plan(len(cfg.optimizers))
  out = []
  for opt in cfg.optimizers:
    trainer = train.make_trainer(model, opt, cfg.batch_size)
    # Members: rate-major, seed-minor; one dict per member, the optimizer's other defaults kept.
    hparams = [optim.defaults(opt, lr) for lr in cfg.learning_rates for _ in seeds]
    spec = dict(model=cfg.model, depth=cfg.depth, width=cfg.width, optimizer=opt,
                batch_size=cfg.batch_size, dataset=ds.describe())
    res = ctx.cell(trainer, arrays, name=opt, spec=spec, seeds=seeds * len(cfg.learning_rates),
                   hparams=hparams)
    members = res.summary.members
    for i, lr in enumerate(cfg.learning_rates):
      group = members[i * len(seeds):(i + 1) * len(seeds)]
      out.append(dict(optimizer=opt, learning_rate=lr, **rate_numbers(group, cfg.target_loss, steps_per_epoch),
                      s_per_model=res.summary.timing.s_per_model))
  return dict(dataset=ds.describe(), steps_per_epoch=steps_per_epoch, rows=out,
              **models.describe(model, ds.shape))


def steps_to(loss_E, target, steps_per_epoch, diverged_epoch):
  """Steps until an epoch's mean training loss first is <= target; None if never (or only after
  diverging). Resolution: one epoch."""
  loss_E = np.array([np.nan if v is None else v for v in loss_E], float)
  ok = np.flatnonzero(loss_E <= target)
  if diverged_epoch is not None:
    ok = ok[ok < diverged_epoch]
  return None if not len(ok) else int((ok[0] + 1) * steps_per_epoch)


def rate_numbers(members, target, steps_per_epoch):
  """The seeds of one learning rate: final numbers, steps to target, loss curves cut at divergence."""
  final = lambda k: [getattr(m.final, k) for m in members]
  curves = []
  for m in members:
    c = [np.nan if v is None else v for v in m.history["train_loss"]]
    if m.final.diverged:  # after the step that diverged, the member is frozen: no curve
      c = c[:m.final.diverged_epoch]
    curves.append(c)
  return dict(test_acc=final("test_acc"), train_loss=final("train_loss"), diverged=final("diverged"),
              diverged_epoch=final("diverged_epoch"), seeds=[m.seed for m in members],
              steps_to_target=[None if m.final.diverged and m.final.diverged_epoch == 0 else
                               steps_to(m.history["train_loss"], target, steps_per_epoch,
                                        m.final.diverged_epoch) for m in members],
              peak_loss=[float(np.nanmax(c)) if len(c) and np.isfinite(c).any() else None for c in curves],
              curves=curves)


def steps_text(row):
  s = [v for v in row["steps_to_target"] if v is not None]
  n = len(row["steps_to_target"])
  if all(row["diverged"]) and not s:
    return "diverged"
  if not s:
    return "not reached"
  text = stats.mean_sd_text(s, scale=1.0, digits=0)
  return text if len(s) == n else f"{text} ({len(s)} of {n})"


def loss_text(row):
  v = [x for x, d in zip(row["train_loss"], row["diverged"]) if x is not None and not d]
  if not v:
    return "diverged"
  return f"{np.median(v):.3g}" + ("" if len(v) == len(row["train_loss"]) else f" ({len(v)} of {len(row['train_loss'])})")


def table(doc):
  cfg, res = doc["config"], doc["results"]
  ds = res["dataset"]
  opts = cfg["optimizers"]
  header = ["learning rate"] + [f"{o}: {what}" for o in opts
                                for what in ("test acc", f"steps to loss ≤ {cfg['target_loss']:g}", "final train loss")]
  rows = []
  for lr in cfg["learning_rates"]:
    row = [f"{lr:g}"]
    for o in opts:
      r = next(r for r in res["rows"] if r["optimizer"] == o and r["learning_rate"] == lr)
      row += [stats.mean_sd_text(r["test_acc"]), steps_text(r), loss_text(r)]
    rows.append(row)
  caption = (f"**Learning rate.** MLP {cfg['depth']}x{cfg['width']} ({results.human(res['params'])} parameters) on "
             f"{ds['n_train']} {ds['name']} training images ({ds['n_test']} test), batch {cfg['batch_size']} "
             f"({res['steps_per_epoch']} steps per epoch), {cfg['epochs']} epochs; test accuracy (%) mean ± std over "
             f"{cfg['seeds']} seeds. All rates and seeds of an optimizer trained as one vmapped program. "
             "\"diverged\": the loss or gradient became inf/NaN; the run was stopped inside the program at that "
             "step (\"k of n diverged\": the others' mean). Steps to target: the first epoch whose mean training "
             "loss is at or below the target, times the steps per epoch, mean ± std over the seeds that reached it. "
             "Final train loss: median over the seeds that did not diverge. No published numbers: the claim "
             "tested is qualitative (too small a step is slow, too large a step diverges).")
  return results.markdown_table(header, rows, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  opts = cfg["optimizers"]
  spe = res["steps_per_epoch"]
  lrs = cfg["learning_rates"]
  cmap = plt.get_cmap("viridis")
  color = {lr: cmap(i / max(1, len(lrs) - 1)) for i, lr in enumerate(lrs)}
  fig, axes = plt.subplots(1, len(opts) + 1, figsize=(5 * (len(opts) + 1), 4), squeeze=False)
  for ax, o in zip(axes[0], opts):
    for r in (r for r in res["rows"] if r["optimizer"] == o):
      for k, c in enumerate(r["curves"]):
        c = np.array([np.nan if v is None else v for v in c], float)
        steps = spe * np.arange(1, len(c) + 1)
        ax.plot(steps, c, color=color[r["learning_rate"]], alpha=0.7, lw=1,
                label=f"{r['learning_rate']:g}" if k == 0 else None)
        if r["diverged"][k]:
          ax.plot(spe * (r["diverged_epoch"][k] + 1), np.nanmax(c) if np.isfinite(c).any() else 1e3,
                  "x", color="red", ms=8)
    ax.axhline(cfg["target_loss"], color="k", ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("steps")
    ax.set_ylabel("training loss (epoch mean)")
    n_div = sum(sum(r["diverged"]) for r in res["rows"] if r["optimizer"] == o)
    ax.set_title(f"{o}: one line per seed; red x: {n_div} runs diverged (inf/NaN)")
    ax.grid(alpha=0.3)
    ax.legend(title="learning rate", fontsize=7, ncol=2)
  ax = axes[0][-1]
  for j, o in enumerate(opts):
    rows = [r for r in res["rows"] if r["optimizer"] == o]
    ms = [_finite_test_mean_sd(r) for r in rows]
    x = np.array([r["learning_rate"] for r in rows])
    m = np.array([m for m, _ in ms])
    ax.errorbar(x, m, yerr=[s for _, s in ms], marker="o", capsize=3,
                color=f"C{j}", label=o)
    dead = [r["learning_rate"] for r in rows if all(r["diverged"])]
    ax.plot(dead, [0] * len(dead), "x", color=f"C{j}", ms=9, label=f"{o}: all diverged" if dead else None)
  ax.set_xscale("log")
  ax.set_xlabel("learning rate")
  ax.set_ylabel("final test accuracy (%)")
  ax.set_title(f"{cfg['seeds']} seeds, mean ± std of the runs that did not diverge")
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  return {"loss_curves.png": fig}


def _finite_test_mean(r):
  return _finite_test_mean_sd(r)[0]


def _finite_test_mean_sd(r):
  """Test accuracy (%) mean and std over the members that did not diverge."""
  return stats.mean_sd([x for x, d in zip(r["test_acc"], r["diverged"]) if not d])


def _rates(rows):
  return ", ".join(f"{r['learning_rate']:g}" for r in rows)


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  chance = 100.0 / res["dataset"]["num_classes"]
  lines = []
  for o in cfg["optimizers"]:
    rows = [r for r in res["rows"] if r["optimizer"] == o]
    fine = [r for r in rows if np.isfinite(_finite_test_mean(r))]
    if not fine:
      lines.append(f"- {o}: every run diverged.")
      continue
    best = max(fine, key=_finite_test_mean)
    reach = [r for r in rows if sum(s is not None for s in r["steps_to_target"]) > len(r["seeds"]) / 2]
    lines.append(f"- {o}: best final test accuracy {_finite_test_mean(best):.1f}% at learning rate {best['learning_rate']:g} "
                 f"({cfg['seeds']} seeds).")
    if reach:
      fastest = min(reach, key=lambda r: np.mean([s for s in r["steps_to_target"] if s is not None]))
      lines.append(f"  Most seeds reach training loss {cfg['target_loss']:g} at rates "
                   f"{_rates(reach)}; fastest at {fastest['learning_rate']:g} "
                   f"({steps_text(fastest)} steps).")
      slow = [r for r in rows if r["learning_rate"] < min(x["learning_rate"] for x in reach)]
      if slow:
        lines.append(f"  Too small: at {_rates(slow)} the loss is still above "
                     f"the target after {cfg['epochs']} epochs ({res['steps_per_epoch'] * cfg['epochs']} steps).")
    else:
      lines.append(f"  No rate brings most seeds to training loss {cfg['target_loss']:g} within {cfg['epochs']} epochs.")
    div = [r for r in rows if any(r["diverged"])]
    if div:
      lines.append("  Diverged (inf/NaN, stopped in the program): " +
                   ", ".join(f"{r['learning_rate']:g} ({sum(r['diverged'])} of {len(r['diverged'])})" for r in div) + ".")
    else:
      lines.append("  No run overflowed to inf/NaN at any rate.")
    wrecked = [r for r in rows if not all(r["diverged"]) and _finite_test_mean(r) < 2 * chance
               and r["learning_rate"] > best["learning_rate"]]
    if wrecked:
      peaks = [p for r in wrecked for p in r["peak_loss"] if p is not None]
      lines.append(f"  Too large without overflowing: at {_rates(wrecked)} the "
                   f"finite runs end near chance ({chance:.0f}%)"
                   + (f", after the training loss peaked at up to {max(peaks):.3g}." if peaks else "."))
  return "\n".join(lines)
