"""Modular vs monolithic classifiers: the article's "long-hair boys", measured.

  make modular                    # full profile: the README's tables, 16.5 min on 2 CPU cores
  make modular PROFILE=quick      # a smoke test, a few minutes on idle cores
  make modular ARGS="--config.rho=0.005 --config.width=64"

Four groups from two attributes of Fashion-MNIST items (experiments/modular/attribute_pools.py): kind (top / footwear,
the article's girl / boy) x b, where b is shade (dark / light, its short / long hair), an attribute
entangled with kind (it is the mean intensity of the item's own pixels, which depends on the
garment's shape and area), or, for the contrast, a frame drawn on a random half of the items of
each kind (disentangled: the same border pixels whatever the item, Colored MNIST's construction).
b = 1 footwear, the "long-hair boys", is made rare (rho of the training set, rho = 0 included:
zero-shot). A validation set is held out of the same skewed pool at the same rho (4,000 examples: 40
rare at rho = 1%, none at rho = 0); the test set is balanced over the four groups and the same for
every point and data seed. Each point trains at 3 data seeds (which examples of each group are
drawn, the rare ones included) x 3 initialization seeds; means and stds are over those 9 members.
Contenders, one-hidden-layer MLPs of about the same size (101K parameters at the defaults):

  monolithic      one network, 4-way label
  reweighted      the same, each group's examples weighted 1 / (group count) (Sagawa's upweighting)
  Group DRO       the same, trained by Sagawa et al.'s online group DRO (research/engine/group_dro.py:
                  group-balanced batches, exponentiated-gradient group weights with eta_q = 0.01, group
                  adjustment C / sqrt(n_g) with C = dro_adjustment, early stopping on the worst-group
                  validation accuracy, which is Sagawa's selection; no strong l2 penalty)
  modules (skewed data)  two attribute modules of half the width, each trained on the skewed
                  training set for its own binary label, combined by the fixed product p(a) p(b)
  modules (own data)     the same kind module with a b module trained on b's own data instead:
                  trousers, dresses and bags (no kind, no example of the four groups) balanced over b,
                  labelled by the same shade thresholds, or half of them framed; it answers a group it
                  never saw through the product
  combiner, trunk (main point only) the skewed modules under a learned combiner; one trunk with two heads

and, in Sagawa's format at the main point, target-only networks (ERM, upweighting, Group DRO) that
predict one attribute alone (kind, as the issue asks, and shade, the analogue of Sagawa's Blond_Hair
target with Male as the group attribute), reported as average / worst-group accuracy beside the
published CelebA rows, which are another dataset and model.

Every contender trains under one rule: up to `epochs` epochs (more for small training sets, up to
`budget_steps` steps), stopped after `patience` epochs without a better validation accuracy (the
engine's 4-way accuracy, the product rule's for the two-head models; Group DRO's worst-group
accuracy), and reports its best-validation parameters, evaluated once on the test set. Every choice
the tables and the reading make (which one-network fix the modules meet, steps to the target
accuracy, the best network from scratch) reads validation numbers and is stored in
results["selected"]. Differences are Welch's t-tests on per-member test accuracy with 95% CIs over
the 9 members of each side, Holm-corrected within each paragraph's family; what does not survive
reads "not resolved at N seeds".

Cost (full profile, measured 2026-11-29 on 2 idle CPU cores): 165 cells of 3 members, 16.5 min
(607 s training, the rest compiling, evaluating and setting up), within the 40-minute limit.

Expect (full, 3 data seeds x 3 init seeds): at rho = 1% the rare group (light footwear) is at
monolithic 86.8%, reweighting 90.9%, Group DRO 91.4%, modules on the skewed data 85.5% (not
resolved against monolithic), modules with a shade module from its own data (trousers, dresses,
bags) 23.2%: shade, read through the item's own pixels, does not transfer across kinds. Zero-shot
(rho = 0): every 4-way net 0%, modules 12.9% (skewed) and 23.1% (own data) with shade, 81.4% and
89.6% with the frame, all resolved. With 1,000 training examples the skewed modules lead on the worst
group (+5.8 points). Sagawa's format: a shade-only ERM has its worst group 13 points under its
average, upweighting and Group DRO close 4.6 and 5.4 of them. Reuse: frozen modules + a small
combiner beat the best net from scratch on a new task by 8.6 points, no better than the frozen
monolithic net. The claim holds for an attribute the image carries apart from the kind (the frame),
or where the rare combination is absent or the data small; not for an entangled one.
"""
import jax
import ml_collections

from research.cli import config
from experiments.modular import attribute_pools, groups

from experiments.modular.contenders import build_contenders
from experiments.modular.paragraphs import reading
from experiments.modular.plots import plots
from experiments.modular.point import train_own, train_point
from experiments.modular.points import select
from experiments.modular.reuse import REUSE, reuse_rows, reuse_runs
from experiments.modular.robust import train_targets
from experiments.modular.rows import join_seeds
from experiments.modular import sources
from experiments.modular.tables import table

NAME = "modular"
TITLE = "Modular vs monolithic: a rare combination of two Fashion-MNIST attributes (the long-hair boys)"
ORDER = 3

__all__ = ["NAME", "TITLE", "ORDER", "PROFILES", "get_config", "validate", "run", "table", "plots", "reading"]


def get_config():
  c = ml_collections.ConfigDict()
  c.attributes = "fashion_mnist"  # the entangled attribute set: a key of attribute_pools.ATTRIBUTES and OWN_DATA
  c.contrast = "fashion_mnist_frame"  # the disentangled one, trained at contrast_rhos; "" for none
  c.contrast_rhos = [0.0, 0.01]   # each also in rhos: the two sets are compared at the same rho
  c.q_low = 0.4                   # shade: dark below this quantile, light above q_high
  c.q_high = 0.6
  c.rare = [1, 1]                 # (a, b) of the rare group: light (b=1) footwear (a=1)
  c.rho = 0.01                    # the rare group's share of the training (and validation) set: main table
  c.rhos = [0.0, 0.005, 0.01, 0.05, 0.25]  # 0: zero-shot, 25%: balanced
  c.val_size = 4000               # held out of the training pool at each point's rho; every choice reads it
  c.n_train = 0                   # 0 = the largest size every rho can fill beside val_size (~18K)
  c.sizes = [1000, 4000, 8000, 0]  # the data sweep at rho; 0 = n_train
  c.data_seeds = [0, 1, 2]        # which examples of each group are drawn; crossed with `seeds`
  c.seeds = 3                     # initialization and batch order
  c.own_size = 8000               # b's own training examples (balanced over b); 0 = as many as it has
  c.own_val_size = 1000           # held out of b's own data to select the b module on
  c.targets = ["a", "b"]          # target-only baselines: predict kind (a), shade (b); [] for none
  c.dro_step = 0.01               # Group DRO's eta_q (Sagawa et al.'s robust_step_size)
  c.dro_adjustment = 0.0          # Group DRO's C in C / sqrt(n_g) (0 in the authors' published commands)
  c.width = 128                   # hidden units of the monolithic net and the trunk
  c.module_width = 64             # each attribute module: two of them make one budget
  c.combiner_width = 16
  c.optimizer = "adam"
  c.learning_rate = 1e-3
  c.batch_size = 128
  c.epochs = 40                   # the maximum at the main size; patience ends a member earlier
  c.budget_steps = 5600           # small training sets get more epochs, up to this many steps (40 main-size epochs)
  c.patience = 5                  # epochs without a better validation accuracy: the same for every contender
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.combiner_lr = 1e-2            # the combiners are tiny nets on 4 features: a larger step suits them
  c.target_acc = 0.99             # the training-cost table: steps to this validation accuracy (4-way, at rho)
  c.reuse_task = "xor"            # new 2-way task from the attributes: xor (a != b) or and (the rare group)
  c.reuse_per_group = 12          # labelled training examples per group for the new task (48 in all)
  c.reuse_val_per_group = 12      # and as many held out to select on
  c.reuse_batch = 16
  c.reuse_passes = 10             # an epoch of the new task: this many passes over its 48 examples (30 steps)
  c.reuse_epochs = 20             # its maximum epochs (600 steps at the defaults)
  c.reuse = list(REUSE)
  c.chunk_epochs = 1              # the stopping rule is checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


# Quick: one size, rho 0 and 1% for both attribute sets. Tiny: scikit-learn digits (high x odd, and
# high x framed), end to end in seconds; 2% of 576 is 12 rare examples.
PROFILES = {"quick": dict(n_train=2000, val_size=1000, rhos=[0.0, 0.01], sizes=[0], contrast_rhos=[0.0, 0.01],
                          own_size=2000, own_val_size=500, width=32, module_width=16, combiner_width=16, epochs=8,
                          budget_steps=0, patience=2, target_acc=0.9, reuse_epochs=10, reuse=["modules", "scratch"],
                          seeds=2),
            "tiny": dict(attributes="digits", contrast="digits_frame", n_train=576, val_size=150, rho=0.02,
                         rhos=[0.0, 0.02], contrast_rhos=[0.0, 0.02], sizes=[0], data_seeds=[0, 1], own_size=300,
                         own_val_size=100, width=32, module_width=16, combiner_width=8, batch_size=64,
                         learning_rate=1e-2, epochs=4, budget_steps=0, patience=2, target_acc=0.8, targets=["b"],
                         reuse_per_group=8, reuse_val_per_group=8, reuse_batch=8, reuse_passes=2, reuse_epochs=5,
                         reuse=["modules", "monolithic", "scratch"], seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "rhos", "sizes", "reuse", "data_seeds")
  config.positive(cfg, "width", "module_width", "combiner_width", "reuse_per_group", "reuse_val_per_group",
                  "reuse_batch", "reuse_passes", "reuse_epochs", "combiner_lr", "own_val_size", "seeds")
  config.non_negative(cfg, "sizes", "budget_steps", "data_seeds", "own_size", "dro_step", "dro_adjustment")
  for key in ("attributes", "contrast"):
    if key == "attributes" or cfg.contrast:
      config.one_of(cfg, key, tuple(attribute_pools.OWN_DATA))
  config.require(cfg.contrast != cfg.attributes, f"config contrast={cfg.contrast!r}: another attribute set than "
                 "`attributes`, or '' for none")
  config.one_of(cfg, "reuse_task", ("xor", "and"))
  config.require(0 < cfg.q_low <= cfg.q_high < 1, f"config q_low={cfg.q_low}, q_high={cfg.q_high}: "
                 "need 0 < q_low <= q_high < 1")
  config.require(list(cfg.rare) in ([0, 0], [0, 1], [1, 0], [1, 1]),
                 f"config rare={list(cfg.rare)}: must be [a, b] with a, b in {{0, 1}}")
  for rho in [cfg.rho, *cfg.rhos, *cfg.contrast_rhos]:
    config.require(0 <= rho < 1, f"config rho={rho}: the rare fraction must be in [0, 1)")
  config.require(set(cfg.contrast_rhos) <= set(cfg.rhos) | {cfg.rho},
                 f"config contrast_rhos={list(cfg.contrast_rhos)}: each must be in rhos (the attribute sets are "
                 "compared at the same rho)")
  config.require(len(set(cfg.data_seeds)) == len(cfg.data_seeds), "config data_seeds: repeated seed")
  config.require(set(cfg.targets) <= {"a", "b"} and len(set(cfg.targets)) == len(cfg.targets),
                 f"config targets={list(cfg.targets)}: a subset of ['a', 'b'] (predict a alone, b alone)")
  config.require(0 < cfg.target_acc <= 1, f"config target_acc={cfg.target_acc}: must be in (0, 1]")
  for r in cfg.reuse:
    config.require(r in REUSE, f"config reuse: '{r}' unknown; valid: {', '.join(REUSE)}")
  n = [s for s in [cfg.n_train, *cfg.sizes] if s]
  config.require(all(s >= cfg.batch_size for s in n),
                 f"config sizes/n_train {n}: each must be at least batch_size={cfg.batch_size}")


def describe(source, split):
  """A source's names and counts, for the tables."""
  names = source.names
  return dict(names=names._asdict(), rare_name=groups.group_name(split.rare, names),
              group_names=[groups.group_name(k, names) for k in range(4)], pool=len(source.pool.a),
              test_pool=len(source.test_pool.a))


def run(cfg, ctx):
  names = [cfg.attributes] + ([cfg.contrast] if cfg.contrast else [])
  srcs = {name: sources.load(cfg, name) for name in names}
  n_main, sizes, points = sources.plan(cfg, srcs)
  main = sources.Point(cfg.attributes, cfg.rho, n_main)
  seeds = list(cfg.data_seeds)
  # Every split (b's own data and the new task's few labels too) is drawn before any training: a
  # size the pool cannot fill fails at once, not after an hour.
  splits = {(p, d): sources.draw(cfg, srcs[p.source], p, d) for p in points for d in seeds}
  own_rows = {(name, d): sources.draw_own(cfg, srcs[name], d) for name in names for d in seeds}
  reuse_draws = {d: reuse_rows(cfg, srcs[cfg.attributes].pool, splits[(main, d)], d) for d in seeds}
  first = {name: next(s for (p, _), s in splits.items() if p.source == name) for name in names}
  print(f"\nGroups at rho = {cfg.rho:g}, data seed {seeds[0]} (training pool {len(srcs[cfg.attributes].pool.a):,}):\n"
        + groups.counts_table(groups.counts(splits[(main, seeds[0])]), srcs[cfg.attributes].names,
                              splits[(main, seeds[0])].rare).markdown())
  # The test rows are one draw for every point and data seed of an attribute set.
  x_test = {name: jax.device_put(srcs[name].standardize(srcs[name].test_pool.x[first[name].idx_test]))
            for name in names}
  contenders = build_contenders(cfg)
  per_seed = len(names) + 4 * len(points) + 2 + 3 * len(cfg.targets) + len(cfg.reuse)
  ctx.plan(per_seed * len(seeds))

  own = {(name, d): train_own(cfg, ctx, contenders=contenders, source=srcs[name], rows=own_rows[(name, d)][0],
                              val_rows=own_rows[(name, d)][1], data_seed=d) for name in names for d in seeds}
  rows, trained = [], {}  # trained: the main point's selected parameters per data seed, for the reuse task
  for p in points:
    at_seeds = []
    for d in seeds:
      row, params = train_point(cfg, ctx, contenders=contenders, source=srcs[p.source], x_test=x_test[p.source],
                                split=splits[(p, d)], data_seed=d, own=own[(p.source, d)], main=p == main)
      at_seeds.append(row)
      if p == main:
        trained[d] = params
    rows.append(dict(at_seeds[0], contenders={k: join_seeds([r["contenders"][k] for r in at_seeds], seeds)
                                              for k in at_seeds[0]["contenders"]}))
  targets = [train_targets(cfg, ctx, contenders=contenders, source=srcs[cfg.attributes], x_test=x_test[cfg.attributes],
                           split=splits[(main, d)], data_seed=d) for d in seeds]
  reuse = [reuse_runs(cfg, ctx, contenders=contenders, source=srcs[cfg.attributes], x_test=x_test[cfg.attributes],
                      rows=reuse_draws[d][0], val_rows=reuse_draws[d][1], main_split=splits[(main, d)],
                      trained=trained[d], data_seed=d) for d in seeds]
  main_split = splits[(main, seeds[0])]
  res = dict(describe(srcs[cfg.attributes], main_split), attributes=cfg.attributes, rare=main_split.rare,
             n_main=n_main, rho_main=cfg.rho, rhos=list(dict.fromkeys([*cfg.rhos, cfg.rho])), sizes=sizes,
             data_seeds=seeds, counts=groups.counts(main_split), points=rows,
             own={name: dict(join_seeds([own[(name, d)].row for d in seeds], seeds), about=srcs[name].own_about)
                  for name in names},
             targets={t: {k: join_seeds([s[t][k] for s in targets], seeds) for k in targets[0][t]}
                      for t in cfg.targets},
             reuse=dict(reuse[0], rows={k: join_seeds([r["rows"][k] for r in reuse], seeds) for k in reuse[0]["rows"]}),
             contrast=None if not cfg.contrast else dict(describe(srcs[cfg.contrast], first[cfg.contrast]),
                                                         attributes=cfg.contrast, rhos=list(cfg.contrast_rhos)))
  return dict(res, selected=select(res, cfg))
