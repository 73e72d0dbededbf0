"""Curves on disk while cells train: JSON lines, TensorBoard event files, no duplicates on resume."""
import collections
import struct

import pytest

from research.engine import cells, checkpoints, curves, train
from research import models

FIELDS = ("train_loss", "val_loss", "val_acc")


def _cell(data, root, epochs=4, **kw):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=16), "adam", 32)
  return cells.run_cell(trainer, data, name="c", spec={}, seeds=[0, 1],
                        hparams=[{"learning_rate": 1e-2}] * 2, epochs=epochs, root=root,
                        progress=False, **kw)


def _records_equal_history(recs, summary):
  """Every (member, epoch) once, with the numbers of the cell's result."""
  assert len({(r["member"], r["epoch"]) for r in recs}) == len(recs)
  for i, member in enumerate(summary.members):
    mine = sorted((r for r in recs if r["member"] == i), key=lambda r: r["epoch"])
    assert [r["epoch"] for r in mine] == list(range(1, len(member.history["val_acc"]) + 1))
    assert all(r["seed"] == member.seed and r["hparams"] == member.hparams for r in mine)
    for field in FIELDS:
      assert [r[field] for r in mine] == pytest.approx(member.history[field])


def read_events(path):
  """Scalars of one TensorBoard event file (TFRecord framing: length, crc, Event proto, crc)."""
  from tensorboardX.proto import event_pb2
  out, buf, at = [], path.read_bytes(), 0
  while at < len(buf):
    (n,) = struct.unpack("<Q", buf[at:at + 8])
    event = event_pb2.Event.FromString(buf[at + 12:at + 12 + n])
    at += 12 + n + 4
    out += [(v.tag, event.step, v.simple_value) for v in event.summary.value]
  return out


def test_jsonl_written_per_chunk_and_read_back(tiny, tmp_path, monkeypatch):
  monkeypatch.delenv(curves.TENSORBOARD_ENV, raising=False)
  seen = []
  real = curves.append

  def spy(cell_dir, *a, **kw):
    real(cell_dir, *a, **kw)
    seen.append(len(curves.read(cell_dir)))  # on disk while the cell is still training
  monkeypatch.setattr(curves, "append", spy)
  result = _cell(tiny, tmp_path, epochs=3)
  assert seen == [2, 4, 6]
  cell_dir = next(tmp_path.glob("c-*"))
  _records_equal_history(curves.read(cell_dir), result.summary)
  assert not (cell_dir / "tensorboard").exists()


def test_a_resumed_cell_writes_no_epoch_twice(tiny, tmp_path, monkeypatch):
  monkeypatch.delenv(curves.TENSORBOARD_ENV, raising=False)
  saves = []
  real_save = checkpoints.ocp.CheckpointManager.save

  def save_then_die(self, step, *a, **kw):
    if saves:
      raise KeyboardInterrupt  # epochs 3 and 4 are in curves.jsonl, not in the checkpoint
    saves.append(step)
    return real_save(self, step, *a, **kw)
  monkeypatch.setattr(checkpoints.ocp.CheckpointManager, "save", save_then_die)
  with pytest.raises(KeyboardInterrupt):
    _cell(tiny, tmp_path, epochs=4, chunk_epochs=2, checkpoint_every_s=0)
  monkeypatch.undo()
  cell_dir = next(tmp_path.glob("c-*"))
  assert max(r["epoch"] for r in curves.read(cell_dir)) == 4
  with (cell_dir / curves.FILENAME).open("a") as f:
    f.write('{"member": 0, "epo')  # and a line torn by the kill
  resumed = _cell(tiny, tmp_path, epochs=4, chunk_epochs=2)
  assert resumed.summary.timing.resumed_from_epoch == 2
  _records_equal_history(curves.read(cell_dir), resumed.summary)
  assert (cell_dir / curves.FILENAME).read_text().count("\n") == 8


def test_tensorboard_runs_per_member(tiny, tmp_path, monkeypatch):
  pytest.importorskip("tensorboardX")
  monkeypatch.setenv(curves.TENSORBOARD_ENV, "1")
  result = _cell(tiny, tmp_path, epochs=3)
  cell_dir = next(tmp_path.glob("c-*"))
  runs = sorted(p.name for p in (cell_dir / "tensorboard").iterdir())
  assert runs == ["member-0-seed-0", "member-1-seed-1"]
  for i, run in enumerate(runs):
    scalars = collections.defaultdict(dict)
    for f in sorted((cell_dir / "tensorboard" / run).glob("events.out.tfevents.*")):
      for tag, step, value in read_events(f):
        assert step not in scalars[tag]
        scalars[tag][step] = value
    history = result.summary.members[i].history
    assert sorted(scalars) == ["accuracy/val", "loss/train", "loss/val"]  # never the test set
    assert [scalars["accuracy/val"][e] for e in (1, 2, 3)] == pytest.approx(history["val_acc"])
    assert [scalars["loss/train"][e] for e in (1, 2, 3)] == pytest.approx(history["train_loss"])
