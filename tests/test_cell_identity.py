"""A cell is identified by what determines its numbers, not by a hand-written spec."""
import jax.numpy as jnp
import pytest

from research import cells, models, nets, train


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
