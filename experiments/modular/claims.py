"""The comparisons the modular experiment's reading makes, one Holm family per paragraph, and the words
that report them.

Every difference is Welch's t-test on per-member test numbers (stats.compare) with its 95% CI,
Holm-corrected within its family. What is compared with what (the one-network fix the modules meet,
the best network from scratch) was chosen on validation numbers when the experiment ran
(results["selected"]).
"""
from research.report import stats

from experiments.modular.points import by_rho, by_size, gains, key, main_point, mean

# The families, in the order the preamble names them, and what each holds.
FAMILIES = {"rare fraction": "per rho (zero-shot included), the rare group: the modules on the skewed data and "
                             "on their own data against monolithic, the own-data modules against the skewed ones "
                             "and against the one-network fix (reweighting or Group DRO) best on validation",
            "less data": "per training-set size, the worst group: both modular designs against monolithic, the "
                         "own-data modules against the fix best on validation",
            "attributes": "per rho and attribute set, the rare group: both modular designs against monolithic; "
                          "and per rho, each design's gain over monolithic with the disentangled attribute minus "
                          "its gain with the entangled one",
            "group robustness": "the worst group at the main point: per target-only target, upweighting and Group "
                                "DRO against ERM; with the 4-way label, reweighting and Group DRO against monolithic",
            "training cost": "steps to the target validation accuracy: the skewed modules against monolithic",
            "reuse": "the new task: frozen modules against the best network from scratch and against the frozen "
                     "monolithic net"}
MODULE_DESIGNS = ("modular", "own")


def ok(*values):
  """Whether every per-member list is finite: a row with a diverged member is reported, never compared."""
  return all(v is not None and len(v) and stats.diverged(v) == 0 for v in values)


def _vs(p, k, versus, metric):
  return p["contenders"][k][metric], p["contenders"][versus][metric]


def rho_pairs(res):
  pairs = {}
  for p in by_rho(res):
    best = res["selected"]["best_robust"][key(p)]
    for k in MODULE_DESIGNS:
      pairs[(key(p), k)] = _vs(p, k, "monolithic", "test_rare")
    pairs[(key(p), "own-modular")] = _vs(p, "own", "modular", "test_rare")
    pairs[(key(p), "own-robust")] = _vs(p, "own", best, "test_rare")
  return pairs


def size_pairs(res):
  pairs = {}
  for p in by_size(res):
    for k in MODULE_DESIGNS:
      pairs[(key(p), k)] = _vs(p, k, "monolithic", "test_worst")
    pairs[(key(p), "own-robust")] = _vs(p, "own", res["selected"]["best_robust"][key(p)], "test_worst")
  return pairs


def contrast_points(res, rho):
  """(the main attribute set's point, the contrast's) at one rho of the contrast."""
  pick = lambda source: next(p for p in by_rho(res, source) if p["rho"] == rho)
  return pick(res["attributes"]), pick(res["contrast"]["attributes"])


def attribute_pairs(res):
  if not res.get("contrast"):
    return {}
  pairs = {}
  for rho in sorted(res["contrast"]["rhos"]):
    points = contrast_points(res, rho)
    for p in points:
      for k in MODULE_DESIGNS:
        pairs[(key(p), k)] = _vs(p, k, "monolithic", "test_rare")
    for k in MODULE_DESIGNS:
      pairs[(rho, f"gain-{k}")] = (gains(points[1], k), gains(points[0], k))
  return pairs


def robustness_pairs(res):
  pairs = {}
  for t, rows in res["targets"].items():
    for k in ("reweighted", "dro"):
      pairs[(t, k)] = (rows[k]["test_worst"], rows["erm"]["test_worst"])
  for k in ("reweighted", "dro"):
    pairs[("4-way", k)] = _vs(main_point(res), k, "monolithic", "test_worst")
  return pairs


def families(doc):
  """{family: {key: stats.Comparison}}: each family Holm-corrected on its own (see FAMILIES)."""
  res = doc["results"]
  chosen = res["selected"]
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
  for name, pairs, scale in (("rare fraction", rho_pairs(res), 100.0), ("less data", size_pairs(res), 100.0),
                             ("attributes", attribute_pairs(res), 100.0),
                             ("group robustness", robustness_pairs(res), 100.0),
                             ("training cost", cost, 1.0), ("reuse", reuse_pairs, 100.0)):
    out[name] = stats.compare({k: ab for k, ab in pairs.items() if ok(*ab)}, scale=scale)
  return out


def percent(values):
  """'87.5%' over the finite members; 'diverged' when none is finite."""
  m = mean(values) if values is not None else float("nan")
  return f"{100 * m:.1f}%" if m == m else "diverged"


def compared(tests, family, keys):
  """Whether any of keys has a comparison in the family (none: every pair had a diverged member)."""
  return any(k in tests[family] for k in keys)


def text(tests, family, k, unit="points"):
  c = tests[family].get(k)
  return c.text(unit) if c is not None else "not compared (a member diverged)"


def calls(tests, family, keys):
  """(resolved gains, resolved losses) among keys: where the Holm-corrected test calls a difference."""
  found = [(k, tests[family][k]) for k in keys if k in tests[family]]
  return ([k for k, c in found if c.resolved and c.diff > 0], [k for k, c in found if c.resolved and c.diff < 0])


def outcome(tests, family, keys, seeds):
  """What the corrected tests say of a claim that the first side is ahead."""
  if not compared(tests, family, keys):
    return "was not compared (a member diverged)"
  ahead, behind = calls(tests, family, keys)
  return "held" if ahead else "was reversed" if behind else f"is not resolved at {seeds} seeds"
