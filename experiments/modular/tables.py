"""The modular experiment's tables: groups, main, rare fraction, less data, training cost, reuse here;
modules' own data, entangled vs disentangled and Sagawa's format in attribute_tables.py."""
from experiments.modular import groups
from research.report import protocol, stats
from research.system import pages, results

from experiments.modular.attribute_tables import attributes_table, own_table, sagawa_table
from experiments.modular.captions import dro_text, members_text, rule_text, setting_text, val_rare_text
from experiments.modular.contenders import CONTENDERS, LABELS, SWEEP
from experiments.modular.points import COSTED, by_rho, by_size, main_point, pct, seconds_to
from experiments.modular.reuse import REUSE_LABELS


def table(doc):
  parts = [groups_table(doc), main_table(doc), rho_table(doc), size_table(doc), own_table(doc),
           attributes_table(doc), sagawa_table(doc), cost_table(doc), reuse_table(doc)]
  return pages.join("\n", parts)


def groups_table(doc):
  res = doc["results"]
  names = res["names"]
  caption = (f"**Groups** (rho = {pct(res['rho_main'])}, data seed {res['data_seeds'][0]}, like Sagawa et al.'s "
             f"Table 1; every data seed has the same counts). {names['source']}.")
  return groups.counts_table(res["counts"], groups.AttributeNames(**names), res["rare"], caption)


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
                 val_rare_text(main, c, rare), stats.mean_sd_text(c["test_average"]),
                 stats.mean_sd_text(c["test_train_mix"]), *[group_column(c, g) for g in range(4)],
                 stats.mean_sd_text(c["test_worst"])])
  return results.markdown_table(header, rows,
      f"**Table 1: main.** Accuracy (%) at rho = {pct(res['rho_main'])} "
      f"({main['counts']['train'][rare]} rare of {main['n_train']:,} training examples). "
      "val: the 4-way validation accuracy (the epoch is chosen by it, Group DRO's by the worst group); val rare: "
      "the rare group's validation examples alone. test average: mean over the balanced test set (= the mean of "
      "the four groups); test avg (train mix): the group accuracies weighted as in training (Sagawa's average). "
      "* the rare group. The modules on their own data: the skewed kind module with a b module trained on "
      f"{res['own'][res['attributes']]['about']}; its epochs are the b module's. " + setting_text(doc)
      + " Sagawa et al.'s published rows stand in Table 6, beside networks that predict one attribute as theirs do.")


def sweep_table(points, rare, label, metric, caption, contenders=SWEEP):
  """One row per (point, contender): its rare examples, epochs, validation numbers and test `metric`."""
  rows = []
  for p in points:
    for k in contenders:
      c = p["contenders"][k]
      rows.append([label(p), f"{p['counts']['train'][rare]:,} / {p['counts']['val'][rare]:,}", LABELS[k],
                   protocol.epochs_cell(c), stats.mean_sd_text(c["val_acc"]), stats.mean_sd_text(c["val_worst"]),
                   stats.mean_sd_text(c[f"test_{metric}"])])
  return results.markdown_table(["setting", "rare (train / val)", "contender", "epochs", "val", "val worst",
                                 f"test {metric}"], rows, caption)


def rho_table(doc):
  cfg, res = doc["config"], doc["results"]
  rare = res["rare"]
  return sweep_table(by_rho(res), rare, lambda r: f"rho = {pct(r['rho'])}", "rare",
      f"**Table 2: rare fraction.** Rare-group ({res['group_names'][rare]}) test accuracy (%) vs its share rho "
      f"of the {res['n_main']:,} training examples and of the validation set (rho = 0: the group is never seen, "
      f"zero-shot; rho = 25% is balanced), {members_text(cfg)}; val: the 4-way validation accuracy; val worst: "
      f"the worst group's validation accuracy (over the groups validation has). {rule_text(cfg, main_point(res))}. "
      f"{dro_text(cfg)}.")


def size_table(doc):
  cfg, res = doc["config"], doc["results"]
  points = by_size(res)
  maxima = ", ".join(f"{p['epochs']} at n = {p['n_train']:,}" for p in points)
  return sweep_table(points, res["rare"], lambda r: f"n = {r['n_train']:,}", "worst",
      f"**Table 3: less data.** Worst-group test accuracy (%) vs training-set size at rho = {pct(res['rho_main'])} "
      f"(the validation set stays at {points[0]['n_val']:,}; b's own data stays at "
      f"{res['own'][res['attributes']]['n_train']:,} examples: the modules' own data is not the task's), "
      f"{members_text(cfg)}; val: the 4-way validation accuracy. The maximum epochs grow for small sets, up to "
      f"{cfg['budget_steps']:,} steps ({maxima}); patience {cfg['patience']} epochs everywhere.")


def cost_table(doc):
  cfg, res = doc["config"], doc["results"]
  main, target = main_point(res), cfg["target_acc"]
  chosen = res["selected"]["steps_to_target"]
  rows = []
  for k in COSTED:
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
      ["contender", "members reaching", "optimizer steps", "seconds", "steps / epoch", "s / model-epoch",
       "epochs to best", "epochs run"], rows,
      f"**Table 7: training cost.** Optimizer steps and wall-clock seconds until the validation accuracy (4-way, "
      f"at rho = {pct(res['rho_main'])}) first reaches {100 * target:g}% (checked once per epoch, so steps are "
      f"resolved to {spe} steps), mean ± std over the members that reach it; epochs to best and epochs run (to the "
      f"stop by patience) under {protocol.rule(cfg, main['epochs'])}. The learned combiner's count includes "
      "all of its modules' training, to their stop, which must come first. Seconds: per model, from the vmapped "
      f"cells' training time (mean over the data seeds' cells; {doc['environment']['devices']}, "
      f"{doc['environment']['cpu_count']} CPU cores, other work may have shared them).")


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
      f"**Table 8: reuse.** A new 2-way task ({reuse_task_text(doc)}) with {ru['n_labels']} labelled training "
      f"examples ({cfg['reuse_per_group']} per group) and {ru['n_val']} validation examples "
      f"({cfg['reuse_val_per_group']} per group), drawn per data seed, none of them in the modules' training or "
      f"validation set; accuracy (%) with the test accuracy on the balanced test set ({ru['n_test']:,}, "
      f"{100 * ru['test_positive']:.0f}% positive), {members_text(cfg)}; batch "
      f"{min(cfg['reuse_batch'], ru['n_labels'])}, an epoch {ru['passes']} passes over the {ru['n_labels']} "
      f"examples, {protocol.rule(cfg, ru['epochs'])}. Frozen parts are the "
      f"selected parameters of the rho = {pct(res['rho_main'])} runs of Table 1 at the same data seed; only the "
      f"combiner ({cfg['combiner_width']} hidden units) trains on top of them.")
