"""Modular vs monolithic classifiers: the article's "long-hair boys", measured.

  make modular                    # full profile: the README's five tables, ~5 min on 2 CPU cores
  make modular PROFILE=quick      # a smoke test, under a minute
  make modular ARGS="--config.rho=0.005 --config.width=64"

Four groups from two real attributes of Fashion-MNIST items (research/groups.py):
kind (top / footwear, the article's girl / boy) x shade (dark / light, its
short / long hair); light footwear, the "long-hair boys", is made rare (rho of
the training set), the test set is balanced. Contenders, all one-hidden-layer
MLPs of about the same size (101K parameters at the defaults) trained for the same
number of steps (the learned combiner trains on top, for a few hundred more):

  monolithic      one network, 4-way label
  reweighted      the same, each group's examples weighted 1 / (group count) (Sagawa's upweighting)
  modular         two attribute modules of half the width, each trained on all data for its own
                  binary label, combined by the fixed product p(a) p(b)
  combiner        the same frozen modules and a small MLP combiner trained on their outputs
  shared trunk    one trunk with two attribute heads trained jointly, product readout

Expect (full, 5 seeds, 5-11 min on 2 CPU cores depending on what else runs):
every contender gets the three common groups right >99% of the time, so the
rare group decides the worst-group number. At rho = 1% (220 rare examples of
~22K) the rare group is at 85-87% for the monolithic net and the modular
designs alike and 91% with group reweighting; the modules gain clearly only
where rare examples are very few (1K-4K training examples: +6 to +9 points of
worst-group accuracy; rho = 0.5% with the learned combiner: +4), and
reweighting is as good or better everywhere; the modules do not train faster;
frozen modules serve a new 48-label task at ~96% against ~88% from scratch,
but so does the frozen monolithic net.

Another pair of attributes (CelebA's Male x Blond_Hair, or your own): see
research/groups.py, then `make modular ARGS="--config.attributes=NAME"`.
"""
import math

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import ml_collections
import numpy as np

from research import compose, config, groups, models, results, stats, train

NAME = "modular"
TITLE = "Modular vs monolithic: a rare combination of two Fashion-MNIST attributes (the long-hair boys)"

CONTENDERS = ("monolithic", "reweighted", "modular", "combiner", "trunk")
LABELS = {"monolithic": "monolithic", "reweighted": "monolithic + group reweighting",
          "modular": "modular, product of modules", "combiner": "modular, learned combiner",
          "trunk": "shared trunk, two heads"}
REUSE = ("modules", "trunk", "monolithic", "composition_scratch", "scratch")
REUSE_LABELS = {"modules": "frozen attribute modules + combiner",
                "trunk": "frozen shared trunk (its two heads) + combiner",
                "monolithic": "frozen monolithic net (its 4 outputs) + combiner",
                "composition_scratch": "modules + combiner, all trained from scratch",
                "scratch": "backbone MLP from scratch"}
SAGAWA = {"monolithic": (94.9, 47.8), "reweighted": (92.9, 83.3)}  # CelebA, average / worst group


def get_config():
  c = ml_collections.ConfigDict()
  c.attributes = "fashion_mnist"  # a name in research.groups.ATTRIBUTES
  c.q_low = 0.4                   # shade: dark below this quantile, light above q_high
  c.q_high = 0.6
  c.rare = [1, 1]                 # (a, b) of the rare group: light (b=1) footwear (a=1)
  c.rho = 0.01                    # the rare group's share of the training set (main table)
  c.rhos = [0.005, 0.01, 0.02, 0.05, 0.25]
  c.n_train = 0                   # 0 = the largest size every rho can fill (~22K)
  c.sizes = [1000, 4000, 16000, 0]  # the data sweep at rho; 0 = n_train
  c.data_seed = 0                 # which examples; the seeds vary init and batch order
  c.width = 128                   # hidden units of the monolithic net and the trunk
  c.module_width = 64             # each attribute module: two of them make one budget
  c.combiner_width = 16
  c.optimizer = "adam"
  c.learning_rate = 1e-3
  c.batch_size = 128
  c.epochs = 10
  c.min_steps = 600               # small training sets get more epochs, up to this many steps
  c.combiner_epochs = 3
  c.combiner_min_steps = 200
  c.combiner_lr = 1e-2            # the combiners are tiny nets on 4 features: a larger step suits them
  c.target_acc = 0.95             # the training-cost table: steps to this balanced test accuracy
  c.reuse_task = "xor"            # new 2-way task from the attributes: xor (a != b) or and (the rare group)
  c.reuse_per_group = 12          # labelled examples per group for the new task (48 in all)
  c.reuse_batch = 16
  c.reuse_epochs = 100
  c.reuse = list(REUSE)
  c.seeds = 5
  c.chunk_epochs = 1
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


# Quick: the rho = 25% point has the main point's shapes, so it reuses its compiled programs;
# a second training size would compile four more (compilation dominates a quick run).
PROFILES = {"quick": dict(n_train=2000, rhos=[0.01, 0.25], sizes=[0], width=32, module_width=16,
                          combiner_width=16, epochs=2, min_steps=30, combiner_epochs=2, combiner_min_steps=30,
                          target_acc=0.8, reuse_epochs=10, reuse=["modules", "scratch"], seeds=2)}


def validate(cfg):
  config.nonempty(cfg, "rhos", "sizes", "reuse")
  config.positive(cfg, "width", "module_width", "combiner_width", "reuse_per_group", "reuse_batch",
                  "reuse_epochs", "combiner_epochs", "combiner_lr")
  config.non_negative(cfg, "sizes", "min_steps", "combiner_min_steps", "data_seed")
  config.one_of(cfg, "attributes", tuple(groups.ATTRIBUTES))
  config.one_of(cfg, "reuse_task", ("xor", "and"))
  config.require(0 < cfg.q_low <= cfg.q_high < 1, f"config q_low={cfg.q_low}, q_high={cfg.q_high}: "
                 "need 0 < q_low <= q_high < 1")
  config.require(list(cfg.rare) in ([0, 0], [0, 1], [1, 0], [1, 1]),
                 f"config rare={list(cfg.rare)}: must be [a, b] with a, b in {{0, 1}}")
  for rho in [cfg.rho, *cfg.rhos]:
    config.require(0 <= rho < 1, f"config rho={rho}: the rare fraction must be in [0, 1)")
  config.require(0 < cfg.target_acc <= 1, f"config target_acc={cfg.target_acc}: must be in (0, 1]")
  for r in cfg.reuse:
    config.require(r in REUSE, f"config reuse: '{r}' unknown; valid: {', '.join(REUSE)}")
  n = [s for s in [cfg.n_train, *cfg.sizes] if s]
  config.require(all(s >= cfg.batch_size for s in n),
                 f"config sizes/n_train {n}: each must be at least batch_size={cfg.batch_size}")


# ----------------------------------------------------------------------------
# The contenders: models, and what each trains on

def build_models(cfg):
  w, mw = cfg.width, cfg.module_width
  pair = compose.parallel(models.mlp(2, depth=1, width=mw), models.mlp(2, depth=1, width=mw))
  return dict(
      monolithic=models.mlp(4, depth=1, width=w),
      pair=pair,
      trunk=compose.shared_trunk((w,)),
      combiner=compose.compose(pair, combiner=models.mlp(4, depth=1, width=cfg.combiner_width),
                               readout=compose.head_log_probs))


def predictor(apply4):
  """Every member's 4-way prediction on x: (params_M, x_NxS) -> M x N."""
  return jax.jit(jax.vmap(lambda p, x: jnp.argmax(apply4(p, x), -1), in_axes=(0, None)))


def head_predictor(apply_two_head):
  """Every member's (a, b) predictions of a two-head model: (params_M, x_NxS) -> M x N x 2."""
  def one(p, x):
    logits_Nx4 = apply_two_head(p, x)
    return jnp.stack([jnp.argmax(logits_Nx4[:, :2], -1), jnp.argmax(logits_Nx4[:, 2:], -1)], -1)
  return jax.jit(jax.vmap(one, in_axes=(0, None)))


def epochs_for(cfg, n, base, min_steps):
  """At least `base` epochs and at least min_steps steps: small training sets are not starved."""
  return max(base, math.ceil(min_steps / max(1, n // cfg.batch_size)))


def two_labels(g):
  return jnp.stack([g // 2, g % 2], 1)


def train_point(cfg, ctx, m, pool, split, x_test, data_spec, tools):
  """The five contenders at one (rho, n_train): per-member group accuracies, curves, timing."""
  seeds = list(range(cfg.seeds))
  hp = [{"learning_rate": cfg.learning_rate}] * len(seeds)
  x = jax.device_put(tools["standardize"](pool.x[split.idx_train]))
  g, g_test = jnp.asarray(split.g_train), jnp.asarray(split.g_test)
  n = len(split.g_train)
  epochs = epochs_for(cfg, n, cfg.epochs, cfg.min_steps)
  base = dict(x_train=x, x_test=x_test)
  four = dict(base, y_train=g, y_test=g_test)
  two = dict(base, y_train=two_labels(g), y_test=two_labels(g_test))
  tag = f"rho{split.rho:g}-n{n}"
  spec = dict(data=data_spec, rho=split.rho, n_train=n, rare=split.rare, optimizer=cfg.optimizer,
              learning_rate=cfg.learning_rate, batch_size=cfg.batch_size, width=cfg.width,
              module_width=cfg.module_width)
  runs = {
      # w_train is given to both so that they share one compiled program.
      "monolithic": (tools["trainers"]["monolithic"], dict(four, w_train=jnp.ones(n)), m["monolithic"]),
      "reweighted": (tools["trainers"]["monolithic"],
                     dict(four, w_train=jnp.asarray(groups.weights(split.g_train))), m["monolithic"]),
      "modular": (tools["trainers"]["modular"], two, m["pair"]),
      "trunk": (tools["trainers"]["trunk"], two, m["trunk"]),
  }
  out, states, specs = {}, {}, {}
  for name, (trainer, arrays, model) in runs.items():
    specs[name] = dict(spec, contender=name, epochs=epochs)
    cell = ctx.cell(trainer, arrays, name=f"{name}-{tag}", spec=specs[name], seeds=seeds,
                    hparams=hp, epochs=epochs, need_state=True)
    states[name] = cell.state.params
    out[name] = summarize(cell.summary, tools["predict"][name](cell.state.params, x_test), split,
                          model, pool.x.shape[1:], n, cfg.batch_size)
    if name in tools["heads"]:  # where the errors come from: each attribute head, group by group
      out[name]["attribute_acc"] = groups.attribute_accuracy(
          tools["heads"][name](cell.state.params, x_test), split.g_test).tolist()

  # The learned combiner on the frozen modules just trained: its own short run.
  c_epochs = epochs_for(cfg, n, cfg.combiner_epochs, cfg.combiner_min_steps)
  init = compose.init_members(m["combiner"], train.keys([10_000 + s for s in seeds]), x[:1],
                              states["modular"])
  cell = ctx.cell(tools["trainers"]["combiner"], four, name=f"combiner-{tag}",
                  spec=dict(spec, contender="combiner", modules=specs["modular"],
                            combiner_width=cfg.combiner_width, combiner_lr=cfg.combiner_lr),
                  seeds=seeds, hparams=[{"learning_rate": cfg.combiner_lr}] * len(seeds), epochs=c_epochs,
                  need_state=True, init_params=init)
  out["combiner"] = summarize(cell.summary, tools["predict"]["combiner"](cell.state.params, x_test), split,
                              m["combiner"], pool.x.shape[1:], n, cfg.batch_size)
  # It cannot be used before the modules are trained: their whole cost comes first.
  out["combiner"]["before_steps"] = out["modular"]["steps_per_epoch"] * out["modular"]["epochs"]
  out["combiner"]["before_s"] = out["modular"]["s_per_model_epoch"] * out["modular"]["epochs"]
  row = dict(rho=split.rho, n_train=n, epochs=epochs, counts=groups.counts(split), contenders=out)
  return row, states, specs


def summarize(summary, pred_MxN, split, model, shape, n, batch_size):
  acc = groups.group_accuracy(pred_MxN, split.g_test)                 # M x 4
  mix = np.asarray(groups.counts(split)["train_fraction"])
  return dict(group_acc=acc.tolist(), average=acc.mean(1).tolist(), train_mix=(acc @ mix).tolist(),
              worst=acc.min(1).tolist(), rare=acc[:, split.rare].tolist(),
              curve=summary.history("test_acc"),
              epochs=len(summary.members[0].history["test_acc"]), steps_per_epoch=n // batch_size,
              s_per_model_epoch=summary.timing.s_per_model_epoch,
              compile_s=summary.timing.compile_s, reused=summary.reused,
              diverged=summary.final("diverged"), before_steps=0, before_s=0.0,
              **models.describe(model, tuple(shape)))


def reuse_task_labels(g, task):
  a, b = g // 2, g % 2
  return (a != b).astype(np.int32) if task == "xor" else (a & b).astype(np.int32)


def reuse_runs(cfg, ctx, m, pool, rows, main_split, x_test, states, data_spec, main_specs, tools):
  """Frozen modules for a new 2-way task with few labels (pool rows `rows`), against networks from scratch."""
  seeds = list(range(cfg.seeds))
  y = reuse_task_labels(groups.group_of(pool.a, pool.b)[rows], cfg.reuse_task)
  y_test = reuse_task_labels(main_split.g_test, cfg.reuse_task)
  x = jax.device_put(tools["standardize"](pool.x[rows]))
  arrays = dict(x_train=x, y_train=jnp.asarray(y), x_test=x_test, y_test=jnp.asarray(y_test))
  batch = min(cfg.reuse_batch, len(rows))
  head = lambda: models.mlp(2, depth=1, width=cfg.combiner_width)
  pair = m["pair"]
  builds = {
      "modules": (compose.compose(pair, combiner=head(), readout=compose.head_log_probs), "modular"),
      "trunk": (compose.compose(m["trunk"], combiner=head(), readout=compose.head_log_probs), "trunk"),
      "monolithic": (compose.compose(m["monolithic"], combiner=head()), "monolithic"),
      "composition_scratch": (compose.compose(pair, combiner=head(), readout=compose.head_log_probs,
                                              frozen=False), None),
      "scratch": (models.mlp(2, depth=1, width=cfg.width), None),
  }
  keys = train.keys([20_000 + s for s in seeds])
  spec = dict(data=data_spec, task=cfg.reuse_task, per_group=cfg.reuse_per_group, batch_size=batch,
              optimizer=cfg.optimizer, combiner_width=cfg.combiner_width, width=cfg.width,
              module_width=cfg.module_width)
  out = {}
  for name in cfg.reuse:
    model, source = builds[name]
    init = None if source is None else compose.init_members(model, keys, x[:1], states[source])
    # A frozen backbone leaves a combiner alone to train: the combiners' rate; otherwise the networks'.
    lr = cfg.learning_rate if source is None else cfg.combiner_lr
    trainer = train.make_trainer(model, cfg.optimizer, batch)
    cell = ctx.cell(trainer, arrays, name=f"reuse-{name}", seeds=seeds,
                    hparams=[{"learning_rate": lr}] * len(seeds), epochs=cfg.reuse_epochs,
                    spec=dict(spec, contender=name, learning_rate=lr, modules=main_specs.get(source)),
                    init_params=init)
    out[name] = dict(test_acc=cell.summary.final("test_acc"), train_acc=cell.summary.final("train_acc"),
                     trainable_params=trainable_count(model, source, pool.x.shape[1:]),
                     steps=cfg.reuse_epochs * (len(rows) // batch), learning_rate=lr)
  return dict(task=cfg.reuse_task, n_labels=int(len(rows)), n_test=int(len(y_test)),
              test_positive=float(np.mean(y_test)), rows=out)


def trainable_count(model, source, shape):
  """Parameters that training changes: the combiner's alone when the modules are frozen."""
  params = models.param_shapes(model, tuple(shape))
  if source is not None:
    params = params["combiner"]
  return int(sum(math.prod(p.shape) for p in jax.tree.leaves(params)))


def run(cfg, ctx):
  pool, test_pool, names = groups.load(cfg.attributes, cfg.q_low, cfg.q_high)
  rare = tuple(cfg.rare)
  rhos = list(dict.fromkeys([*cfg.rhos, cfg.rho]))
  n_main = cfg.n_train or groups.max_train(pool, rhos, rare)
  sizes = list(dict.fromkeys(s or n_main for s in cfg.sizes))
  points = [(rho, n_main) for rho in rhos] + [(cfg.rho, n) for n in sizes if n != n_main]
  # Every split (and the new task's few labels) is drawn before any training: a size the pool
  # cannot fill fails at once, not after an hour.
  splits = {p: groups.build(pool, test_pool, rho=p[0], n_train=p[1], rare=rare, seed=cfg.data_seed)
            for p in points}
  main_split = splits[(cfg.rho, n_main)]
  reuse_rows = groups.balanced_sample(pool, cfg.reuse_per_group, cfg.data_seed + 7, exclude=main_split.idx_train)
  print(f"\nGroups at rho = {cfg.rho:g} (training pool {len(pool.a):,}, test pool {len(test_pool.a):,}):\n"
        + groups.counts_table(groups.counts(main_split), names, main_split.rare))

  # One standardization for every point (the training pool's): frozen modules see the inputs they learned on.
  mean, std = float(pool.x.mean()), float(pool.x.std()) + 1e-8
  standardize = lambda a: ((a - mean) / std).astype(np.float32)
  x_test = jax.device_put(standardize(test_pool.x[main_split.idx_test]))  # the same for every point
  data_spec = dict(attributes=cfg.attributes, q=[cfg.q_low, cfg.q_high], data_seed=cfg.data_seed,
                   source=names.source, pool=len(pool.a), test_pool=len(test_pool.a))

  m = build_models(cfg)
  two_head = lambda model: train.make_trainer(model, cfg.optimizer, cfg.batch_size,
                                              loss_fn=compose.two_head_loss, correct_fn=compose.two_head_correct)
  tools = dict(
      standardize=standardize,
      trainers=dict(monolithic=train.make_trainer(m["monolithic"], cfg.optimizer, cfg.batch_size),
                    modular=two_head(m["pair"]), trunk=two_head(m["trunk"]),
                    combiner=train.make_trainer(m["combiner"], cfg.optimizer, cfg.batch_size)),
      predict=dict(monolithic=predictor(m["monolithic"].apply), modular=predictor(compose.product(m["pair"]).apply),
                   trunk=predictor(compose.product(m["trunk"]).apply), combiner=predictor(m["combiner"].apply)),
      heads=dict(modular=head_predictor(m["pair"].apply), trunk=head_predictor(m["trunk"].apply)))
  tools["predict"]["reweighted"] = tools["predict"]["monolithic"]
  ctx.plan(5 * len(points) + len(cfg.reuse))

  rows = []
  for p, split in splits.items():
    row, states, specs = train_point(cfg, ctx, m, pool, split, x_test, data_spec, tools)
    rows.append(row)
    if split is main_split:
      main_states, main_specs = states, specs

  reuse = reuse_runs(cfg, ctx, m, pool, reuse_rows, main_split, x_test, main_states, data_spec, main_specs, tools)
  return dict(names=names._asdict(), rare=main_split.rare, rare_name=groups.group_name(main_split.rare, names),
              group_names=[groups.group_name(k, names) for k in range(4)], n_main=n_main, rho_main=cfg.rho,
              rhos=rhos, sizes=sizes, counts=groups.counts(main_split), pool=len(pool.a),
              test_pool=len(test_pool.a), points=rows, reuse=reuse)


# ----------------------------------------------------------------------------
# Tables, plots, reading

def _point(res, rho, n):
  return next(r for r in res["points"] if math.isclose(r["rho"], rho) and r["n_train"] == n)


def _main(res):
  return _point(res, res["rho_main"], res["n_main"])


def _mean(values):
  return stats.mean_sd(values, scale=1.0)[0]


def _pct(rho):
  return f"{100 * rho:g}%"


def to_target(c, target):
  """Per member: (steps, seconds) until the balanced test accuracy first reaches target, or None."""
  spe, sec = c["steps_per_epoch"], c["s_per_model_epoch"]
  out = []
  for curve in c["curve"]:
    hit = next((e for e, a in enumerate(curve) if a is not None and a >= target), None)
    out.append(None if hit is None else (c["before_steps"] + (hit + 1) * spe, c["before_s"] + (hit + 1) * sec))
  return out


def table(doc):
  cfg, res = doc["config"], doc["results"]
  names, main = res["names"], _main(res)
  gn, rare = res["group_names"], res["rare"]
  seeds = cfg["seeds"]
  setting = (f"Fashion-MNIST items: kind ({' / '.join(names['a'])}) x shade ({' / '.join(names['b'])}); "
             f"rare group: {res['rare_name']}. Test set balanced ({main['counts']['test'][0]:,} per group). "
             f"Mean ± std over {seeds} seeds (initialization and batch order; the data subset is fixed, "
             f"data_seed {cfg['data_seed']}). One-hidden-layer MLPs: monolithic and trunk {cfg['width']} units, "
             f"each attribute module {cfg['module_width']}, combiner {cfg['combiner_width']}; "
             f"{cfg['optimizer']} lr {cfg['learning_rate']:g}, batch {cfg['batch_size']}, "
             f"at least {cfg['epochs']} epochs and {cfg['min_steps']} steps.")
  parts = []

  parts.append(f"**Groups** (rho = {_pct(res['rho_main'])}, like Sagawa et al.'s Table 1). {names['source']}.\n\n"
               + groups.counts_table(res["counts"], groups.AttributeNames(**names), rare))

  header = ["contender", "params", "average", "avg (train mix)", *gn, "worst group", f"rare ({gn[rare]})"]
  header[4 + rare] += " *"
  rows = []
  for k in CONTENDERS:
    c = main["contenders"][k]
    acc = np.asarray(c["group_acc"])
    rows.append([LABELS[k], results.human(c["params"]), stats.mean_sd_text(c["average"]),
                 stats.mean_sd_text(c["train_mix"]), *[stats.mean_sd_text(acc[:, g]) for g in range(4)],
                 stats.mean_sd_text(c["worst"]), stats.mean_sd_text(c["rare"])])
  for k, (avg, worst) in SAGAWA.items():
    rows.append([f"*Sagawa et al. 2020, CelebA: {'ERM' if k == 'monolithic' else 'upweighting'}*", "ResNet50",
                 "", f"*{avg}*", *[""] * 4, f"*{worst}*", ""])
  parts.append(results.markdown_table(header, rows,
      f"**Table 1: main.** Test accuracy (%) at rho = {_pct(res['rho_main'])} "
      f"({main['counts']['train'][rare]} rare of {main['n_train']:,} training examples). "
      "average: mean over the balanced test set (= the mean of the four groups); avg (train mix): the "
      "group accuracies weighted as in training, the nearest to Sagawa's average (their test set follows "
      "the natural distribution). * the rare group. " + setting))

  def sweep(points, label, metric, caption):
    rows = []
    for r in points:
      rows.append([label(r), f"{r['counts']['train'][rare]:,}",
                   *[stats.mean_sd_text(r["contenders"][k][metric]) for k in CONTENDERS]])
    return results.markdown_table(["setting", "rare examples", *[LABELS[k] for k in CONTENDERS]], rows, caption)

  by_rho = [_point(res, rho, res["n_main"]) for rho in sorted(res["rhos"])]
  parts.append(sweep(by_rho, lambda r: f"rho = {_pct(r['rho'])}", "rare",
      f"**Table 2: rare fraction.** Rare-group ({gn[rare]}) test accuracy (%) vs its share rho of the "
      f"{res['n_main']:,} training examples (rho = 25% is balanced), mean ± std over {seeds} seeds."))
  by_n = [_point(res, res["rho_main"], n) for n in sorted(res["sizes"])]
  parts.append(sweep(by_n, lambda r: f"n = {r['n_train']:,}", "worst",
      f"**Table 3: less data.** Worst-group test accuracy (%) vs training-set size at rho = "
      f"{_pct(res['rho_main'])}, mean ± std over {seeds} seeds. Every size trains at least "
      f"{cfg['min_steps']} steps (small sets: more epochs)."))

  target = cfg["target_acc"]
  rows = []
  for k in CONTENDERS:
    c = main["contenders"][k]
    hits = to_target(c, target)
    ok = [h for h in hits if h is not None]
    steps = stats.mean_sd_text([h[0] for h in ok], scale=1, digits=0) if ok else "not reached"
    secs = stats.mean_sd_text([h[1] for h in ok], scale=1, digits=2) if ok else "not reached"
    rows.append([LABELS[k], f"{len(ok)} of {len(hits)}", steps, secs, f"{c['steps_per_epoch']}",
                 f"{c['s_per_model_epoch']:.3f}", stats.mean_sd_text(c["average"])])
  spe = main["contenders"]["monolithic"]["steps_per_epoch"]
  parts.append(results.markdown_table(
      ["contender", "seeds reaching", "optimizer steps", "seconds", "steps / epoch", "s / model-epoch",
       "final average"], rows,
      f"**Table 4: training cost.** Optimizer steps and wall-clock seconds until the balanced test accuracy "
      f"first reaches {100 * target:g}% (checked once per epoch, so steps are resolved to {spe} steps), at "
      f"rho = {_pct(res['rho_main'])}, mean ± std over the seeds that reach it. The learned combiner's count "
      "includes all of its modules' training, which must come first. Seconds: per model, from the vmapped "
      f"cell's training time ({doc['environment']['devices']}, {doc['environment']['cpu_count']} CPU cores, "
      "other work may have shared them)."))

  ru = res["reuse"]
  rows = [[REUSE_LABELS[k], results.human(r["trainable_params"]), r["steps"], stats.mean_sd_text(r["train_acc"]),
           stats.mean_sd_text(r["test_acc"])] for k, r in ru["rows"].items()]
  task = ("a != b: light tops and dark footwear vs the rest" if ru["task"] == "xor"
          else f"a and b: is it {res['group_names'][3]}")
  parts.append(results.markdown_table(["model", "trainable params", "steps", "train acc", "test acc"], rows,
      f"**Table 5: reuse.** A new 2-way task ({task}) with {ru['n_labels']} labelled examples "
      f"({cfg['reuse_per_group']} per group, none of them in the modules' training set); test accuracy (%) on "
      f"the balanced test set ({ru['n_test']:,}, {100 * ru['test_positive']:.0f}% positive), mean ± std "
      f"over {seeds} seeds. Frozen parts come from the rho = {_pct(res['rho_main'])} runs of Table 1; only "
      f"the combiner ({cfg['combiner_width']} hidden units) trains on top of them."))
  return "\n".join(parts)


def plots(doc):
  cfg, res = doc["config"], doc["results"]
  figs = {}

  def line(ax, points, x_of, ticks):
    for i, k in enumerate(CONTENDERS):
      ms = [stats.mean_sd(p["contenders"][k]["rare"]) for p in points]
      ax.errorbar([x_of(p) for p in points], [m for m, _ in ms], yerr=[s for _, s in ms],
                  marker="o", capsize=3, color=f"C{i}", label=LABELS[k])
    ax.set_xscale("log")
    ax.set_xticks([x_of(p) for p in points], [ticks(p) for p in points])
    ax.minorticks_off()
    ax.set_ylabel(f"rare-group ({res['rare_name']}) test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)

  by_rho = [_point(res, rho, res["n_main"]) for rho in sorted(res["rhos"])]
  fig, ax = plt.subplots(figsize=(6.5, 4))
  line(ax, by_rho, lambda p: 100 * p["rho"], lambda p: f"{100 * p['rho']:g}%")
  ax.set_xlabel("rare group's share of the training set, rho")
  ax.set_title(f"n = {res['n_main']:,} training examples, {cfg['seeds']} seeds (mean ± std)")
  figs["rare_vs_rho.png"] = fig

  by_n = [_point(res, res["rho_main"], n) for n in sorted(res["sizes"])]
  fig, ax = plt.subplots(figsize=(6.5, 4))
  line(ax, by_n, lambda p: p["n_train"], lambda p: results.human(p["n_train"]).replace(".0K", "K"))
  ax.set_xlabel("training examples")
  ax.set_title(f"rho = {_pct(res['rho_main'])}, {cfg['seeds']} seeds (mean ± std)")
  figs["rare_vs_size.png"] = fig
  return figs


def difference(a, b, scale=100.0):
  """(mean of a - mean of b, its standard error) in points, and whether it is clear (> 2 standard errors)."""
  d, se = stats.difference(a, b, scale)
  return d, se, abs(d) > 2 * se and abs(d) >= 0.1


def _diff_text(d, se, clear):
  return f"{d:+.1f} ± {se:.1f} points ({'clear' if clear else 'within noise'})"


def _verdict(d, clear):
  return "held" if clear and d > 0 else ("reversed" if clear else "not shown")


def _sweep_line(points, metric, key):
  """Modules minus monolithic at each point, for both modular designs, and where the difference is clear."""
  parts, verdicts = [], []
  for p in points:
    c = p["contenders"]
    bits = []
    for k, short in (("modular", "product"), ("combiner", "combiner")):
      d, se, clear = difference(c[k][metric], c["monolithic"][metric])
      bits.append(f"{short} {d:+.1f} ± {se:.1f}")
      verdicts.append((short, key(p), d, clear))
    parts.append(f"{key(p)}: " + ", ".join(bits))
  summary = []
  for short in ("product", "combiner"):
    gains = [where for s, where, d, clear in verdicts if s == short and clear and d > 0]
    losses = [where for s, where, d, clear in verdicts if s == short and clear and d < 0]
    summary.append(f"the {short} gains clearly at {', '.join(gains) or 'none'} and loses clearly at "
                   f"{', '.join(losses) or 'none'}")
  return "; ".join(parts) + ". Of " + str(len(points)) + " settings, " + "; ".join(summary) + "."


def reading(doc):
  cfg, res = doc["config"], doc["results"]
  main = _main(res)
  c = main["contenders"]
  rare = res["rare"]
  rare_n = main["counts"]["train"][rare]
  s = cfg["seeds"]
  pct = lambda v: f"{100 * _mean(v):.1f}%"
  lines = [f"All numbers: mean over {s} seeds; a difference is given ± its standard error and called clear "
           "when it exceeds two standard errors. 'Modules' below means the two attribute modules with the "
           "fixed product combiner, 'combiner' the same frozen modules with a learned combiner."]

  # 1. The central claim: a rare combination is learned better by modules.
  d, se, clear = difference(c["modular"]["rare"], c["monolithic"]["rare"])
  dc, sec, clearc = difference(c["combiner"]["rare"], c["monolithic"]["rare"])
  lines.append(
      f"- **Rare group at rho = {_pct(res['rho_main'])}** ({rare_n} {res['rare_name']} among {main['n_train']:,} "
      f"training examples): monolithic {pct(c['monolithic']['rare'])}, modules {pct(c['modular']['rare'])}, "
      f"combiner {pct(c['combiner']['rare'])}, shared trunk {pct(c['trunk']['rare'])}, reweighted monolithic "
      f"{pct(c['reweighted']['rare'])}. Modules minus monolithic {_diff_text(d, se, clear)}, combiner minus "
      f"monolithic {_diff_text(dc, sec, clearc)}: the article's claim "
      + ("held" if (clear and d > 0) or (clearc and dc > 0) else "reversed" if clear and clearc
         else "is not shown") + " at the main setting.")
  best_mod = max(("modular", "combiner", "trunk"), key=lambda k: _mean(c[k]["rare"]))
  d2, se2, clear2 = difference(c["reweighted"]["rare"], c[best_mod]["rare"])
  lines.append(f"- Reweighting the groups (the practitioner's fix, no new architecture) against the best modular "
               f"design here ({LABELS[best_mod]}): {_diff_text(d2, se2, clear2)} on the rare group.")
  common = [g for g in range(4) if g != rare]
  floor = {k: float(np.asarray(c[k]["group_acc"])[:, common].mean(0).min()) for k in CONTENDERS}
  decided = [k for k in CONTENDERS if floor[k] >= _mean(c[k]["rare"])]
  lines.append(f"- The three common groups are at {100 * min(floor.values()):.1f}% or better for every contender; "
               f"the rare group is the worst group for {len(decided)} of {len(CONTENDERS)} contenders, so it "
               "alone decides the worst-group column.")
  if "attribute_acc" in c["modular"]:
    att = np.asarray(c["modular"]["attribute_acc"]).mean(0)  # 4 x 2
    same_b = next(g for g in common if g % 2 == rare % 2)     # the common group sharing the rare shade
    n_tr = main["counts"]["train"]
    share = n_tr[same_b] / max(1, n_tr[same_b] + n_tr[rare])
    lines.append(
        f"- Inside the modules: on {res['rare_name']} the {res['names']['a_title']} module is right "
        f"{100 * att[rare, 0]:.1f}% of the time and the {res['names']['b_title']} module {100 * att[rare, 1]:.1f}%, "
        f"against {100 * att[same_b, 1]:.1f}% for the {res['names']['b_title']} module on "
        f"{res['group_names'][same_b]}. The modules learn from the same skewed data: {100 * share:.1f}% of the "
        f"{res['names']['b'][rare % 2]} training items are {res['names']['a'][same_b // 2]}s, so the "
        f"{res['names']['b_title']} module can lean on {res['names']['a_title']}.")

  # 2. rho sweep
  by_rho = [_point(res, rho, res["n_main"]) for rho in sorted(res["rhos"])]
  lines.append("- **Rare fraction** (rare-group accuracy, minus monolithic): "
               + _sweep_line(by_rho, "rare", lambda p: f"rho {_pct(p['rho'])}"))
  rew = [100 * (_mean(p["contenders"]["reweighted"]["rare"]) - max(_mean(p["contenders"][k]["rare"])
         for k in ("modular", "combiner", "trunk"))) for p in by_rho]
  lines.append("  Reweighting minus the best modular design, per rho: "
               + ", ".join(f"{r:+.1f}" for r in rew) + " points.")

  # 3. less data
  by_n = [_point(res, res["rho_main"], n) for n in sorted(res["sizes"])]
  lines.append("- **Less data** (worst-group accuracy, minus monolithic): "
               + _sweep_line(by_n, "worst", lambda p: f"n = {p['n_train']:,}"))
  if len(by_n) > 1:
    full_mono = _mean(by_n[-1]["contenders"]["monolithic"]["worst"])
    for k in ("modular", "combiner"):
      match = next((p["n_train"] for p in by_n if _mean(p["contenders"][k]["worst"]) >= full_mono), None)
      lines.append(f"  The {'modules reach' if k == 'modular' else 'learned combiner reaches'} the monolithic "
                   f"net's worst group "
                   f"with all {by_n[-1]['n_train']:,} examples ({100 * full_mono:.1f}%) "
                   + (f"from n = {match:,}." if match is not None else "at no smaller size."))

  # 4. training cost
  target = cfg["target_acc"]
  cost = {}
  for k in CONTENDERS:
    hits = [h for h in to_target(c[k], target) if h is not None]
    cost[k] = (len(hits), np.mean([h[0] for h in hits]) if hits else None, np.mean([h[1] for h in hits]) if hits else None)
  txt = "; ".join(f"{LABELS[k]} " + (f"{cost[k][1]:.0f} steps, {cost[k][2]:.1f} s ({cost[k][0]} of {s} seeds)"
                                     if cost[k][1] is not None else "never") for k in CONTENDERS)
  lines.append(f"- **Training cost** to {100 * target:g}% balanced test accuracy: {txt}.")
  if cost["modular"][1] is not None and cost["monolithic"][1] is not None:
    ratio = cost["modular"][1] / cost["monolithic"][1]
    t_ratio = cost["modular"][2] / cost["monolithic"][2]
    steps = lambda k: [h[0] for h in to_target(c[k], target) if h is not None]
    d, se, clear = difference(steps("monolithic"), steps("modular"), scale=1)
    verdict = ("held" if clear and d > 0 else "did not hold (the modules were slower)" if clear
               else "is not shown: the difference is within the noise")
    lines.append(f"  The modules need {ratio:.2f}x the monolithic net's steps ({-d:+.0f} ± {se:.0f}) and "
                 f"{t_ratio:.2f}x its seconds (steps are resolved to one epoch, "
                 f"{c['monolithic']['steps_per_epoch']} steps; seconds per epoch depend on what else ran on "
                 f"the machine): the 'trains faster' claim {verdict}.")
  elif cost["modular"][1] is not None:
    lines.append("  Only the modules reach the target: the 'trains faster' claim held.")
  else:
    lines.append("  The modules never reach the target: the 'trains faster' claim did not hold.")

  # 5. reuse
  ru = res["reuse"]["rows"]
  if "modules" in ru:
    scratch = [k for k in ("scratch", "composition_scratch") if k in ru]
    if scratch:
      best = max(scratch, key=lambda k: _mean(ru[k]["test_acc"]))
      d, se, clear = difference(ru["modules"]["test_acc"], ru[best]["test_acc"])
      lines.append(f"- **Reuse**: with {res['reuse']['n_labels']} labels of a new task ({res['reuse']['task']}), "
                   f"frozen modules + a {ru['modules']['trainable_params']}-parameter combiner reach "
                   f"{pct(ru['modules']['test_acc'])} against {pct(ru[best]['test_acc'])} for the best network "
                   f"trained from scratch ({REUSE_LABELS[best]}): {_diff_text(d, se, clear)}; the "
                   f"'shared parameters' claim {_verdict(d, clear)}.")
    if "monolithic" in ru:
      d, se, clear = difference(ru["modules"]["test_acc"], ru["monolithic"]["test_acc"])
      lines.append(f"  But the frozen monolithic net serves the new task too ({pct(ru['monolithic']['test_acc'])}; "
                   f"modules minus it {_diff_text(d, se, clear)}): "
                   + ("the gain comes from having been trained on these attributes, not from the modular "
                      "structure." if not (clear and d > 0) else "the modular structure adds to that."))
    if "trunk" in ru:
      lines.append(f"  {REUSE_LABELS['trunk']}: {pct(ru['trunk']['test_acc'])}.")
  lines.append(f"- Published beside ours (Sagawa et al. 2020, CelebA, 0.85% rare, ResNet50): ERM average / worst "
               f"group {SAGAWA['monolithic'][0]} / {SAGAWA['monolithic'][1]}, upweighting {SAGAWA['reweighted'][0]} / "
               f"{SAGAWA['reweighted'][1]}. Ours at {_pct(res['rho_main'])} (average on the training mix / worst): "
               f"monolithic {pct(c['monolithic']['train_mix'])} / {pct(c['monolithic']['worst'])}, reweighted "
               f"{pct(c['reweighted']['train_mix'])} / {pct(c['reweighted']['worst'])}. Reweighting moves the worst "
               f"group by {100 * (_mean(c['reweighted']['worst']) - _mean(c['monolithic']['worst'])):+.1f} points here, "
               f"{SAGAWA['reweighted'][1] - SAGAWA['monolithic'][1]:+.1f} on CelebA.")
  return "\n".join(lines)
