"""The modular experiment's tables (groups, main, rare fraction, less data, training cost, reuse) and plots."""
import matplotlib.pyplot as plt
import numpy as np

from research import groups, results, stats

from experiments.modular.contenders import CONTENDERS, LABELS
from experiments.modular.points import by_rho, by_size, main_point, pct, to_target
from experiments.modular.reuse import REUSE_LABELS

SAGAWA = {"monolithic": (94.9, 47.8), "reweighted": (92.9, 83.3)}  # CelebA, average / worst group
# How the setting line names a pool's examples; an attribute set not here goes by its own name.
ITEMS = {"fashion_mnist": "Fashion-MNIST items", "digits": "scikit-learn digits", "celeb_a": "CelebA faces"}


def table(doc):
  parts = [groups_table(doc), main_table(doc), rho_table(doc), size_table(doc), cost_table(doc),
           reuse_table(doc)]
  return "\n".join(parts)


def setting_text(doc):
  cfg, res = doc["config"], doc["results"]
  names, main = res["names"], main_point(res)
  items = ITEMS.get(cfg["attributes"], cfg["attributes"])
  return (f"{items}: {names['a_title']} ({' / '.join(names['a'])}) x {names['b_title']} "
          f"({' / '.join(names['b'])}); "
          f"rare group: {res['rare_name']}. Test set balanced ({main['counts']['test'][0]:,} per group). "
          f"Mean ± std over {cfg['seeds']} seeds (initialization and batch order; the data subset is fixed, "
          f"data_seed {cfg['data_seed']}). One-hidden-layer MLPs: monolithic and trunk {cfg['width']} units, "
          f"each attribute module {cfg['module_width']}, combiner {cfg['combiner_width']}; "
          f"{cfg['optimizer']} lr {cfg['learning_rate']:g}, batch {cfg['batch_size']}, "
          f"at least {cfg['epochs']} epochs and {cfg['min_steps']} steps.")


def groups_table(doc):
  res = doc["results"]
  names = res["names"]
  return (f"**Groups** (rho = {pct(res['rho_main'])}, like Sagawa et al.'s Table 1). {names['source']}.\n\n"
          + groups.counts_table(res["counts"], groups.AttributeNames(**names), res["rare"]))


def main_table(doc):
  res = doc["results"]
  main, gn, rare = main_point(res), res["group_names"], res["rare"]
  header = ["contender", "params", "average", "avg (train mix)", *gn, "worst group", f"rare ({gn[rare]})"]
  header[4 + rare] += " *"
  rows = []
  for k in CONTENDERS:
    c = main["contenders"][k]
    acc_Mx4 = np.asarray(c["group_acc"])
    rows.append([LABELS[k], results.human(c["params"]), stats.mean_sd_text(c["average"]),
                 stats.mean_sd_text(c["train_mix"]), *[stats.mean_sd_text(acc_Mx4[:, g]) for g in range(4)],
                 stats.mean_sd_text(c["worst"]), stats.mean_sd_text(c["rare"])])
  for k, (avg, worst) in SAGAWA.items():
    rows.append([f"*Sagawa et al. 2020, CelebA: {'ERM' if k == 'monolithic' else 'upweighting'}*", "ResNet50",
                 "", f"*{avg}*", *[""] * 4, f"*{worst}*", ""])
  return results.markdown_table(header, rows,
      f"**Table 1: main.** Test accuracy (%) at rho = {pct(res['rho_main'])} "
      f"({main['counts']['train'][rare]} rare of {main['n_train']:,} training examples). "
      "average: mean over the balanced test set (= the mean of the four groups); avg (train mix): the "
      "group accuracies weighted as in training, the nearest to Sagawa's average (their test set follows "
      "the natural distribution). * the rare group. " + setting_text(doc))


def sweep_table(points, rare, label, metric, caption):
  """One row per point: its rare examples and every contender's `metric`."""
  rows = []
  for r in points:
    rows.append([label(r), f"{r['counts']['train'][rare]:,}",
                 *[stats.mean_sd_text(r["contenders"][k][metric]) for k in CONTENDERS]])
  return results.markdown_table(["setting", "rare examples", *[LABELS[k] for k in CONTENDERS]], rows, caption)


def rho_table(doc):
  res = doc["results"]
  rare = res["rare"]
  return sweep_table(by_rho(res), rare, lambda r: f"rho = {pct(r['rho'])}", "rare",
      f"**Table 2: rare fraction.** Rare-group ({res['group_names'][rare]}) test accuracy (%) vs its share rho "
      f"of the {res['n_main']:,} training examples (rho = 25% is balanced), mean ± std over "
      f"{doc['config']['seeds']} seeds.")


def size_table(doc):
  cfg, res = doc["config"], doc["results"]
  return sweep_table(by_size(res), res["rare"], lambda r: f"n = {r['n_train']:,}", "worst",
      f"**Table 3: less data.** Worst-group test accuracy (%) vs training-set size at rho = "
      f"{pct(res['rho_main'])}, mean ± std over {cfg['seeds']} seeds. Every size trains at least "
      f"{cfg['min_steps']} steps (small sets: more epochs).")


def cost_table(doc):
  cfg, res = doc["config"], doc["results"]
  main, target = main_point(res), cfg["target_acc"]
  rows = []
  for k in CONTENDERS:
    c = main["contenders"][k]
    hits = to_target(c, target)
    ok = [h for h in hits if h is not None]
    steps = stats.mean_sd_text([h[0] for h in ok], scale=1, digits=0) if ok else "not reached"
    secs = stats.mean_sd_text([h[1] for h in ok], scale=1, digits=2) if ok else "not reached"
    rows.append([LABELS[k], f"{len(ok)} of {len(hits)}", steps, secs, f"{c['steps_per_epoch']}",
                 f"{c['s_per_model_epoch']:.3f}", stats.mean_sd_text(c["average"])])
  spe = main["contenders"]["monolithic"]["steps_per_epoch"]
  return results.markdown_table(
      ["contender", "seeds reaching", "optimizer steps", "seconds", "steps / epoch", "s / model-epoch",
       "final average"], rows,
      f"**Table 4: training cost.** Optimizer steps and wall-clock seconds until the balanced test accuracy "
      f"first reaches {100 * target:g}% (checked once per epoch, so steps are resolved to {spe} steps), at "
      f"rho = {pct(res['rho_main'])}, mean ± std over the seeds that reach it. The learned combiner's count "
      "includes all of its modules' training, which must come first. Seconds: per model, from the vmapped "
      f"cell's training time ({doc['environment']['devices']}, {doc['environment']['cpu_count']} CPU cores, "
      "other work may have shared them).")


def reuse_task_text(doc):
  res = doc["results"]
  gn = res["group_names"]
  if res["reuse"]["task"] == "and":
    return f"a and b: is it {gn[3]}"
  if doc["config"]["attributes"] == "fashion_mnist":
    return "a != b: light tops and dark footwear vs the rest"
  return f"a != b: {gn[1]} and {gn[2]} vs the rest"  # groups 2a + b = 1 and 2


def reuse_table(doc):
  cfg, res = doc["config"], doc["results"]
  ru = res["reuse"]
  rows = [[REUSE_LABELS[k], results.human(r["trainable_params"]), r["steps"], stats.mean_sd_text(r["train_acc"]),
           stats.mean_sd_text(r["test_acc"])] for k, r in ru["rows"].items()]
  return results.markdown_table(["model", "trainable params", "steps", "train acc", "test acc"], rows,
      f"**Table 5: reuse.** A new 2-way task ({reuse_task_text(doc)}) with {ru['n_labels']} labelled examples "
      f"({cfg['reuse_per_group']} per group, none of them in the modules' training set); test accuracy (%) on "
      f"the balanced test set ({ru['n_test']:,}, {100 * ru['test_positive']:.0f}% positive), mean ± std "
      f"over {cfg['seeds']} seeds. Frozen parts come from the rho = {pct(res['rho_main'])} runs of Table 1; only "
      f"the combiner ({cfg['combiner_width']} hidden units) trains on top of them.")


def rare_lines(ax, points, x_of, tick_of, rare_name):
  """Each contender's rare-group accuracy over the points, mean ± std over seeds."""
  for i, k in enumerate(CONTENDERS):
    ms = [stats.mean_sd(p["contenders"][k]["rare"]) for p in points]
    ax.errorbar([x_of(p) for p in points], [m for m, _ in ms], yerr=[s for _, s in ms],
                marker="o", capsize=3, color=f"C{i}", label=LABELS[k])
  ax.set_xscale("log")
  ax.set_xticks([x_of(p) for p in points], [tick_of(p) for p in points])
  ax.minorticks_off()
  ax.set_ylabel(f"rare-group ({rare_name}) test accuracy (%)")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  figs = {}
  fig, ax = plt.subplots(figsize=(6.5, 4))
  rare_lines(ax, by_rho(res), lambda p: 100 * p["rho"], lambda p: f"{100 * p['rho']:g}%", res["rare_name"])
  ax.set_xlabel("rare group's share of the training set, rho")
  ax.set_title(f"n = {res['n_main']:,} training examples, {cfg['seeds']} seeds (mean ± std)")
  figs["rare_vs_rho.png"] = fig

  fig, ax = plt.subplots(figsize=(6.5, 4))
  rare_lines(ax, by_size(res), lambda p: p["n_train"],
             lambda p: results.human(p["n_train"]).replace(".0K", "K"), res["rare_name"])
  ax.set_xlabel("training examples")
  ax.set_title(f"rho = {pct(res['rho_main'])}, {cfg['seeds']} seeds (mean ± std)")
  figs["rare_vs_size.png"] = fig
  return figs
