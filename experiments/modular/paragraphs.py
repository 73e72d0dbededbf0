"""The modular experiment's reading, one function per paragraph (each returns its lines); `reading` joins
them. The comparisons and their Holm families are in claims.py; the paragraphs on zero-shot, the
modules' own data, the two attribute sets, Sagawa's format and where the claim holds in verdicts.py.
"""
import warnings

import numpy as np

from research.report import protocol, readings

from experiments.modular import verdicts
from experiments.modular.claims import FAMILIES, calls, compared, families, ok, outcome, percent, text
from experiments.modular.contenders import CONTENDERS, LABELS, SHORT
from experiments.modular.points import by_rho, by_size, key, main_point, mean, pct, seconds_to
from experiments.modular.reuse import REUSE_LABELS


def reading(doc):
  tests = families(doc)
  if not any(tests.values()):  # every pair had a diverged member: no paragraph has anything to say
    return "\n".join(budget(doc, tests) + [readings.nothing(
        "in every paragraph's family a contender of each pair diverged (or reached no target)")])
  paragraphs = (preamble, budget, rare_group, verdicts.zero_shot, verdicts.own_data, inside_modules, common_groups,
                rare_fraction, less_data, verdicts.attributes, verdicts.robustness, training_cost, reuse,
                verdicts.where_it_holds)
  return "\n".join(line for paragraph in paragraphs for line in paragraph(doc, tests))


def members(cfg):
  return len(cfg["data_seeds"]) * cfg["seeds"]


def preamble(doc, tests):
  cfg = doc["config"]
  sizes = "; ".join(f"{name} ({len(tests[name])} comparison{'' if len(tests[name]) == 1 else 's'}: {what})"
                    for name, what in FAMILIES.items())
  m = members(cfg)
  return [f"All numbers: mean over {m} members ({len(cfg['data_seeds'])} data seeds, which examples of each group "
          f"are drawn, x {cfg['seeds']} initialization seeds) of each member's best-validation epoch. A difference "
          "is Welch's t-test on the per-member test numbers with its 95% CI, Holm-corrected within its paragraph's "
          f"family: {sizes}. A difference is called only when it survives the correction; otherwise it is 'not "
          f"resolved' ('N seeds' there counts members). 'Modules' means two attribute modules combined by the "
          "fixed product: on the skewed data, both trained on the point's training set; on their own data, the "
          "same kind module with a b module trained on b's own data."]


def budget(doc, tests):
  """The rule every contender trained by, and whether the members converged by it."""
  cfg, res = doc["config"], doc["results"]
  trained = lambda p: [p["contenders"][k] for k in CONTENDERS if k in p["contenders"] and k != "own"]
  main = main_point(res)
  lines = [f"- **Budget**: {cfg['optimizer']}, lr {cfg['learning_rate']:g} (the learned combiner "
           f"{cfg['combiner_lr']:g}), batch {cfg['batch_size']}; {protocol.rule(cfg, main['epochs'])}; the same rule "
           "for every contender, the learned combiner and the b modules on their own data included. Validation: "
           f"{main['n_val']:,} examples at each point's rho; the epoch is chosen by the 4-way validation accuracy "
           "(Group DRO's by the worst group's, Sagawa's protocol)."]
  at_main = [r for p in res["points"] if p["n_train"] == res["n_main"] for r in trained(p)]
  lines.append(f"  At n = {res['n_main']:,} (every rho, both attribute sets): "
               + protocol.convergence(at_main, cfg, main["epochs"]))
  for p in by_size(res):
    if p["n_train"] != res["n_main"]:
      spe = p["contenders"]["monolithic"]["steps_per_epoch"]
      lines.append(f"  At n = {p['n_train']:,} (up to {p['epochs']} epochs of {spe} steps): "
                   + protocol.convergence(trained(p), cfg, p["epochs"]))
  own = list(res["own"].values())
  lines.append(f"  The b modules on their own data ({own[0]['n_train']:,} examples, up to {own[0]['epochs']} epochs): "
               + protocol.convergence(own, cfg, own[0]["epochs"]))
  targets = [r for rows in res["targets"].values() for r in rows.values()]
  lines.append("  The target-only networks: " + protocol.convergence(targets, cfg, main["epochs"]))
  ru = res["reuse"]
  spe = next(iter(ru["rows"].values()))["steps_per_epoch"] if ru["rows"] else 0
  lines.append(f"  The reuse task (up to {ru['epochs']} epochs of {spe} steps, {ru['passes']} passes each): "
               + protocol.convergence(list(ru["rows"].values()), cfg, ru["epochs"]))
  return lines


def rare_group(doc, tests):
  """The central claim at the main setting: a rare combination is learned better by modules."""
  res = doc["results"]
  main = main_point(res)
  c, at = main["contenders"], key(main)
  rare_n = main["counts"]["train"][res["rare"]]
  shown = ", ".join(f"{SHORT[k]} {percent(c[k]['test_rare'])}" for k in CONTENDERS)
  return [f"- **Rare group at rho = {pct(res['rho_main'])}** ({rare_n} {res['rare_name']} among "
          f"{main['n_train']:,} training examples), test: {shown}. Modules on the skewed data minus monolithic: "
          f"{text(tests, 'rare fraction', (at, 'modular'))}; modules on their own data minus monolithic: "
          f"{text(tests, 'rare fraction', (at, 'own'))}. The article's claim "
          f"{outcome(tests, 'rare fraction', [(at, 'modular'), (at, 'own')], members(doc['config']))} at the "
          "main setting."]


def common_floor(c, rare):
  """Per contender, its worst mean test accuracy over the three common groups."""
  common = [g for g in range(4) if g != rare]
  acc = lambda k: np.array([[np.nan] * 4 if r is None else [np.nan if v is None else v for v in r]
                            for r in c[k]["test_group_acc"]], float)
  with np.errstate(invalid="ignore"), warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # a diverged contender: NaN, reported as such
    return {k: float(np.nanmean(acc(k)[:, common], 0).min()) for k in CONTENDERS}


def common_groups(doc, tests):
  res = doc["results"]
  c = main_point(res)["contenders"]
  floor = common_floor(c, res["rare"])
  if not all(np.isfinite(v) for v in floor.values()):
    return ["- The common groups: a contender diverged at rho = " + pct(res["rho_main"]) + "; not compared."]
  decided = [k for k in CONTENDERS if floor[k] >= mean(c[k]["test_rare"])]
  return [f"- The three common groups are at {100 * min(floor.values()):.1f}% test accuracy or better for every "
          f"contender at rho = {pct(res['rho_main'])}; the rare group is the worst group (on mean) for "
          f"{len(decided)} of {len(CONTENDERS)} contenders, so it decides the worst-group column."]


def inside_modules(doc, tests):
  """How each attribute module does on the rare group, and what in the data it can lean on."""
  res = doc["results"]
  main = main_point(res)
  c, rare, names = main["contenders"], res["rare"], res["names"]
  common = [g for g in range(4) if g != rare]
  same_b = next(g for g in common if g % 2 == rare % 2)  # the common group sharing the rare b
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # a diverged module: NaN, reported as such
    att = {k: np.nanmean(np.array([[[np.nan] * 2] * 4 if m is None else [[np.nan if v is None else v for v in g]
                                                                         for g in m]
                                   for m in c[k]["test_attribute_acc"]], float), 0) for k in ("modular", "own")}
  if not all(np.isfinite(a).all() for a in att.values()):
    return [f"- Inside the modules (test, rho = {pct(res['rho_main'])}): a module diverged; not compared."]
  n_tr = main["counts"]["train"]
  share = n_tr[same_b] / max(1, n_tr[same_b] + n_tr[rare])
  return [f"- Inside the modules (test, rho = {pct(res['rho_main'])}): on {res['rare_name']} the "
          f"{names['a_title']} module is right {100 * att['modular'][rare, 0]:.1f}% of the time; the "
          f"{names['b_title']} module trained on the skewed data {100 * att['modular'][rare, 1]:.1f}% (against "
          f"{100 * att['modular'][same_b, 1]:.1f}% on {res['group_names'][same_b]}), the one trained on its own data "
          f"{100 * att['own'][rare, 1]:.1f}% (against {100 * att['own'][same_b, 1]:.1f}%). In the skewed data "
          f"{100 * share:.1f}% of the {names['b'][rare % 2]} training items are {names['a'][same_b // 2]}s, so the "
          f"{names['b_title']} module trained there can lean on {names['a_title']}; its own data has no "
          f"{names['a_title']} to lean on."]


def _sweep_lines(points, tests, family, shown, label, designs=("modular", "own")):
  """One line per point: each comparison's text (shown: comparison key -> its words); then where the
  corrected tests call a difference of each modular design from monolithic."""
  lines = [f"  {label(p)}: " + "; ".join(f"{words}: {text(tests, family, (key(p), k))}" for k, words in shown.items())
           + "." for p in points]
  summary = []
  for k in designs:
    if not compared(tests, family, [(key(p), k) for p in points]):
      summary.append(f"the {SHORT[k]} were compared with monolithic at no setting (a member diverged)")
      continue
    ahead, behind = calls(tests, family, [(key(p), k) for p in points])
    at = lambda ks: ", ".join(label(p) for p in points if (key(p), k) in ks) or "none"
    summary.append(f"the {SHORT[k]} are ahead of monolithic at {at(ahead)} and behind at {at(behind)}")
  lines.append(f"  After the correction, of {len(points)} setting{'' if len(points) == 1 else 's'}: "
               + "; ".join(summary) + ".")
  return lines


VS_MONOLITHIC = {"modular": "modules (skewed) - monolithic", "own": "modules (own data) - monolithic"}


def rare_fraction(doc, tests):
  res = doc["results"]
  points = by_rho(res)
  chosen = res["selected"]["best_robust"]
  lines = ["- **Rare fraction** (rare-group test accuracy; the one-network fix best on worst-group validation at "
           "each rho: " + "; ".join(f"rho {pct(p['rho'])}: {LABELS[chosen[key(p)]]}" for p in points) + "):"]
  shown = dict(VS_MONOLITHIC, **{"own-modular": "own data - skewed data", "own-robust": "own data - that fix"})
  lines += _sweep_lines(points, tests, "rare fraction", shown, lambda p: f"rho {pct(p['rho'])}")
  keys = [(key(p), "own-robust") for p in points]
  ahead, behind = calls(tests, "rare fraction", keys)
  at = lambda ks: ", ".join(f"rho {pct(p['rho'])}" for p in points if (key(p), "own-robust") in ks) or "none"
  lines.append(f"  The modules on their own data are ahead of the chosen one-network fix at {at(ahead)} and behind "
               f"at {at(behind)}." if compared(tests, "rare fraction", keys) else
               "  The modules on their own data were compared with the chosen one-network fix at no rho (a member "
               "diverged).")
  return lines


def less_data(doc, tests):
  points = by_size(doc["results"])
  shown = dict(VS_MONOLITHIC, **{"own-robust": "own data - the fix best on validation"})
  return (["- **Less data** (worst-group test accuracy):"]
          + _sweep_lines(points, tests, "less data", shown, lambda p: f"n = {p['n_train']:,}"))


def training_cost(doc, tests):
  cfg, res = doc["config"], doc["results"]
  c = main_point(res)["contenders"]
  chosen = res["selected"]["steps_to_target"]
  target, m = cfg["target_acc"], members(cfg)

  def cost(k):
    steps = [v for v in chosen[k] if v is not None]
    secs = [v for v in seconds_to(c[k], chosen[k]) if v is not None]
    return (f"{LABELS[k]} {np.mean(steps):.0f} steps, {np.mean(secs):.1f} s ({len(steps)} of {m} members)" if steps
            else f"{LABELS[k]} never")
  lines = [f"- **Training cost** to {100 * target:g}% validation accuracy (4-way, at rho = {pct(res['rho_main'])}): "
           + "; ".join(cost(k) for k in chosen) + "."]
  t = tests["training cost"].get(("steps",))
  if t is not None:
    result = ("did not hold (the modules were slower)" if t.resolved and t.diff > 0 else
              "held" if t.resolved else f"is not resolved at {m} members")
    lines.append(f"  Modules (skewed) minus monolithic, in steps: {t.text('steps')} (steps are resolved to one epoch, "
                 f"{c['monolithic']['steps_per_epoch']} steps): the 'trains faster' claim {result}.")
  else:
    reach = {k: any(v is not None for v in chosen[k]) for k in ("modular", "monolithic")}
    lost = {k: not ok(c[k]["test_acc"]) for k in ("modular", "monolithic")}
    lines.append("  Only the modules reach the target." if reach["modular"] else
                 "  The modules diverged: the 'trains faster' claim was not compared." if lost["modular"] else
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
    result = outcome(tests, "reuse", [("scratch",)], members(doc["config"]))
    lines.append(f"- **Reuse**: with {res['reuse']['n_labels']} labels of a new task ({res['reuse']['task']}), "
                 f"frozen modules + a {ru['modules']['trainable_params']}-parameter combiner reach "
                 f"{percent(ru['modules']['test_acc'])} test accuracy against {percent(ru[scratch]['test_acc'])} for "
                 f"the network from scratch best on validation ({REUSE_LABELS[scratch]}): "
                 f"{text(tests, 'reuse', ('scratch',))}; the 'shared parameters' claim {result}.")
  if "monolithic" in ru:
    t = tests["reuse"].get(("monolithic",))
    lines.append(f"  The frozen monolithic net serves the new task too ({percent(ru['monolithic']['test_acc'])}); "
                 f"modules minus it: {text(tests, 'reuse', ('monolithic',))}: "
                 + ("the modular structure adds to what training on these attributes gives." if t and t.resolved
                    and t.diff > 0 else "no advantage of the modular structure itself is resolved."))
  if "trunk" in ru:
    lines.append(f"  {REUSE_LABELS['trunk']}: {percent(ru['trunk']['test_acc'])}.")
  return lines

