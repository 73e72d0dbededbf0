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
import hashlib
import json
import os
import pathlib
import shutil
import sys
import time
from typing import Any, NamedTuple

import jax
import numpy as np
import orbax.checkpoint as ocp
from tqdm.auto import tqdm

from research.engine import curves, halving, integrity, programs, sharding, train
from research.system import faults, limits, results
from research.engine.summary import Final, Member, Summary, Timing
from research.system.errors import UserError


class CellResult(NamedTuple):
  summary: Summary  # members' final metrics, per-epoch history, timing
  state: Any        # the final TrainState with a member axis; None if read back without need_state


# id(array) -> (array, hash): an experiment hands the same data arrays to many cells; holding the
# array keeps its id from being reused by another.
_ARRAY_HASHES = {}


def _content_hash(a):
  host = np.ascontiguousarray(sharding.to_host(a))
  return hashlib.sha1(f"{host.dtype}{host.shape}".encode() + host.tobytes()).hexdigest()[:16]


def _array_hash(a):
  """_content_hash, once per data array a process hands to its cells."""
  hit = _ARRAY_HASHES.get(id(a))
  if hit is not None and hit[0] is a:
    return hit[1]
  value = _content_hash(a)
  if len(_ARRAY_HASHES) > 64:
    _ARRAY_HASHES.pop(next(iter(_ARRAY_HASHES)))
  _ARRAY_HASHES[id(a)] = (a, value)
  return value


def digest(tree):
  """A short hash of a pytree's values: cells that start from other masks or weights are other cells."""
  if tree is None:
    return None
  # Not cached: masks and starting weights are new arrays for every cell.
  return hashlib.sha1("".join(_content_hash(leaf) for leaf in jax.tree.leaves(tree)).encode()).hexdigest()[:16]


_program_hash = programs.program_hash


# Bumped by hand when a change to the engine alters a number a cell reports: tests/test_golden.py
# fails until it is (and its stored numbers are renewed with it). The engine (the epoch loop,
# selection, the stopping rule, halving, what result.json records) is not hashed: a refactor that
# keeps every number retrains nothing.
ENGINE_VERSION = 1


def reported(v):
  """What a cell reports of each member on a split: its selected (best-validation) parameters and
  model state, evaluated. The same function runs at the end of every cell."""
  def numbers(state, x, y):
    return v.evaluate(train.selected(state), x, y, train.selected_state(state))
  return numbers


def identity(trainer, data, *, seeds, hparams, epochs, masks=None, init_params=None, layout="vmap", rungs=None):
  """What determines a cell's numbers, hashed: {part: hash} and the combined key.

  The cell's inputs: the trainer's signature (train.Trainer.signature: the model's own lowered init,
  loss with its gradient and evaluation, the optimizer's and the schedule's programs, batch size,
  stopping rule), the data, masks and starting weights by content, seeds, hyperparameter values and
  epochs by value, the member layout (it changes the rounding), halving rungs when given, and the
  JAX version, backend and XLA_FLAGS (when set), because another compiler may round otherwise.
  The engine itself enters as ENGINE_VERSION, held to its numbers by tests/test_golden.py. A trainer
  without a signature (one built by hand) is identified by its lowered init and training epoch.
  """
  return _identify(trainer, data, seeds, hparams, epochs, masks, init_params, layout, rungs)[:2]


def _identify(trainer, data, seeds, hparams, epochs, masks, init_params, layout, rungs=None):
  """(key, parts, the abstract initial state)."""
  v = train.vmapped(trainer, layout)
  # Lowered from shapes and dtypes alone: where an input array lives (a restored checkpoint's
  # arrays carry another sharding than freshly trained ones) must not change the identity.
  args = jax.tree.map(lambda a: jax.ShapeDtypeStruct(np.shape(a), jax.numpy.result_type(a)),
                      (train.keys(seeds), train.stack(hparams), data, masks, init_params))
  abstract_state = jax.eval_shape(v.init, *args)
  if trainer.signature is not None:
    made = dict(trainer=trainer.signature(args[2]))
  else:
    step = jax.jit(v.train, static_argnums=2).lower(abstract_state, args[2], 1)
    made = dict(init_program=_program_hash(jax.jit(v.init).lower(*args)), train_program=_program_hash(step))
  parts = dict(engine=ENGINE_VERSION, **made, layout=layout,
               data={k: _array_hash(a) for k, a in sorted(data.items())},
               masks=digest(masks), init_params=digest(init_params),
               seeds=[int(s) for s in seeds], hparams=results.clean_json(hparams), epochs=int(epochs),
               jax=jax.__version__, backend=jax.default_backend())
  if os.environ.get("XLA_FLAGS"):  # compiler settings (XNNPACK kernels, fast math) may round otherwise
    parts["xla_flags"] = os.environ["XLA_FLAGS"]
  if rungs:
    parts["rungs"] = rungs.to_json()
  return key_of(parts), parts, abstract_state


def _splits_evaluated(data):
  """The splits whose numbers a cell reports (train, val, test, those the data has)."""
  return [split for split in ("train", "val", "test") if f"y_{split}" in data]


def key_of(parts):
  """The identity key of a cell's parts (its folder's suffix)."""
  return hashlib.sha1(json.dumps(results.clean_json(parts), sort_keys=True).encode()).hexdigest()[:12]


def seal_numbers(summary_json, key):
  """result.json's seal: the digest of its numbers and the identity they were computed for."""
  return {"identity": key, "numbers": results.digest_json({k: v for k, v in summary_json.items() if k != "seal"})}


def _seal_problem(doc, key):
  """None if a result.json dict carries a seal that matches its numbers and this cell; else why not."""
  seal = doc.get("seal") if isinstance(doc, dict) else None
  if not isinstance(seal, dict):
    return "its result.json carries no seal"
  if seal.get("identity") != key:
    return "its result.json was computed for another cell"
  if seal != seal_numbers(doc, key):
    return "its result.json's numbers do not match their seal (edited after they were written?)"
  return None


def _folder_problem(cell_dir, parts):
  """None if cell_dir was made for the cell of these parts (or holds no identity yet); else why not."""
  path = cell_dir / "identity.json"
  if not path.exists():  # written before anything else: a folder with work in it but none is not this cell's
    made = (cell_dir / "result.json").exists() or integrity.steps(cell_dir / "ckpt")
    return "its folder holds work but no identity.json (copied in from another cell?)" if made else None
  held = _read_json(path)
  if held != results.clean_json(parts):
    return "its folder holds another cell's identity.json (copied in from another cell?)"
  return None


def _say(line):
  """A one-line notice on stderr (progress bars use stdout)."""
  print(line, file=sys.stderr, flush=True)


def _check_memory(name, abstract_state, members, batch_size, data, epochs):
  one_member = jax.tree.map(lambda a: a.shape[1:], abstract_state.params)
  data_bytes = sum(a.nbytes for a in data.values())
  limits.check_fits(limits.cell_bytes(one_member, members, batch_size, data_bytes, epochs=epochs),
                    f"cell {name}")


def _keep_only_step(ckpt, keep):
  """Removes every checkpoint step folder but `keep` (None: all), so that orbax can never pick one;
  returns the steps removed."""
  gone = [s for s in integrity.steps(ckpt) if s != keep]
  for s in gone:
    shutil.rmtree(ckpt / str(s), ignore_errors=True)
  return gone


def _verified_checkpoint(name, cell_dir):
  """Deletes checkpoint steps that fail their integrity check, saying so in one line; a damaged
  checkpoint is never restored."""
  good, problems = integrity.verified_latest_step(cell_dir / "ckpt")
  if problems:
    _say(f"cell {name}: {problems[0]}; " + (f"resuming from epoch {good} instead" if good is not None
                                             else "training it from scratch"))
    _keep_only_step(cell_dir / "ckpt", good)


def _manager(path):
  # max_to_keep=None: orbax deletes no step; the cell removes the previous step itself once the new one
  # is sealed (_seal), so a kill between orbax's commit and the seal leaves a sealed step to resume from.
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


def _restore(mngr, target, cell_dir):
  step = mngr.latest_step()
  if step is None:
    return None
  saved = _read_json(pathlib.Path(cell_dir) / "shapes.json")
  if saved is not None and saved != results.clean_json(_shapes(target)):
    raise UserError(f"the checkpoint in {cell_dir} was written for a model of other shapes; "
                    "delete that folder to train the cell again")
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, _on_disk(target))
  try:
    return _off_disk(mngr.restore(step, args=ocp.args.StandardRestore(abstract)))
  except Exception as e:  # noqa: BLE001 - orbax raises many types for a mismatched tree
    raise UserError(f"the checkpoint in {cell_dir} does not fit this model ({type(e).__name__}); "
                    f"delete that folder to train the cell again") from e


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


def run_cell(trainer, data, *, name, spec, seeds, hparams, epochs, root, chunk_epochs=1,
             checkpoint_every_s=60.0, masks=None, init_params=None, need_state=False,
             progress=True, mesh=None, layout=None, rungs=None):
  """Trains (or reads back) one cell; see the module docstring. Returns a CellResult.

  masks / init_params: pytrees with a member axis (pruning masks, starting weights).
  mesh: from sharding.auto_mesh(): members split over devices, or each minibatch split; None: one device.
  layout: how the members share the program (train.LAYOUTS); None: train.choose_layout's
  measured rule (vmap when the members are spread over a mesh).
  rungs: halving.Rungs: after the chunk ending at each rung's epoch, the worse members still training
  stop (successive halving; chunks are cut short to end there).
  """
  n = len(seeds)
  n_train = data["y_train"].shape[0]
  if trainer.batch_size > n_train:
    raise UserError(f"batch_size={trainer.batch_size} is larger than the {n_train} training examples "
                    f"of cell {name}; use a smaller batch_size or more data")
  t_identity = time.perf_counter()
  cost = trainer.cost(data) if trainer.cost else train.Cost(0.0, 0.0)
  if layout is None:
    layout = "vmap" if mesh is not None else train.choose_layout(cost, patience=trainer.patience)
  key, parts, abstract_state = _identify(trainer, data, seeds, hparams, epochs, masks, init_params, layout, rungs)
  identity_s = time.perf_counter() - t_identity
  spec = dict(spec, seeds=list(seeds), hparams=hparams, epochs=epochs,
              data={k: list(v.shape) for k, v in data.items()})
  cell_dir = pathlib.Path(root) / f"{name}-{key}"
  result_path = cell_dir / "result.json"
  v = train.vmapped(trainer, layout)

  def fresh_state():
    """The initial state of the n real members, on the default device."""
    return jax.jit(v.init)(train.keys(seeds), train.stack(hparams), data, masks, init_params)

  def spread(state):
    # Padded members (repeats of the last one) make the member axis divide the mesh.
    return sharding.shard(sharding.pad(state, n, mesh), mesh)

  hist = {k: np.full((n, epochs), np.nan, np.float32) for k in train.History._fields}
  problem = _folder_problem(cell_dir, parts)
  if problem is not None:  # nothing in it was made for this cell
    _say(f"cell {name}: {problem}; training it again from scratch")
    shutil.rmtree(cell_dir, ignore_errors=True)
  summary = _read_summary(result_path)
  if summary is not None:
    problem = _seal_problem(_read_json(result_path), key)
    if problem is not None and "another cell" in problem:  # its checkpoint is that cell's too
      _say(f"cell {name}: {problem}; training it again from scratch")
      shutil.rmtree(cell_dir, ignore_errors=True)
      summary = None
    elif problem is not None:  # never republished: the sealed checkpoint is evaluated again
      _say(f"cell {name}: {problem}; evaluating its checkpoint again")
      result_path.unlink(missing_ok=True)
      summary = None
  if summary is not None:
    problem = integrity.check_cell(cell_dir)
    if problem is not None:  # result.json and its checkpoint disagree: neither is used
      _say(f"cell {name}: {problem}; training it again from scratch")
      result_path.unlink(missing_ok=True)
      shutil.rmtree(cell_dir / "ckpt", ignore_errors=True)
      summary = None
  if summary is not None:
    # A finished cell keeps the sealed step its result.json names; another step folder (a stray
    # copy, a partial save) goes, saying so.
    final = summary.checkpoint["step"]
    stray = _keep_only_step(cell_dir / "ckpt", final)
    if stray:
      _say(f"cell {name}: checkpoint step {stray[0]} is not the sealed final step {final}; removing it")
    summary = summary._replace(reused=True)
    if not need_state:
      return CellResult(summary, None)
    restored = _restore(_manager(cell_dir / "ckpt"),
                        {"state": fresh_state(), "history": hist}, cell_dir)
    if restored is not None:
      return CellResult(summary, restored["state"])

  _check_memory(name, abstract_state, sharding.padded(n, mesh) if mesh else n, trainer.batch_size, data, epochs)
  with faults.reported(f"setting up cell {name}", cell_dir.parent):
    cell_dir.mkdir(parents=True, exist_ok=True)
    if sharding.is_main_process():
      results.write_json(cell_dir / "spec.json", spec)
      results.write_json(cell_dir / "identity.json", parts)
  _verified_checkpoint(name, cell_dir)
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
  compiled, compile_s, train_s, last_save, seal = {}, 0.0, 0.0, time.time(), None
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
    if rungs and done in rungs.epochs:
      state = _halve(state, n, rungs.keep)
    if finished() or time.time() - last_save > checkpoint_every_s:
      # Every process unpads: on a multi-host mesh slicing the padded members off is a collective.
      saved = {"state": sharding.unpad(state, n), "history": hist}
      if not (cell_dir / "shapes.json").exists() and sharding.is_main_process():
        results.write_json(cell_dir / "shapes.json", _shapes(saved))
      # Orbax hands a full disk on as a ValueError (RESOURCE_EXHAUSTED) and logs it through absl too.
      with faults.reported(f"saving a checkpoint of cell {name}", cell_dir, _nbytes(saved), quiet=("absl",),
                           hush=True):
        mngr.save(done, args=ocp.args.StandardSave(_on_disk(saved)), force=True)
        mngr.wait_until_finished()
        if sharding.is_main_process():
          seal = _seal(cell_dir, done)
      last_save = time.time()
  bar.close()
  if seal is None and sharding.is_main_process():  # resumed from the final checkpoint itself
    seal = _seal(cell_dir, done)

  # The selected parameters, evaluated once on each split: the only time the test set is read.
  t = time.perf_counter()
  finals = {}
  evaluate = jax.jit(reported(v))
  for split in ("train", "val", "test"):
    finals[f"{split}_loss"] = finals[f"{split}_acc"] = np.full(n, np.nan)
  for split in _splits_evaluated(data):
    loss, acc = evaluate(state, data[f"x_{split}"], data[f"y_{split}"])
    finals[f"{split}_loss"], finals[f"{split}_acc"] = (sharding.to_host(a)[:n] for a in (loss, acc))
  eval_s = time.perf_counter() - t
  state = sharding.unpad(state, n)
  hist = {k: a[:, :done] for k, a in hist.items()}
  trained = max(1, done - resumed_from)
  n_val = data["y_val"].shape[0] if "y_val" in data else 0
  flops = _member_epochs(hist, resumed_from, done, layout) * cost.epoch_flops(n_train, trainer.batch_size, n_val)
  members = _members(seeds, hparams, hist, finals, state, done)
  summary = Summary(name, spec, members,
                    Timing(compile_s=compile_s, train_s=train_s, epochs_trained=done - resumed_from,
                           resumed_from_epoch=resumed_from, devices=1 if mesh is None else mesh.size,
                           s_per_model=train_s / n, s_per_model_epoch=train_s / n / trained,
                           identity_s=identity_s, layout=layout, flops=flops, eval_s=eval_s,
                           epochs_run=done), checkpoint=seal)
  # The same numbers a later read-back gives (NaN -> None).
  summary = Summary.from_json(results.clean_json(summary.to_json()))
  if sharding.is_main_process():
    with faults.reported(f"writing the result of cell {name}", cell_dir):
      doc = summary.to_json()
      results.write_json(result_path, dict(doc, seal=seal_numbers(doc, key)))
  return CellResult(summary, state)


def _nbytes(tree):
  """Bytes of a pytree's arrays: about what one checkpoint of it takes on disk."""
  return sum(int(np.asarray(getattr(leaf, "nbytes", 0))) for leaf in jax.tree.leaves(tree))


def _seal(cell_dir, step):
  """Seals checkpoint `step`, then removes every other step: the previous one stays until this one
  checks, so no kill leaves the cell without a sealed checkpoint."""
  seal = integrity.seal_cell(cell_dir / "ckpt", step)
  _keep_only_step(cell_dir / "ckpt", step)
  return seal


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


def _read_json(path):
  try:
    return json.loads(path.read_text())
  except (OSError, ValueError):
    return None  # missing, torn or unreadable: the cell trains again


def _read_summary(path):
  doc = _read_json(path)
  try:
    return None if doc is None else Summary.from_json(doc)
  except (KeyError, TypeError):
    return None  # not a cell summary (e.g. `{}`): the cell trains again
