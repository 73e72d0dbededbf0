"""A table cell: the members of one vmapped training call (seeds x hyperparameters).

  result = run_cell(trainer, data, name="L4-plain", spec={...}, seeds=[0, 1, 2, 3, 4],
                    hparams=[{"learning_rate": 1e-3}] * 5, epochs=10, root=ckpt_dir)

The cell trains in chunks of `chunk_epochs` (a progress bar per chunk),
checkpointing its state with orbax under root/<name>-<fingerprint>/ at most
every `checkpoint_every_s` seconds and at the end. Running it again reads the
finished result back instead of training; a killed run resumes from its last
checkpoint and, because every epoch's shuffle depends only on (seed, epoch),
ends with the same numbers as an uninterrupted one.
"""
import contextlib
import hashlib
import json
import pathlib
import shutil
import time
from typing import Any, NamedTuple

import jax
import numpy as np
import orbax.checkpoint as ocp
from tqdm.auto import tqdm

from research import curves, results, sharding, train
from research.errors import UserError


class CellResult(NamedTuple):
  summary: dict  # JSON-able: members, final metrics, per-epoch history, timing
  state: Any     # the final TrainState with a member axis; None if read back without need_state


def digest(tree):
  """A short hash of a pytree's values: cells that start from other masks or weights are other cells."""
  if tree is None:
    return None
  h = hashlib.sha1()
  for leaf in jax.tree.leaves(tree):
    h.update(np.ascontiguousarray(sharding.to_host(leaf)).tobytes())
  return h.hexdigest()[:16]


def fingerprint(spec):
  return hashlib.sha1(json.dumps(results.clean_json(spec), sort_keys=True).encode()).hexdigest()[:10]


def _manager(path):
  opts = ocp.CheckpointManagerOptions(max_to_keep=1, create=True, cleanup_tmp_directories=True,
                                      enable_async_checkpointing=False)
  return ocp.CheckpointManager(path, options=opts)


def _shapes(tree):
  return [[jax.tree_util.keystr(k), list(np.shape(a))] for k, a in jax.tree_util.tree_leaves_with_path(tree)]


def _restore(mngr, target, cell_dir):
  step = mngr.latest_step()
  if step is None:
    return None
  saved = _read_json(pathlib.Path(cell_dir) / "shapes.json")
  if saved is not None and saved != results.clean_json(_shapes(target)):
    raise UserError(f"the checkpoint in {cell_dir} was written for a model of other shapes; "
                    "delete that folder to train the cell again")
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
  try:
    return mngr.restore(step, args=ocp.args.StandardRestore(abstract))
  except Exception as e:  # noqa: BLE001 - orbax raises many types for a mismatched tree
    raise UserError(f"the checkpoint in {cell_dir} does not fit this model ({type(e).__name__}); "
                    f"delete that folder to train the cell again") from e


def _member_summaries(seeds, hparams, hist, final_train, diverged):
  members = []
  for i, (seed, hp) in enumerate(zip(seeds, hparams)):
    h = {k: v[i] for k, v in hist.items()}
    bad = bool(diverged[i])
    nan_if = lambda x: float("nan") if bad else float(x)
    final = dict(train_loss=nan_if(final_train[0][i]), train_acc=nan_if(final_train[1][i]),
                 test_loss=nan_if(h["test_loss"][-1]), test_acc=nan_if(h["test_acc"][-1]),
                 val_loss=nan_if(h["val_loss"][-1]), val_acc=nan_if(h["val_acc"][-1]),
                 diverged=bad,
                 diverged_epoch=int(np.argmax(h["diverged"])) if bad else None)
    members.append(dict(seed=int(seed), hparams=hp, final=final,
                        history={k: v.tolist() for k, v in h.items() if k != "diverged"}))
  return members


def run_cell(trainer, data, *, name, spec, seeds, hparams, epochs, root, chunk_epochs=1,
             checkpoint_every_s=60.0, masks=None, init_params=None, need_state=False,
             progress=True, mesh=None):
  """Trains (or reads back) one cell; see the module docstring. Returns a CellResult.

  masks / init_params: pytrees with a member axis (pruning masks, starting weights).
  mesh: from sharding.auto_mesh(): members split over devices, or each minibatch split; None: one device.
  """
  n = len(seeds)
  n_train = data["y_train"].shape[0]
  if trainer.batch_size > n_train:
    raise UserError(f"batch_size={trainer.batch_size} is larger than the {n_train} training examples "
                    f"of cell {name}; use a smaller batch_size or more data")
  spec = dict(spec, seeds=list(seeds), hparams=hparams, epochs=epochs,
              data={k: list(v.shape) for k, v in data.items()},
              masks=digest(masks), init_params=digest(init_params))
  cell_dir = pathlib.Path(root) / f"{name}-{fingerprint(spec)}"
  result_path = cell_dir / "result.json"
  v = train.vmapped(trainer)

  def fresh_state():
    """The initial state of the n real members, on the default device."""
    return jax.jit(v.init)(train.keys(seeds), train.stack(hparams), data, masks, init_params)

  def spread(state):
    # Padded members (repeats of the last one) make the member axis divide the mesh.
    return sharding.shard(sharding.pad(state, n, mesh), mesh)

  hist = {k: np.full((n, epochs), np.nan, np.float32) for k in train.History._fields}
  summary = _read_json(result_path)
  if summary is not None:
    summary["reused"] = True
    if not need_state:
      return CellResult(summary, None)
    restored = _restore(_manager(cell_dir / "ckpt"),
                        {"state": fresh_state(), "history": hist}, cell_dir)
    if restored is not None:
      return CellResult(summary, restored["state"])

  cell_dir.mkdir(parents=True, exist_ok=True)
  if sharding.is_main_process():
    results.write_json(cell_dir / "spec.json", spec)
  mngr = _manager(cell_dir / "ckpt")
  state = fresh_state()
  restored = _restore(mngr, {"state": state, "history": hist}, cell_dir)
  done = 0
  if restored is not None:
    hist = {k: np.asarray(a) for k, a in restored["history"].items()}
    state = restored["state"]
    done = int(np.asarray(state.epoch).max())
  resumed_from = done
  state, data = spread(state), sharding.replicate(data, mesh)

  step = jax.jit(v.train, static_argnums=2, donate_argnums=0)
  compiled, compile_s, train_s, last_save = {}, 0.0, 0.0, time.time()
  bar = tqdm(total=epochs, initial=done, desc=name, leave=False, disable=not progress, unit="ep")
  while done < epochs:
    k = min(chunk_epochs, epochs - done)
    if k not in compiled:
      t = time.perf_counter()
      with jax.set_mesh(mesh) if mesh is not None else contextlib.nullcontext():
        compiled[k] = step.lower(state, data, k).compile()
      compile_s += time.perf_counter() - t
    t = time.perf_counter()
    state, h = compiled[k](state, data)
    h = jax.block_until_ready(h)
    train_s += time.perf_counter() - t
    for field, a in zip(train.History._fields, h):
      hist[field][:, done:done + k] = sharding.to_host(a).astype(np.float32)[:n]
    done += k
    curves.append(cell_dir, seeds, hparams, hist, done - k, done)
    bar.update(k)
    if done == epochs or time.time() - last_save > checkpoint_every_s:
      if not (cell_dir / "shapes.json").exists() and sharding.is_main_process():
        results.write_json(cell_dir / "shapes.json",
                           _shapes({"state": sharding.unpad(state, n), "history": hist}))
      mngr.save(done, args=ocp.args.StandardSave({"state": sharding.unpad(state, n), "history": hist}),
                force=True)
      mngr.wait_until_finished()
      last_save = time.time()
  bar.close()

  train_loss, train_acc = jax.jit(v.evaluate)(state.params, data["x_train"], data["y_train"])
  state = sharding.unpad(state, n)
  final_train = (sharding.to_host(train_loss)[:n], sharding.to_host(train_acc)[:n])
  trained = max(1, epochs - resumed_from)
  summary = dict(name=name, spec=spec,
                 members=_member_summaries(seeds, hparams, hist, final_train,
                                                           sharding.to_host(state.diverged)),
                 timing=dict(compile_s=compile_s, train_s=train_s, epochs_trained=epochs - resumed_from,
                             resumed_from_epoch=resumed_from, devices=1 if mesh is None else mesh.size,
                             s_per_model=train_s / n, s_per_model_epoch=train_s / n / trained),
                 reused=False)
  summary = results.clean_json(summary)  # the same numbers a later read-back gives (NaN -> None)
  if sharding.is_main_process():
    results.write_json(result_path, summary)
  return CellResult(summary, state)


def _read_json(path):
  try:
    return json.loads(path.read_text())
  except (OSError, ValueError):
    return None  # missing, torn or unreadable: the cell trains again


def remove(root, name=None):
  """Deletes a cell's (or all cells') checkpoints under root."""
  for d in pathlib.Path(root).glob(f"{name}-*" if name else "*"):
    shutil.rmtree(d, ignore_errors=True)
