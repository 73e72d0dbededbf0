"""{0, 1} masks over any params pytree with a leading member axis, and magnitude pruning with them.

  mask = ones_mask(params_M)                        # keeps everything
  names = layers(params_M)                          # e.g. ["Dense_0", "Dense_1", "Dense_2"] or ["w_DxK"]
  mask = prune(params_M, mask, {names[0]: 0.5})     # half of the first layer's surviving weights go
  frac, per_layer = kept(mask)

A prunable weight is a leaf with at least two axes after the member axis (a kernel, `w_DxK`);
biases and other vectors are never pruned. A weight is named by its tree path joined with '/',
without a final "kernel" (so a flax Dense layer is named by its module, "Dense_0", and a composed
model's by its place, "modules/0/Dense_1"). Layers are ordered by that name with its numbers read
as numbers, so "Dense_10" comes after "Dense_2". The engine applies a mask after every step
(research.train), so pruned weights stay exactly zero through training.
"""
import re

import jax
import numpy as np


def key_text(key):
  """One step of a tree path as text: a dict key, a sequence index or an attribute name."""
  for field in ("key", "idx", "name"):
    if hasattr(key, field):
      return str(getattr(key, field))
  return str(key)


def layer_name(path):
  steps = [key_text(k) for k in path]
  if len(steps) > 1 and steps[-1] == "kernel":
    steps = steps[:-1]
  return "/".join(steps)


def natural_key(name):
  """'Dense_10' -> ['Dense_', 10, '']: digit runs compare as numbers."""
  return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def is_weight(leaf_M):
  """A weight matrix (or bigger) behind the member axis; biases (M x K) are not."""
  return np.ndim(leaf_M) >= 3


def weights(tree_M):
  """{layer name: leaf index in jax.tree.leaves order} of the prunable leaves, input to output."""
  leaves = jax.tree_util.tree_flatten_with_path(tree_M)[0]
  found = {layer_name(path): i for i, (path, leaf) in enumerate(leaves) if is_weight(leaf)}
  return {name: found[name] for name in sorted(found, key=natural_key)}


def layers(tree_M):
  """The prunable layers' names, input to output."""
  return list(weights(tree_M))


def ones_mask(params_M):
  return jax.tree.map(lambda p: np.ones(p.shape, np.float32), params_M)


def prune_rows(w_MxN, m_MxN, rate):
  """In place, per member: zeroes exactly round(rate * kept) of the still-kept entries of m, those
  with the smallest |w| (of equal ones, the first in row-major order)."""
  for i in range(w_MxN.shape[0]):
    k = int(round(rate * int(m_MxN[i].sum())))
    order = np.argsort(np.where(m_MxN[i] > 0, w_MxN[i], np.inf), axis=None, kind="stable")
    m_MxN[i].reshape(-1)[order[:k]] = 0.0


def prune(params_M, mask_M, rates):
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


def kept(mask_M):
  """(fraction of all prunable weights kept, {layer: fraction kept}), over members (they are equal)."""
  leaves = jax.tree.leaves(mask_M)
  per_leaf = {name: leaves[i] for name, i in weights(mask_M).items()}
  per = {name: float(np.mean(m, dtype=np.float64)) for name, m in per_leaf.items()}
  total = sum(m[0].size for m in per_leaf.values())
  frac = sum(float(np.sum(m, dtype=np.float64)) / m.shape[0] for m in per_leaf.values()) / total
  return frac, per


def exact_zeros(params_M, mask_M):
  """True if every masked-out weight of every member is exactly 0.0."""
  return bool(all(np.all(np.asarray(p)[np.asarray(m) == 0] == 0.0)
                  for p, m in zip(jax.tree.leaves(params_M), jax.tree.leaves(mask_M))))
