"""{0, 1} masks over any params pytree with a leading member axis, and magnitude pruning with them.

  mask = ones_mask(params_M)                        # keeps everything
  names = layers(params_M)                          # e.g. ["Dense_0", "Dense_1", "Dense_2"] or ["w_DxK"]
  mask = prune(params_M, mask, {names[0]: 0.5})     # half of the first layer's surviving weights go
  mask = prune_below(params_M, mask, {names[1]: 0.7 * layer_std(params_M, mask)[names[1]]})  # Han: q x std
  frac, per_layer = kept(mask)

A prunable weight is a leaf with at least two axes after the member axis (a kernel, `w_DxK`);
biases and other vectors are never pruned. A weight is named by its tree path joined with '/',
without a final "kernel" (so a flax Dense layer is named by its module, "Dense_0", and a composed
model's by its place, "modules/0/Dense_1"). Layers are ordered by that name with its numbers read
as numbers, so "Dense_10" comes after "Dense_2". The engine applies a mask after every step
(research.engine.train), so pruned weights stay exactly zero through training.
"""
import re
from typing import Any

import jax
import numpy as np

from research.engine.types import Array, PyTree


def key_text(key: Any) -> str:
  """One step of a tree path as text: a dict key, a sequence index or an attribute name."""
  for field in ("key", "idx", "name"):
    if hasattr(key, field):
      return str(getattr(key, field))
  return str(key)


def layer_name(path: tuple) -> str:
  steps = [key_text(k) for k in path]
  if len(steps) > 1 and steps[-1] == "kernel":
    steps = steps[:-1]
  return "/".join(steps)


def natural_key(name: str) -> list:
  """'Dense_10' -> ['Dense_', 10, '']: digit runs compare as numbers."""
  return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def is_weight(leaf_M: Array) -> bool:
  """A weight matrix (or bigger) behind the member axis; biases (M x K) are not."""
  return np.ndim(leaf_M) >= 3


def weights(tree_M: PyTree) -> dict[str, int]:
  """{layer name: leaf index in jax.tree.leaves order} of the prunable leaves, input to output."""
  leaves = jax.tree_util.tree_flatten_with_path(tree_M)[0]
  found = {layer_name(path): i for i, (path, leaf) in enumerate(leaves) if is_weight(leaf)}
  return {name: found[name] for name in sorted(found, key=natural_key)}


def layers(tree_M: PyTree) -> list[str]:
  """The prunable layers' names, input to output."""
  return list(weights(tree_M))


def ones_mask(params_M: PyTree) -> PyTree:
  return jax.tree.map(lambda p: np.ones(p.shape, np.float32), params_M)


def prune_rows(w_MxN: np.ndarray, m_MxN: np.ndarray, rate: float) -> None:
  """In place, per member: zeroes exactly round(rate * kept) of the still-kept entries of m, those
  with the smallest |w| (of equal ones, the first in row-major order)."""
  for i in range(w_MxN.shape[0]):
    k = int(round(rate * int(m_MxN[i].sum())))
    order = np.argsort(np.where(m_MxN[i] > 0, w_MxN[i], np.inf), axis=None, kind="stable")
    m_MxN[i].reshape(-1)[order[:k]] = 0.0


def prune(params_M: PyTree, mask_M: PyTree, rates: dict[str, float]) -> PyTree:
  """A new mask: in each layer named in `rates`, per member, removes that fraction of the still-kept
  weights with the smallest magnitude. Exactly round(rate * kept) go."""
  where = weights(params_M)
  unknown = [name for name in rates if name not in where]
  if unknown:
    raise ValueError(f"no prunable layer {unknown}; the layers are {list(where)}")
  params, mask = jax.tree.leaves(params_M), jax.tree.leaves(mask_M)
  new = [np.array(m, np.float32) for m in mask]
  for name, rate in rates.items():
    i = where[name]
    prune_rows(np.abs(np.asarray(params[i], np.float32)), new[i], rate)
  return jax.tree.unflatten(jax.tree.structure(mask_M), new)


def kept(mask_M: PyTree) -> tuple[float, dict[str, float]]:
  """(fraction of all prunable weights kept, {layer: fraction kept}), over members (they are equal)."""
  leaves = jax.tree.leaves(mask_M)
  per_leaf = {name: leaves[i] for name, i in weights(mask_M).items()}
  per = {name: float(np.mean(m, dtype=np.float64)) for name, m in per_leaf.items()}
  total = sum(m[0].size for m in per_leaf.values())
  frac = sum(float(np.sum(m, dtype=np.float64)) / m.shape[0] for m in per_leaf.values()) / total
  return frac, per


def exact_zeros(params_M: PyTree, mask_M: PyTree) -> bool:
  """True if every masked-out weight of every member is exactly 0.0."""
  return bool(all(np.all(np.asarray(p)[np.asarray(m) == 0] == 0.0)
                  for p, m in zip(jax.tree.leaves(params_M), jax.tree.leaves(mask_M))))


# ----------------------------------------------------------------------------
# Per-layer thresholds, random masks and counts (per member: a leading member axis throughout)

def _layer_leaves(tree_M):
  """{layer name: leaf} of the prunable leaves, input to output."""
  leaves = jax.tree.leaves(tree_M)
  return {name: leaves[i] for name, i in weights(tree_M).items()}


def layer_std(params_M: PyTree, mask_M: PyTree) -> dict[str, np.ndarray]:
  """{layer: (M,) the standard deviation of each member's surviving weights in that layer}."""
  out = {}
  for name, w in _layer_leaves(params_M).items():
    w_MxN = np.asarray(w, np.float64).reshape(w.shape[0], -1)
    keep_MxN = np.asarray(_layer_leaves(mask_M)[name]).reshape(w.shape[0], -1) > 0
    out[name] = np.array([np.std(w_MxN[i][keep_MxN[i]]) if keep_MxN[i].any() else 0.0
                          for i in range(w.shape[0])])
  return out


def prune_below(params_M: PyTree, mask_M: PyTree, thresholds: dict) -> PyTree:
  """A new mask: in each layer named in `thresholds` ({layer: (M,) or a number}), every kept weight
  whose magnitude is below the member's threshold goes (Han et al.'s rule; a weight at the
  threshold stays)."""
  where = weights(params_M)
  unknown = [name for name in thresholds if name not in where]
  if unknown:
    raise ValueError(f"no prunable layer {unknown}; the layers are {list(where)}")
  params, mask = jax.tree.leaves(params_M), jax.tree.leaves(mask_M)
  new = [np.array(m, np.float32) for m in mask]
  for name, threshold in thresholds.items():
    i = where[name]
    w = np.abs(np.asarray(params[i], np.float32))
    t_M = np.broadcast_to(np.asarray(threshold, np.float32), (w.shape[0],))
    below = w < t_M.reshape((-1,) + (1,) * (w.ndim - 1))
    new[i][below] = 0.0
  return jax.tree.unflatten(jax.tree.structure(mask_M), new)


def random_like(mask_M: PyTree, seed: int) -> PyTree:
  """A mask with the same number of kept weights as mask_M in every layer of every member, at
  uniformly random places (numpy's generator from `seed`); biases and other vectors are kept."""
  rng = np.random.default_rng(seed)
  leaves = [np.array(m, np.float32) for m in jax.tree.leaves(mask_M)]
  for i in weights(mask_M).values():
    m = leaves[i]
    for member in range(m.shape[0]):
      n_kept = int(m[member].sum())
      flat = np.zeros(m[member].size, np.float32)
      flat[rng.choice(flat.size, n_kept, replace=False)] = 1.0
      m[member] = flat.reshape(m[member].shape)
  return jax.tree.unflatten(jax.tree.structure(mask_M), leaves)


def kept_counts(mask_M: PyTree) -> dict[str, np.ndarray]:
  """{layer: (M,) weights each member's mask keeps}."""
  return {name: np.asarray(m).reshape(m.shape[0], -1).sum(1).astype(int) for name, m in _layer_leaves(mask_M).items()}


def nonzero_counts(params_M: PyTree) -> dict[str, np.ndarray]:
  """{layer: (M,) weights of each member that are not exactly 0.0}: sparsity read off the parameters."""
  return {name: np.count_nonzero(np.asarray(w).reshape(w.shape[0], -1), axis=1)
          for name, w in _layer_leaves(params_M).items()}


def layer_sizes(tree_M: PyTree) -> dict[str, int]:
  """{layer: weights per member}."""
  return {name: int(np.prod(w.shape[1:])) for name, w in _layer_leaves(tree_M).items()}


def members(tree_M: PyTree, start: int, stop: int) -> PyTree:
  """Members start..stop-1 of a tree with a member axis (one group of a cell's members)."""
  return jax.tree.map(lambda a: a[start:stop], tree_M)


def concat(*trees_M: PyTree) -> PyTree:
  """Trees with a member axis, one after another along it (groups into one cell's members)."""
  return jax.tree.map(lambda *a: np.concatenate([np.asarray(x) for x in a]), *trees_M)


def keep_largest(params_M: PyTree, counts: dict) -> PyTree:
  """A mask keeping, in each layer named in `counts` ({layer: (M,) int}), each member's that many
  weights of largest magnitude (of equal ones, the first in row-major order); other layers whole."""
  where = weights(params_M)
  leaves = jax.tree.leaves(params_M)
  new = [np.ones(np.shape(p), np.float32) for p in leaves]
  for name, count_M in counts.items():
    i = where[name]
    w_MxN = np.abs(np.asarray(leaves[i], np.float32)).reshape(np.shape(leaves[i])[0], -1)
    m_MxN = new[i].reshape(w_MxN.shape)
    for member, n_keep in enumerate(np.asarray(count_M, int)):
      order = np.argsort(-w_MxN[member], kind="stable")
      m_MxN[member, order[n_keep:]] = 0.0
  return jax.tree.unflatten(jax.tree.structure(params_M), new)
