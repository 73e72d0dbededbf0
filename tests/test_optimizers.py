"""The optimizers added for pruning leave every existing optimizer's compiled program as it was: a
cell's identity (research/cells.py) hashes the lowered programs, so a changed program would retrain
every committed cell of every experiment."""
import os

import jax
import jax.numpy as jnp
import pytest

from research import cells, models, optim, train

# Computed on main before momentum_l2 and prox_l1 were added (jax 0.10.2, CPU, XLA_FLAGS unset):
# optimizer/schedule -> (identity key, init program hash, training program hash).
MAIN = {
    "sgd/constant": ("af5fd6d8f53f", "a6d3863614f500d0", "4e3465d8c202b1e0"),
    "sgd/cosine": ("cdbe2edb5b18", "a6d3863614f500d0", "44c543e2db4256eb"),
    "momentum/constant": ("d9ffe00a4632", "4c7184b339b92a8f", "beaa5180521c7dc4"),
    "momentum/cosine": ("23739dc7c6ee", "4c7184b339b92a8f", "e96b83e3d307fff5"),
    "nesterov/constant": ("6433024ac5dd", "4c7184b339b92a8f", "bbef19c7b351c05a"),
    "nesterov/cosine": ("98a5250b269e", "4c7184b339b92a8f", "a78ddb019c13e7bc"),
    "adam/constant": ("15d5d946ad1c", "b0d7a9d03b0494bb", "3d2f71bbe26875d1"),
    "adam/cosine": ("aab8519f29eb", "b0d7a9d03b0494bb", "812b95284b14dd1c"),
    "adamw/constant": ("642079ee1a2d", "29a65289ee5b22ad", "4debfaea58cb9fc1"),
    "adamw/cosine": ("5dedf69ccf6d", "29a65289ee5b22ad", "90cc6eff28a68675"),
}


def _data():
  k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
  w = jax.random.normal(k1, (12, 4))
  x = jax.random.normal(k2, (256, 12))
  xv = jax.random.normal(k3, (64, 12))
  return dict(x_train=x, y_train=jnp.argmax(x @ w, -1), x_val=xv, y_val=jnp.argmax(xv @ w, -1))


@pytest.mark.skipif(jax.__version__ != "0.10.2" or jax.default_backend() != "cpu" or bool(os.environ.get("XLA_FLAGS")),
                    reason="the recorded keys are of jax 0.10.2 on CPU without XLA_FLAGS")
@pytest.mark.parametrize("which", sorted(MAIN))
def test_existing_optimizers_lower_to_the_programs_of_main(which):
  name, schedule = which.split("/")
  trainer = train.make_trainer(models.mlp_widths(4, (16,)), name, 32, patience=2,
                               schedule=optim.schedule(schedule, warmup_epochs=1, epochs=5))
  _, parts = cells.identity(trainer, _data(), seeds=[0, 1], hparams=[optim.defaults(name, 1e-2)] * 2, epochs=3)
  # The programs, not the whole key: the key also hashes the engine version and the result code.
  assert (parts["init_program"], parts["train_program"]) == MAIN[which][1:]


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
