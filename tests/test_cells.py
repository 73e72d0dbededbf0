import json

import jax
import numpy as np
import pytest

from research.engine import cells, checkpoints, train
from research import models
from research.system.errors import UserError


def _cell(data, root, epochs=4, width=16, **kw):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=width), "adam", 32)
  return cells.run_cell(trainer, data, name="c", spec={"width": width}, seeds=[0, 1],
                        hparams=[{"learning_rate": 1e-2}] * 2, epochs=epochs, root=root,
                        progress=False, **kw)


def test_checkpoint_round_trip_and_reuse(tiny, tmp_path):
  first = _cell(tiny, tmp_path, checkpoint_every_s=0)
  assert not first.summary.reused and len(first.summary.members) == 2
  again = _cell(tiny, tmp_path, need_state=True)
  assert again.summary.reused
  assert again.summary.members == first.summary.members
  for a, b in zip(jax.tree.leaves(first.state), jax.tree.leaves(again.state)):
    np.testing.assert_array_equal(a, b)


def test_a_resumed_cell_ends_with_the_same_numbers(tiny, tmp_path, monkeypatch):
  whole = _cell(tiny, tmp_path / "a", epochs=4)
  # Interrupt the run at its second checkpoint: the one at epoch 2 is on disk.
  saves = []
  real_save = checkpoints.ocp.CheckpointManager.save

  def save_then_die(self, step, *a, **kw):
    if saves:
      raise KeyboardInterrupt
    saves.append(step)
    return real_save(self, step, *a, **kw)
  monkeypatch.setattr(checkpoints.ocp.CheckpointManager, "save", save_then_die)
  with pytest.raises(KeyboardInterrupt):
    _cell(tiny, tmp_path / "b", epochs=4, chunk_epochs=2, checkpoint_every_s=0)
  monkeypatch.undo()
  assert saves == [2]
  resumed = _cell(tiny, tmp_path / "b", epochs=4, chunk_epochs=2)
  assert resumed.summary.timing.resumed_from_epoch == 2
  for m_whole, m_res in zip(whole.summary.members, resumed.summary.members):
    assert m_whole.history == m_res.history and m_whole.final == m_res.final


def test_different_config_is_a_different_cell(tiny, tmp_path):
  _cell(tiny, tmp_path, epochs=2)
  other = _cell(tiny, tmp_path, epochs=3)
  assert not other.summary.reused
  assert len(list(tmp_path.glob("c-*"))) == 2


def test_a_checkpoint_of_another_shape_is_a_clear_error(tiny, tmp_path):
  _cell(tiny, tmp_path, epochs=2, checkpoint_every_s=0)
  cell_dir = next(tmp_path.glob("c-*"))
  (cell_dir / "result.json").unlink()
  # a model of another width finds this folder's checkpoint (as if copied in by hand)
  trainer = train.make_trainer(models.mlp(4, depth=1, width=8), "adam", 32)
  spec = json.loads((cell_dir / "spec.json").read_text())
  with pytest.raises(UserError, match="other shapes"):
    checkpoints.restore(checkpoints.manager(cell_dir / "ckpt"),
                   {"state": jax.vmap(trainer.init, in_axes=(0, 0, None))(
                       train.keys([0, 1]), train.stack([{"learning_rate": 1e-2}] * 2), tiny),
                    "history": {k: np.zeros((2, 2), np.float32) for k in train.History._fields}}, cell_dir)
  assert spec["width"] == 16
