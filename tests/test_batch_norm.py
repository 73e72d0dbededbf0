"""Models with state (batch normalization): train and eval mode, and the state through the engine's
vmapped sweep, chunking, selection and a killed-and-resumed cell."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.engine import cells, checkpoints, train
from research import models
from research.models import nets, resnet

HP = {"learning_rate": 3e-3}


@pytest.fixture(scope="module")
def images():
  """A small random 4-class problem on 8x8x1 images, with a validation split."""
  k1, k2, k3, k4 = jax.random.split(jax.random.key(0), 4)
  w = jax.random.normal(k1, (64, 4))
  def split(key, n):
    x = jax.random.normal(key, (n, 8, 8, 1))
    return x, jnp.argmax(x.reshape(n, -1) @ w, -1)
  (x, y), (xv, yv), (xt, yt) = split(k2, 256), split(k3, 64), split(k4, 64)
  return dict(x_train=x, y_train=y, x_val=xv, y_val=yv, x_test=xt, y_test=yt)


def _model(shortcut=True):
  return models.build("resnet", 4, blocks=1, widths=[2, 4, 4], shortcut=shortcut)


def _trees_equal(a, b):
  assert jax.tree.structure(a) == jax.tree.structure(b)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_training_mode_uses_the_batch_and_evaluation_the_running_statistics(images):
  model = _model()
  x = images["x_train"][:16]
  params, state = model.init(jax.random.key(0), x), model.init_state(jax.random.key(0), x)
  assert nets.has_state(model) and not nets.has_state(models.build("mlp", 4, depth=1, width=8))
  # Evaluation: every example on its own (the running statistics), and the state is only read.
  evals = model.apply(params, x, state)
  np.testing.assert_allclose(model.apply(params, x[:3], state), evals[:3], rtol=1e-5, atol=1e-6)
  # Training: an example's output depends on its batch, and the running statistics move by
  # momentum 0.9 toward the batch's (the first BN's mean: 0.1 x the batch mean of its input).
  logits, new_state = model.train_apply(params, x, state)
  logits3, _ = model.train_apply(params, x[:3], state)
  assert not np.allclose(logits3, logits[:3], atol=1e-4)
  assert not np.allclose(logits, evals, atol=1e-4)
  conv0 = resnet._conv(2, 1).apply({"params": params["Conv_0"]}, x)
  np.testing.assert_allclose(new_state["BatchNorm_0"]["mean"], 0.1 * conv0.mean((0, 1, 2)), rtol=1e-4, atol=1e-6)
  assert jax.tree.structure(new_state) == jax.tree.structure(state)
  assert models.describe(model, (8, 8, 1))["flops"] > 0


def test_the_engine_trains_the_state_and_evaluates_with_it(images):
  model = _model()
  trainer = train.make_trainer(model, "adam", 32)
  state0 = trainer.init(jax.random.PRNGKey(0), HP, images)
  state, hist = jax.jit(trainer.train, static_argnums=2)(state0, images, 3)
  moved = jax.tree.map(lambda a, b: not np.array_equal(a, b), state.model_state, state0.model_state)
  assert all(jax.tree.leaves(moved))
  # The validation accuracy of each epoch is that of the running statistics (evaluation mode).
  best = int(state.best_epoch)
  _, acc = trainer.evaluate(train.selected(state), images["x_val"], images["y_val"], train.selected_state(state))
  np.testing.assert_allclose(acc, hist.val_acc[best - 1], rtol=1e-6)
  _, last = trainer.evaluate(state.params, images["x_val"], images["y_val"], state.model_state)
  np.testing.assert_allclose(last, hist.val_acc[-1], rtol=1e-6)


@pytest.mark.slow
def test_state_survives_vmap_map_and_chunking(images):
  trainer = train.make_trainer(_model(), "adam", 32, patience=2)
  seeds, hps = [0, 1, 2], [HP, {"learning_rate": 1e-2}, HP]
  single = [train.run(trainer, jax.random.PRNGKey(s), hp, images, 4)[0] for s, hp in zip(seeds, hps)]
  for layout in train.LAYOUTS:
    v = train.vmapped(trainer, layout)
    states, _ = jax.jit(v.train, static_argnums=2)(v.init(train.keys(seeds), train.stack(hps), images), images, 4)
    for i, one in enumerate(single):
      member = jax.tree.map(lambda a: a[i], states)
      assert int(member.best_epoch) == int(one.best_epoch)
      for field in ("model_state", "best_model_state", "params"):
        # The layouts agree with a single run to float32 rounding (XLA orders batched sums otherwise).
        jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=2e-4, atol=2e-5),
                     getattr(member, field), getattr(one, field))
  # Chunked epochs give the same state, bit for bit.
  step = jax.jit(trainer.train, static_argnums=2)
  state0 = trainer.init(jax.random.PRNGKey(5), HP, images)
  whole, _ = step(state0, images, 4)
  half, _ = step(state0, images, 2)
  chunked, _ = step(half, images, 2)
  _trees_equal(whole, chunked)


@pytest.mark.slow
def test_a_killed_cell_resumes_with_its_batch_statistics_bit_for_bit(images, tmp_path, monkeypatch):
  trainer = train.make_trainer(_model(), "adam", 32)
  run = lambda root: cells.run_cell(trainer, images, name="bn", spec={}, seeds=[0, 1], hparams=[HP, HP], epochs=4,
                                    root=root, checkpoint_every_s=0.0, need_state=True, progress=False)
  whole = run(tmp_path / "whole")
  calls = []
  real_append = cells.curves.append

  def dies_after_two_epochs(*args):
    calls.append(1)
    if len(calls) == 3:  # epochs 1 and 2 are checkpointed; the third dies before its save
      raise KeyboardInterrupt
    return real_append(*args)
  monkeypatch.setattr(cells.curves, "append", dies_after_two_epochs)
  with pytest.raises(KeyboardInterrupt):
    run(tmp_path / "killed")
  monkeypatch.setattr(cells.curves, "append", real_append)
  resumed = run(tmp_path / "killed")
  assert resumed.summary.timing.resumed_from_epoch == 2 and not resumed.summary.reused
  _trees_equal(resumed.state, whole.state)
  assert resumed.summary.members == whole.summary.members
  # Read back from the sealed checkpoint: the state with its batch statistics again.
  again = run(tmp_path / "killed")
  assert again.summary.reused
  _trees_equal(again.state.best_model_state, whole.state.best_model_state)


def test_a_model_without_state_carries_none(images):
  trainer = train.make_trainer(models.build("mlp", 4, depth=1, width=8), "adam", 32)
  state = trainer.init(jax.random.PRNGKey(0), HP, images)
  assert state.model_state is None and state.best_model_state is None
  assert len(jax.tree.leaves(state)) == len(jax.tree.leaves(state._replace(model_state=None)))


def test_only_a_model_with_state_has_its_state_init_in_the_identity(tiny, images):
  hp = [{"learning_rate": 1e-2}] * 2
  plain = cells.identity(train.make_trainer(models.build("mlp", 4, depth=1, width=8), "adam", 32), tiny,
                         seeds=[0, 1], hparams=hp, epochs=2)[1]["trainer"]
  bn = cells.identity(train.make_trainer(models.build("resnet", 4, blocks=1, widths=[2, 2, 4]), "adam", 32), images,
                      seeds=[0, 1], hparams=hp, epochs=2)[1]["trainer"]
  assert "model_state_init" not in plain and "model_state_init" in bn


def test_a_checkpoint_written_before_the_engine_carried_model_state_restores(tiny, tmp_path):
  """The committed cells' checkpoints hold a TrainState of ten fields; read back (need_state) they must
  restore into today's state, whose model-state fields are None for such models."""
  import collections
  import orbax.checkpoint as ocp
  trainer = train.make_trainer(models.build("mlp", 4, depth=1, width=8), "adam", 32)
  v = train.vmapped(trainer)
  state = jax.jit(v.init)(train.keys([0, 1]), train.stack([HP, HP]), tiny, None, None)
  hist = {k: np.zeros((2, 3), np.float32) for k in train.History._fields}
  Before = collections.namedtuple("TrainState", train.TrainState._fields[:10])
  mngr = checkpoints.manager(tmp_path / "ckpt")
  mngr.save(3, args=ocp.args.StandardSave({"state": Before(*state[:10]), "history": hist}), force=True)
  mngr.wait_until_finished()
  restored = checkpoints.restore(checkpoints.manager(tmp_path / "ckpt"), {"state": state, "history": hist}, tmp_path)
  assert isinstance(restored["state"], train.TrainState) and restored["state"].model_state is None
  _trees_equal(restored["state"], state)
