"""The reading's paragraphs on what this design adds: zero-shot, the modules' own data, the entangled vs
the disentangled attribute, Sagawa's format, and for which conditions the article's claim holds.
Every call comes from claims.families (Welch + Holm per paragraph) on the numbers of results.json."""
from research.report import readings

from experiments.modular.claims import MODULE_DESIGNS, calls, compared, contrast_points, percent, text
from experiments.modular.contenders import SHORT
from experiments.modular.points import by_rho, by_size, key, main_point, pct
from experiments.modular.robust import LABELS as TARGET_LABELS, SAGAWA


def _b(res, source):
  return (res if source == res["attributes"] else res["contrast"])["names"]["b_title"]


def zero_shot(doc, tests):
  res = doc["results"]
  zero = [p for p in by_rho(res) if p["rho"] == 0]
  if not zero:
    return []
  p = zero[0]
  c, at = p["contenders"], key(p)
  top = by_rho(res)[-1]
  lines = [f"- **Zero-shot (rho = 0)**: no {res['rare_name']} in training or validation. The 4-way networks "
           f"cannot name a class they never saw: on it, monolithic {percent(c['monolithic']['test_rare'])}, "
           f"reweighted {percent(c['reweighted']['test_rare'])}, Group DRO {percent(c['dro']['test_rare'])}. The "
           f"product of the modules answers it: on the skewed data {percent(c['modular']['test_rare'])} "
           f"(minus monolithic: {text(tests, 'rare fraction', (at, 'modular'))}), on their own data "
           f"{percent(c['own']['test_rare'])} (minus monolithic: {text(tests, 'rare fraction', (at, 'own'))}; minus "
           f"the skewed modules: {text(tests, 'rare fraction', (at, 'own-modular'))}). For scale, at rho = "
           f"{pct(top['rho'])} the monolithic net reaches {percent(top['contenders']['monolithic']['test_rare'])} "
           "on the same group."]
  if res.get("contrast") and 0 in res["contrast"]["rhos"]:
    q = contrast_points(res, 0)[1]["contenders"]
    lines.append(f"  With b = {res['contrast']['names']['b_title']} ({res['contrast']['rare_name']} never seen): "
                 f"monolithic {percent(q['monolithic']['test_rare'])}, modules on the skewed data "
                 f"{percent(q['modular']['test_rare'])}, on their own data {percent(q['own']['test_rare'])} "
                 "(tests in the attributes paragraph).")
  return lines


def own_data(doc, tests):
  res = doc["results"]
  points = by_rho(res)
  label = lambda ks: ", ".join(f"rho {pct(p['rho'])}" for p in points if (key(p), "own-modular") in ks) or "none"
  keys = [(key(p), "own-modular") for p in points]
  ahead, behind = calls(tests, "rare fraction", keys)
  where = (f"ahead at {label(ahead)}, behind at {label(behind)}" if compared(tests, "rare fraction", keys)
           else "compared at no rho (a member diverged)")
  own = res["own"][res["attributes"]]
  return [f"- **The modules' own data**: the {res['names']['b_title']} module trained on {own['about']} "
          f"({own['n_train']:,} examples, balanced; {percent(own['val_acc'])} on its own validation examples) "
          f"instead of the skewed training set. On the rare group, own data minus skewed data (the same kind "
          f"module): {where} (per rho in the rare-fraction lines below; "
          "Table 4 shows each module's accuracy on each group)."]


def attributes(doc, tests):
  res = doc["results"]
  if not res.get("contrast"):
    return []
  shade, frame = _b(res, res["attributes"]), _b(res, res["contrast"]["attributes"])
  lines = [f"- **Entangled ({shade}) vs disentangled ({frame})** (rare-group test accuracy, the same items, the "
           "same rare-group construction):"]
  for rho in sorted(res["contrast"]["rhos"]):
    points = contrast_points(res, rho)
    for p in points:
      lines.append(f"  rho {pct(rho)}, b = {_b(res, p['source'])}: " + "; ".join(
          f"{SHORT[k]} - monolithic: {text(tests, 'attributes', (key(p), k))}" for k in MODULE_DESIGNS) + ".")
    lines.append(f"  rho {pct(rho)}, the gain over monolithic, {frame} minus {shade}: " + "; ".join(
        f"{SHORT[k]}: {text(tests, 'attributes', (rho, f'gain-{k}'))}" for k in MODULE_DESIGNS) + ".")
  gain_keys = [(rho, f"gain-{k}") for rho in res["contrast"]["rhos"] for k in MODULE_DESIGNS]
  ahead, behind = calls(tests, "attributes", gain_keys)
  named = lambda ks: ", ".join(f"{SHORT[k.split('-')[1]]} at rho {pct(r)}" for r, k in ks) or "none"
  gains_text = (f"at: {named(ahead)}; less at: {named(behind)}" if compared(tests, "attributes", gain_keys)
                else "was compared at no rho (a member diverged)")
  lines.append(f"  The modules gain more over the monolithic net with the disentangled {frame} than with the "
               f"entangled {shade} {gains_text}. The {frame} is also the easier "
               f"attribute to see (the same pixels on every item), so the pair tells a b drawn apart from the "
               f"{res['names']['a_title']} from a b read through the item itself, not entanglement alone.")
  return lines


def robustness(doc, tests):
  res = doc["results"]
  names = res["names"]
  title = {"a": names["a_title"], "b": names["b_title"]}
  lines = ["- **Sagawa's format** (average on the training mix / worst group, test, rho = "
           f"{pct(res['rho_main'])}; Table 6):"]
  for t, rows in res["targets"].items():
    shown = "; ".join(f"{TARGET_LABELS[k]} {percent(r['test_train_mix'])} / {percent(r['test_worst'])}"
                      for k, r in rows.items())
    lines.append(f"  Predict {title[t]} only: {shown}. Upweighting minus ERM on the worst group: "
                 f"{text(tests, 'group robustness', (t, 'reweighted'))}; Group DRO minus ERM: "
                 f"{text(tests, 'group robustness', (t, 'dro'))}.")
  c = main_point(res)["contenders"]
  lines.append(f"  The 4-way label (both attributes): monolithic {percent(c['monolithic']['test_train_mix'])} / "
               f"{percent(c['monolithic']['test_worst'])}; reweighting minus monolithic on the worst group: "
               f"{text(tests, 'group robustness', ('4-way', 'reweighted'))}; Group DRO minus monolithic: "
               f"{text(tests, 'group robustness', ('4-way', 'dro'))}.")
  published = "; ".join(f"{TARGET_LABELS[k]} {avg} / {worst}" for k, (avg, worst) in SAGAWA.items())
  lines.append(f"  Published (Sagawa et al. 2020, CelebA, another dataset and model): {published}: there ERM's worst "
               f"group is {SAGAWA['erm'][0] - SAGAWA['erm'][1]:.1f} points below its average, because the target "
               "is read through the spurious attribute; here the gap of a target-only ERM says how much each target "
               "leans on the other attribute.")
  return lines


def _conditions(res, tests):
  """(condition words, comparison family, key, what it is against) for every modular design against
  monolithic and against the one-network fix, wherever the reading tests it."""
  out = []
  b = lambda p: _b(res, p["source"])
  for p in by_rho(res):
    for k in MODULE_DESIGNS:
      out.append((f"b = {b(p)}, rho {pct(p['rho'])}, n = {p['n_train']:,}, {SHORT[k]}", "rare fraction", (key(p), k),
                  "monolithic"))
    out.append((f"b = {b(p)}, rho {pct(p['rho'])}, n = {p['n_train']:,}, modules (own data)", "rare fraction",
                (key(p), "own-robust"), "the one-network fix"))
  for p in by_size(res):
    if p["n_train"] != res["n_main"]:
      for k in MODULE_DESIGNS:
        out.append((f"b = {b(p)}, rho {pct(p['rho'])}, n = {p['n_train']:,}, {SHORT[k]}", "less data", (key(p), k),
                    "monolithic"))
      out.append((f"b = {b(p)}, rho {pct(p['rho'])}, n = {p['n_train']:,}, modules (own data)", "less data",
                  (key(p), "own-robust"), "the one-network fix"))
  if res.get("contrast"):
    for p in by_rho(res, res["contrast"]["attributes"]):
      for k in MODULE_DESIGNS:
        out.append((f"b = {b(p)}, rho {pct(p['rho'])}, n = {p['n_train']:,}, {SHORT[k]}", "attributes", (key(p), k),
                    "monolithic"))
  return out


def where_it_holds(doc, tests):
  """The verdict: for which attribute and data conditions the modules beat the monolithic net, and
  the one-network fixes, after the correction."""
  res = doc["results"]
  found = {"monolithic": ([], []), "the one-network fix": ([], [])}
  for words, family, k, versus in _conditions(res, tests):
    c = tests[family].get(k)
    if c is not None and c.resolved:
      found[versus][0 if c.diff > 0 else 1].append(f"{words} ({c.diff:+.1f} points, p {_p(c.p_holm)})")
  text_of = lambda items: "; ".join(items) or "none"
  if not any(tests[family].get(k) is not None for _, family, k, _ in _conditions(res, tests)):
    return [readings.nothing("where the article's claim holds: at every condition a contender of the pair "
                             "diverged")]
  return [f"- **Where the article's claim holds** ('less data, by combining basic classifiers'; rare group, worst "
          f"group for the size sweep; Holm-corrected within each paragraph's family): modules resolved ahead of the "
          f"monolithic net at {text_of(found['monolithic'][0])}; behind it at {text_of(found['monolithic'][1])}. "
          f"The modules on their own data against the one-network fix best on validation (reweighting or Group "
          f"DRO): ahead at {text_of(found['the one-network fix'][0])}; behind at "
          f"{text_of(found['the one-network fix'][1])}. Everywhere else the difference is not resolved at "
          f"{len(doc['config']['data_seeds']) * doc['config']['seeds']} members."]


def _p(p):
  return "< 0.001" if p < 0.001 else f"= {p:.3f}"
