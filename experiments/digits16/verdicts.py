"""The primary family of comparisons, declared here, and its verdicts (research.report.stats.verdicts).

  ("depth", d, "logistic")  the MLP of d hidden layers against the ten logistic neurons: what hidden layers add
  ("depth", d, "mlp-1")     each deeper MLP against one hidden layer: what depth beyond one adds
  ("conv", "cnn", best)     the CNN against the MLP best on validation: what convolution adds

Test accuracy per seed, a - b in points; Welch's t-test and two one-sided equivalence tests, each
Holm-corrected over the whole family. Rows with a diverged member enter no comparison.
"""
from research.report import stats

from experiments.digits16.contenders import mlp_key


def finite(row):
  return not any(row["diverged"])


def best_mlp(res):
  """The MLP with the best mean validation accuracy (diverged rows excluded); None if there is none."""
  mlps = [r for r in res["rows"] if r["family"] == "mlp" and finite(r)]
  return max(mlps, key=lambda r: stats.mean_sd(r["val_acc"])[0])["key"] if mlps else None


def declared(cfg, res=None):
  """The family's keys, (a, b) per comparison. The CNN's opponent is the MLP best on validation, known
  once the table is trained; without res it is left as 'best-mlp'."""
  depths = [int(d) for d in cfg["depths"]]
  family = {("depth", d, "logistic"): (mlp_key(d), "logistic") for d in depths}
  if 1 in depths:
    family.update({("depth", d, mlp_key(1)): (mlp_key(d), mlp_key(1)) for d in depths if d != 1})
  best = best_mlp(res) if res is not None else "best-mlp"
  if best is not None:
    family[("conv", "cnn", best)] = ("cnn", best)
  return family


def verdicts(cfg, res):
  """{key: Verdict} of the declared family, over the rows that did not diverge."""
  rows = {r["key"]: r for r in res["rows"]}
  pairs = {k: (rows[a]["test_acc"], rows[b]["test_acc"]) for k, (a, b) in declared(cfg, res).items()
           if finite(rows[a]) and finite(rows[b])}
  return stats.verdicts(pairs, cfg["delta"]) if pairs else {}
