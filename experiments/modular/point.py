"""One point (attribute set, rho, n_train) at one data seed: every contender trained and read.

The modules on their own data are the skewed pair's kind module (a) with a b module trained once per
data seed on b's own data (`train_own`): the two modular contenders differ only in where the b
module learned, and the own-data one is read at every point without training there.
"""
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from experiments.modular import compose, groups
from research.engine import train

from experiments.modular.contenders import MAIN_ONLY, dro_hparams, max_epochs, trainers, two_labels
from experiments.modular.rows import group_numbers, nan_where, summarize


class Trained(NamedTuple):
  """A point's selected (best-validation) params and cell specs per contender, for the reuse task."""
  params: dict
  specs: dict


class OwnModule(NamedTuple):
  """b's module trained on b's own data: its selected params (member axis) and its cell's numbers."""
  params: object
  row: dict


def train_own(cfg, ctx, *, contenders, source, rows, val_rows, data_seed):
  """The b module on b's own data (balanced over b), selected on its own held-out examples."""
  own = source.own
  x, x_val = (jax.device_put(source.standardize(own.x[r])) for r in (rows, val_rows))
  arrays = dict(x_train=x, y_train=jnp.asarray(own.b[rows]), x_val=x_val, y_val=jnp.asarray(own.b[val_rows]))
  epochs = max_epochs(cfg, len(rows))
  seeds = list(range(cfg.seeds))
  cell = ctx.cell(ctx.trainer(contenders.models.module, epochs=epochs), arrays, name=f"own-{source.name}-d{data_seed}",
                  spec=dict(data=source.spec, contender="b module on its own data", own=source.own_about,
                            n_train=len(rows), n_val=len(val_rows), data_seed=data_seed, epochs=epochs,
                            optimizer=cfg.optimizer, learning_rate=cfg.learning_rate, batch_size=cfg.batch_size,
                            module_width=cfg.module_width, patience=cfg.patience, schedule=cfg.schedule),
                  seeds=seeds, hparams=[{"learning_rate": cfg.learning_rate}] * len(seeds), epochs=epochs,
                  need_state=True)
  numbers = cell.summary.numbers()
  del numbers["curve"]
  return OwnModule(train.selected(cell.state),
                   dict(numbers, n_train=len(rows), n_val=len(val_rows), epochs=epochs,
                        steps_per_epoch=len(rows) // cfg.batch_size))


def train_point(cfg, ctx, *, contenders, source, x_test, split, data_seed, own, main):
  """Every contender at one point and data seed: (results row, Trained). main: the main point, where
  the learned combiner and the shared trunk train too."""
  seeds = list(range(cfg.seeds))
  hp = [{"learning_rate": cfg.learning_rate}] * len(seeds)
  x = jax.device_put(source.standardize(source.pool.x[split.idx_train]))
  x_val = jax.device_put(source.standardize(source.pool.x[split.idx_val]))
  g, g_val, g_test = (jnp.asarray(a) for a in (split.g_train, split.g_val, split.g_test))
  n = len(split.g_train)
  epochs = max_epochs(cfg, n)
  base = dict(x_train=x, x_val=x_val, x_test=x_test)
  four = dict(base, y_train=g, y_val=g_val, y_test=g_test)
  two = dict(base, y_train=two_labels(g), y_val=two_labels(g_val), y_test=two_labels(g_test))
  tag = f"{source.name}-rho{split.rho:g}-n{n}-d{data_seed}"
  spec = dict(data=dict(source.spec, data_seed=data_seed), rho=split.rho, n_train=n, n_val=len(split.g_val),
              rare=split.rare, optimizer=cfg.optimizer, learning_rate=cfg.learning_rate, batch_size=cfg.batch_size,
              width=cfg.width, module_width=cfg.module_width, patience=cfg.patience, schedule=cfg.schedule)
  m = contenders.models
  t = trainers(ctx, m, epochs)
  runs = {
      # w_train is given to both so that they share one compiled program.
      "monolithic": (t["monolithic"], dict(four, w_train=jnp.ones(n)), m.monolithic, hp),
      "reweighted": (t["monolithic"], dict(four, w_train=jnp.asarray(groups.weights(split.g_train))),
                     m.monolithic, hp),
      "dro": (t["dro"], dict(four, g_train=g, g_val=g_val), m.monolithic, [dro_hparams(cfg)] * len(seeds)),
      "modular": (t["modular"], two, m.pair, hp),
  }
  if main:
    runs["trunk"] = (t["trunk"], two, m.trunk, hp)
  shape = source.pool.x.shape[1:]

  def describe(name, cell, model):
    params = train.selected(cell.state)
    predict = contenders.predict[name]
    return summarize(cell.summary, predict(params, x_val), predict(params, x_test), split, model=model,
                     shape=shape, n=n, batch_size=cfg.batch_size)

  out, params, specs = {}, {}, {}
  for name, (trainer, arrays, model, hparams) in runs.items():
    specs[name] = dict(spec, contender=name, epochs=epochs, **({"dro": hparams[0]} if name == "dro" else {}))
    cell = ctx.cell(trainer, arrays, name=f"{name}-{tag}", spec=specs[name], seeds=seeds,
                    hparams=hparams, epochs=epochs, need_state=True)
    params[name] = train.selected(cell.state)
    out[name] = describe(name, cell, model)
  out["own"] = own_row(contenders, params["modular"], out["modular"], own, split, x_val, x_test)
  params["own"] = (params["modular"][0], own.params)
  for name in contenders.heads:  # where the errors come from: each attribute head, group by group
    if name in out:
      out[name]["test_attribute_acc"] = nan_where(
          groups.attribute_accuracy(contenders.heads[name](params[name], x_test), split.g_test),
          out[name]["diverged"]).tolist()
  if main:
    out["combiner"] = train_combiner(cfg, ctx, t["combiner"], four, contenders, params, out["modular"],
                                     spec, specs["modular"], tag, epochs, describe)
  row = dict(source=source.name, rho=split.rho, n_train=n, n_val=len(split.g_val), epochs=epochs,
             counts=groups.counts(split), contenders=out)
  assert not main or set(MAIN_ONLY) <= set(out)
  return row, Trained(params, specs)


def train_combiner(cfg, ctx, trainer, four, contenders, params, modules, spec, modules_spec, tag, epochs, describe):
  """The learned combiner on the modules just selected, frozen: its own run under the same rule."""
  seeds = list(range(cfg.seeds))
  m = contenders.models
  init = compose.init_members(m.combiner, train.keys([10_000 + s for s in seeds]), four["x_train"][:1],
                              params["modular"])
  cell = ctx.cell(trainer, four, name=f"combiner-{tag}",
                  spec=dict(spec, contender="combiner", epochs=epochs, modules=modules_spec,
                            combiner_width=cfg.combiner_width, combiner_lr=cfg.combiner_lr),
                  seeds=seeds, hparams=[{"learning_rate": cfg.combiner_lr}] * len(seeds), epochs=epochs,
                  need_state=True, init_params=init)
  row = describe("combiner", cell, m.combiner)
  # It cannot be used before its modules are trained: each member's modules' whole run comes first
  # (to their stop by patience, which is what it took to know their best epoch).
  run = modules["epochs_run"]
  row["before_steps"] = [None if e is None else e * modules["steps_per_epoch"] for e in run]
  row["before_s"] = [None if e is None else e * modules["s_per_model_epoch"] for e in run]
  return row


def own_row(contenders, pair_params, pair_row, own, split, x_val, x_test):
  """The modules on their own data at this point: the skewed pair's a module with the own-data b
  module, read through the product. Its epochs are the b module's (on its own data); a_best_epoch
  holds the a module's."""
  params = (pair_params[0], own.params)
  predict = contenders.predict["own"]
  pred_val, pred_test = np.asarray(predict(params, x_val)), np.asarray(predict(params, x_test))
  diverged = (np.asarray(pair_row["diverged"], bool) | np.asarray(own.row["diverged"], bool))
  row = group_numbers(pred_val, pred_test, split, diverged)
  val_acc = nan_where((pred_val == split.g_val[None]).mean(1), diverged)
  return dict(row, val_acc=val_acc.tolist(), test_acc=row["test_average"], seeds=pair_row["seeds"],
              diverged=diverged.tolist(), best_epoch=own.row["best_epoch"], stopped=own.row["stopped"],
              epochs_run=own.row["epochs_run"], a_best_epoch=pair_row["best_epoch"], params=pair_row["params"],
              flops=pair_row["flops"], b_val_acc=own.row["val_acc"])
