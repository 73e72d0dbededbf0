"""Unprocessed arrays as a source gives them, the IDX format Fashion-MNIST comes in, and the two
things done to raw arrays before anything else: stratified subsets and resized images."""
import dataclasses
import struct

import numpy as np

from research.system.errors import UserError


@dataclasses.dataclass(frozen=True)
class Raw:
  """Unprocessed arrays: images float32 in [0, 1] (N x H x W x C), signals N x L x 1."""
  x_train: np.ndarray
  y_train: np.ndarray
  x_test: np.ndarray
  y_test: np.ndarray
  class_names: tuple
  source: str


def read_idx(data, what="IDX data"):
  """Parses IDX bytes (magic 0x0000 08 ndim, big-endian dims, uint8 data)."""
  if len(data) < 4 or data[0] or data[1] or data[2] != 8 or not 1 <= data[3] <= 4:
    raise UserError(f"{what} is not an unsigned-byte IDX file (bad magic number)")
  ndim = data[3]
  if len(data) < 4 + 4 * ndim:
    raise UserError(f"{what} is truncated inside its header")
  dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
  size = int(np.prod(dims))
  body = data[4 + 4 * ndim:]
  if len(body) != size:
    raise UserError(f"{what} holds {len(body)} bytes of data where its header "
                    f"{list(dims)} says {size}: the file is truncated or corrupt")
  return np.frombuffer(body, np.uint8).reshape(dims)


def stratified(y, n, rng):
  """n indices of y in the class proportions of y (largest remainder), sorted."""
  classes, counts = np.unique(y, return_counts=True)
  share = counts * n / len(y)
  take = np.floor(share).astype(int)
  take[np.argsort(take - share)[:n - take.sum()]] += 1
  picked = [rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take)]
  return np.sort(np.concatenate(picked))


def resize_images(x, size):
  """Antialiased bilinear resize of N x H x W x C images to size x size."""
  import jax
  if x.ndim != 4:
    raise UserError(f"resize needs images (N x H x W x C); this dataset has examples of shape {x.shape[1:]}")
  out = [np.asarray(jax.image.resize(c, (len(c), size, size, x.shape[3]), "linear", antialias=True))
         for c in np.array_split(x, max(1, len(x) // 10000))]
  return np.concatenate(out).astype(np.float32)
