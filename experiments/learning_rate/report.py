"""The tables, plots and reading of learning_rate, from its results.json."""
import matplotlib.pyplot as plt
import numpy as np

from research.report import protocol, readings, stats
from research.system import results


def none_diverged(row):
  """No member of the row diverged: only such rows are chosen or compared."""
  return not any(row["diverged"])


def val_mean(row):
  """A row's mean validation accuracy (%) over its seeds."""
  return stats.mean_sd(row["val_acc"])[0]


def reached(row):
  """The steps of the members that reached the target."""
  return [s for s in row["steps_to_target"] if s is not None]


def select(rows, optimizers, target):
  """Every choice the table and reading make, on validation numbers alone: per optimizer the rate
  with the best mean validation accuracy and the rate whose members reach the target in the fewest
  steps (all of them reaching it), and the optimizer whose chosen rate validates best. Rows with a
  diverged member are never chosen; ties go to the grid's order."""
  best, fastest = {}, {}
  for o in optimizers:
    ok = [r for r in rows if r["optimizer"] == o and none_diverged(r)]
    best[o] = max(ok, key=val_mean)["learning_rate"] if ok else None
    quick = [r for r in ok if len(reached(r)) == len(r["seeds"])]
    fastest[o] = min(quick, key=lambda r: np.mean(reached(r)))["learning_rate"] if quick else None
  chosen = [_row(rows, o, lr) for o, lr in best.items() if lr is not None]
  winner = max(chosen, key=val_mean)["optimizer"] if chosen else None
  return dict(best_rate=best, fastest_rate=fastest, optimizer=winner, target_val_acc=target)


def _selected(res):
  """The choices results.json records, checked against the rows' divergence flags (select() again where
  one names a row that diverged: a reading never builds on a diverged row)."""
  sel, rows = res["selected"], res["rows"]
  named = [_row(rows, o, lr) for o, lr in sel["best_rate"].items() if lr is not None]
  if all(none_diverged(r) for r in named):
    return sel
  return select(rows, list(sel["best_rate"]), sel["target_val_acc"])


def _row(rows, opt, lr):
  return next(r for r in rows if r["optimizer"] == opt and r["learning_rate"] == lr)


def steps_text(row):
  s = reached(row)
  n = len(row["steps_to_target"])
  if all(row["diverged"]):
    return "diverged"
  if not s:
    return "not reached"
  text = stats.mean_sd_text(s, scale=1.0, digits=0)
  return text if len(s) == n else f"{text} ({len(s)} of {n})"


def _target_text(res):
  t = res["selected"]["target_val_acc"]
  return "—" if t is None else f"{100 * t:.1f}%"


def _rate_cell(lr, selected):
  chosen = [o for o, v in selected["best_rate"].items() if v == lr]
  return f"{lr:g}" + (f" (chosen: {', '.join(chosen)})" if chosen else "")


def table(doc):
  cfg, res = doc["config"], doc["results"]
  ds = res["dataset"]
  opts = cfg["optimizers"]
  header = ["learning rate"] + [f"{o} {what}" for o in opts
                                for what in ("val", "test", "epochs", f"steps to val ≥ {_target_text(res)}")]
  rows = []
  for lr in cfg["learning_rates"]:
    row = [_rate_cell(lr, res["selected"])]
    for o in opts:
      r = _row(res["rows"], o, lr)
      row += [stats.mean_sd_text(r["val_acc"]), stats.mean_sd_text(r["test_acc"]),
              "—" if all(r["diverged"]) else protocol.epochs_cell(r), steps_text(r)]
    rows.append(row)
  caption = (f"**Learning rate.** MLP {cfg['depth']}x{cfg['width']} ({results.human(res['params'])} parameters) on "
             f"{ds['name']} ({ds['n_train']} train / {ds['n_val']} validation / {ds['n_test']} test), batch "
             f"{cfg['batch_size']} ({res['steps_per_epoch']} steps per epoch); accuracy (%) of each member's "
             f"best-validation epoch, mean ± std over {cfg['seeds']} seeds. Every optimizer: the same grid of rates "
             f"and the same rule, {protocol.rule(cfg)}. Early stopping stays on: a rate too small to converge runs to "
             "the maximum (+ in epochs: a member still improving there). chosen: the rate with the best mean "
             "validation accuracy per optimizer (rows with a diverged member excluded). epochs: to the best "
             "validation accuracy, median (range). Steps to val ≥ target: the first epoch whose validation accuracy "
             f"reaches {cfg['target_fraction']:g} x the best row's mean validation accuracy, times the steps per "
             "epoch, mean ± std over the seeds that reached it within their run (\"k of n\": how many did). All "
             "rates and seeds of an optimizer trained as one vmapped program. \"diverged\": the loss or gradient "
             "became inf/NaN; the run was stopped inside the program at that step (\"k of n diverged\": the "
             "others' mean); diverged members enter no choice and no comparison. No published numbers: the claim "
             "tested is qualitative (too small a step is slow, too large a step diverges).")
  return results.markdown_table(header, rows, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  opts = cfg["optimizers"]
  spe = res["steps_per_epoch"]
  lrs = cfg["learning_rates"]
  target = res["selected"]["target_val_acc"]
  cmap = plt.get_cmap("viridis")
  color = {lr: cmap(i / max(1, len(lrs) - 1)) for i, lr in enumerate(lrs)}
  fig = plt.figure(figsize=(5 * (len(opts) + 1), 8))
  grid = fig.add_gridspec(2, len(opts) + 1)
  for j, o in enumerate(opts):
    rows = [r for r in res["rows"] if r["optimizer"] == o]
    n_div = sum(sum(r["diverged"]) for r in rows)
    for i, (key, ylabel) in enumerate((("val_curves", "validation accuracy (%)"),
                                       ("loss_curves", "training loss (epoch mean)"))):
      ax = fig.add_subplot(grid[i, j])
      scale = 100 if key == "val_curves" else 1
      for r in rows:
        for k, c in enumerate(r[key]):
          c = scale * np.array([np.nan if v is None else v for v in c], float)
          ax.plot(spe * np.arange(1, len(c) + 1), c, color=color[r["learning_rate"]], alpha=0.7, lw=1,
                  label=f"{r['learning_rate']:g}" if k == 0 else None)
          if r["diverged"][k] and r["diverged_epoch"][k] is not None:
            at = np.nanmax(c) if np.isfinite(c).any() else (0 if key == "val_curves" else 1e3)
            ax.plot(spe * (r["diverged_epoch"][k] + 1), at, "x", color="red", ms=8)
      if key == "val_curves":
        if target is not None:
          ax.axhline(100 * target, color="k", ls="--", lw=1)
        ax.set_title(f"{o}: one line per seed; red x: {n_div} runs diverged (inf/NaN)")
        ax.legend(title="learning rate", fontsize=7, ncol=2)
      else:
        ax.set_yscale("log")
      ax.set_xlabel("steps")
      ax.set_ylabel(ylabel)
      ax.grid(alpha=0.3)
  ax = fig.add_subplot(grid[:, -1])
  for j, o in enumerate(opts):
    rows = [r for r in res["rows"] if r["optimizer"] == o]
    x = np.array([r["learning_rate"] for r in rows])
    for key, ls, marker in (("val_acc", "-", "o"), ("test_acc", "--", "s")):
      ms = [stats.mean_sd(r[key]) for r in rows]
      ax.errorbar(x, [m for m, _ in ms], yerr=[s for _, s in ms], marker=marker, ls=ls, capsize=3,
                  color=f"C{j}", label=f"{o}: {key.split('_')[0]}")
    dead = [r["learning_rate"] for r in rows if all(r["diverged"])]
    ax.plot(dead, [0] * len(dead), "x", color=f"C{j}", ms=9, label=f"{o}: all diverged" if dead else None)
  ax.set_xscale("log")
  ax.set_xlabel("learning rate")
  ax.set_ylabel("accuracy (%) at the best validation epoch")
  ax.set_title(f"{cfg['seeds']} seeds, mean ± std of the runs that did not diverge")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  fig.tight_layout()
  return {"loss_curves.png": fig}


def _rates(rows):
  return ", ".join(f"{r['learning_rate']:g}" for r in rows)


def _pct(row, key="val_acc"):
  return stats.mean_sd_text(row[key])


def comparisons(res, optimizers):
  """The family of this reading, Holm-corrected together (test accuracy, each member's
  best-validation epoch): per optimizer its chosen rate against every other rate that did not
  diverge, and the chosen rates of the optimizers against the validation winner's."""
  sel, rows = _selected(res), res["rows"]
  pairs = {}
  for o in optimizers:
    if sel["best_rate"][o] is None:
      continue
    best = _row(rows, o, sel["best_rate"][o])
    for r in rows:
      if r["optimizer"] == o and r is not best and none_diverged(r):
        pairs[(o, r["learning_rate"])] = (best["test_acc"], r["test_acc"])
  if sel["optimizer"] is not None:
    win = _row(rows, sel["optimizer"], sel["best_rate"][sel["optimizer"]])
    for o in optimizers:
      if o != sel["optimizer"] and sel["best_rate"][o] is not None:
        pairs[("optimizer", o)] = (win["test_acc"], _row(rows, o, sel["best_rate"][o])["test_acc"])
  return stats.compare(pairs)


def _ran(rows, cfg):
  """How the members of rows ended: 'k ran to the maximum (N epochs), j stopped by the rule'."""
  ended = [(s, e) for r in rows for s, e, d in zip(r["stopped"], r["epochs_run"], r["diverged"]) if not d]
  stopped = sum(s for s, _ in ended)
  parts = [f"{len(ended) - stopped} ran to the maximum ({cfg['epochs']} epochs)" if len(ended) > stopped else "",
           f"{stopped} stopped by the rule first" if stopped else ""]
  return ", ".join(p for p in parts if p)


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  sel, opts = _selected(res), cfg["optimizers"]
  chance = 100.0 / res["dataset"]["num_classes"]
  trained = [r for r in res["rows"] if not all(r["diverged"])]
  grid = ", ".join(f"{lr:g}" for lr in cfg["learning_rates"])
  lines = [f"- Budget, the same for every optimizer and rate: {protocol.rule(cfg)}; rates {grid}. "
           + protocol.convergence(trained, cfg)]
  lost = [r for r in res["rows"] if not none_diverged(r)]
  if lost:  # reported as diverged, left out of every choice and comparison
    count = lambda r: f"{r['learning_rate']:g} ({sum(r['diverged'])} of {len(r['diverged'])})"
    lines.append("- Diverged (inf/NaN, stopped in the program), left out of every choice and comparison: " + "; ".join(
        f"{o} at " + ", ".join(count(r) for r in lost if r["optimizer"] == o)
        for o in opts if any(r["optimizer"] == o for r in lost)) + ".")
  tests = comparisons(res, opts)
  if tests:
    lines.append(f"- Comparisons: Welch's t-test on test accuracy at each member's best-validation epoch, 95% CI, "
                 f"{readings.family_text(tests)}; every choice was made on validation.")
  else:
    lines.append(readings.nothing(
        "every rate of every optimizer had a diverged member" if all(v is None for v in sel["best_rate"].values())
        else ("each optimizer has one rate " + ("(the grid holds one)" if len(cfg["learning_rates"]) == 1 else
                                                "that stayed finite")
              + (" and one optimizer ran" if len(opts) == 1 else " and no other optimizer has a rate chosen"))))
  for o in opts:
    if sel["best_rate"][o] is None:
      lines.append(f"- {o}: every rate had a diverged member, so no rate was chosen.")
      continue
    best = _row(res["rows"], o, sel["best_rate"][o])
    calls = {lr: c for (w, lr), c in tests.items() if w == o}
    numbers = f"{_pct(best)}% validation, {_pct(best, 'test_acc')}% test, {len(best['seeds'])} seeds"
    only = [r for r in res["rows"] if r["optimizer"] == o and none_diverged(r)] == [best]
    lines.append(f"- {o}: " + (f"the only rate {'in the grid' if len(cfg['learning_rates']) == 1 else 'that stayed finite'}"
                               f", {best['learning_rate']:g} ({numbers})." if only else
                               f"rate chosen on validation {best['learning_rate']:g} ({numbers})."))
    if calls:
      near = [lr for lr, c in calls.items() if not c.resolved]
      below = [lr for lr, c in calls.items() if c.resolved and c.diff > 0]
      above = [lr for lr, c in calls.items() if c.resolved and c.diff < 0]
      lines.append(f"  Not resolved from it at {len(best['seeds'])} seeds: "
                   f"{', '.join(f'{lr:g}' for lr in near) or 'no rate'}; below it on test after correction: "
                   f"{', '.join(f'{lr:g}' for lr in below) or 'no rate'}"
                   + (f"; above it on test after correction: {', '.join(f'{lr:g}' for lr in above)}" if above else "")
                   + ".")
    lines += _speed_lines(o, res, cfg)
    wrecked = [r for r in res["rows"] if r["optimizer"] == o and none_diverged(r) and val_mean(r) < 2 * chance
               and r["learning_rate"] > best["learning_rate"]]
    if wrecked:
      peaks = [p for r in wrecked for p in r["peak_loss"] if p is not None]
      lines.append(f"  Too large without overflowing: at {_rates(wrecked)} every run stayed finite but validates "
                   f"near chance ({chance:.0f}%: " + ", ".join(f"{val_mean(r):.1f}%" for r in wrecked) + ")"
                   + (f"; the training loss peaked at up to {max(peaks):.3g}." if peaks else "."))
  win = sel["optimizer"]
  for (w, o), c in tests.items():
    if w == "optimizer":
      a, b = _row(res["rows"], win, sel["best_rate"][win]), _row(res["rows"], o, sel["best_rate"][o])
      lines.append(f"- Optimizers, each at its chosen rate: chosen on validation, {win} ({_pct(a)}% against {o}'s "
                   f"{_pct(b)}%); on test, {win} - {o}: {c.text()}.")
  return "\n".join(lines)


def _speed_lines(o, res, cfg):
  """Time to the target on the validation curves: which rates reach it, in how many steps, and
  the rates too small to reach it within their runs."""
  rows = [r for r in res["rows"] if r["optimizer"] == o and none_diverged(r)]
  target = _target_text(res)
  fastest = res["selected"]["fastest_rate"][o]
  all_in = [r for r in rows if len(reached(r)) == len(r["seeds"])]
  if not all_in:
    return [f"  No rate brings every seed to validation accuracy {target} within its run ({_ran(rows, cfg)})."]
  lines = [f"  Steps to validation accuracy {target}, every seed reaching it: "
           + ", ".join(f"{r['learning_rate']:g}: {steps_text(r)}" for r in all_in)
           + (f"; fewest (mean) at {fastest:g}." if len(all_in) > 1 and fastest is not None else ".")]
  slow = [r for r in rows if r["learning_rate"] < min(x["learning_rate"] for x in all_in)]
  if slow:
    lines.append(f"  Too small: at {_rates(slow)} not every seed reaches {target} within its run ("
                 + "; ".join(f"{r['learning_rate']:g}: {len(reached(r))} of {len(r['seeds'])}" for r in slow)
                 + f"; of their members {_ran(slow, cfg)}; validation accuracy "
                 + ", ".join(f"{val_mean(r):.1f}%" for r in slow) + ").")
  return lines
