"""A table cell: the members of one vmapped training call (seeds x hyperparameters).

  result = run_cell(trainer, data, name="L4-plain", spec={...}, seeds=[0, 1, 2, 3, 4],
                    hparams=[{"learning_rate": 1e-3}] * 5, epochs=10, root=ckpt_dir)

The cell trains in chunks of `chunk_epochs` (a progress bar per chunk),
checkpointing its state with orbax under root/<name>-<identity>/ at most
every `checkpoint_every_s` seconds and at the end. The identity is a hash of
what determines the numbers (see `identity`): the model's and the optimizer's
lowered programs, the data's content, seeds, hyperparameters and the engine's
version; `spec` is only the label that tables and spec.json show. Change anything that changes the numbers and the
cell trains again; change nothing and it is read back. Running it again reads the
finished result back instead of training; a killed run resumes from its last
checkpoint and, because every epoch's shuffle depends only on (seed, epoch),
ends with the same numbers as an uninterrupted one.
"""
import contextlib
import functools
import pathlib
import shutil
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh
from tqdm.auto import tqdm

from research.engine import checkpoints, curves, halving, integrity, sharding, train
from research.engine.identity import (digest, folder_problem, identify, identity, key_of, read_json, seal_numbers,
                                      seal_problem)
from research.engine.summary import Final, Member, Summary, Timing
from research.engine.types import HParams, PathLike, PyTree
from research.system import faults, limits, results
from research.system.errors import UserError, say

__all__ = ["CellResult", "digest", "identity", "key_of", "reported", "run_cell", "seal_numbers"]


class CellResult(NamedTuple):
  summary: Summary  # members' final metrics, per-epoch history, timing
  state: Any        # the final TrainState with a member axis; None if read back without need_state


class _Clock(NamedTuple):
  """Seconds a cell spent, as Timing reports them."""
  identity_s: float = 0.0
  compile_s: float = 0.0
  train_s: float = 0.0
  eval_s: float = 0.0


def reported(v: train.Trainer) -> Any:
  """What a cell reports of each member on a split: its selected (best-validation) parameters and
  model state, evaluated. The same function runs at the end of every cell."""
  def numbers(state, x, y):
    return v.evaluate(train.selected(state), x, y, train.selected_state(state))
  return numbers


def run_cell(trainer: train.Trainer, data: dict, *, name: str, spec: dict, seeds: Sequence[int],
             hparams: Sequence[HParams], epochs: int, root: PathLike, chunk_epochs: int = 1,
             checkpoint_every_s: float = 60.0, masks: PyTree = None, init_params: PyTree = None,
             need_state: bool = False, progress: bool = True, mesh: Mesh | None = None, layout: str | None = None,
             rungs: halving.Rungs | None = None) -> CellResult:
  """Trains (or reads back) one cell; see the module docstring. Returns a CellResult.

  masks / init_params: pytrees with a member axis (pruning masks, starting weights).
  mesh: from sharding.auto_mesh(): members split over devices, or each minibatch split; None: one device.
  layout: how the members share the program (train.LAYOUTS); None: train.choose_layout's
  measured rule (vmap when the members are spread over a mesh).
  rungs: halving.Rungs: after the chunk ending at each rung's epoch, the worse members still training
  stop (successive halving; chunks are cut short to end there).
  """
  n, n_train = len(seeds), data["y_train"].shape[0]
  if trainer.batch_size > n_train:
    raise UserError(f"batch_size={trainer.batch_size} is larger than the {n_train} training examples "
                    f"of cell {name}; use a smaller batch_size or more data")
  t = time.perf_counter()
  cost = trainer.cost(data) if trainer.cost else train.Cost(0.0, 0.0)
  if layout is None:
    layout = "vmap" if mesh is not None else train.choose_layout(cost, patience=trainer.patience)
  key, parts, abstract_state = identify(trainer, data, seeds, hparams, epochs, masks, init_params, layout, rungs)
  clock = _Clock(identity_s=time.perf_counter() - t)
  spec = dict(spec, seeds=list(seeds), hparams=hparams, epochs=epochs,
              data={k: list(v.shape) for k, v in data.items()})
  cell_dir = pathlib.Path(root) / f"{name}-{key}"
  v = train.vmapped(trainer, layout)
  fresh_state = functools.partial(jax.jit(v.init), train.keys(seeds), train.stack(hparams), data, masks,
                                  init_params)
  hist = {k: np.full((n, epochs), np.nan, np.float32) for k in train.History._fields}

  summary = _finished(name, cell_dir, parts, key)
  if summary is not None:
    if not need_state:
      return CellResult(summary, None)
    restored = checkpoints.restore(checkpoints.manager(cell_dir / "ckpt"),
                                   {"state": fresh_state(), "history": hist}, cell_dir)
    if restored is not None:
      return CellResult(summary, restored["state"])

  _check_memory(name, abstract_state, sharding.padded(n, mesh) if mesh else n, trainer.batch_size, data, epochs)
  mngr = _set_up(name, cell_dir, spec, parts)
  state, hist, resumed_from = _resumed(mngr, cell_dir, fresh_state(), hist)
  # Padded members (repeats of the last one) make the member axis divide the mesh.
  state, data = sharding.shard(sharding.pad(state, n, mesh), mesh), sharding.replicate(data, mesh)
  loop = functools.partial(_train_chunks, v, name=name, cell_dir=cell_dir, mngr=mngr, seeds=seeds,
                           hparams=hparams, epochs=epochs, chunk_epochs=chunk_epochs, rungs=rungs, mesh=mesh,
                           checkpoint_every_s=checkpoint_every_s, progress=progress)
  state, hist, done, seal, clock = loop(state, data, hist, resumed_from, clock)

  t = time.perf_counter()
  finals = _evaluated(v, state, data, n)
  clock = clock._replace(eval_s=time.perf_counter() - t)
  state, hist = sharding.unpad(state, n), {k: a[:, :done] for k, a in hist.items()}
  n_val = data["y_val"].shape[0] if "y_val" in data else 0
  flops = _member_epochs(hist, resumed_from, done, layout) * cost.epoch_flops(n_train, trainer.batch_size, n_val)
  timing = _timing(clock, n, resumed_from, done, devices=1 if mesh is None else mesh.size, layout=layout, flops=flops)
  summary = Summary(name, spec, _members(seeds, hparams, hist, finals, state, done), timing, checkpoint=seal)
  return CellResult(_written(summary, cell_dir, name, key), state)


def _timing(clock, n, resumed_from, done, *, devices, layout, flops):
  """The Timing of a cell of n members that trained epochs [resumed_from, done)."""
  trained = max(1, done - resumed_from)
  return Timing(compile_s=clock.compile_s, train_s=clock.train_s, epochs_trained=done - resumed_from,
                resumed_from_epoch=resumed_from, devices=devices, s_per_model=clock.train_s / n,
                s_per_model_epoch=clock.train_s / n / trained, identity_s=clock.identity_s, layout=layout,
                flops=flops, eval_s=clock.eval_s, epochs_run=done)


def _finished(name, cell_dir, parts, key):
  """The cell's sealed Summary (marked reused) when its folder holds one that checks; else None, with the
  folder cleared of whatever cannot be used, saying so in one line."""
  result_path = cell_dir / "result.json"
  problem = folder_problem(cell_dir, parts)
  if problem is not None:  # nothing in it was made for this cell
    say(f"cell {name}: {problem}; training it again from scratch")
    shutil.rmtree(cell_dir, ignore_errors=True)
  summary = _read_summary(result_path)
  if summary is None:
    return None
  problem = seal_problem(read_json(result_path), key)
  if problem is not None and "another cell" in problem:  # its checkpoint is that cell's too
    say(f"cell {name}: {problem}; training it again from scratch")
    shutil.rmtree(cell_dir, ignore_errors=True)
    return None
  if problem is not None:  # never republished: the sealed checkpoint is evaluated again
    say(f"cell {name}: {problem}; evaluating its checkpoint again")
    result_path.unlink(missing_ok=True)
    return None
  problem = integrity.check_cell(cell_dir)
  if problem is not None:  # result.json and its checkpoint disagree: neither is used
    say(f"cell {name}: {problem}; training it again from scratch")
    result_path.unlink(missing_ok=True)
    shutil.rmtree(cell_dir / "ckpt", ignore_errors=True)
    return None
  # A finished cell keeps the sealed step its result.json names; another step folder (a stray
  # copy, a partial save) goes, saying so.
  final = summary.checkpoint["step"]
  stray = checkpoints.keep_only_step(cell_dir / "ckpt", final)
  if stray:
    say(f"cell {name}: checkpoint step {stray[0]} is not the sealed final step {final}; removing it")
  return summary._replace(reused=True)


def _set_up(name, cell_dir, spec, parts):
  """The cell's folder with its spec.json and identity.json, any damaged checkpoint step gone; returns
  its checkpoint manager."""
  with faults.reported(f"setting up cell {name}", cell_dir.parent):
    cell_dir.mkdir(parents=True, exist_ok=True)
    if sharding.is_main_process():
      results.write_json(cell_dir / "spec.json", spec)
      results.write_json(cell_dir / "identity.json", parts)
  checkpoints.drop_damaged(name, cell_dir)
  return checkpoints.manager(cell_dir / "ckpt")


def _resumed(mngr, cell_dir, state, hist):
  """(state, history, epochs done) from the cell's latest checkpoint, or the fresh ones at epoch 0."""
  restored = checkpoints.restore(mngr, {"state": state, "history": hist}, cell_dir)
  if restored is None:
    return state, hist, 0
  state = restored["state"]
  return state, {k: np.asarray(a) for k, a in restored["history"].items()}, int(np.asarray(state.epoch).max())


def _train_chunks(v, state, data, hist, done, clock, *, name, cell_dir, mngr, seeds, hparams, epochs,
                  chunk_epochs, rungs, mesh, checkpoint_every_s, progress):
  """Trains from epoch `done` until every epoch ran or every member stopped, in compiled chunks,
  checkpointing at most every checkpoint_every_s and at the end. (state, hist, done, seal, clock)."""
  n = len(seeds)
  step = jax.jit(v.train, static_argnums=2, donate_argnums=0)
  compiled, last_save, seal = {}, time.time(), None
  bar = tqdm(total=epochs, initial=done, desc=name, leave=False, disable=not progress, unit="ep")

  def finished():
    """Checked between chunks: every epoch done, or every member stopped (patience) or diverged."""
    return done == epochs or bool(np.asarray(sharding.to_host(train.done(state))).all())

  while not finished():
    k = min(chunk_epochs, epochs - done, (halving.next_boundary(rungs, done) or epochs) - done)
    if k not in compiled:
      t = time.perf_counter()
      with jax.set_mesh(mesh) if mesh is not None else contextlib.nullcontext():
        compiled[k] = step.lower(state, data, k).compile()
      clock = clock._replace(compile_s=clock.compile_s + time.perf_counter() - t)
    t = time.perf_counter()
    state, h = compiled[k](state, data)
    h = jax.block_until_ready(h)
    clock = clock._replace(train_s=clock.train_s + time.perf_counter() - t)
    for field, a in zip(train.History._fields, h):
      hist[field][:, done:done + k] = sharding.to_host(a).astype(np.float32)[:n]
    done += k
    curves.append(cell_dir, seeds, hparams, hist, done - k, done)
    bar.update(k)
    if rungs and done in rungs.epochs:
      state = _halve(state, n, rungs.keep)
    if finished() or time.time() - last_save > checkpoint_every_s:
      # Every process unpads: on a multi-host mesh slicing the padded members off is a collective.
      seal = checkpoints.save(mngr, cell_dir, name, done, {"state": sharding.unpad(state, n), "history": hist})
      last_save = time.time()
  bar.close()
  if seal is None and sharding.is_main_process():  # resumed from the final checkpoint itself
    seal = checkpoints.seal(cell_dir, done)
  return state, hist, done, seal, clock


def _evaluated(v, state, data, n):
  """{split_loss, split_acc: per-member arrays} of the selected parameters, evaluated once on each split
  the data has (NaN for the others): the only time the test set is read."""
  evaluate = jax.jit(reported(v))
  finals = {}
  for split in ("train", "val", "test"):
    finals[f"{split}_loss"] = finals[f"{split}_acc"] = np.full(n, np.nan)
  for split in _splits_evaluated(data):
    loss, acc = evaluate(state, data[f"x_{split}"], data[f"y_{split}"])
    finals[f"{split}_loss"], finals[f"{split}_acc"] = (sharding.to_host(a)[:n] for a in (loss, acc))
  return finals


def _written(summary, cell_dir, name, key):
  """The summary as a later read-back gives it (NaN -> None), written sealed to result.json."""
  summary = Summary.from_json(results.clean_json(summary.to_json()))
  if sharding.is_main_process():
    with faults.reported(f"writing the result of cell {name}", cell_dir):
      doc = summary.to_json()
      results.write_json(cell_dir / "result.json", dict(doc, seal=seal_numbers(doc, key)))
  return summary


def _splits_evaluated(data):
  """The splits whose numbers a cell reports (train, val, test, those the data has)."""
  return [split for split in ("train", "val", "test") if f"y_{split}" in data]


def _check_memory(name, abstract_state, members, batch_size, data, epochs):
  one_member = jax.tree.map(lambda a: a.shape[1:], abstract_state.params)
  data_bytes = sum(a.nbytes for a in data.values())
  limits.check_fits(limits.cell_bytes(one_member, members, batch_size, data_bytes, epochs=epochs),
                    f"cell {name}")



def _members(seeds, hparams, hist, finals, state, epochs_done):
  """One Member per seed: the numbers of its selected (best validation) parameters."""
  members = []
  diverged, best_epoch, stopped = (sharding.to_host(a) for a in (state.diverged, state.best_epoch, state.stopped))
  for i, (seed, hp) in enumerate(zip(seeds, hparams)):
    h = {k: v[i] for k, v in hist.items()}
    bad = bool(diverged[i])
    nan_if = lambda x: float("nan") if bad else float(x)
    final = Final(**{k: nan_if(v[i]) for k, v in finals.items()}, diverged=bad,
                  diverged_epoch=int(np.argmax(h["diverged"])) if bad else None,
                  best_epoch=None if bad else int(best_epoch[i]),
                  epochs_run=_epochs_ran(h) if stopped[i] else epochs_done,
                  stopped=bool(stopped[i]))
    members.append(Member(int(seed), hp, final, {k: v.tolist() for k, v in h.items() if k != "diverged"}))
  return tuple(members)


def _epochs_ran(h):
  """Epochs a stopped member trained, from its history (a skipped epoch has neither a training loss nor
  a validation accuracy): best_epoch + patience when patience stopped it, the rung's epoch when
  successive halving did."""
  return int((np.isfinite(h["train_loss"]) | np.isfinite(h["val_acc"])).sum())


def _member_epochs(hist, start, end, layout):
  """Member-epochs the program executed in epochs [start, end): under vmap every member's, stopped
  or not (both branches of the epoch's cond run); under map only the epochs a member ran, which
  are those with a training loss or a validation accuracy (a diverged member's epochs without a
  validation split are missed: an undercount)."""
  ran = np.isfinite(hist["train_loss"][:, start:end]) | np.isfinite(hist["val_acc"][:, start:end])
  return int(ran.sum()) if layout == "map" else ran.shape[0] * (end - start)



def _halve(state, n, keep):
  """The state with the members that successive halving drops marked stopped (of the n real members;
  padding repeats the last one)."""
  stopped = np.asarray(sharding.to_host(state.stopped))
  done = stopped | np.asarray(sharding.to_host(state.diverged))
  drop = halving.cut(np.asarray(sharding.to_host(state.best_val))[:n], done[:n], keep)
  new = stopped.copy()
  new[:n] |= drop
  new[n:] = new[n - 1]
  return state._replace(stopped=jax.device_put(new, state.stopped.sharding))



def _read_summary(path):
  doc = read_json(path)
  try:
    return None if doc is None else Summary.from_json(doc)
  except (KeyError, TypeError):
    return None  # not a cell summary (e.g. `{}`): the cell trains again
