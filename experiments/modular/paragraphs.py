"""The modular experiment's reading, one function per paragraph (each returns its lines); `reading` joins them."""
import numpy as np

from research import stats

from experiments.modular.contenders import CONTENDERS, LABELS
from experiments.modular.points import by_rho, by_size, main_point, mean, pct, to_target
from experiments.modular.reuse import REUSE_LABELS
from experiments.modular.tables import SAGAWA

MODULAR_DESIGNS = ("modular", "combiner", "trunk")


def reading(doc):
  paragraphs = (preamble, rare_group, reweighting_vs_modules, common_groups, inside_modules, rare_fraction,
                less_data, training_cost, reuse, published)
  return "\n".join(line for paragraph in paragraphs for line in paragraph(doc))


def difference(a, b, scale=100.0):
  """(mean of a - mean of b, its standard error) in points, and whether it is clear (> 2 standard errors)."""
  d, se = stats.difference(a, b, scale)
  return d, se, abs(d) > 2 * se and abs(d) >= 0.1


def difference_text(d, se, clear):
  return f"{d:+.1f} ± {se:.1f} points ({'clear' if clear else 'within noise'})"


def verdict(d, clear):
  return "held" if clear and d > 0 else ("reversed" if clear else "not shown")


def percent(values):
  return f"{100 * mean(values):.1f}%"


def sweep_line(points, metric, where):
  """Modules minus monolithic at each point, for both modular designs, and where the difference is clear."""
  parts, verdicts = [], []
  for p in points:
    c = p["contenders"]
    bits = []
    for k, short in (("modular", "product"), ("combiner", "combiner")):
      d, se, clear = difference(c[k][metric], c["monolithic"][metric])
      bits.append(f"{short} {d:+.1f} ± {se:.1f}")
      verdicts.append((short, where(p), d, clear))
    parts.append(f"{where(p)}: " + ", ".join(bits))
  summary = []
  for short in ("product", "combiner"):
    gains = [at for s, at, d, clear in verdicts if s == short and clear and d > 0]
    losses = [at for s, at, d, clear in verdicts if s == short and clear and d < 0]
    summary.append(f"the {short} gains clearly at {', '.join(gains) or 'none'} and loses clearly at "
                   f"{', '.join(losses) or 'none'}")
  return "; ".join(parts) + ". Of " + str(len(points)) + " settings, " + "; ".join(summary) + "."


def preamble(doc):
  return [f"All numbers: mean over {doc['config']['seeds']} seeds; a difference is given ± its standard error "
          "and called clear when it exceeds two standard errors. 'Modules' below means the two attribute "
          "modules with the fixed product combiner, 'combiner' the same frozen modules with a learned combiner."]


def rare_group(doc):
  """The central claim: a rare combination is learned better by modules."""
  res = doc["results"]
  main = main_point(res)
  c = main["contenders"]
  rare_n = main["counts"]["train"][res["rare"]]
  d, se, clear = difference(c["modular"]["rare"], c["monolithic"]["rare"])
  dc, sec, clearc = difference(c["combiner"]["rare"], c["monolithic"]["rare"])
  outcome = ("held" if (clear and d > 0) or (clearc and dc > 0) else "reversed" if clear and clearc
             else "is not shown")
  return [f"- **Rare group at rho = {pct(res['rho_main'])}** ({rare_n} {res['rare_name']} among "
          f"{main['n_train']:,} training examples): monolithic {percent(c['monolithic']['rare'])}, modules "
          f"{percent(c['modular']['rare'])}, combiner {percent(c['combiner']['rare'])}, shared trunk "
          f"{percent(c['trunk']['rare'])}, reweighted monolithic {percent(c['reweighted']['rare'])}. Modules "
          f"minus monolithic {difference_text(d, se, clear)}, combiner minus monolithic "
          f"{difference_text(dc, sec, clearc)}: the article's claim {outcome} at the main setting."]


def reweighting_vs_modules(doc):
  c = main_point(doc["results"])["contenders"]
  best = max(MODULAR_DESIGNS, key=lambda k: mean(c[k]["rare"]))
  d, se, clear = difference(c["reweighted"]["rare"], c[best]["rare"])
  return [f"- Reweighting the groups (the practitioner's fix, no new architecture) against the best modular "
          f"design here ({LABELS[best]}): {difference_text(d, se, clear)} on the rare group."]


def common_floor(c, rare):
  """Per contender, its worst mean accuracy over the three common groups."""
  common = [g for g in range(4) if g != rare]
  return {k: float(np.asarray(c[k]["group_acc"])[:, common].mean(0).min()) for k in CONTENDERS}


def common_groups(doc):
  res = doc["results"]
  c = main_point(res)["contenders"]
  floor = common_floor(c, res["rare"])
  decided = [k for k in CONTENDERS if floor[k] >= mean(c[k]["rare"])]
  return [f"- The three common groups are at {100 * min(floor.values()):.1f}% or better for every contender; "
          f"the rare group is the worst group for {len(decided)} of {len(CONTENDERS)} contenders, so it "
          "alone decides the worst-group column."]


def inside_modules(doc):
  """How each attribute module does on the rare group, and what in the data it can lean on."""
  res = doc["results"]
  main = main_point(res)
  c, rare, names = main["contenders"], res["rare"], res["names"]
  if "attribute_acc" not in c["modular"]:
    return []
  att_4x2 = np.asarray(c["modular"]["attribute_acc"]).mean(0)
  common = [g for g in range(4) if g != rare]
  same_b = next(g for g in common if g % 2 == rare % 2)  # the common group sharing the rare b
  n_tr = main["counts"]["train"]
  share = n_tr[same_b] / max(1, n_tr[same_b] + n_tr[rare])
  return [f"- Inside the modules: on {res['rare_name']} the {names['a_title']} module is right "
          f"{100 * att_4x2[rare, 0]:.1f}% of the time and the {names['b_title']} module "
          f"{100 * att_4x2[rare, 1]:.1f}%, against {100 * att_4x2[same_b, 1]:.1f}% for the {names['b_title']} "
          f"module on {res['group_names'][same_b]}. The modules learn from the same skewed data: "
          f"{100 * share:.1f}% of the {names['b'][rare % 2]} training items are {names['a'][same_b // 2]}s, so "
          f"the {names['b_title']} module can lean on {names['a_title']}."]


def rare_fraction(doc):
  res = doc["results"]
  points = by_rho(res)
  gaps = [100 * (mean(p["contenders"]["reweighted"]["rare"])
                 - max(mean(p["contenders"][k]["rare"]) for k in MODULAR_DESIGNS)) for p in points]
  return ["- **Rare fraction** (rare-group accuracy, minus monolithic): "
          + sweep_line(points, "rare", lambda p: f"rho {pct(p['rho'])}"),
          "  Reweighting minus the best modular design, per rho: "
          + ", ".join(f"{g:+.1f}" for g in gaps) + " points."]


def less_data(doc):
  points = by_size(doc["results"])
  lines = ["- **Less data** (worst-group accuracy, minus monolithic): "
           + sweep_line(points, "worst", lambda p: f"n = {p['n_train']:,}")]
  if len(points) < 2:
    return lines
  full_mono = mean(points[-1]["contenders"]["monolithic"]["worst"])
  for k in ("modular", "combiner"):
    match = next((p["n_train"] for p in points if mean(p["contenders"][k]["worst"]) >= full_mono), None)
    lines.append(f"  The {'modules reach' if k == 'modular' else 'learned combiner reaches'} the monolithic "
                 f"net's worst group with all {points[-1]['n_train']:,} examples ({100 * full_mono:.1f}%) "
                 + (f"from n = {match:,}." if match is not None else "at no smaller size."))
  return lines


def steps_to_target(c, target):
  """The steps of the members that reach target."""
  return [h[0] for h in to_target(c, target) if h is not None]


def cost_to_target(c, target):
  """(members reaching target, their mean steps, their mean seconds); the means None if none reach it."""
  hits = [h for h in to_target(c, target) if h is not None]
  if not hits:
    return len(hits), None, None
  return len(hits), np.mean([h[0] for h in hits]), np.mean([h[1] for h in hits])


def training_cost(doc):
  cfg = doc["config"]
  c = main_point(doc["results"])["contenders"]
  target, s = cfg["target_acc"], cfg["seeds"]
  cost = {k: cost_to_target(c[k], target) for k in CONTENDERS}
  txt = "; ".join(f"{LABELS[k]} " + (f"{cost[k][1]:.0f} steps, {cost[k][2]:.1f} s ({cost[k][0]} of {s} seeds)"
                                     if cost[k][1] is not None else "never") for k in CONTENDERS)
  lines = [f"- **Training cost** to {100 * target:g}% balanced test accuracy: {txt}."]
  if cost["modular"][1] is not None and cost["monolithic"][1] is not None:
    ratio = cost["modular"][1] / cost["monolithic"][1]
    t_ratio = cost["modular"][2] / cost["monolithic"][2]
    d, se, clear = difference(steps_to_target(c["monolithic"], target), steps_to_target(c["modular"], target),
                              scale=1)
    outcome = ("held" if clear and d > 0 else "did not hold (the modules were slower)" if clear
               else "is not shown: the difference is within the noise")
    lines.append(f"  The modules need {ratio:.2f}x the monolithic net's steps ({-d:+.0f} ± {se:.0f}) and "
                 f"{t_ratio:.2f}x its seconds (steps are resolved to one epoch, "
                 f"{c['monolithic']['steps_per_epoch']} steps; seconds per epoch depend on what else ran on "
                 f"the machine): the 'trains faster' claim {outcome}.")
  elif cost["modular"][1] is not None:
    lines.append("  Only the modules reach the target: the 'trains faster' claim held.")
  else:
    lines.append("  The modules never reach the target: the 'trains faster' claim did not hold.")
  return lines


def reuse(doc):
  res = doc["results"]
  ru = res["reuse"]["rows"]
  if "modules" not in ru:
    return []
  lines = []
  scratch = [k for k in ("scratch", "composition_scratch") if k in ru]
  if scratch:
    best = max(scratch, key=lambda k: mean(ru[k]["test_acc"]))
    d, se, clear = difference(ru["modules"]["test_acc"], ru[best]["test_acc"])
    lines.append(f"- **Reuse**: with {res['reuse']['n_labels']} labels of a new task ({res['reuse']['task']}), "
                 f"frozen modules + a {ru['modules']['trainable_params']}-parameter combiner reach "
                 f"{percent(ru['modules']['test_acc'])} against {percent(ru[best]['test_acc'])} for the best "
                 f"network trained from scratch ({REUSE_LABELS[best]}): {difference_text(d, se, clear)}; the "
                 f"'shared parameters' claim {verdict(d, clear)}.")
  if "monolithic" in ru:
    d, se, clear = difference(ru["modules"]["test_acc"], ru["monolithic"]["test_acc"])
    lines.append(f"  But the frozen monolithic net serves the new task too ({percent(ru['monolithic']['test_acc'])}; "
                 f"modules minus it {difference_text(d, se, clear)}): "
                 + ("the gain comes from having been trained on these attributes, not from the modular "
                    "structure." if not (clear and d > 0) else "the modular structure adds to that."))
  if "trunk" in ru:
    lines.append(f"  {REUSE_LABELS['trunk']}: {percent(ru['trunk']['test_acc'])}.")
  return lines


def published(doc):
  res = doc["results"]
  c = main_point(res)["contenders"]
  worst_gain = 100 * (mean(c['reweighted']['worst']) - mean(c['monolithic']['worst']))
  return [f"- Published beside ours (Sagawa et al. 2020, CelebA, 0.85% rare, ResNet50): ERM average / worst "
          f"group {SAGAWA['monolithic'][0]} / {SAGAWA['monolithic'][1]}, upweighting {SAGAWA['reweighted'][0]} / "
          f"{SAGAWA['reweighted'][1]}. Ours at {pct(res['rho_main'])} (average on the training mix / worst): "
          f"monolithic {percent(c['monolithic']['train_mix'])} / {percent(c['monolithic']['worst'])}, reweighted "
          f"{percent(c['reweighted']['train_mix'])} / {percent(c['reweighted']['worst'])}. Reweighting moves the "
          f"worst group by {worst_gain:+.1f} points here, "
          f"{SAGAWA['reweighted'][1] - SAGAWA['monolithic'][1]:+.1f} on CelebA."]
