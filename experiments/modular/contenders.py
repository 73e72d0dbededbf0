"""The five contenders: their models and trainers, and one (rho, n_train) point trained for all of them.

Every contender at a point trains under one rule (ctx.trainer: the config's maximum epochs, patience
on the engine's validation accuracy and schedule), the learned combiner included; what each reports
are its best-validation parameters (train.selected), evaluated once on the balanced test set.
"""
import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from research import compose, groups, models, train

CONTENDERS = ("monolithic", "reweighted", "modular", "combiner", "trunk")
MODULAR_DESIGNS = ("modular", "combiner", "trunk")
LABELS = {"monolithic": "monolithic", "reweighted": "monolithic + group reweighting",
          "modular": "modular, product of modules", "combiner": "modular, learned combiner",
          "trunk": "shared trunk, two heads"}


class Models(NamedTuple):
  monolithic: object  # one MLP, 4-way label
  pair: object        # two attribute modules side by side, one binary head each
  trunk: object       # one trunk, two binary heads
  combiner: object    # the pair, frozen, under a small learned combiner


class Contenders(NamedTuple):
  models: Models
  predict: dict   # contender -> (params_M, x_NxS) -> 4-way predictions M x N
  heads: dict     # two-head contender -> (params_M, x_NxS) -> (a, b) predictions M x N x 2


class Data(NamedTuple):
  """What every point shares: the pools, one standardization and the balanced test inputs."""
  pool: groups.Pool
  standardize: Callable  # raw images -> float32 inputs, the training pool's mean and std
  x_test: jax.Array      # the main split's balanced test set, standardized, on the device
  spec: dict             # the data's part of every cell spec


class Trained(NamedTuple):
  """The main point's selected (best-validation) params and cell specs per contender, for the reuse task."""
  params: dict
  specs: dict


def build_models(cfg):
  module = lambda: models.mlp(2, depth=1, width=cfg.module_width)
  pair = compose.parallel(module(), module())
  return Models(
      monolithic=models.mlp(4, depth=1, width=cfg.width),
      pair=pair,
      trunk=compose.shared_trunk((cfg.width,)),
      combiner=compose.compose(pair, combiner=models.mlp(4, depth=1, width=cfg.combiner_width),
                               readout=compose.head_log_probs))


def build_contenders(cfg):
  m = build_models(cfg)
  monolithic_predict = predictor(m.monolithic.apply)
  return Contenders(
      models=m,
      predict=dict(monolithic=monolithic_predict, modular=predictor(compose.product(m.pair).apply),
                   trunk=predictor(compose.product(m.trunk).apply), combiner=predictor(m.combiner.apply),
                   reweighted=monolithic_predict),
      heads=dict(modular=head_predictor(m.pair.apply), trunk=head_predictor(m.trunk.apply)))


def trainers(ctx, m, epochs):
  """contender -> Trainer under the config's protocol (reweighted shares monolithic's). `epochs` is the
  point's maximum, the horizon of a cosine schedule."""
  two_head = lambda model: ctx.trainer(model, epochs=epochs, loss_fn=compose.two_head_loss,
                                       correct_fn=compose.two_head_correct)
  return dict(monolithic=ctx.trainer(m.monolithic, epochs=epochs), modular=two_head(m.pair),
              trunk=two_head(m.trunk), combiner=ctx.trainer(m.combiner, epochs=epochs))


def predictor(apply4):
  """Every member's 4-way prediction on x: (params_M, x_NxS) -> M x N."""
  return jax.jit(jax.vmap(lambda p, x: jnp.argmax(apply4(p, x), -1), in_axes=(0, None)))


def head_predictor(apply_two_head):
  """Every member's (a, b) predictions of a two-head model: (params_M, x_NxS) -> M x N x 2."""
  def one(p, x):
    logits_Nx4 = apply_two_head(p, x)
    return jnp.stack([jnp.argmax(logits_Nx4[:, :2], -1), jnp.argmax(logits_Nx4[:, 2:], -1)], -1)
  return jax.jit(jax.vmap(one, in_axes=(0, None)))


def max_epochs(cfg, n):
  """The maximum epochs at a training-set size: cfg.epochs, or enough for budget_steps steps where the
  set is small (an epoch of 1,000 examples is 7 steps); patience ends every member earlier."""
  return max(cfg.epochs, math.ceil(cfg.budget_steps / max(1, n // cfg.batch_size)))


def two_labels(g):
  return jnp.stack([g // 2, g % 2], 1)


def point_key(rho, n):
  """How results["selected"] names a point."""
  return f"rho{rho:g}-n{n}"


def train_point(cfg, ctx, *, contenders, data, split):
  """The five contenders at one (rho, n_train): (results row, Trained)."""
  seeds = list(range(cfg.seeds))
  hp = [{"learning_rate": cfg.learning_rate}] * len(seeds)
  x = jax.device_put(data.standardize(data.pool.x[split.idx_train]))
  x_val = jax.device_put(data.standardize(data.pool.x[split.idx_val]))
  g, g_val, g_test = (jnp.asarray(a) for a in (split.g_train, split.g_val, split.g_test))
  n = len(split.g_train)
  epochs = max_epochs(cfg, n)
  base = dict(x_train=x, x_val=x_val, x_test=data.x_test)
  four = dict(base, y_train=g, y_val=g_val, y_test=g_test)
  two = dict(base, y_train=two_labels(g), y_val=two_labels(g_val), y_test=two_labels(g_test))
  tag = f"rho{split.rho:g}-n{n}"
  spec = dict(data=data.spec, rho=split.rho, n_train=n, n_val=len(split.g_val), rare=split.rare,
              optimizer=cfg.optimizer, learning_rate=cfg.learning_rate, batch_size=cfg.batch_size,
              width=cfg.width, module_width=cfg.module_width, patience=cfg.patience, schedule=cfg.schedule)
  m = contenders.models
  t = trainers(ctx, m, epochs)
  runs = {
      # w_train is given to both so that they share one compiled program.
      "monolithic": (t["monolithic"], dict(four, w_train=jnp.ones(n)), m.monolithic),
      "reweighted": (t["monolithic"], dict(four, w_train=jnp.asarray(groups.weights(split.g_train))),
                     m.monolithic),
      "modular": (t["modular"], two, m.pair),
      "trunk": (t["trunk"], two, m.trunk),
  }

  def describe(name, cell, model):
    params = train.selected(cell.state)
    predict = contenders.predict[name]
    return summarize(cell.summary, predict(params, x_val), predict(params, data.x_test), split, model=model,
                     shape=data.pool.x.shape[1:], n=n, batch_size=cfg.batch_size)

  out, params, specs = {}, {}, {}
  for name, (trainer, arrays, model) in runs.items():
    specs[name] = dict(spec, contender=name, epochs=epochs)
    cell = ctx.cell(trainer, arrays, name=f"{name}-{tag}", spec=specs[name], seeds=seeds,
                    hparams=hp, epochs=epochs, need_state=True)
    params[name] = train.selected(cell.state)
    out[name] = describe(name, cell, model)
    if name in contenders.heads:  # where the errors come from: each attribute head, group by group
      out[name]["test_attribute_acc"] = nan_where(
          groups.attribute_accuracy(contenders.heads[name](params[name], data.x_test), split.g_test),
          out[name]["diverged"]).tolist()

  # The learned combiner on the modules just selected, frozen: its own run under the same rule.
  init = compose.init_members(m.combiner, train.keys([10_000 + s for s in seeds]), x[:1], params["modular"])
  cell = ctx.cell(t["combiner"], four, name=f"combiner-{tag}",
                  spec=dict(spec, contender="combiner", epochs=epochs, modules=specs["modular"],
                            combiner_width=cfg.combiner_width, combiner_lr=cfg.combiner_lr),
                  seeds=seeds, hparams=[{"learning_rate": cfg.combiner_lr}] * len(seeds), epochs=epochs,
                  need_state=True, init_params=init)
  out["combiner"] = describe("combiner", cell, m.combiner)
  # It cannot be used before its modules are trained: each member's modules' whole run comes first
  # (to their stop by patience, which is what it took to know their best epoch).
  modules = out["modular"]
  run = modules["epochs_run"]
  out["combiner"]["before_steps"] = [None if e is None else e * modules["steps_per_epoch"] for e in run]
  out["combiner"]["before_s"] = [None if e is None else e * modules["s_per_model_epoch"] for e in run]
  row = dict(rho=split.rho, n_train=n, n_val=len(split.g_val), epochs=epochs, counts=groups.counts(split),
             contenders=out)
  return row, Trained(params, specs)


def nan_where(values, diverged):
  """Per-member numbers with NaN (null in results.json) where the member diverged: its predictions
  from non-finite weights are not accuracies."""
  a = np.array(values, float)
  a[np.asarray(diverged, bool)] = np.nan
  return a


def worst(acc_Mx4):
  """Each member's lowest group accuracy over the groups the split has (at rho = 0 the validation set
  has no rare example); NaN for a diverged member."""
  a = np.where(np.isnan(acc_Mx4), np.inf, acc_Mx4).min(1)
  return np.where(np.isinf(a) | np.isnan(acc_Mx4).all(1), np.nan, a)


def summarize(summary, pred_val_MxN, pred_test_MxN, split, *, model, shape, n, batch_size):
  """One contender's results row at one point: per-member group accuracies on validation and test,
  the engine's numbers of the selected parameters, validation curves, timing. Every number read
  from the test set has 'test' in its key."""
  diverged = summary.final("diverged")
  val_Mx4 = nan_where(groups.group_accuracy(pred_val_MxN, split.g_val), diverged)
  test_Mx4 = nan_where(groups.group_accuracy(pred_test_MxN, split.g_test), diverged)
  mix = np.asarray(groups.counts(split)["train_fraction"])
  numbers = summary.numbers()
  del numbers["curve"]  # the members' mean; each member's own curve is kept below
  return dict(numbers,
              test_group_acc=test_Mx4.tolist(), test_average=test_Mx4.mean(1).tolist(),
              test_train_mix=(test_Mx4 @ mix).tolist(), test_worst=worst(test_Mx4).tolist(),
              test_rare=test_Mx4[:, split.rare].tolist(),
              val_group_acc=val_Mx4.tolist(), val_worst=worst(val_Mx4).tolist(),
              val_rare=val_Mx4[:, split.rare].tolist(),
              val_curves=summary.history("val_acc"), steps_per_epoch=n // batch_size,
              before_steps=[0] * len(diverged), before_s=[0.0] * len(diverged),
              **models.describe(model, tuple(shape)))
