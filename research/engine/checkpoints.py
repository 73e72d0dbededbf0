"""A cell's orbax checkpoint: saved only as sealed steps, restored only when it fits the model.

  mngr = manager(cell_dir / "ckpt")
  seal = save(mngr, cell_dir, name, epoch, {"state": state, "history": hist})
  restored = restore(mngr, {"state": fresh_state, "history": hist}, cell_dir)  # None: nothing saved

One step is kept: the previous one goes only once the new one is sealed, so no kill leaves a cell
without a sealed checkpoint to resume from.
"""
import pathlib
import shutil

import jax
import numpy as np
import orbax.checkpoint as ocp

from research.engine import integrity, sharding, train
from research.engine.identity import read_json
from research.system import faults, results
from research.system.errors import UserError, say


def keep_only_step(ckpt: pathlib.Path, keep: int | None) -> list[int]:
  """Removes every checkpoint step folder but `keep` (None: all), so that orbax can never pick one;
  returns the steps removed."""
  gone = [s for s in integrity.steps(ckpt) if s != keep]
  for s in gone:
    shutil.rmtree(ckpt / str(s), ignore_errors=True)
  return gone


def drop_damaged(name: str, cell_dir: pathlib.Path) -> None:
  """Deletes checkpoint steps that fail their integrity check, saying so in one line; a damaged
  checkpoint is never restored."""
  good, problems = integrity.verified_latest_step(cell_dir / "ckpt")
  if problems:
    say(f"cell {name}: {problems[0]}; " + (f"resuming from epoch {good} instead" if good is not None
                                             else "training it from scratch"))
    keep_only_step(cell_dir / "ckpt", good)


def manager(path: pathlib.Path) -> ocp.CheckpointManager:
  """The orbax manager of a cell's ckpt folder."""
  # max_to_keep=None: orbax deletes no step; the cell removes the previous step itself once the new one
  # is sealed (seal), so a kill between orbax's commit and the seal leaves a sealed step to resume from.
  opts = ocp.CheckpointManagerOptions(max_to_keep=None, create=True, cleanup_tmp_directories=True,
                                      enable_async_checkpointing=False)
  return ocp.CheckpointManager(path, options=opts)


def _shapes(tree):
  return [[jax.tree_util.keystr(k), list(np.shape(a))] for k, a in jax.tree_util.tree_leaves_with_path(tree)]


def _on_disk(tree):
  """{"state", "history"} as the checkpoint holds it: the state's fields by name, without the model-state
  fields of a model that has none, so that a cell's checkpoint is laid out as it was before the engine
  carried model state (and checkpoints written then restore now)."""
  fields = {k: v for k, v in tree["state"]._asdict().items()
            if v is not None or k not in ("model_state", "best_model_state")}
  return dict(tree, state=fields)


def _off_disk(tree):
  return dict(tree, state=train.TrainState(**tree["state"]))


def restore(mngr: ocp.CheckpointManager, target: dict, cell_dir: pathlib.Path) -> dict | None:
  """The latest checkpoint laid out as target ({"state", "history"}), or None when there is none."""
  step = mngr.latest_step()
  if step is None:
    return None
  saved = read_json(pathlib.Path(cell_dir) / "shapes.json")
  if saved is not None and saved != results.clean_json(_shapes(target)):
    raise UserError(f"the checkpoint in {cell_dir} was written for a model of other shapes; "
                    "delete that folder to train the cell again")
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, _on_disk(target))
  try:
    return _off_disk(mngr.restore(step, args=ocp.args.StandardRestore(abstract)))
  except Exception as e:  # noqa: BLE001 - orbax raises many types for a mismatched tree
    raise UserError(f"the checkpoint in {cell_dir} does not fit this model ({type(e).__name__}); "
                    f"delete that folder to train the cell again") from e



def _nbytes(tree):
  """Bytes of a pytree's arrays: about what one checkpoint of it takes on disk."""
  return sum(int(np.asarray(getattr(leaf, "nbytes", 0))) for leaf in jax.tree.leaves(tree))


def seal(cell_dir: pathlib.Path, step: int) -> dict:
  """Seals checkpoint `step`, then removes every other step: the previous one stays until this one
  checks, so no kill leaves the cell without a sealed checkpoint."""
  seal = integrity.seal_cell(cell_dir / "ckpt", step)
  keep_only_step(cell_dir / "ckpt", step)
  return seal



def save(mngr: ocp.CheckpointManager, cell_dir: pathlib.Path, name: str, step: int, saved: dict) -> dict | None:
  """Saves {"state", "history"} (the real members, unpadded) as checkpoint `step` and seals it;
  returns the seal (None on processes other than the main one, which write nothing)."""
  if not (cell_dir / "shapes.json").exists() and sharding.is_main_process():
    results.write_json(cell_dir / "shapes.json", _shapes(saved))
  # Orbax hands a full disk on as a ValueError (RESOURCE_EXHAUSTED) and logs it through absl too.
  with faults.reported(f"saving a checkpoint of cell {name}", cell_dir, _nbytes(saved), quiet=("absl",),
                       hush=True):
    mngr.save(step, args=ocp.args.StandardSave(_on_disk(saved)), force=True)
    mngr.wait_until_finished()
    return seal(cell_dir, step) if sharding.is_main_process() else None
