"""The five contenders: their models and trainers, and one (rho, n_train) point trained for all of them."""
import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from research import compose, groups, models, train

CONTENDERS = ("monolithic", "reweighted", "modular", "combiner", "trunk")
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
  trainers: dict  # contender -> Trainer (reweighted shares monolithic's)
  predict: dict   # contender -> (params_M, x_NxS) -> 4-way predictions M x N
  heads: dict     # two-head contender -> (params_M, x_NxS) -> (a, b) predictions M x N x 2


class Data(NamedTuple):
  """What every point shares: the pools, one standardization and the balanced test inputs."""
  pool: groups.Pool
  standardize: Callable  # raw images -> float32 inputs, the training pool's mean and std
  x_test: jax.Array      # the main split's balanced test set, standardized, on the device
  spec: dict             # the data's part of every cell spec


class Trained(NamedTuple):
  """The main point's trained params and cell specs per contender, for the reuse task."""
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
  two_head = lambda model: train.make_trainer(model, cfg.optimizer, cfg.batch_size,
                                              loss_fn=compose.two_head_loss, correct_fn=compose.two_head_correct)
  monolithic_predict = predictor(m.monolithic.apply)
  return Contenders(
      models=m,
      trainers=dict(monolithic=train.make_trainer(m.monolithic, cfg.optimizer, cfg.batch_size),
                    modular=two_head(m.pair), trunk=two_head(m.trunk),
                    combiner=train.make_trainer(m.combiner, cfg.optimizer, cfg.batch_size)),
      predict=dict(monolithic=monolithic_predict, modular=predictor(compose.product(m.pair).apply),
                   trunk=predictor(compose.product(m.trunk).apply), combiner=predictor(m.combiner.apply),
                   reweighted=monolithic_predict),
      heads=dict(modular=head_predictor(m.pair.apply), trunk=head_predictor(m.trunk.apply)))


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


def train_point(cfg, ctx, *, contenders, data, split):
  """The five contenders at one (rho, n_train): (results row, Trained)."""
  seeds = list(range(cfg.seeds))
  hp = [{"learning_rate": cfg.learning_rate}] * len(seeds)
  x = jax.device_put(data.standardize(data.pool.x[split.idx_train]))
  g, g_test = jnp.asarray(split.g_train), jnp.asarray(split.g_test)
  n = len(split.g_train)
  epochs = epochs_for(cfg, n, cfg.epochs, cfg.min_steps)
  base = dict(x_train=x, x_test=data.x_test)
  four = dict(base, y_train=g, y_test=g_test)
  two = dict(base, y_train=two_labels(g), y_test=two_labels(g_test))
  tag = f"rho{split.rho:g}-n{n}"
  spec = dict(data=data.spec, rho=split.rho, n_train=n, rare=split.rare, optimizer=cfg.optimizer,
              learning_rate=cfg.learning_rate, batch_size=cfg.batch_size, width=cfg.width,
              module_width=cfg.module_width)
  m, trainers = contenders.models, contenders.trainers
  runs = {
      # w_train is given to both so that they share one compiled program.
      "monolithic": (trainers["monolithic"], dict(four, w_train=jnp.ones(n)), m.monolithic),
      "reweighted": (trainers["monolithic"],
                     dict(four, w_train=jnp.asarray(groups.weights(split.g_train))), m.monolithic),
      "modular": (trainers["modular"], two, m.pair),
      "trunk": (trainers["trunk"], two, m.trunk),
  }

  def describe(name, cell, model):
    pred_MxN = contenders.predict[name](cell.state.params, data.x_test)
    return summarize(cell.summary, pred_MxN, split, model=model, shape=data.pool.x.shape[1:], n=n,
                     batch_size=cfg.batch_size)

  out, params, specs = {}, {}, {}
  for name, (trainer, arrays, model) in runs.items():
    specs[name] = dict(spec, contender=name, epochs=epochs)
    cell = ctx.cell(trainer, arrays, name=f"{name}-{tag}", spec=specs[name], seeds=seeds,
                    hparams=hp, epochs=epochs, need_state=True)
    params[name] = cell.state.params
    out[name] = describe(name, cell, model)
    if name in contenders.heads:  # where the errors come from: each attribute head, group by group
      out[name]["attribute_acc"] = groups.attribute_accuracy(
          contenders.heads[name](cell.state.params, data.x_test), split.g_test).tolist()

  # The learned combiner on the frozen modules just trained: its own short run.
  c_epochs = epochs_for(cfg, n, cfg.combiner_epochs, cfg.combiner_min_steps)
  init = compose.init_members(m.combiner, train.keys([10_000 + s for s in seeds]), x[:1],
                              params["modular"])
  cell = ctx.cell(trainers["combiner"], four, name=f"combiner-{tag}",
                  spec=dict(spec, contender="combiner", modules=specs["modular"],
                            combiner_width=cfg.combiner_width, combiner_lr=cfg.combiner_lr),
                  seeds=seeds, hparams=[{"learning_rate": cfg.combiner_lr}] * len(seeds), epochs=c_epochs,
                  need_state=True, init_params=init)
  out["combiner"] = describe("combiner", cell, m.combiner)
  # It cannot be used before the modules are trained: their whole cost comes first.
  out["combiner"]["before_steps"] = out["modular"]["steps_per_epoch"] * out["modular"]["epochs"]
  out["combiner"]["before_s"] = out["modular"]["s_per_model_epoch"] * out["modular"]["epochs"]
  row = dict(rho=split.rho, n_train=n, epochs=epochs, counts=groups.counts(split), contenders=out)
  return row, Trained(params, specs)


def summarize(summary, pred_MxN, split, *, model, shape, n, batch_size):
  """One contender's results row at one point: per-member group accuracies, curves, timing."""
  acc_Mx4 = groups.group_accuracy(pred_MxN, split.g_test)
  mix = np.asarray(groups.counts(split)["train_fraction"])
  return dict(group_acc=acc_Mx4.tolist(), average=acc_Mx4.mean(1).tolist(), train_mix=(acc_Mx4 @ mix).tolist(),
              worst=acc_Mx4.min(1).tolist(), rare=acc_Mx4[:, split.rare].tolist(),
              curve=summary.history("test_acc"),
              epochs=len(summary.members[0].history["test_acc"]), steps_per_epoch=n // batch_size,
              s_per_model_epoch=summary.timing.s_per_model_epoch,
              compile_s=summary.timing.compile_s, reused=summary.reused,
              diverged=summary.final("diverged"), before_steps=0, before_s=0.0,
              **models.describe(model, tuple(shape)))
