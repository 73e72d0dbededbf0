"""The modular experiment's tables (groups, main, rare fraction, less data, training cost, reuse) and plots."""
import matplotlib.pyplot as plt

from research import groups, protocol, results, stats

from experiments.modular.contenders import CONTENDERS, LABELS
from experiments.modular.points import by_rho, by_size, main_point, pct, seconds_to
from experiments.modular.reuse import REUSE_LABELS

# Sagawa et al. 2020 (ICLR), CelebA: average / worst-group test accuracy (%) of ERM and of group upweighting.
SAGAWA = {"monolithic": (94.9, 47.8), "reweighted": (92.9, 83.3)}
# Their setting, so that nobody reads the numbers as comparable point for point with ours.
SAGAWA_SETTING = ("a 2-way task (Blond_Hair) with Male as the second attribute, CelebA's ~163K training faces "
                  "(blond men 0.85%), an ImageNet-pretrained ResNet50 fine-tuned for 50 epochs (SGD, batch 128; "
                  "lr 1e-4 and weight decay 1e-4 in the authors' published command), no data augmentation "
                  "(the default of the authors' code, github.com/kohpangwei/group_DRO)")
# How the setting line names a pool's examples; an attribute set not here goes by its own name.
ITEMS = {"fashion_mnist": "Fashion-MNIST items", "digits": "scikit-learn digits", "celeb_a": "CelebA faces"}


def table(doc):
  parts = [groups_table(doc), main_table(doc), rho_table(doc), size_table(doc), cost_table(doc),
           reuse_table(doc)]
  return "\n".join(parts)


def rule_text(cfg, p):
  """The stopping rule at a point, with its maximum epochs."""
  return (f"{cfg['optimizer']} lr {cfg['learning_rate']:g} (combiner {cfg['combiner_lr']:g}), "
          f"batch {cfg['batch_size']}, {protocol.rule(cfg, p['epochs'])}")


def setting_text(doc):
  cfg, res = doc["config"], doc["results"]
  names, main = res["names"], main_point(res)
  items = ITEMS.get(cfg["attributes"], cfg["attributes"])
  return (f"{items}: {names['a_title']} ({' / '.join(names['a'])}) x {names['b_title']} "
          f"({' / '.join(names['b'])}); "
          f"rare group: {res['rare_name']}. Validation: {main['n_val']:,} examples held out of the training pool "
          f"at the same rho ({main['counts']['val'][res['rare']]} rare); every contender's epoch is chosen on its "
          f"validation accuracy (4-way). Test set balanced ({main['counts']['test'][0]:,} per group). "
          f"Mean ± std over {cfg['seeds']} seeds (initialization and batch order; the data subset is fixed, "
          f"data_seed {cfg['data_seed']}). One-hidden-layer MLPs: monolithic and trunk {cfg['width']} units, "
          f"each attribute module {cfg['module_width']}, combiner {cfg['combiner_width']}; {rule_text(cfg, main)}. "
          "epochs: to the best validation accuracy, median (range); + marks a member still improving at the maximum.")


def groups_table(doc):
  res = doc["results"]
  names = res["names"]
  return (f"**Groups** (rho = {pct(res['rho_main'])}, like Sagawa et al.'s Table 1). {names['source']}.\n\n"
          + groups.counts_table(res["counts"], groups.AttributeNames(**names), res["rare"]))


def group_column(c, g):
  return stats.mean_sd_text([None if row is None else row[g] for row in c["test_group_acc"]])


def main_table(doc):
  res = doc["results"]
  main, gn, rare = main_point(res), res["group_names"], res["rare"]
  header = ["contender", "params", "epochs", "val", "val rare", "test average", "test avg (train mix)",
            *[f"test {g}" for g in gn], "test worst group"]
  header[7 + rare] += " *"
  rows = []
  for k in CONTENDERS:
    c = main["contenders"][k]
    rows.append([LABELS[k], results.human(c["params"]), protocol.epochs_cell(c), stats.mean_sd_text(c["val_acc"]),
                 stats.mean_sd_text(c["val_rare"]), stats.mean_sd_text(c["test_average"]),
                 stats.mean_sd_text(c["test_train_mix"]), *[group_column(c, g) for g in range(4)],
                 stats.mean_sd_text(c["test_worst"])])
  for k, (avg, worst) in SAGAWA.items():
    rows.append([f"*Sagawa et al. 2020, CelebA: {'ERM' if k == 'monolithic' else 'upweighting'}*", "ResNet50",
                 *[""] * 4, f"*{avg}*", *[""] * 4, f"*{worst}*"])
  return results.markdown_table(header, rows,
      f"**Table 1: main.** Accuracy (%) at rho = {pct(res['rho_main'])} "
      f"({main['counts']['train'][rare]} rare of {main['n_train']:,} training examples). "
      "val: the 4-way validation accuracy the epoch is chosen by; val rare: the rare group's validation "
      "examples alone. test average: mean over the balanced test set (= the mean of the four groups); test avg "
      "(train mix): the group accuracies weighted as in training, the nearest to Sagawa's average (their test "
      "set follows the natural distribution). * the rare group. " + setting_text(doc)
      + f" Sagawa et al.'s rows: {SAGAWA_SETTING}.")


def sweep_table(points, rare, label, metric, caption):
  """One row per (point, contender): its rare examples, epochs, validation numbers and test `metric`."""
  rows = []
  for p in points:
    for k in CONTENDERS:
      c = p["contenders"][k]
      rows.append([label(p), f"{p['counts']['train'][rare]:,} / {p['counts']['val'][rare]:,}", LABELS[k],
                   protocol.epochs_cell(c), stats.mean_sd_text(c["val_acc"]),
                   stats.mean_sd_text(c[f"val_{metric}"]), stats.mean_sd_text(c[f"test_{metric}"])])
  return results.markdown_table(["setting", "rare (train / val)", "contender", "epochs", "val", f"val {metric}",
                                 f"test {metric}"], rows, caption)


def rho_table(doc):
  cfg, res = doc["config"], doc["results"]
  rare = res["rare"]
  return sweep_table(by_rho(res), rare, lambda r: f"rho = {pct(r['rho'])}", "rare",
      f"**Table 2: rare fraction.** Rare-group ({res['group_names'][rare]}) accuracy (%) vs its share rho "
      f"of the {res['n_main']:,} training examples and of the validation set (rho = 25% is balanced), mean ± std "
      f"over {cfg['seeds']} seeds; val: the 4-way validation accuracy. {rule_text(cfg, main_point(res))}.")


def size_table(doc):
  cfg, res = doc["config"], doc["results"]
  points = by_size(res)
  maxima = ", ".join(f"{p['epochs']} at n = {p['n_train']:,}" for p in points)
  return sweep_table(points, res["rare"], lambda r: f"n = {r['n_train']:,}", "worst",
      f"**Table 3: less data.** Worst-group accuracy (%) vs training-set size at rho = {pct(res['rho_main'])} "
      f"(the validation set stays at {points[0]['n_val']:,}), mean ± std over {cfg['seeds']} seeds; val: the 4-way "
      f"validation accuracy. The maximum epochs grow for small sets, up to {cfg['budget_steps']:,} steps "
      f"({maxima}); patience {cfg['patience']} epochs everywhere.")


def cost_table(doc):
  cfg, res = doc["config"], doc["results"]
  main, target = main_point(res), cfg["target_acc"]
  chosen = res["selected"]["steps_to_target"]
  rows = []
  for k in CONTENDERS:
    c = main["contenders"][k]
    steps = chosen[k]
    ok = [s for s in steps if s is not None]
    secs = [s for s in seconds_to(c, steps) if s is not None]
    rows.append([LABELS[k], f"{len(ok)} of {len(steps)}",
                 stats.mean_sd_text(ok, scale=1, digits=0) if ok else "not reached",
                 stats.mean_sd_text(secs, scale=1, digits=2) if ok else "not reached", f"{c['steps_per_epoch']}",
                 f"{c['s_per_model_epoch']:.3f}", protocol.epochs_cell(c),
                 stats.mean_sd_text(c["epochs_run"], scale=1, digits=0)])
  spe = main["contenders"]["monolithic"]["steps_per_epoch"]
  return results.markdown_table(
      ["contender", "seeds reaching", "optimizer steps", "seconds", "steps / epoch", "s / model-epoch",
       "epochs to best", "epochs run"], rows,
      f"**Table 4: training cost.** Optimizer steps and wall-clock seconds until the validation accuracy (4-way, "
      f"at rho = {pct(res['rho_main'])}) first reaches {100 * target:g}% (checked once per epoch, so steps are "
      f"resolved to {spe} steps), mean ± std over the seeds that reach it; epochs to best and epochs run (to the "
      f"stop by patience) under {protocol.rule(cfg, main['epochs'])}. The learned combiner's count includes "
      "all of its modules' training, to their stop, which must come first. Seconds: per model, from the vmapped "
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
  rows = [[REUSE_LABELS[k], results.human(r["trainable_params"]), f"{r['learning_rate']:g}", protocol.epochs_cell(r),
           stats.mean_sd_text(r["train_acc"]), stats.mean_sd_text(r["val_acc"]), stats.mean_sd_text(r["test_acc"])]
          for k, r in ru["rows"].items()]
  return results.markdown_table(["model", "trainable params", "lr", "epochs", "train", "val", "test"], rows,
      f"**Table 5: reuse.** A new 2-way task ({reuse_task_text(doc)}) with {ru['n_labels']} labelled training "
      f"examples ({cfg['reuse_per_group']} per group) and {ru['n_val']} validation examples "
      f"({cfg['reuse_val_per_group']} per group), none of them in the modules' training or validation set; "
      f"accuracy (%) with the test accuracy on the balanced test set ({ru['n_test']:,}, "
      f"{100 * ru['test_positive']:.0f}% positive), mean ± std over {cfg['seeds']} seeds; batch "
      f"{min(cfg['reuse_batch'], ru['n_labels'])}, an epoch {ru['passes']} passes over the {ru['n_labels']} "
      f"examples, {protocol.rule(cfg, ru['epochs'])}. Frozen parts are the "
      f"selected parameters of the rho = {pct(res['rho_main'])} runs of Table 1; only the combiner "
      f"({cfg['combiner_width']} hidden units) trains on top of them.")


def rare_lines(ax, points, x_of, tick_of, rare_name):
  """Each contender's rare-group test accuracy over the points, mean ± std over seeds."""
  for i, k in enumerate(CONTENDERS):
    ms = [stats.mean_sd(p["contenders"][k]["test_rare"]) for p in points]
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
  ax.set_title(f"n = {res['n_main']:,} training examples, {cfg['seeds']} seeds (mean ± std), best-validation epoch")
  figs["rare_vs_rho.png"] = fig

  fig, ax = plt.subplots(figsize=(6.5, 4))
  rare_lines(ax, by_size(res), lambda p: p["n_train"],
             lambda p: results.human(p["n_train"]).replace(".0K", "K"), res["rare_name"])
  ax.set_xlabel("training examples")
  ax.set_title(f"rho = {pct(res['rho_main'])}, {cfg['seeds']} seeds (mean ± std), best-validation epoch")
  figs["rare_vs_size.png"] = fig
  return figs
