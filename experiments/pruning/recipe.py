"""The training recipe every chain shares, and a cell's members as groups.

Every network of the experiment trains with one optimizer (the config's, SGD + momentum + L2 by
default) under one stopping rule. Two trainers differ only in the learning-rate schedule: the
dense net and every rewound ticket decay the rate (cosine over `epochs`); Han's retraining and
its control continue from trained weights at a constant tenth of the rate, as Han et al. did.

A cell may hold several groups of the same seeds one after another (tolerance levels, ticket
variants, L1 strengths): member g * S + i is seed i of group g. Masks and starting weights are
data, so one compiled program trains all groups.
"""
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from research.engine import masks, optim, train
from research import models

SPLITS = ("train", "val", "test")


class Recipe(NamedTuple):
  ctx: Any
  cfg: Any
  arrays: dict
  seeds: list
  model: Any
  trainer: Any       # from scratch or rewound: cosine decay over cfg.epochs, the stopping rule
  retrainer: Any     # from trained weights (Han, the control): constant rate, the same stopping rule
  evaluate: Callable  # (params_M, x, y) -> (loss_M, accuracy_M), compiled once
  spec: dict          # what every cell's spec.json says about the recipe


def hparams(cfg, learning_rate, optimizer=None, **extra):
  """One member's hyperparameters: the optimizer's defaults, the config's momentum and weight
  decay where the optimizer takes them, and `extra` (the L1 strength)."""
  hp = optim.defaults(optimizer or cfg.optimizer, learning_rate)
  hp.update({k: float(cfg[k]) for k in ("momentum", "weight_decay") if k in hp})
  hp.update(extra)
  return hp


def make(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, n_train=cfg.n_train, val_size=cfg.val_size)
  model = models.lenet_300_100(ds.num_classes)
  trainer = ctx.trainer(model)
  retrainer = train.make_trainer(model, cfg.optimizer, cfg.batch_size, patience=cfg.patience,
                                 schedule=optim.constant)
  spec = dict(model="lenet_300_100", optimizer=cfg.optimizer, batch_size=cfg.batch_size, dataset=ds.describe())
  return Recipe(ctx, cfg, arrays, list(range(cfg.seeds)), model, trainer, retrainer,
                jax.jit(train.vmapped(trainer).evaluate), spec), ds


def initial_params(recipe, seeds):
  """The starting weights the engine draws for these seeds (the dense cell's, for its seeds)."""
  v = train.vmapped(recipe.trainer)
  hp = train.stack([hparams(recipe.cfg, recipe.cfg.learning_rate)] * len(seeds))
  return jax.tree.map(np.asarray, jax.jit(v.init)(train.keys(seeds), hp, recipe.arrays, None, None).params)


def tile(tree_M, groups):
  """The members repeated `groups` times, group after group."""
  return jax.tree.map(lambda a: np.concatenate([np.asarray(a)] * groups), tree_M)


def group(summary, g, size):
  """Group g's members of a cell's Summary (members g * size .. (g + 1) * size - 1)."""
  return summary._replace(members=summary.members[g * size:(g + 1) * size])


def masked(params_M, mask_M):
  return jax.tree.map(jnp.multiply, params_M, mask_M)


def accuracies(recipe, params_M):
  """{split_acc: per member}: weights evaluated as they are, without training (pruned, not
  retrained); reported, never chosen by."""
  return {f"{s}_acc": np.asarray(recipe.evaluate(params_M, recipe.arrays[f"x_{s}"], recipe.arrays[f"y_{s}"])[1])
          .tolist() for s in SPLITS}


def val_accuracy(recipe, params_M):
  """(M,) validation accuracy in percent: what every choice of the experiment reads."""
  return 100 * np.asarray(recipe.evaluate(params_M, recipe.arrays["x_val"], recipe.arrays["y_val"])[1])


def sparsity(params_M, mask_M):
  """The weights kept, counted from the mask, and whether the parameters agree: every member's
  count of weights not exactly 0.0 equals its mask's count in every layer.

  kept: fraction of all prunable weights kept (mean over members); layer_kept: per layer."""
  frac, per_layer = masks.kept(mask_M)
  from_mask, from_params = masks.kept_counts(mask_M), masks.nonzero_counts(params_M)
  agree = all(np.array_equal(from_mask[l], from_params[l]) for l in from_mask)
  return dict(kept=frac, layer_kept=per_layer, counts_agree=bool(agree and masks.exact_zeros(params_M, mask_M)))
