"""No verdict from nothing: a reading with no comparison, or too few finite rows, says that nothing was
compared and why, and claims nothing ('resolved', 'peak', 'best', a winner).

Every registered experiment's reading is run on its committed results.json (the full profile) made
degenerate three ways, with no training: every member diverged; every row but the first of each table
diverged; one seed per row (no test is possible). Two real runs of the depth experiment check the
cases the issue names end to end (`depths=[1]`, and a learning rate of 1e30 leaving one finite row).
"""
import copy
import io
import json
import pathlib
import re
from contextlib import redirect_stderr

import matplotlib.pyplot as plt
import pytest

from research.system import registry
from research.report import stats
from research.__main__ import main as cli_main
from research.report.readings import NOTHING

ROOT = pathlib.Path(__file__).resolve().parent.parent
METRICS = {"test_acc", "val_acc", "train_acc", "test_loss", "train_loss", "val_loss", "test_rare", "test_worst",
           "test_train_mix", "val_worst", "val_rare", "points_acc"}
PER_SEED = METRICS | {"best_epoch", "epochs_run", "stopped", "diverged", "seeds", "steps_to_target", "pieces",
                      "peak_loss", "magnitude_acc", "diverged_epoch"}

# Words that claim something of a comparison or a choice.
CLAIMS = re.compile(r"\bpeak\b|(?<!not )(?<!un)\bresolved\b(?! at \d)|\bbest\b|\bbetter\b|\bworse\b|\bequivalent\b"
                    r"|\bahead\b|\bbehind\b|as good|\bwinners?\b|did not hold|\bholds\b|\bheld\b"
                    r"|reproduces|the opposite|\bleads?\b|\bbeats?\b", re.I)
# Descriptions of the protocol and of published work that use those words without claiming anything
# of this run's numbers.
DESCRIPTIVE = ("the epoch with the best validation accuracy is reported", "best-validation epoch",
               "best validation epoch", "without a better validation accuracy", "a better validation accuracy within",
               "epochs to the best validation accuracy", "called only where resolved", "called only when it survives",
               "or better for every contender", "steps are resolved to one epoch", "Where the article's claim holds",
               "positive = deeper is worse", "negative = deeper is better", "resolved ahead, or an interval",
               "did better on validation by more than", "did not beat shallow ones on validation",
               "best search validation accuracy")
# Lines that state published numbers (other conditions): their words are the sources'.
ANCHORS = re.compile(r"published|Seide's|He et al|Han et al|Sagawa|Frankle|Li and Talwalkar", re.I)
ZERO_FAMILY = re.compile(r"\bover the 0 comparisons|\b0 comparisons\b|\bnan\b|nan%")  # and no number printed as nan


def _docs():
  out = {}
  for e in registry.scan():
    path = ROOT / "results" / e.name / "results.json"
    if path.exists():
      out[e.name] = json.loads(path.read_text())
  return out


DOCS = _docs()


def _walk(x, f, key=None):
  if isinstance(x, dict):
    return {k: _walk(v, f, k) for k, v in x.items()}
  if isinstance(x, list):
    y = f(key, x)
    return y if y is not None else [_walk(v, f, key) for v in x]
  return x


def _scalars(x):
  return bool(x) and all(not isinstance(v, (dict, list)) for v in x)


def all_diverged(key, x):
  """Every member of every row diverged: its numbers are None, its diverged flags true."""
  if key in METRICS | {"steps_to_target"} and _scalars(x):
    return [None] * len(x)
  if key == "diverged" and _scalars(x):
    return [True] * len(x)
  return None


def one_seed(key, x):
  """One seed per row: no test is possible anywhere."""
  if key in PER_SEED and _scalars(x):
    return x[:1]
  if key in ("val_curves", "loss_curves") and x and all(isinstance(v, list) for v in x):
    return x[:1]
  return None


def _diverge_row(row):
  return _walk(row, all_diverged)


def first_row_only(key, x):
  """In every table, every row but the first diverged."""
  if key == "rows" and len(x) > 1 and all(isinstance(r, dict) for r in x):
    return [x[0]] + [_diverge_row(r) for r in x[1:]]
  return None


MUTATIONS = {"every member diverged": all_diverged, "one finite row per table": first_row_only,
             "one seed": one_seed}


def _mutated(doc, mutation):
  doc = copy.deepcopy(doc)
  doc["results"] = _walk(doc["results"], MUTATIONS[mutation])
  selected = doc["results"].get("selected")
  if mutation == "every member diverged" and isinstance(selected, dict):  # steps kept per contender: none
    for k, v in (selected.get("steps_to_target") or {}).items():
      selected["steps_to_target"][k] = [None] * len(v)
  return doc


def _render(name, doc):
  module = registry.resolve(name)
  text = module.reading(doc)
  module.table(doc)
  plt.close("all")
  for fig in module.plots(doc).values():
    plt.close(fig)
  return text


def _claims(text):
  for phrase in DESCRIPTIVE:
    text = text.replace(phrase, "")
  text = re.sub(r"\bno [\w ]{1,60} is resolved", "", text)  # a negation: 'no growth is resolved
  text = re.sub(r"\b(?:resolved )?(?:ahead|behind)\b[^.;:]{0,60}?\bat:? none\b", "", text)  # 'ahead at none'
  return [m.group(0) for m in CLAIMS.finditer(text)]


@pytest.mark.parametrize("name", sorted(DOCS))
def test_a_reading_of_diverged_rows_compares_nothing_and_says_so(name):
  text = _render(name, _mutated(DOCS[name], "every member diverged"))
  assert NOTHING.lower() in text.lower(), text
  lines = [l for l in text.splitlines() if not ANCHORS.search(l)]
  assert not _claims("\n".join(lines)), (_claims("\n".join(lines)), text)
  assert not ZERO_FAMILY.search(text), text


@pytest.mark.parametrize("name", sorted(DOCS))
def test_a_reading_of_one_finite_row_per_table_claims_no_peak(name):
  text = _render(name, _mutated(DOCS[name], "one finite row per table"))
  assert "peak" not in text.lower() and not ZERO_FAMILY.search(text), text


@pytest.mark.parametrize("name", sorted(DOCS))
def test_a_reading_at_one_seed_resolves_nothing(name):
  text = _render(name, _mutated(DOCS[name], "one seed"))
  resolved = [c for c in _claims(text) if c.lower() in ("resolved", "peak", "better", "worse", "equivalent",
                                                        "reproduces", "the opposite", "held", "holds")]
  assert not resolved, (resolved, text)
  assert not ZERO_FAMILY.search(text), text


# ----------------------------------------------------------------------------
# Statistics: no family from nothing

def test_holm_and_compare_refuse_nan_where_a_verdict_would_rest_on_it():
  with pytest.raises(ValueError):
    stats.holm([0.01, float("nan")])
  with pytest.raises(ValueError):
    stats.welch([0.9, None], [0.8, 0.81])
  with pytest.raises(ValueError):
    stats.verdicts({}, delta=1.0)
  one = stats.compare({"k": ([0.9], [0.8, 0.85])})["k"]  # a side with one seed: no test, said so
  assert not one.resolved and "no test with 1 and 2 seeds" in one.text()
  assert stats.compare({}) == {}


# ----------------------------------------------------------------------------
# The cases, end to end: a real tiny run of the depth experiment

def _run(workdir, *args):
  err = io.StringIO()
  with redirect_stderr(err):
    rc = cli_main(["run", "depth", "--profile", "tiny", "--no-progress", "--config.epochs=2", *args])
  assert rc == 0, err.getvalue()
  return (workdir / "results" / "tiny" / "depth_vs_accuracy" / "reading.md").read_text()


@pytest.mark.parametrize("args,why", [
    (["--config.depths=[1]"], "only one plain depth was trained"),
    (["--config.depths=[0,1]", "--config.learning_rates=[1e30]"], "only one plain depth stayed finite"),
])
@pytest.mark.slow
def test_the_depth_experiment_with_one_row_compares_nothing(workdir, args, why):
  text = _run(workdir, *args)
  assert f"{NOTHING}: {why}" in text, text
  assert not _claims(text) and not ZERO_FAMILY.search(text), text
