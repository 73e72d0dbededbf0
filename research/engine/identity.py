"""A cell's identity: what determines its numbers, hashed, and the seal that ties result.json to it.

  key, parts = identity(trainer, data, seeds=[0, 1], hparams=[{"learning_rate": 1e-3}] * 2, epochs=10)

The key names the cell's folder (root/<name>-<key>/); parts is identity.json. The engine itself
enters only as ENGINE_VERSION, so a refactor that keeps every number retrains nothing.
"""
import hashlib
import json
import os
import pathlib
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from research.engine import halving, integrity, programs, sharding, train
from research.engine.types import Data, HParams, PyTree
from research.system import results

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


def digest(tree: PyTree) -> str | None:
  """A short hash of a pytree's values: cells that start from other masks or weights are other cells."""
  if tree is None:
    return None
  # Not cached: masks and starting weights are new arrays for every cell.
  return hashlib.sha1("".join(_content_hash(leaf) for leaf in jax.tree.leaves(tree)).encode()).hexdigest()[:16]


# Bumped by hand when a change to the engine alters a number a cell reports: tests/test_golden.py
# fails until it is (and its stored numbers are renewed with it). The engine (the epoch loop,
# selection, the stopping rule, halving, what result.json records) is not hashed: a refactor that
# keeps every number retrains nothing.
ENGINE_VERSION = 1


def identity(trainer: train.Trainer, data: Data, *, seeds: Sequence[int], hparams: Sequence[HParams], epochs: int,
             masks: PyTree = None, init_params: PyTree = None, layout: str = "vmap",
             rungs: halving.Rungs | None = None) -> tuple[str, dict]:
  """What determines a cell's numbers, hashed: {part: hash} and the combined key.

  The cell's inputs: the trainer's signature (train.Trainer.signature: the model's own lowered init,
  loss with its gradient and evaluation, the optimizer's and the schedule's programs, batch size,
  stopping rule), the data, masks and starting weights by content, seeds, hyperparameter values and
  epochs by value, the member layout (it changes the rounding), halving rungs when given, and the
  JAX version, backend and XLA_FLAGS (when set), because another compiler may round otherwise.
  The engine itself enters as ENGINE_VERSION, held to its numbers by tests/test_golden.py. A trainer
  without a signature (one built by hand) is identified by its lowered init and training epoch.
  """
  return identify(trainer, data, seeds, hparams, epochs, masks, init_params, layout, rungs)[:2]


def identify(trainer: train.Trainer, data: Data, seeds: Sequence[int], hparams: Sequence[HParams], epochs: int,
             masks: PyTree, init_params: PyTree, layout: str,
             rungs: halving.Rungs | None = None) -> tuple[str, dict, PyTree]:
  """(key, parts, the abstract initial state): identity's key and parts, and the shapes of the state
  the cell starts from (lowered once for both)."""
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
    made = dict(init_program=programs.program_hash(jax.jit(v.init).lower(*args)),
                train_program=programs.program_hash(step))
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



def key_of(parts: dict) -> str:
  """The identity key of a cell's parts (its folder's suffix)."""
  return hashlib.sha1(json.dumps(results.clean_json(parts), sort_keys=True).encode()).hexdigest()[:12]


def seal_numbers(summary_json: dict, key: str) -> dict:
  """result.json's seal: the digest of its numbers and the identity they were computed for."""
  return {"identity": key, "numbers": results.digest_json({k: v for k, v in summary_json.items() if k != "seal"})}


def seal_problem(doc: Any, key: str) -> str | None:
  """None if a result.json dict carries a seal that matches its numbers and this cell; else why not."""
  seal = doc.get("seal") if isinstance(doc, dict) else None
  if not isinstance(seal, dict):
    return "its result.json carries no seal"
  if seal.get("identity") != key:
    return "its result.json was computed for another cell"
  if seal != seal_numbers(doc, key):
    return "its result.json's numbers do not match their seal (edited after they were written?)"
  return None


def folder_problem(cell_dir: pathlib.Path, parts: dict) -> str | None:
  """None if cell_dir was made for the cell of these parts (or holds no identity yet); else why not."""
  path = cell_dir / "identity.json"
  if not path.exists():  # written before anything else: a folder with work in it but none is not this cell's
    made = (cell_dir / "result.json").exists() or integrity.steps(cell_dir / "ckpt")
    return "its folder holds work but no identity.json (copied in from another cell?)" if made else None
  held = read_json(path)
  if held != results.clean_json(parts):
    return "its folder holds another cell's identity.json (copied in from another cell?)"
  return None



def read_json(path: pathlib.Path) -> Any:
  """The JSON document at path, or None when it is missing, torn or unreadable (the cell trains again)."""
  try:
    return json.loads(path.read_text())
  except (OSError, ValueError):
    return None
