"""Learning curves while a cell trains: one JSON line per member and epoch in
<cell folder>/curves.jsonl and, with RESEARCH_TENSORBOARD=1 (tensorboardX,
`pip install -e '.[tensorboard]'`), TensorBoard event files with one run per
member under <cell folder>/tensorboard/. `make tensorboard` shows them all.

  curves.append(cell_dir, seeds, hparams, hist, first_epoch, last_epoch)
  curves.read(cell_dir)  # [{"member": 0, "seed": 0, "epoch": 1, "val_acc": 0.83, ...}, ...]

A resumed cell restarts from its last checkpoint, so the epochs written after
it are written again: append() drops them first, and no epoch appears twice.
"""
import json
import os
import pathlib
import shutil
import warnings
from collections.abc import Sequence

import numpy as np

from research.engine import sharding
from research.engine.types import HParams, PathLike
from research.system import results

FILENAME = "curves.jsonl"
TENSORBOARD_ENV = "RESEARCH_TENSORBOARD"
# Event tags, grouped the way TensorBoard's scalar dashboard groups by prefix.
TAGS = {"train_loss": "loss/train", "val_loss": "loss/val", "val_acc": "accuracy/val"}


def tensorboard_enabled() -> bool:
  return os.environ.get(TENSORBOARD_ENV, "") not in ("", "0")


def lines(seeds: Sequence[int], hparams: Sequence[HParams], hist: dict[str, np.ndarray], first_epoch: int,
          last_epoch: int) -> list[dict]:
  """The records of epochs first_epoch+1 .. last_epoch; hist: {field: members x epochs}."""
  out = []
  for epoch in range(first_epoch, last_epoch):
    for member, (seed, hp) in enumerate(zip(seeds, hparams)):
      rec = dict(member=member, seed=int(seed), hparams=hp, epoch=epoch + 1)
      rec.update({k: np.asarray(v)[member, epoch] for k, v in hist.items()})
      rec["diverged"] = bool(rec.get("diverged", False))
      out.append(results.clean_json(rec))  # NaN (no validation split, a skipped epoch) -> null
  return out


def read(cell_dir: PathLike) -> list[dict]:
  """The records on disk, in the order written; a line torn by a kill is left out."""
  path = pathlib.Path(cell_dir) / FILENAME
  if not path.exists():
    return []
  out = []
  for line in path.read_text().splitlines():
    try:
      out.append(json.loads(line))
    except ValueError:
      pass
  return out


def append(cell_dir: pathlib.Path, seeds: Sequence[int], hparams: Sequence[HParams], hist: dict[str, np.ndarray],
           first_epoch: int, last_epoch: int, tensorboard: bool | None = None) -> None:
  """Adds epochs first_epoch+1 .. last_epoch of every member; tensorboard: None = $RESEARCH_TENSORBOARD."""
  if not sharding.is_main_process():
    return
  path = pathlib.Path(cell_dir) / FILENAME
  new = lines(seeds, hparams, hist, first_epoch, last_epoch)
  old = read(path.parent)
  tensorboard = tensorboard_enabled() if tensorboard is None else tensorboard
  if any(r["epoch"] > first_epoch for r in old) or _torn(path):
    kept = [r for r in old if r["epoch"] <= first_epoch]
    results.write_atomic(path, "".join(json.dumps(r) + "\n" for r in kept + new))
    if tensorboard:  # events cannot be taken back: write the runs again from the kept lines
      shutil.rmtree(path.parent / "tensorboard", ignore_errors=True)
      new = kept + new
  else:
    with path.open("a") as f:
      f.writelines(json.dumps(r) + "\n" for r in new)
  if tensorboard:
    _write_events(path.parent / "tensorboard", new)


def _torn(path):
  return path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n")


def run_name(rec: dict) -> str:
  return f"member-{rec['member']}-seed-{rec['seed']}"


def _write_events(folder, records):
  try:
    from tensorboardX import SummaryWriter
  except ImportError:
    warnings.warn(f"{TENSORBOARD_ENV} is set but tensorboardX is not installed "
                  "(pip install -e '.[tensorboard]'); writing curves.jsonl only")
    return
  by_run = {}
  for rec in records:
    by_run.setdefault(run_name(rec), []).append(rec)
  for run, recs in by_run.items():
    # tensorboardX names files by the second: writers of one second would share a file
    span = f".epochs-{recs[0]['epoch']:05d}-{recs[-1]['epoch']:05d}"
    writer = SummaryWriter(str(folder / run), filename_suffix=span)
    try:
      for rec in recs:
        for field, tag in TAGS.items():
          if rec.get(field) is not None:
            writer.add_scalar(tag, rec[field], rec["epoch"])
    finally:
      writer.close()
