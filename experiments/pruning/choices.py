"""What the reading chooses (validation only) and the one family of comparisons (test).

Every pruned network is a row of one of three sources (han, tickets, l1 in results.json). A method
is a source's rows of one kind; for each, the choice is the sparsest row (fewest weights kept)
whose mean validation accuracy is at most max_drop points below the dense net's. results.json
stores the chosen row's index per method (results["selected"]). Test accuracy is only compared:
every difference the table and the reading state is a Welch t-test in one Holm-corrected family.
"""
from research.report import stats

# method -> (source, the rows' variant or None): the methods the reading chooses a row for.
METHODS = {"han": ("han", None), "init": ("tickets", "init"), "early": ("tickets", "early"), "l1": ("l1", None)}
NAMES = {"han": "Han's prune and retrain", "init": "lottery ticket rewound to initialization",
         "early": "lottery ticket rewound to an early epoch", "l1": "L1 proximal training"}


def trained(numbers):
  """A cell's numbers with no diverged member (a diverged one enters no comparison); accuracies of
  weights evaluated without training have no divergence to report."""
  return bool(numbers) and not any(numbers.get("diverged", []))


def mean(numbers, key="test_acc"):
  """Mean over seeds, in percent."""
  return stats.mean_sd(numbers[key])[0]


def rows(res, method):
  """[(index in its source's rows, row)] of a method: L1 strength 0 is the L1 chain's unpenalized
  reference, not one of its sparse nets."""
  source, variant = METHODS[method]
  if not res.get(source):
    return []
  return [(i, r) for i, r in enumerate(res[source]["rows"])
          if (variant is None or r.get("variant") == variant) and r.get("l1", 1.0) > 0]


def select(res, max_drop):
  """{method: index of the sparsest row within max_drop of the dense net on mean validation
  accuracy, or None}: reads validation only."""
  chosen = {}
  for method in METHODS:
    ok = [(r["kept"], i) for i, r in rows(res, method)
          if trained(res["dense"]) and trained(r["numbers"])
          and mean(r["numbers"], "val_acc") >= mean(res["dense"], "val_acc") - max_drop]
    chosen[method] = min(ok)[1] if ok else None
  return chosen


def reference(res, source, i):
  """(label, numbers) a row is compared with: the dense net; for a ticket's controls (reinit,
  random mask) the theta_0 ticket of the same round."""
  row = res[source]["rows"][i]
  if source == "tickets" and row["variant"] in ("reinit", "random"):
    ticket = next(r for r in res["tickets"]["rows"] if r["round"] == row["round"] and r["variant"] == "init")
    return "ticket", ticket["numbers"]
  return "dense", res["dense"]


def comparisons(res):
  """The one family of Welch t-tests on test accuracy, Holm-corrected together: {key: Comparison}.

  ("control",): the dense net retrained at the lower rate against the dense net; (source, i): row i
  of han, tickets or l1 against its reference; ("magnitude", i): the dense net pruned by magnitude
  to L1 row i's counts, not retrained, against that L1 net."""
  pairs = {}
  if not trained(res["dense"]):
    return {}
  if trained(res.get("control")):
    pairs[("control",)] = (res["control"]["test_acc"], res["dense"]["test_acc"])
  for source in ("han", "tickets", "l1"):
    for i, r in enumerate((res.get(source) or {}).get("rows", [])):
      ref = reference(res, source, i)[1]
      if trained(r["numbers"]) and trained(ref):
        pairs[(source, i)] = (r["numbers"]["test_acc"], ref["test_acc"])
      if source == "l1" and r["l1"] > 0 and trained(r["numbers"]):
        pairs[("magnitude", i)] = (r["magnitude"]["test_acc"], r["numbers"]["test_acc"])
  return stats.compare(pairs)
