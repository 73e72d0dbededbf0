"""The reuse task: frozen modules for a new 2-way task with few labels, against networks from scratch.

Its few labelled examples come with as many held-out validation labels (a practitioner with the new
task's labels keeps some back); every reuse contender trains under the config's rule on them. An epoch
of the new task is `reuse_passes` passes over its few examples: with one pass (3 steps at the defaults)
the patience of a few epochs would stop a member that has not moved for a dozen steps.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np

from experiments.modular import compose, groups
from research import models
from research.engine import train

REUSE = ("modules", "trunk", "monolithic", "composition_scratch", "scratch")
REUSE_LABELS = {"modules": "frozen attribute modules + combiner",
                "trunk": "frozen shared trunk (its two heads) + combiner",
                "monolithic": "frozen monolithic net (its 4 outputs) + combiner",
                "composition_scratch": "modules + combiner, all trained from scratch",
                "scratch": "backbone MLP from scratch"}


def reuse_task_labels(g, task):
  a, b = g // 2, g % 2
  return (a != b).astype(np.int32) if task == "xor" else (a & b).astype(np.int32)


def reuse_models(cfg, main_models):
  """Reuse contender -> (model, the main contender whose trained params it starts from, or None)."""
  head = lambda: models.mlp(2, depth=1, width=cfg.combiner_width)
  return {
      "modules": (compose.compose(main_models.pair, combiner=head(), readout=compose.head_log_probs), "modular"),
      "trunk": (compose.compose(main_models.trunk, combiner=head(), readout=compose.head_log_probs), "trunk"),
      "monolithic": (compose.compose(main_models.monolithic, combiner=head()), "monolithic"),
      "composition_scratch": (compose.compose(main_models.pair, combiner=head(), readout=compose.head_log_probs,
                                              frozen=False), None),
      "scratch": (models.mlp(2, depth=1, width=cfg.width), None),
  }


def reuse_rows(cfg, pool, main_split, data_seed):
  """(training rows, validation rows) of the new task's few labels: none of them a row the modules
  trained or were selected on at this data seed."""
  seen = np.concatenate([main_split.idx_train, main_split.idx_val])
  rows = groups.balanced_sample(pool, cfg.reuse_per_group, data_seed + 7, exclude=seen)
  val_rows = groups.balanced_sample(pool, cfg.reuse_val_per_group, data_seed + 8,
                                    exclude=np.concatenate([seen, rows]))
  return rows, val_rows


def reuse_runs(cfg, ctx, *, contenders, source, x_test, rows, val_rows, main_split, trained, data_seed):
  """Each of cfg.reuse trained on the new task's labelled pool rows `rows` and selected on `val_rows`;
  frozen parts from `trained` (the main point's selected parameters at this data seed)."""
  seeds = list(range(cfg.seeds))
  pool = source.pool
  g_pool = groups.group_of(pool.a, pool.b)
  y, y_val = (reuse_task_labels(g_pool[r], cfg.reuse_task) for r in (rows, val_rows))
  y_test = reuse_task_labels(main_split.g_test, cfg.reuse_task)
  x = jax.device_put(source.standardize(pool.x[np.tile(rows, cfg.reuse_passes)]))
  arrays = dict(x_train=x, y_train=jnp.asarray(np.tile(y, cfg.reuse_passes)),
                x_val=jax.device_put(source.standardize(pool.x[val_rows])),
                y_val=jnp.asarray(y_val), x_test=x_test, y_test=jnp.asarray(y_test))
  batch = min(cfg.reuse_batch, len(rows))
  builds = reuse_models(cfg, contenders.models)
  keys = train.keys([20_000 + s for s in seeds])
  spec = dict(data=dict(source.spec, data_seed=data_seed), task=cfg.reuse_task, per_group=cfg.reuse_per_group,
              passes=cfg.reuse_passes, batch_size=batch,
              optimizer=cfg.optimizer, combiner_width=cfg.combiner_width, width=cfg.width,
              module_width=cfg.module_width, patience=cfg.patience, schedule=cfg.schedule)
  out = {}
  for name in cfg.reuse:
    model, start = builds[name]
    init = None if start is None else compose.init_members(model, keys, x[:1], trained.params[start])
    # A frozen backbone leaves a combiner alone to train: the combiners' rate; otherwise the networks'.
    lr = cfg.learning_rate if start is None else cfg.combiner_lr
    trainer = ctx.trainer(model, batch_size=batch, epochs=cfg.reuse_epochs)
    cell = ctx.cell(trainer, arrays, name=f"reuse-{name}-d{data_seed}", seeds=seeds,
                    hparams=[{"learning_rate": lr}] * len(seeds), epochs=cfg.reuse_epochs,
                    spec=dict(spec, contender=name, learning_rate=lr, modules=trained.specs.get(start)),
                    init_params=init)
    numbers = cell.summary.numbers()
    del numbers["curve"]
    out[name] = dict(numbers, trainable_params=trainable_count(model, start, pool.x.shape[1:]),
                     steps_per_epoch=len(y) * cfg.reuse_passes // batch, learning_rate=lr)
  return dict(task=cfg.reuse_task, n_labels=int(len(rows)), n_val=int(len(val_rows)), n_test=int(len(y_test)),
              test_positive=float(np.mean(y_test)), epochs=cfg.reuse_epochs, passes=cfg.reuse_passes, rows=out)


def trainable_count(model, source, shape):
  """Parameters that training changes: the combiner's alone when the modules are frozen."""
  params = models.param_shapes(model, tuple(shape))
  if source is not None:
    params = params["combiner"]
  return int(sum(math.prod(p.shape) for p in jax.tree.leaves(params)))
