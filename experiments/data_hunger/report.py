"""The tables, plots and reading of data_hunger, from its results.json."""
import matplotlib.pyplot as plt

from research.report import protocol, readings, stats
from research.system import results


def _val_mean(row):
  return stats.mean_sd(row["val_acc"])[0]


def select(rows):
  """What the reading names best, chosen on mean validation accuracy (diverged rows left out): at
  each size, the best contender and the best non-linear one (the logistic lead is measured from it)."""
  best, nonlinear = {}, {}
  for n in dict.fromkeys(r["n_train"] for r in rows):
    ok = [r for r in rows if r["n_train"] == n and _finite(r)]
    if ok:
      best[str(n)] = max(ok, key=_val_mean)["model"]
    ok = [r for r in ok if r["model"] != "logistic"]
    if ok:
      nonlinear[str(n)] = max(ok, key=_val_mean)["model"]
  return dict(best=best, best_nonlinear=nonlinear)


def _finite(row):
  return stats.diverged(row["test_acc"]) == 0


def _get(res, n, model):
  return next((r for r in res["rows"] if r["n_train"] == n and r["model"] == model), None)


def _sizes(res):
  return sorted({r["n_train"] for r in res["rows"]})


def _names(res):
  """The contenders in the results, in the order they ran."""
  return list(dict.fromkeys(r["model"] for r in res["rows"]))


def _lr_text(cfg):
  lrs = cfg["learning_rates"]
  return f"lr {lrs[0]:g}" if len(lrs) == 1 else f"lr chosen on validation from {{{', '.join(f'{v:g}' for v in lrs)}}}"


def _epoch_text(cfg):
  """What one epoch is here: the part of the rule that makes it the same at every size."""
  return (f"an epoch is one pass over the training set, or for a set under {cfg['epoch_rows']:,} images "
          f"the fewest whole passes holding at least {cfg['epoch_rows']:,} examples")


def table(doc):
  cfg, res = doc["config"], doc["results"]
  names = _names(res)
  tuned = len(cfg["learning_rates"]) > 1
  first = {m: next(r for r in res["rows"] if r["model"] == m) for m in names}
  per = ["val", "test", "epochs"] + (["lr"] if tuned else [])
  header = ["n train", "passes / epoch", "steps / epoch"] + [f"{m} {a}" for m in names for a in per]
  rows = []
  for n in _sizes(res):
    lead = _get(res, n, names[0])
    row = [f"{n:,}", lead["passes_per_epoch"], lead["steps_per_epoch"]]
    for m in names:
      r = _get(res, n, m)
      row += [stats.mean_sd_text(r["val_acc"]), stats.mean_sd_text(r["test_acc"]), protocol.epochs_cell(r)]
      row += [f"{r['learning_rate']:g}"] if tuned else []
    rows.append(row)
  ds = res["dataset"]
  caption = (f"**Data hunger.** Accuracy (%) on the same {ds['n_val']:,}-image validation split at every size and "
             f"on the full {ds['n_test']:,}-image {ds['name']} test set, inputs resized to "
             f"{'x'.join(map(str, ds['shape']))}, vs the number of training images (stratified subsets of the images "
             f"left after the validation split, the same subset for every contender and seed), mean ± std over "
             f"{cfg['seeds']} seeds (initialization and batch order); {cfg['optimizer']} ({_lr_text(cfg)}, batch "
             f"{cfg['batch_size']}), {protocol.rule(cfg)}; {_epoch_text(cfg)} (columns passes and steps per epoch). "
             "epochs: to the best validation accuracy, median (range); + marks a cell with a member still improving "
             "at the maximum. Contenders: " + "; ".join(
                 f"{m}: {first[m]['label']} ({results.human(first[m]['params'])} parameters)" for m in names)
             + ". Published reference (qualitative, no numbers compared): the "
             "\"paper cutting\" example of Hung-yi Lee's \"Why deep?\" lecture, a two-dimensional toy task shown as "
             "decision regions, not an image set, in which a deep net degrades more gracefully than a shallow one "
             "of the same size when the data shrinks; against it, the popular \"deep learning needs big data\".")
  return results.markdown_table(header, rows, caption)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  fig, ax = plt.subplots(figsize=(6, 4))
  for i, m in enumerate(_names(res)):
    rows = [_get(res, n, m) for n in _sizes(res)]
    ms = [stats.mean_sd(r["test_acc"]) for r in rows]
    ax.errorbar([r["n_train"] for r in rows], [a for a, _ in ms], yerr=[s for _, s in ms], marker="o", capsize=3,
                color=f"C{i}", label=f"{m} ({results.human(rows[0]['params'])}): test")
    ax.plot([r["n_train"] for r in rows], [_val_mean(r) for r in rows], ls="--", color=f"C{i}", alpha=0.6)
  ax.plot([], [], ls="--", color="gray", label="validation (dashed)")
  ax.set_xscale("log")
  ax.set_xlabel("training images")
  ax.set_ylabel("accuracy (%)")
  ax.set_title(f"{res['dataset']['name']} {'x'.join(map(str, res['dataset']['shape'][:2]))}, up to {cfg['epochs']} "
               f"epochs, patience {cfg['patience']}, {cfg['seeds']} seeds", fontsize=9)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return {"accuracy_vs_data.png": fig}


# The gaps the reading tests at every size: (key, a, b, what a - b measures).
GAPS = (("depth", "deep", "shallow", "Depth at the same parameter count (deep - shallow)"),
        ("conv", "cnn", "deep", "Convolution over the deep MLP (cnn - deep)"),
        ("nonlinear", "deep", "logistic", "The deep MLP over the linear model (deep - logistic)"))


def _minus(a, b):
  """Per seed, a - b. Members of one seed start from the same initialization at every size
  (PRNGKey(seed)), so pairing by seed is the design's own pairing; the pairs are independent
  across contenders, which is what Welch's test of two such lists needs."""
  return [x - y for x, y in zip(a, b)]


def comparisons(res):
  """The one family of comparisons the reading makes, {key: (a, b)} on test accuracy: each gap of
  GAPS at each size, and the two trends between the smallest and the largest size."""
  names, sizes = _names(res), _sizes(res)
  ok = lambda n, m: m in names and _get(res, n, m) is not None and _finite(_get(res, n, m))
  acc = lambda n, m: _get(res, n, m)["test_acc"]
  pairs = {}
  for key, a, b, _ in GAPS:
    for n in sizes:
      if ok(n, a) and ok(n, b):
        pairs[(key, n)] = (acc(n, a), acc(n, b))
  if len(sizes) > 1:
    small, large = sizes[0], sizes[-1]
    if all(ok(n, m) for n in (small, large) for m in ("deep", "shallow")):
      # Accuracy gained from the smallest to the largest set: less for deep = it degrades more gracefully.
      pairs[("gain",)] = (_minus(acc(large, "deep"), acc(small, "deep")),
                          _minus(acc(large, "shallow"), acc(small, "shallow")))
    best = select(res["rows"])["best_nonlinear"]
    if all(str(n) in best and ok(n, "logistic") for n in (small, large)):
      # The lead of the best non-linear contender (on validation) over the linear one, large vs small.
      pairs[("lead",)] = (_minus(acc(large, best[str(large)]), acc(large, "logistic")),
                          _minus(acc(small, best[str(small)]), acc(small, "logistic")))
  return pairs


def _where(tests, key, sizes):
  """'ahead at 8,000 and 55,000; behind at 500; not resolved at 2,000' for one gap over the sizes."""
  parts = []
  for word, keep in (("ahead", lambda c: c.resolved and c.diff > 0), ("behind", lambda c: c.resolved and c.diff < 0),
                     ("not resolved", lambda c: not c.resolved)):
    at = [f"{n:,}" for n in sizes if (key, n) in tests and keep(tests[(key, n)])]
    if at:
      parts.append(f"{word} at {', '.join(at)}")
  return "; ".join(parts)


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  sizes, names = _sizes(res), _names(res)
  mean = lambda r, k="test_acc": stats.mean_sd(r[k])[0]
  lines = [f"- Budget: {protocol.rule(cfg)}; {_epoch_text(cfg)} ({cfg['optimizer']}, {_lr_text(cfg)}, batch "
           f"{cfg['batch_size']}). " + protocol.convergence(res["rows"], cfg)]
  lost = [r for r in res["rows"] if not _finite(r)]
  if lost:  # a diverged row is reported as such and enters no comparison
    lines.append("- Diverged (non-finite loss or gradient), left out of every comparison below: " + ", ".join(
        f"{r['model']} at {r['n_train']:,} ({stats.diverged(r['test_acc'])} of {len(r['test_acc'])} seeds)"
        for r in lost) + ".")
  sel = select(res["rows"])  # as results.json records it; from the rows, so a diverged row is never named
  for n in dict.fromkeys((sizes[0], sizes[-1])):
    rows = [r for r in (_get(res, n, m) for m in names) if r is not None and _finite(r)]
    best = sel["best"].get(str(n))
    shown = ", ".join(f"{r['model']} {mean(r, 'val_acc'):.1f} / {mean(r):.1f}%" for r in rows)
    lines.append(f"- {n:,} training images, validation / test: " + (
        "every contender diverged." if not rows else f"{shown}; best on validation: {best}." if len(rows) > 1
        else f"{shown} (the only contender {'trained' if len(names) == 1 else 'that stayed finite'})."))
  tests = stats.compare(comparisons(res))
  if not tests:
    why = ("one contender was trained" if len(names) == 1 else
           "at every size at most one contender of each gap stayed finite" if any(_finite(r) for r in res["rows"])
           else "every contender diverged at every size")
    return "\n".join(lines + [readings.nothing(why)])
  n_seeds = cfg["seeds"]
  lines.append(f"- Comparisons below: Welch's t-test on test accuracy over {n_seeds} seeds, 95% CI, "
               f"{readings.family_text(tests)}; a gap is called only where resolved.")
  for key, a, b, what in GAPS:
    calls = [(n, tests[(key, n)]) for n in sizes if (key, n) in tests]
    if calls:
      lines.append(f"- {what}: {_where(tests, key, sizes)}. By size: "
                   + "; ".join(f"{n:,}: {c.text()}" for n, c in calls) + ".")
  if ("gain",) in tests:
    small, large = sizes[0], sizes[-1]
    t = tests[("gain",)]
    gain = lambda m: mean(_get(res, large, m)) - mean(_get(res, small, m))
    verdict = ("the deep net degrades more gracefully here, as the lecture claims" if t.resolved and t.diff < 0
               else "the deep net degrades faster here, against the lecture's claim" if t.resolved
               else "no difference in how they degrade is resolved")
    lines.append(f"- From {small:,} to {large:,} images the shallow MLP gains {gain('shallow'):.1f} points and the deep "
                 f"one {gain('deep'):.1f}; deep minus shallow gain: {t.text()}: {verdict}.")
  if ("lead",) in tests:
    small, large = sizes[0], sizes[-1]
    best = sel["best_nonlinear"]
    t = tests[("lead",)]
    lead = lambda n: mean(_get(res, n, best[str(n)])) - mean(_get(res, n, "logistic"))
    verdict = ("the claim holds in that sense" if t.resolved and t.diff > 0
               else "the lead shrinks with the data" if t.resolved else "no growth is resolved")
    lines.append(f"- \"Deep learning needs big data\", read as \"the gain of a non-linear model over a linear one grows "
                 f"with the data\": the best non-linear contender on validation ({best[str(small)]} at {small:,}, "
                 f"{best[str(large)]} at {large:,}) leads logistic regression by {lead(small):+.1f} points at "
                 f"{small:,} images and {lead(large):+.1f} at {large:,}; the growth: {t.text()}: {verdict}.")
  return "\n".join(lines)
