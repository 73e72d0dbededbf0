"""The tables of what the modules learn from and where it pays: the modules' own data, the entangled vs
the disentangled attribute, and the target-only baselines in Sagawa's format."""
from research.report import protocol, stats
from research.system import results

from experiments.modular.captions import dro_text, members_text, val_rare_text
from experiments.modular.contenders import LABELS, MODULES, SWEEP
from experiments.modular.points import by_rho, gains, main_point, pct
from experiments.modular.robust import LABELS as TARGET_LABELS, SAGAWA, SAGAWA_SETTING


def source_meta(res, source):
  """The names and counts of an attribute set: the main one's sit at the top of results."""
  return res if source == res["attributes"] else res["contrast"]


def sources(res):
  return [res["attributes"]] + ([res["contrast"]["attributes"]] if res.get("contrast") else [])


def b_definition(meta):
  """How an attribute set defines b: the last clause of its source line."""
  return meta["names"]["source"].split("; ")[-1]


def attribute_mean(c, group, head):
  """The mean over members of one attribute head's test accuracy on one group (%), with its std."""
  values = [None if m is None else m[group][head] for m in c["test_attribute_acc"]]
  return stats.mean_sd_text(values)


def own_table(doc):
  cfg, res = doc["config"], doc["results"]
  rare = res["rare"]
  same_b = next(g for g in range(4) if g != rare and g % 2 == rare % 2)  # the common group with the rare b
  rows = []
  for source in sources(res):
    meta = source_meta(res, source)
    names = meta["names"]
    for p in by_rho(res, source):
      for k in MODULES:
        c = p["contenders"][k]
        rows.append([names["b_title"], pct(p["rho"]), LABELS[k], protocol.epochs_cell(c),
                     attribute_mean(c, rare, 1), attribute_mean(c, same_b, 1), attribute_mean(c, rare, 0),
                     val_rare_text(p, c, rare), stats.mean_sd_text(c["test_rare"])])
  own = "; ".join(f"{source_meta(res, s)['names']['b_title']}: {res['own'][s]['about']}, {res['own'][s]['n_train']:,} "
                  f"examples, its validation accuracy on {res['own'][s]['n_val']:,} of its own "
                  f"{stats.mean_sd_text(res['own'][s]['val_acc'])}" for s in sources(res))
  gn = res["group_names"]
  return results.markdown_table(
      ["b", "rho", "modules", "epochs", "b module on the rare group", "b module on the common group with its b",
       "a module on the rare group", "val rare", "test rare (product)"], rows,
      f"**Table 4: the modules' own data.** Test accuracy (%) of each attribute module on the rare group "
      f"({gn[rare]} and its analogue) and on the common group that shares its b ({gn[same_b]}), and of their "
      f"product on the rare group, {members_text(cfg)}. Modules on the skewed data: both trained on the point's "
      "training set (epochs: the pair's). Modules on their own data: the same a module with a b module trained "
      f"once per data seed on b's own data, balanced over b, and selected on its own held-out examples (epochs: "
      f"the b module's). b's own data: {own}.")


def attributes_table(doc):
  cfg, res = doc["config"], doc["results"]
  if not res.get("contrast"):
    return ""
  rows = []
  for rho in sorted(res["contrast"]["rhos"]):
    for source in sources(res):
      p = next(q for q in by_rho(res, source) if q["rho"] == rho)
      meta = source_meta(res, source)
      for k in SWEEP:
        c = p["contenders"][k]
        gain = "" if k == "monolithic" else stats.mean_sd_text(gains(p, k))
        rows.append([f"{meta['names']['b_title']} ({meta['rare_name']})", pct(rho), LABELS[k],
                     protocol.epochs_cell(c), stats.mean_sd_text(c["test_rare"]), stats.mean_sd_text(c["test_worst"]),
                     gain])
  c_meta = res["contrast"]
  return results.markdown_table(
      ["b (rare group)", "rho", "contender", "epochs", "test rare", "test worst", "rare: minus monolithic"], rows,
      f"**Table 5: entangled vs disentangled.** The same items and {res['names']['a_title']}s with two b "
      f"attributes: {res['names']['b_title']} ({b_definition(res)}), read from the item itself, and "
      f"{c_meta['names']['b_title']} ({b_definition(c_meta)}); the same rare-group construction "
      f"at each rho, the same {res['n_main']:,} training examples. Test accuracy (%), {members_text(cfg)}; "
      "minus monolithic: per member (the same data seed and initialization seed), the rare group's test accuracy "
      "minus the monolithic net's, mean ± std. The frame is also the easier attribute for an MLP to see (the "
      "same pixels on every item), so the pair says when the attribute is separable from kind, not only "
      f"entangled or not. {dro_text(cfg)}.")


def sagawa_table(doc):
  cfg, res = doc["config"], doc["results"]
  names = res["names"]
  title = {"a": names["a_title"], "b": names["b_title"]}
  rows = []
  for t, methods in res["targets"].items():
    for k, c in methods.items():
      rows.append([f"predict {title[t]} only: {TARGET_LABELS[k]}", results.human(c["params"]), protocol.epochs_cell(c),
                   stats.mean_sd_text(c["val_acc"]), stats.mean_sd_text(c["val_worst"]),
                   stats.mean_sd_text(c["test_train_mix"]), stats.mean_sd_text(c["test_worst"])])
  c = main_point(res)["contenders"]
  for k in ("monolithic", "reweighted", "dro"):
    rows.append([f"4-way label (both attributes): {LABELS[k]}", results.human(c[k]["params"]),
                 protocol.epochs_cell(c[k]), stats.mean_sd_text(c[k]["val_acc"]), stats.mean_sd_text(c[k]["val_worst"]),
                 stats.mean_sd_text(c[k]["test_train_mix"]), stats.mean_sd_text(c[k]["test_worst"])])
  for k, (avg, worst) in SAGAWA.items():
    rows.append([f"*Sagawa et al. 2020, CelebA (another dataset): {TARGET_LABELS[k]}*", "ResNet50", "", "", "",
                 f"*{avg}*", f"*{worst}*"])
  main = main_point(res)
  return results.markdown_table(
      ["model", "params", "epochs", "val", "val worst", "test average (train mix)", "test worst group"], rows,
      f"**Table 6: Sagawa's format.** Average and worst-group test accuracy (%) at rho = {pct(res['rho_main'])} "
      f"({main['counts']['train'][res['rare']]} {res['rare_name']} of {main['n_train']:,}). 'predict X only': a "
      f"network of {cfg['width']} hidden units with one 2-way output, the target, as in Sagawa et al.; its groups "
      "are still the four (target x the other attribute), and the average weighs the group accuracies as in "
      f"training (Sagawa's average). {members_text(cfg)[0].upper()}{members_text(cfg)[1:]}. ERM and upweighting "
      f"stop on the average validation accuracy, {dro_text(cfg)}. The published rows: {SAGAWA_SETTING}.")
