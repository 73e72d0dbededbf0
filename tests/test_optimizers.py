"""The optimizers: their hyperparameters, the pruning optimizers' steps, and their place in a cell's identity."""

import jax
import jax.numpy as jnp
import pytest

from research.engine import cells, optim, train
from research import models

def _data():
  k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
  w = jax.random.normal(k1, (12, 4))
  x = jax.random.normal(k2, (256, 12))
  xv = jax.random.normal(k3, (64, 12))
  return dict(x_train=x, y_train=jnp.argmax(x @ w, -1), x_val=xv, y_val=jnp.argmax(xv @ w, -1))


def test_every_optimizer_and_schedule_is_its_own_cell():
  """Each optimizer's lowered update and each schedule's lowered factor enter the identity (research/engine/cells.py):
  no two of them share a cell, and each rebuilds to the same one."""
  keys = {}
  for name in ("sgd", "momentum", "nesterov", "adam", "adamw", "momentum_l2", "prox_l1"):
    for schedule in ("constant", "cosine"):
      make = lambda: train.make_trainer(models.mlp_widths(4, (16,)), name, 32, patience=2,
                                        schedule=optim.schedule(schedule, warmup_epochs=1, epochs=5))
      key = lambda t: cells.identity(t, _data(), seeds=[0, 1], hparams=[optim.defaults(name, 1e-2)] * 2, epochs=3)[0]
      keys[name, schedule] = key(make())
      assert key(make()) == keys[name, schedule]
  assert len(set(keys.values())) == len(keys)


def test_new_optimizers_are_registered_with_their_hyperparameters():
  assert optim.defaults("momentum_l2", 0.05) == {"learning_rate": 0.05, "momentum": 0.9, "weight_decay": 5e-4}
  assert set(optim.defaults("prox_l1", 0.05)) == {"learning_rate", "momentum", "weight_decay", "l1", "steps_per_epoch",
                                                 "decay_epochs"}


def test_momentum_l2_adds_the_decay_to_the_gradient_before_the_momentum():
  params, grads = {"w": jnp.array([1.0, -2.0])}, {"w": jnp.array([0.5, 0.5])}
  tx = optim.make("momentum_l2")({"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01})
  state = tx.init(params)
  u1, state = tx.update(grads, state, params)
  u2, _ = tx.update(grads, state, params)
  g = grads["w"] + 0.01 * params["w"]
  assert jnp.allclose(u1["w"], -0.1 * g) and jnp.allclose(u2["w"], -0.1 * (0.9 * g + g))
