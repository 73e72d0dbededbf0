"""The contenders: their models, trainers and predictors.

At every point (attribute set, rho, n_train) and data seed, SWEEP trains; at the main point the
learned combiner and the shared trunk join them (MAIN_ONLY), and the target-only baselines of
Sagawa's format train there too (experiments/modular/robust.py). Every contender trains under one
rule (ctx.trainer: the config's maximum epochs, patience on validation and schedule); what each
reports are its best-validation parameters (train.selected), evaluated once on the balanced test set.
"""
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from experiments.modular import compose
from research.engine import group_dro
from research import models

SWEEP = ("monolithic", "reweighted", "dro", "modular", "own")
MAIN_ONLY = ("combiner", "trunk")
CONTENDERS = SWEEP + MAIN_ONLY
ROBUST = ("reweighted", "dro")     # the practitioner's fixes for a rare group: one network, no modules
MODULES = ("modular", "own")       # the article's design: attribute modules, fixed product combiner
LABELS = {"monolithic": "monolithic", "reweighted": "monolithic + group reweighting",
          "dro": "monolithic + Group DRO", "modular": "modules on the skewed data, product",
          "own": "modules on their own data, product", "combiner": "modules on the skewed data, learned combiner",
          "trunk": "shared trunk, two heads"}
SHORT = {"modular": "modules (skewed data)", "own": "modules (own data)", "reweighted": "reweighting",
         "dro": "Group DRO", "monolithic": "monolithic", "combiner": "learned combiner", "trunk": "shared trunk"}


class Models(NamedTuple):
  monolithic: object  # one MLP, 4-way label
  pair: object        # two attribute modules side by side, one binary head each
  module: object      # one attribute module (b's, trained on its own data)
  trunk: object       # one trunk, two binary heads
  combiner: object    # the pair, frozen, under a small learned combiner
  target: object      # one MLP, 2-way: a target-only baseline


class Contenders(NamedTuple):
  models: Models
  predict: dict   # contender -> (params_M, x_NxS) -> 4-way predictions M x N
  heads: dict     # two-head contender -> (params_M, x_NxS) -> (a, b) predictions M x N x 2
  target: object  # (params_M, x_NxS) -> a target-only model's 2-way predictions M x N


def build_models(cfg):
  module = lambda: models.mlp(2, depth=1, width=cfg.module_width)
  pair = compose.parallel(module(), module())
  return Models(
      monolithic=models.mlp(4, depth=1, width=cfg.width),
      pair=pair,
      module=module(),
      trunk=compose.shared_trunk((cfg.width,)),
      combiner=compose.compose(pair, combiner=models.mlp(4, depth=1, width=cfg.combiner_width),
                               readout=compose.head_log_probs),
      target=models.mlp(2, depth=1, width=cfg.width))


def build_contenders(cfg):
  m = build_models(cfg)
  monolithic = predictor(m.monolithic.apply)
  product = predictor(compose.product(m.pair).apply)
  pair_heads = head_predictor(m.pair.apply)
  return Contenders(
      models=m,
      predict=dict(monolithic=monolithic, reweighted=monolithic, dro=monolithic, modular=product, own=product,
                   trunk=predictor(compose.product(m.trunk).apply), combiner=predictor(m.combiner.apply)),
      heads=dict(modular=pair_heads, own=pair_heads, trunk=head_predictor(m.trunk.apply)),
      target=predictor(m.target.apply))


def trainers(ctx, m, epochs):
  """Trainers under the config's protocol (reweighted shares monolithic's; the two target-only ERM
  rows share one). `epochs` is the point's maximum, the horizon of a cosine schedule."""
  two_head = lambda model: ctx.trainer(model, epochs=epochs, loss_fn=compose.two_head_loss,
                                       correct_fn=compose.two_head_correct)
  dro = lambda model: ctx.trainer(model, epochs=epochs, make=group_dro.make_trainer, num_groups=4)
  return dict(monolithic=ctx.trainer(m.monolithic, epochs=epochs), dro=dro(m.monolithic),
              modular=two_head(m.pair), trunk=two_head(m.trunk), combiner=ctx.trainer(m.combiner, epochs=epochs),
              target=ctx.trainer(m.target, epochs=epochs), target_dro=dro(m.target))


def dro_hparams(cfg):
  """Group DRO's hyperparameters beside the learning rate (research/engine/group_dro.py)."""
  return {"learning_rate": cfg.learning_rate, "group_step": cfg.dro_step, "group_adjustment": cfg.dro_adjustment}


def predictor(apply):
  """Every member's predicted class on x: (params_M, x_NxS) -> M x N."""
  return jax.jit(jax.vmap(lambda p, x: jnp.argmax(apply(p, x), -1), in_axes=(0, None)))


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


def point_key(source, rho, n):
  """How results["selected"] and the reading's tests name a point."""
  return f"{source}:rho{rho:g}-n{n}"
