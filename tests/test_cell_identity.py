"""A cell is identified by what determines its numbers, not by a hand-written spec, nor by how the
engine's code is written: a refactor that keeps the numbers retrains nothing, a change to the model
retrains its cells (and an engine change that alters numbers fails tests/test_golden.py)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.engine import cells, train
from research import models
from research.models import nets


def _model(scale=1.0, activation="relu"):
  """A one-hidden-layer net with a constant inside apply, as a user might write one."""
  base = models.build("mlp", 4, depth=1, width=8, activation=activation)
  return nets.Model(base.init, lambda params, x: scale * base.apply(params, x))


def _squared_loss(logits_BxK, y_B):
  return jnp.sum((logits_BxK - jax_one_hot(y_B, logits_BxK.shape[-1])) ** 2, -1)


def jax_one_hot(y_B, k):
  return (y_B[:, None] == jnp.arange(k)).astype(jnp.float32)


def _run(data, root, model, loss_fn=train.cross_entropy, spec=None):
  trainer = train.make_trainer(model, "adam", 32, loss_fn=loss_fn)
  return cells.run_cell(trainer, data, name="c", spec=spec or {"label": "the same label every time"},
                        seeds=[0, 1], hparams=[{"learning_rate": 1e-2}] * 2, epochs=2, root=root,
                        progress=False)


@pytest.mark.parametrize("change", ["constant", "activation", "loss"])
def test_a_change_the_spec_does_not_mention_retrains_the_cell(tiny, tmp_path, change):
  first = _run(tiny, tmp_path, _model())
  again = _run(tiny, tmp_path, _model())
  assert not first.summary.reused and again.summary.reused  # nothing changed: nothing trains
  changed = {"constant": lambda: _run(tiny, tmp_path, _model(scale=1.5)),
             "activation": lambda: _run(tiny, tmp_path, _model(activation="tanh")),
             "loss": lambda: _run(tiny, tmp_path, _model(), loss_fn=_squared_loss)}[change]()
  assert not changed.summary.reused
  assert changed.summary.final("train_loss") != first.summary.final("train_loss")
  assert len(list(tmp_path.glob("c-*"))) == 2
  assert changed.summary.timing.identity_s < 5.0


def test_the_spec_is_a_label_and_chunking_is_not_identity(tiny, tmp_path):
  first = _run(tiny, tmp_path, _model(), spec={"label": "a"})
  relabelled = _run(tiny, tmp_path, _model(), spec={"label": "b"})
  assert relabelled.summary.reused and relabelled.summary.members == first.summary.members
  trainer = train.make_trainer(_model(), "adam", 32)
  key = lambda **kw: cells.identity(trainer, tiny, seeds=[0, 1], hparams=[{"learning_rate": 1e-2}] * 2,
                                    epochs=2, **kw)[0]
  assert key() == key()
  other_data = dict(tiny, x_train=tiny["x_train"].at[0, 0].add(1.0))
  assert cells.identity(trainer, other_data, seeds=[0, 1], hparams=[{"learning_rate": 1e-2}] * 2,
                        epochs=2)[0] != key()
  assert cells.identity(trainer, tiny, seeds=[0, 2], hparams=[{"learning_rate": 1e-2}] * 2,
                        epochs=2)[0] != key()
  sgd = train.make_trainer(_model(), "sgd", 32)
  assert cells.identity(sgd, tiny, seeds=[0, 1], hparams=[{"learning_rate": 1e-2}] * 2, epochs=2)[0] != key()


def test_compiler_flags_are_part_of_the_identity(tiny, monkeypatch):
  trainer = train.make_trainer(_model(), "adam", 32)
  key = lambda: cells.identity(trainer, tiny, seeds=[0], hparams=[{"learning_rate": 1e-2}], epochs=2)
  plain_key, plain_parts = key()
  assert "xla_flags" not in plain_parts  # unset: the keys of every committed cell stay as they were
  monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=true")
  flagged_key, flagged_parts = key()
  assert flagged_parts["xla_flags"] == "--xla_cpu_enable_fast_math=true" and flagged_key != plain_key


def _unrolled(trainer):
  """The same training as trainer.train, written another way: one epoch at a time, unrolled in Python
  instead of lax.scan over the epochs. Another lowered program, the same numbers."""
  def train_epochs(state, data, epochs):
    hists = []
    for _ in range(epochs):
      state, hist = trainer.train(state, data, 1)
      hists.append(hist)
    return state, jax.tree.map(lambda *a: jnp.concatenate(a, -1), *hists)
  return trainer._replace(train=train_epochs)


def test_a_refactored_training_loop_retrains_nothing(tiny, tmp_path):
  trainer = train.make_trainer(_model(), "adam", 32, patience=2)
  run = lambda t, root: cells.run_cell(t, tiny, name="c", spec={}, seeds=[0, 1], hparams=[{"learning_rate": 1e-2}] * 2,
                                       epochs=4, root=root, progress=False)
  first = run(trainer, tmp_path / "a")
  again = run(_unrolled(trainer), tmp_path / "a")
  assert again.summary.reused and again.summary.members == first.summary.members
  # Trained from scratch, the refactored loop gives the numbers it was given back.
  fresh = run(_unrolled(trainer), tmp_path / "b")
  assert not fresh.summary.reused
  np.testing.assert_allclose(fresh.summary.final("val_acc"), first.summary.final("val_acc"), atol=1e-6)
  np.testing.assert_allclose(fresh.summary.final("train_loss"), first.summary.final("train_loss"), rtol=1e-5)


def test_a_change_to_the_relu_a_model_calls_retrains_its_cells(tiny, monkeypatch):
  key = lambda: cells.identity(train.make_trainer(_model(), "adam", 32), tiny, seeds=[0],
                               hparams=[{"learning_rate": 1e-2}], epochs=2)[0]
  before = key()
  monkeypatch.setitem(nets.ACTIVATIONS, "relu", lambda x: jnp.where(x > 0, x, 0.01 * x))
  assert key() != before
  monkeypatch.undo()
  assert key() == before


@pytest.mark.parametrize("option", ["optimizer", "schedule", "batch_size", "patience", "layout"])
def test_every_option_of_the_trainer_is_part_of_the_identity(tiny, option):
  from research.engine import optim
  base = dict(optimizer="adam", batch_size=32, patience=2, schedule=None)
  changed = dict(base, **{"optimizer": dict(optimizer="sgd"), "batch_size": dict(batch_size=16),
                          "patience": dict(patience=3),
                          "schedule": dict(schedule=optim.schedule("cosine", warmup_epochs=1, epochs=2))}.get(option, {}))
  key = lambda kw, layout="vmap": cells.identity(
      train.make_trainer(_model(), kw["optimizer"], kw["batch_size"], patience=kw["patience"], schedule=kw["schedule"]),
      tiny, seeds=[0, 1], hparams=[{"learning_rate": 1e-2}] * 2, epochs=2, layout=layout)[0]
  other = key(base, "map") if option == "layout" else key(changed)
  assert key(base) == key(base) and other != key(base)
