"""The tables, plots and reading of deep_vs_wide, from its results.json."""
import math

import matplotlib.pyplot as plt

from research.report import protocol, readings, stats
from research.report.depth_verdicts import DepthPair
from research.system import pages, results


# Seide, Li, Yu 2011 (shared/anchors.md): word error rate (%) on Switchboard speech, L x 2k and
# 1 x N' of equal size, as quoted in Lee's lecture.
SEIDE_DEEP = {1: 24.2, 2: 20.4, 3: 18.4, 4: 17.8, 5: 17.2, 7: 17.1}
SEIDE_SHALLOW = {5: ("1 x 3772", 22.5), 7: ("1 x 4634", 22.6)}
SEIDE_SETTING = ("Seide et al. 2011: word error rates (%, lower is better) of DNN-HMM recognisers on "
                 "Switchboard conversational speech (309 h of training speech, Hub5'00 test set), N = 2k, "
                 "no data augmentation, trained by their own schedule: a different task, scale and budget, "
                 "shown for the shape of the comparison")


def val_mean(cell):
  """A cell's mean validation accuracy over its seeds."""
  return stats.mean_sd(cell["val_acc"])[0]


def none_diverged(cell):
  """Whether no member of the cell diverged."""
  return stats.diverged(cell["test_acc"]) == 0 and stats.diverged(cell["val_acc"]) == 0


def _pair_key(resolution, n_train, depth):
  """A deep/shallow pair by what it trained on; a data-hunger pair on a table's data has the table's key."""
  return ("pair", resolution, n_train, depth)


def _pair_rows(res):
  """(key, row) of every deep/shallow pair (depth > 1), each trained pair once."""
  out = {}
  for t in res["tables"]:
    for r in t["rows"]:
      if r["depth"] > 1:
        out[_pair_key(t["resolution"], t["dataset"]["n_train"], r["depth"])] = r
  for h in res["hunger"]:
    out.setdefault(_pair_key(h["resolution"], h["n_train"], h["depth"]), h)
  return out


def _deeper(t, res):
  """(the first depth's row, the validation-best depth's row) of a table; None if there is nothing to
  compare (one depth, the first is the best, or a side diverged)."""
  best = res["selected"]["best_depth"].get(str(t["resolution"]))
  first = t["rows"][0]
  top = next((r for r in t["rows"] if r["depth"] == best), None)
  if top is None or top is first or not (none_diverged(first["deep"]) and none_diverged(top["deep"])):
    return None
  return first, top


def comparisons(res):
  """The reading's family, Holm-corrected together: deep minus shallow test accuracy for every pair
  with no diverged member, and per table the validation-best depth minus the first depth."""
  family = {k: (r["deep"]["test_acc"], r["shallow"]["test_acc"]) for k, r in _pair_rows(res).items()
            if none_diverged(r["deep"]) and none_diverged(r["shallow"])}
  for t in res["tables"]:
    d = _deeper(t, res)
    if d:
      family[("deeper", t["resolution"])] = (d[1]["deep"]["test_acc"], d[0]["deep"]["test_acc"])
  return stats.compare(family) if family else {}


def _diverged_text(cell):
  return f"diverged ({stats.diverged(cell['test_acc'])} of {len(cell['test_acc'])})"


def _diff_cell(row, tests, key):
  """deep − shallow for a table: the difference of test means and its Holm-corrected p."""
  if row["depth"] == 1:
    return ""
  if key not in tests:
    return "diverged"
  c = tests[key]
  return c.cell()


# ----------------------------------------------------------------------------
# Tables, plots, reading

def _lr_text(cfg):
  lrs = cfg["learning_rates"]
  if len(lrs) == 1:
    return f"lr {lrs[0]:g}"
  return f"lr chosen per contender on validation from {{{', '.join(f'{v:g}' for v in lrs)}}}"


def _contender(cell, tuned):
  return ([stats.mean_sd_text(cell["val_acc"]), stats.mean_sd_text(cell["test_acc"]), protocol.epochs_cell(cell)]
          + ([f"{cell['learning_rate']:g}"] if tuned else []))


def _caption_rule(cfg, epochs):
  return (f"mean ± std over {cfg['seeds']} seeds; {cfg['optimizer']} ({_lr_text(cfg)}, batch {cfg['batch_size']}), "
          f"{protocol.rule(cfg, epochs)}. epochs: to the best validation accuracy, median (range); + marks a "
          "contender with a member still improving at the maximum.")


def _caption_diff(tests):
  return (f"deep − shallow: difference of the test means (points), Welch's p after Holm's correction over "
          f"the {len(tests)} comparisons of the reading; a difference is called only at p < {stats.ALPHA}.")


def table(doc):
  cfg, res = doc["config"], doc["results"]
  tests = comparisons(res)
  tuned = len(cfg["learning_rates"]) > 1
  per = ["val", "test", "epochs"] + (["lr"] if tuned else [])
  out = []
  for t in res["tables"]:
    ds = t["dataset"]
    rows = []
    for r in t["rows"]:
      d, s = r["deep"], r["shallow"]
      seide_s = SEIDE_SHALLOW.get(r["depth"])
      same = r["depth"] == 1
      rows.append([d["shape"], results.human(d["params"])] + _contender(d, tuned)
                  + ["(same net)" if same else s["shape"], "" if same else results.human(s["params"])]
                  + ([""] * len(per) if same else _contender(s, tuned))
                  + [_diff_cell(r, tests, _pair_key(t["resolution"], ds["n_train"], r["depth"])),
                     SEIDE_DEEP.get(r["depth"], ""), f"{seide_s[0]}: {seide_s[1]}" if seide_s else ""])
    out.append(results.markdown_table(
        ["deep L x N", "params"] + [f"deep {a}" for a in per] + ["shallow 1 x N'", "params"]
        + [f"shallow {a}" for a in per] + ["deep − shallow", "Seide WER L x 2k", "Seide WER 1 x N'"], rows,
        f"**Deep vs shallow at equal parameters, {t['resolution']}x{t['resolution']} input "
        f"({math.prod(ds['shape'])} inputs, {ds['num_classes']} outputs).** Accuracy (%) on {ds['name']} "
        f"({ds['n_train']} train / {ds['n_val']} validation / {ds['n_test']} test), "
        + _caption_rule(cfg, t["max_epochs"]) + " Both nets of a row get the same rule and the same grid. "
        + _caption_diff(tests) + f" Published: {SEIDE_SETTING}."))
  h = res["hunger"]
  if h:
    rows = [[x["n_train"], x["max_epochs"], x["deep"]["shape"]] + _contender(x["deep"], tuned)
            + [x["shallow"]["shape"]] + _contender(x["shallow"], tuned)
            + [_diff_cell(x, tests, _pair_key(x["resolution"], x["n_train"], x["depth"]))] for x in h]
    side = cfg["hunger_resolution"]
    chosen = ("fixed by the config" if cfg["hunger_depth"] else
              f"the depth whose deep net was best on validation at {side}x{side}")
    out.append(results.markdown_table(
        ["n_train", "max epochs", "deep"] + [f"deep {a}" for a in per] + ["shallow"]
        + [f"shallow {a}" for a in per] + ["deep − shallow"], rows,
        f"**Data hunger: the {h[0]['deep']['shape']} net ({chosen}) vs its equal-size {h[0]['shallow']['shape']} "
        f"on growing training sets** ({cfg['hunger_resolution']}x{cfg['hunger_resolution']} input, the same "
        f"{cfg['val_size']}-image validation split for every size); "
        + _caption_rule(cfg, "the row's max") + f" Small sets get more epochs: at least {cfg['min_steps']} steps. "
        + _caption_diff(tests) + " Lee's lecture: with fewer examples the shallow net should collapse first."))
  return pages.join("\n", out)


def plots(doc):
  res = doc["results"]
  mean = lambda c: stats.mean_sd(c["test_acc"])[0]
  std = lambda c: stats.mean_sd(c["test_acc"])[1]
  fig, axes = plt.subplots(1, len(res["tables"]) + 1, figsize=(5 * (len(res["tables"]) + 1), 4))
  for ax, t in zip(axes, res["tables"]):
    for key, label, color in (("deep", "deep L x N", "C0"), ("shallow", "shallow 1 x N' (same params)", "C1")):
      p = [r[key]["params"] for r in t["rows"]]
      ax.errorbar(p, [mean(r[key]) for r in t["rows"]], yerr=[std(r[key]) for r in t["rows"]],
                  marker="o", capsize=3, color=color, label=f"{label}: test")
      ax.plot(p, [val_mean(r[key]) for r in t["rows"]], ls="--", color=color, alpha=0.6, label=f"{label}: val")
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{t['resolution']}x{t['resolution']} input, best-validation epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
  ax = axes[-1]
  h = res["hunger"]
  for key, color in (("deep", "C0"), ("shallow", "C1")):
    if h:
      ax.errorbar([x["n_train"] for x in h], [mean(x[key]) for x in h], yerr=[std(x[key]) for x in h],
                  marker="o", capsize=3, color=color, label=f"{key}: {h[0][key]['shape']}, test")
  ax.set_xscale("log")
  ax.set_xlabel("training examples")
  ax.set_ylabel("test accuracy (%)")
  ax.set_title("data hunger" if h else "data hunger: not run")
  ax.grid(alpha=0.3)
  if h:
    ax.legend(fontsize=8)
  fig.tight_layout()
  return {"deep_vs_wide.png": fig}


def _call(c):
  """'deep ahead' / 'shallow ahead' for a resolved difference, else 'not resolved'."""
  return ("deep ahead" if c.diff > 0 else "shallow ahead") if c.resolved else "not resolved"


def _pair_text(r, tests, key):
  lost = [k for k in ("deep", "shallow") if not none_diverged(r[k])]
  if lost:
    return f"{r['deep']['shape']} vs {r['shallow']['shape']}: " + " and ".join(
        f"{k} {_diverged_text(r[k])}" for k in lost)
  if key not in tests:  # the same pair as a table row's that diverged
    return f"{r['deep']['shape']} vs {r['shallow']['shape']}: not compared (a net of the pair diverged)"
  return f"{r['deep']['shape']} vs {r['shallow']['shape']}: {tests[key].text()}"


def _calls_text(calls):
  counts = {c: calls.count(c) for c in ("deep ahead", "shallow ahead", "not resolved", "diverged")}
  text = ", ".join(f"{c} in {n}" for c, n in counts.items() if n) + f" of {len(calls)} pairs"
  return text[0].upper() + text[1:]


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  tests = comparisons(res)
  table_cells = [r[k] for t in res["tables"] for r in t["rows"] for k in ("deep", "shallow")
                 if k == "deep" or r["depth"] > 1]
  lines = [f"- Budget: {protocol.rule(cfg, res['tables'][0]['max_epochs'])} ({cfg['optimizer']}, {_lr_text(cfg)}; "
           f"the same rule and grid for every contender). " + protocol.convergence(table_cells, cfg,
                                                                                  res["tables"][0]["max_epochs"]),
           f"- Comparisons: Welch's t-test on test accuracy (deep minus shallow, points), 95% CI, "
           f"{readings.family_text(tests)}; every choice (learning rate, best "
           "depth, data-hunger depth) was made on the validation split." if tests else readings.nothing(
               "no deep net has a shallow net of its size to be compared with (only one hidden layer was trained)"
               if not _pair_rows(res) else "every pair of a deep and a shallow net of the same size had a member "
               "that diverged")]
  for t in res["tables"]:
    pairs = [r for r in t["rows"] if r["depth"] > 1]
    keys = [_pair_key(t["resolution"], t["dataset"]["n_train"], r["depth"]) for r in pairs]
    if pairs:
      calls = [_call(tests[k]) if k in tests else "diverged" for k in keys]
      lines.append(f"- {t['resolution']}x{t['resolution']} input: " + "; ".join(
          _pair_text(r, tests, k) for r, k in zip(pairs, keys)) + f". {_calls_text(calls)}.")
    lines.append("  " + _deeper_text(t, res, tests))
  if res["tables"]:
    lines.append(f"  Seide's speech nets gained {SEIDE_DEEP[1] - SEIDE_DEEP[7]:.1f} WER points from 1 to 7 layers "
                 f"and kept a lead of {min(w - SEIDE_DEEP[d] for d, (_, w) in SEIDE_SHALLOW.items()):.1f} points or "
                 "more over the matched shallow nets (Switchboard, 309 h; a different task and budget).")
  lines += _hunger_lines(cfg, res, tests)
  return "\n".join(lines)


def _deeper_text(t, res, tests):
  """Going deeper at fixed width: the validation-best depth against the first, or why there is no such
  comparison."""
  best = res["selected"]["best_depth"].get(str(t["resolution"]))
  top = next((r for r in t["rows"] if r["depth"] == best), None)
  first = t["rows"][0]
  d = _deeper(t, res)
  if d:
    return (f"Going deeper at fixed N: the best deep net on validation is {top['deep']['shape']} "
            f"({val_mean(top['deep']):.1f}% validation); against {first['deep']['shape']}: "
            f"{tests[('deeper', t['resolution'])].text()}.")
  finite = [r for r in t["rows"] if none_diverged(r["deep"])]
  if top is None or not finite:
    return readings.nothing("every deep net diverged, so no depth was chosen", indent="")
  if len(t["rows"]) == 1:
    return readings.nothing(f"one depth was trained ({first['deep']['shape']}), so going deeper is not "
                            "compared", indent="")
  if len(finite) == 1:
    return readings.nothing(f"one depth stayed finite ({finite[0]['deep']['shape']}), so going deeper is not "
                            "compared", indent="")
  if top is first and none_diverged(first["deep"]):
    return f"Going deeper at fixed N: the best deep net on validation is the first, {first['deep']['shape']}."
  return "Going deeper at fixed N: not compared (the first or the chosen deep net diverged)."


def _hunger_convergence(h):
  """Per training-set size, how many members were still improving at that size's maximum."""
  open_ = []
  for x in h:
    ran = [s for c in (x["deep"], x["shallow"]) for s, d in zip(c["stopped"], c["diverged"]) if not d]
    if ran and not all(ran):
      open_.append(f"n={x['n_train']} ({len(ran) - sum(ran)} of {len(ran)} members)")
  if not open_:
    return "Every member stopped by the rule before its size's maximum."
  return "Still improving at their size's maximum, not converged by the rule: " + ", ".join(open_) + "."


def _hunger_lines(cfg, res, tests):
  h = res["hunger"]
  if not h:
    return ([] if not cfg["hunger_n_train"] else
            ["- Data hunger: not run, every deep net of depth > 1 diverged at its resolution."])
  keys = [_pair_key(x["resolution"], x["n_train"], x["depth"]) for x in h]
  if not any(k in tests for k in keys):
    return [readings.nothing(f"data hunger ({h[0]['deep']['shape']} vs {h[0]['shallow']['shape']}): at every "
                             "training-set size a net of the pair diverged")]
  how = ("fixed by the config" if cfg["hunger_depth"] else "best deep net on validation")
  lines = [f"- Data hunger ({h[0]['deep']['shape']}, {how}, minus {h[0]['shallow']['shape']}; maximum epochs "
           f"{', '.join(str(x['max_epochs']) for x in h)} for n = {', '.join(str(x['n_train']) for x in h)}): "
           + "; ".join(f"n={x['n_train']}: " + (tests[k].text() if k in tests else _pair_text(x, tests, k))
                       for x, k in zip(h, keys)) + ". " + _hunger_convergence(h)]
  smallest = min(zip(h, keys), key=lambda xk: xk[0]["n_train"])
  c = tests.get(smallest[1])
  if c is None:
    verdict = "a net diverged on the smallest set: no verdict on the lecture's claim."
  elif not c.resolved:
    verdict = (f"on the smallest set (n={smallest[0]['n_train']}) the difference is not resolved at {c.seeds}: "
               "no evidence here for or against the lecture's claim that the shallow net collapses first.")
  elif c.diff > 0:
    verdict = (f"the deep net leads on the smallest set (n={smallest[0]['n_train']}), resolved: the lecture's "
               "claim shows on this data.")
  else:
    verdict = (f"the shallow net leads on the smallest set (n={smallest[0]['n_train']}), resolved: the "
               "lecture's claim does not show on this data.")
  lines.append("  " + verdict[0].upper() + verdict[1:])
  return lines


def depth_pairs(doc):
  """This table's deeper-vs-shallower comparisons for REPORT.md's depth summary: every deep net against
  the one-hidden-layer net of the same parameter count, at each input resolution and training-set size."""
  cfg = doc["config"]
  data = {"fashion_mnist": "Fashion-MNIST"}.get(cfg["dataset"], cfg["dataset"])
  out = []
  for (_, resolution, n_train, _), r in sorted(_pair_rows(doc["results"]).items()):
    out.append(DepthPair(f"{data} {resolution}x{resolution}, {n_train:,} examples, equal parameters",
                         r["deep"]["shape"], r["shallow"]["shape"], r["deep"]["test_acc"], r["shallow"]["test_acc"],
                         r["deep"]["depth"], r["shallow"]["depth"]))
  return out
