"""The reuse task: frozen modules for a new 2-way task with few labels, against networks from scratch."""
import math

import jax
import jax.numpy as jnp
import numpy as np

from research import compose, groups, models, train

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


def reuse_runs(cfg, ctx, *, contenders, data, rows, main_split, trained):
  """Each of cfg.reuse trained on the new task's labelled pool rows `rows`; frozen parts from `trained`."""
  seeds = list(range(cfg.seeds))
  pool = data.pool
  y = reuse_task_labels(groups.group_of(pool.a, pool.b)[rows], cfg.reuse_task)
  y_test = reuse_task_labels(main_split.g_test, cfg.reuse_task)
  x = jax.device_put(data.standardize(pool.x[rows]))
  arrays = dict(x_train=x, y_train=jnp.asarray(y), x_test=data.x_test, y_test=jnp.asarray(y_test))
  batch = min(cfg.reuse_batch, len(rows))
  builds = reuse_models(cfg, contenders.models)
  keys = train.keys([20_000 + s for s in seeds])
  spec = dict(data=data.spec, task=cfg.reuse_task, per_group=cfg.reuse_per_group, batch_size=batch,
              optimizer=cfg.optimizer, combiner_width=cfg.combiner_width, width=cfg.width,
              module_width=cfg.module_width)
  out = {}
  for name in cfg.reuse:
    model, source = builds[name]
    init = None if source is None else compose.init_members(model, keys, x[:1], trained.params[source])
    # A frozen backbone leaves a combiner alone to train: the combiners' rate; otherwise the networks'.
    lr = cfg.learning_rate if source is None else cfg.combiner_lr
    trainer = train.make_trainer(model, cfg.optimizer, batch)
    cell = ctx.cell(trainer, arrays, name=f"reuse-{name}", seeds=seeds,
                    hparams=[{"learning_rate": lr}] * len(seeds), epochs=cfg.reuse_epochs,
                    spec=dict(spec, contender=name, learning_rate=lr, modules=trained.specs.get(source)),
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
