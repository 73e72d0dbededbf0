"""The modular experiment's reading, one function per paragraph (each returns its lines); `reading` joins them.

Every difference the reading calls comes from `families`: Welch's t-tests on per-seed test numbers
with 95% CIs, Holm-corrected within the family of the paragraph that makes them. What the reading
compares with what (the modular design reweighting meets, the best network from scratch) was chosen
on validation numbers when the experiment ran (results["selected"]).
"""
import numpy as np

from research import protocol, stats

from experiments.modular.contenders import CONTENDERS, LABELS
from experiments.modular.points import by_rho, by_size, key, main_point, mean, pct, seconds_to
from experiments.modular.reuse import REUSE_LABELS
from experiments.modular.tables import SAGAWA

SHORT = {"modular": "product", "combiner": "combiner"}
# The families, in the order the preamble names them, and what each holds.
FAMILIES = {"rare fraction": "per rho, the rare group: product and combiner against monolithic, and reweighting "
                             "against the modular design best on validation",
            "less data": "per training-set size, the worst group: product and combiner against monolithic",
            "training cost": "steps to the target validation accuracy: product of modules against monolithic",
            "reuse": "the new task: frozen modules against the best network from scratch and against the "
                     "frozen monolithic net"}


def reading(doc):
  tests = families(doc)
  paragraphs = (preamble, budget, rare_group, reweighting_vs_modules, common_groups, inside_modules, rare_fraction,
                less_data, training_cost, reuse, published)
  return "\n".join(line for paragraph in paragraphs for line in paragraph(doc, tests))


def _ok(*values):
  """Whether every per-seed list is finite: a row with a diverged member is reported, never compared."""
  return all(v is not None and len(v) and stats.diverged(v) == 0 for v in values)


def _pairs_vs(points, metric, versus, contenders):
  return {(key(p), k): (p["contenders"][k][metric], p["contenders"][versus][metric])
          for p in points for k in contenders}


def families(doc):
  """{family: {key: stats.Comparison}}: each family Holm-corrected on its own (see FAMILIES)."""
  res = doc["results"]
  chosen = res["selected"]
  rho = _pairs_vs(by_rho(res), "test_rare", "monolithic", ("modular", "combiner"))
  for p in by_rho(res):
    best = chosen["best_modular"][key(p)]
    rho[(key(p), "reweighted")] = (p["contenders"]["reweighted"]["test_rare"], p["contenders"][best]["test_rare"])
  size = _pairs_vs(by_size(res), "test_worst", "monolithic", ("modular", "combiner"))
  steps = {k: [s for s in chosen["steps_to_target"][k] if s is not None] for k in ("monolithic", "modular")}
  cost = {("steps",): (steps["modular"], steps["monolithic"])} if steps["modular"] and steps["monolithic"] else {}
  ru = res["reuse"]["rows"]
  reuse_pairs = {}
  if "modules" in ru:
    if "reuse_scratch" in chosen:
      reuse_pairs[("scratch",)] = (ru["modules"]["test_acc"], ru[chosen["reuse_scratch"]]["test_acc"])
    if "monolithic" in ru:
      reuse_pairs[("monolithic",)] = (ru["modules"]["test_acc"], ru["monolithic"]["test_acc"])
  out = {}
  for name, pairs, scale in (("rare fraction", rho, 100.0), ("less data", size, 100.0), ("training cost", cost, 1.0),
                             ("reuse", reuse_pairs, 100.0)):
    out[name] = stats.compare({k: ab for k, ab in pairs.items() if _ok(*ab)}, scale=scale)
  return out


def percent(values):
  return f"{100 * mean(values):.1f}%"


def _text(tests, family, k, unit="points"):
  c = tests[family].get(k)
  return c.text(unit) if c is not None else "not compared (a member diverged)"


def _calls(tests, family, keys):
  """(resolved gains, resolved losses) among keys: where the Holm-corrected test calls a difference."""
  found = [(k, tests[family][k]) for k in keys if k in tests[family]]
  return ([k for k, c in found if c.resolved and c.diff > 0], [k for k, c in found if c.resolved and c.diff < 0])


def preamble(doc, tests):
  cfg = doc["config"]
  sizes = "; ".join(f"{name} ({len(tests[name])} comparison{'' if len(tests[name]) == 1 else 's'}: {what})"
                    for name, what in FAMILIES.items())
  return [f"All numbers: mean over {cfg['seeds']} seeds of each member's best-validation epoch. A difference is "
          "Welch's t-test on the per-seed test numbers with its 95% CI, Holm-corrected within its paragraph's "
          f"family: {sizes}. A difference is called only when it survives the correction; otherwise it is 'not "
          f"resolved at {cfg['seeds']} seeds'. 'Modules' or 'product' below means the two attribute modules with the "
          "fixed product combiner, 'combiner' the same frozen modules with a learned combiner."]


def budget(doc, tests):
  """The rule every contender trained by, and whether the members converged by it."""
  cfg, res = doc["config"], doc["results"]
  rows = lambda p: [p["contenders"][k] for k in CONTENDERS]
  main = main_point(res)
  lines = [f"- **Budget**: {cfg['optimizer']}, lr {cfg['learning_rate']:g} (the learned combiner "
           f"{cfg['combiner_lr']:g}), batch {cfg['batch_size']}; {protocol.rule(cfg, main['epochs'])}; the same rule "
           "for every contender, the learned combiner included. Validation: "
           f"{main['n_val']:,} examples at each point's rho; the epoch is chosen by the 4-way validation accuracy."]
  rho_rows = [r for p in by_rho(res) for r in rows(p)]
  lines.append(f"  At n = {res['n_main']:,} (every rho): " + protocol.convergence(rho_rows, cfg, main["epochs"]))
  for p in by_size(res):
    if p["n_train"] != res["n_main"]:
      spe = p["contenders"]["monolithic"]["steps_per_epoch"]
      lines.append(f"  At n = {p['n_train']:,} (up to {p['epochs']} epochs of {spe} steps): "
                   + protocol.convergence(rows(p), cfg, p["epochs"]))
  ru = res["reuse"]
  spe = next(iter(ru["rows"].values()))["steps_per_epoch"] if ru["rows"] else 0
  lines.append(f"  The reuse task (up to {ru['epochs']} epochs of {spe} steps, {ru['passes']} passes each): "
               + protocol.convergence(list(ru["rows"].values()), cfg, ru["epochs"]))
  return lines


def _outcome(tests, family, keys, seeds):
  """What the corrected tests say of a claim that the first side is ahead."""
  gains, losses = _calls(tests, family, keys)
  return "held" if gains else "was reversed" if losses else f"is not resolved at {seeds} seeds"


def rare_group(doc, tests):
  """The central claim: a rare combination is learned better by modules."""
  res = doc["results"]
  main = main_point(res)
  c, at = main["contenders"], key(main)
  rare_n = main["counts"]["train"][res["rare"]]
  return [f"- **Rare group at rho = {pct(res['rho_main'])}** ({rare_n} {res['rare_name']} among "
          f"{main['n_train']:,} training examples), test: monolithic {percent(c['monolithic']['test_rare'])}, modules "
          f"{percent(c['modular']['test_rare'])}, combiner {percent(c['combiner']['test_rare'])}, shared trunk "
          f"{percent(c['trunk']['test_rare'])}, reweighted monolithic {percent(c['reweighted']['test_rare'])}. "
          f"Modules minus monolithic: {_text(tests, 'rare fraction', (at, 'modular'))}; combiner minus monolithic: "
          f"{_text(tests, 'rare fraction', (at, 'combiner'))}. The article's claim "
          f"{_outcome(tests, 'rare fraction', [(at, 'modular'), (at, 'combiner')], doc['config']['seeds'])} at the "
          "main setting."]


def reweighting_vs_modules(doc, tests):
  res = doc["results"]
  main = main_point(res)
  best = res["selected"]["best_modular"][key(main)]
  return [f"- Reweighting the groups (the practitioner's fix, no new architecture) against the modular design "
          f"with the best rare-group validation accuracy here ({LABELS[best]}), on the rare group's test accuracy: "
          f"{_text(tests, 'rare fraction', (key(main), 'reweighted'))}."]


def common_floor(c, rare):
  """Per contender, its worst mean test accuracy over the three common groups."""
  common = [g for g in range(4) if g != rare]
  acc = lambda k: np.array([[np.nan] * 4 if r is None else [np.nan if v is None else v for v in r]
                            for r in c[k]["test_group_acc"]], float)
  return {k: float(np.nanmean(acc(k)[:, common], 0).min()) for k in CONTENDERS}


def common_groups(doc, tests):
  res = doc["results"]
  c = main_point(res)["contenders"]
  floor = common_floor(c, res["rare"])
  decided = [k for k in CONTENDERS if floor[k] >= mean(c[k]["test_rare"])]
  return [f"- The three common groups are at {100 * min(floor.values()):.1f}% test accuracy or better for every "
          f"contender; the rare group is the worst group (on mean) for {len(decided)} of {len(CONTENDERS)} "
          "contenders, so it decides the worst-group column."]


def inside_modules(doc, tests):
  """How each attribute module does on the rare group, and what in the data it can lean on."""
  res = doc["results"]
  main = main_point(res)
  c, rare, names = main["contenders"], res["rare"], res["names"]
  if "test_attribute_acc" not in c["modular"]:
    return []
  att = np.array(c["modular"]["test_attribute_acc"], float)
  att_4x2 = np.nanmean(att, 0)
  common = [g for g in range(4) if g != rare]
  same_b = next(g for g in common if g % 2 == rare % 2)  # the common group sharing the rare b
  n_tr = main["counts"]["train"]
  share = n_tr[same_b] / max(1, n_tr[same_b] + n_tr[rare])
  return [f"- Inside the modules (test): on {res['rare_name']} the {names['a_title']} module is right "
          f"{100 * att_4x2[rare, 0]:.1f}% of the time and the {names['b_title']} module "
          f"{100 * att_4x2[rare, 1]:.1f}%, against {100 * att_4x2[same_b, 1]:.1f}% for the {names['b_title']} "
          f"module on {res['group_names'][same_b]}. The modules learn from the same skewed data: "
          f"{100 * share:.1f}% of the {names['b'][rare % 2]} training items are {names['a'][same_b // 2]}s, so "
          f"the {names['b_title']} module can lean on {names['a_title']}."]


VS_MONOLITHIC = {"modular": "product - monolithic", "combiner": "combiner - monolithic"}


def _sweep_lines(points, tests, family, shown, label):
  """One line per point: each comparison's text (shown: contender -> its words); then where the
  corrected tests call a difference of the modules from monolithic."""
  lines = [f"  {label(p)}: " + "; ".join(f"{words}: {_text(tests, family, (key(p), k))}" for k, words in shown.items())
           + "." for p in points]
  summary = []
  for k in VS_MONOLITHIC:
    gains, losses = _calls(tests, family, [(key(p), k) for p in points])
    at = lambda ks: ", ".join(label(p) for p in points if (key(p), k) in ks) or "none"
    summary.append(f"the {SHORT[k]} is ahead of monolithic at {at(gains)} and behind at {at(losses)}")
  lines.append(f"  After the correction, of {len(points)} setting{'' if len(points) == 1 else 's'}: "
               + "; ".join(summary) + ".")
  return lines


def rare_fraction(doc, tests):
  res = doc["results"]
  points = by_rho(res)
  chosen = res["selected"]["best_modular"]
  lines = ["- **Rare fraction** (rare-group test accuracy; reweighting is compared with the modular design best "
           "on validation at each rho: " + "; ".join(f"rho {pct(p['rho'])}: {LABELS[chosen[key(p)]]}" for p in points)
           + "):"]
  lines += _sweep_lines(points, tests, "rare fraction", dict(VS_MONOLITHIC, reweighted="reweighting - that design"),
                        lambda p: f"rho {pct(p['rho'])}")
  ahead, behind = _calls(tests, "rare fraction", [(key(p), "reweighted") for p in points])
  at = lambda ks: ", ".join(f"rho {pct(p['rho'])}" for p in points if (key(p), "reweighted") in ks) or "none"
  lines.append(f"  Reweighting is ahead of the chosen modular design at {at(ahead)} and behind at {at(behind)}.")
  return lines


def less_data(doc, tests):
  points = by_size(doc["results"])
  return (["- **Less data** (worst-group test accuracy):"]
          + _sweep_lines(points, tests, "less data", VS_MONOLITHIC, lambda p: f"n = {p['n_train']:,}"))


def training_cost(doc, tests):
  cfg, res = doc["config"], doc["results"]
  c = main_point(res)["contenders"]
  chosen = res["selected"]["steps_to_target"]
  target, s = cfg["target_acc"], cfg["seeds"]

  def cost(k):
    steps = [v for v in chosen[k] if v is not None]
    secs = [v for v in seconds_to(c[k], chosen[k]) if v is not None]
    return (f"{LABELS[k]} {np.mean(steps):.0f} steps, {np.mean(secs):.1f} s ({len(steps)} of {s} seeds)" if steps
            else f"{LABELS[k]} never")
  lines = [f"- **Training cost** to {100 * target:g}% validation accuracy (4-way, at rho = {pct(res['rho_main'])}): "
           + "; ".join(cost(k) for k in CONTENDERS) + "."]
  t = tests["training cost"].get(("steps",))
  if t is not None:
    outcome = ("did not hold (the modules were slower)" if t.resolved and t.diff > 0 else
               "held" if t.resolved else f"is not resolved at {s} seeds")
    lines.append(f"  Modules minus monolithic, in steps: {t.text('steps')} (steps are resolved to one epoch, "
                 f"{c['monolithic']['steps_per_epoch']} steps): the 'trains faster' claim {outcome}.")
  else:
    reach = {k: any(v is not None for v in chosen[k]) for k in ("modular", "monolithic")}
    lines.append("  Only the modules reach the target." if reach["modular"] else
                 "  The modules never reach the target: the 'trains faster' claim did not hold.")
  return lines


def reuse(doc, tests):
  res = doc["results"]
  ru = res["reuse"]["rows"]
  if "modules" not in ru:
    return []
  lines = []
  scratch = res["selected"].get("reuse_scratch")
  if scratch:
    outcome = _outcome(tests, "reuse", [("scratch",)], doc["config"]["seeds"])
    lines.append(f"- **Reuse**: with {res['reuse']['n_labels']} labels of a new task ({res['reuse']['task']}), "
                 f"frozen modules + a {ru['modules']['trainable_params']}-parameter combiner reach "
                 f"{percent(ru['modules']['test_acc'])} test accuracy against {percent(ru[scratch]['test_acc'])} for "
                 f"the network from scratch best on validation ({REUSE_LABELS[scratch]}): "
                 f"{_text(tests, 'reuse', ('scratch',))}; the 'shared parameters' claim {outcome}.")
  if "monolithic" in ru:
    t = tests["reuse"].get(("monolithic",))
    lines.append(f"  The frozen monolithic net serves the new task too ({percent(ru['monolithic']['test_acc'])}); "
                 f"modules minus it: {_text(tests, 'reuse', ('monolithic',))}: "
                 + ("the modular structure adds to what training on these attributes gives." if t and t.resolved
                    and t.diff > 0 else "no advantage of the modular structure itself is resolved."))
  if "trunk" in ru:
    lines.append(f"  {REUSE_LABELS['trunk']}: {percent(ru['trunk']['test_acc'])}.")
  return lines


def published(doc, tests):
  res = doc["results"]
  c = main_point(res)["contenders"]
  worst_gain = 100 * (mean(c["reweighted"]["test_worst"]) - mean(c["monolithic"]["test_worst"]))
  return [f"- Published beside ours (Sagawa et al. 2020: CelebA, blond men 0.85% of training, ImageNet-pretrained "
          f"ResNet50 fine-tuned 50 epochs, no augmentation; see Table 1): ERM average / worst group "
          f"{SAGAWA['monolithic'][0]} / {SAGAWA['monolithic'][1]}, upweighting {SAGAWA['reweighted'][0]} / "
          f"{SAGAWA['reweighted'][1]}. Ours at {pct(res['rho_main'])} (test average on the training mix / worst): "
          f"monolithic {percent(c['monolithic']['test_train_mix'])} / {percent(c['monolithic']['test_worst'])}, "
          f"reweighted {percent(c['reweighted']['test_train_mix'])} / {percent(c['reweighted']['test_worst'])}. "
          f"Reweighting minus monolithic on the worst group: {worst_gain:+.1f} points here (a difference of means, "
          f"not tested), {SAGAWA['reweighted'][1] - SAGAWA['monolithic'][1]:+.1f} on CelebA."]
