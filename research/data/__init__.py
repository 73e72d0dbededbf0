"""Datasets by name, as numpy arrays with train/test (and validation) splits.

  ds = load("fashion_mnist", resize=16, val_size=5000, n_train=4000, seed=0)
  ds.x_train  # float32 N x H x W x C, standardized with the training mean/std

Names: fashion_mnist, digits, mnist, mnist16, mnist1d, mnist1d_shuffled, tfds:NAME, and the synthetic
sawtooth:K and paper_cut:F (optionally :SEED, the data seed; 0 by default).
fashion_mnist and tfds:NAME come through tensorflow-datasets (research/data/tfds_data.py);
the IDX reader (research/data/sources.py) finds and verifies Fashion-MNIST's files and is the fallback.
The synthetic sets are generated, never downloaded or cached: a pure function of their
parameters and the data seed.
`load_raw(name)` gives the unprocessed arrays (images in [0, 1]) for builders
that derive their own labels (experiments/modular/ does).

RESEARCH_PERMUTE_TEST_LABELS=SEED permutes every dataset's test labels (a fixed
permutation per seed): the protocol's audit. No experiment may decide anything on
the test set, so every selection in its results.json (best epochs, learning rates,
depths, rows) must come out the same; only the test numbers change
(tests/test_registry.py checks it for every registered experiment).
"""
import contextlib
import dataclasses
import difflib
import functools
import hashlib
import os
import sys
import zlib

import numpy as np

from research.data import sources, synthetic, tfds_data
from research.data.raw import Raw, resize_images, stratified
from research.system import paths
from research.system.errors import UserError, say


@dataclasses.dataclass(frozen=True)
class Dataset:
  name: str
  x_train: np.ndarray
  y_train: np.ndarray
  x_test: np.ndarray
  y_test: np.ndarray
  x_val: np.ndarray
  y_val: np.ndarray
  class_names: tuple
  source: str
  idx_train: np.ndarray  # rows of the raw training set kept in x_train
  x_mean: float = 0.0    # every split is (raw - x_mean) / x_std: the training set's mean and std
  x_std: float = 1.0

  @property
  def num_classes(self):
    return len(self.class_names)

  @property
  def shape(self):
    return tuple(self.x_train.shape[1:])

  def arrays(self):
    """The arrays the engine trains on; validation only when there is one."""
    out = dict(x_train=self.x_train, y_train=self.y_train,
               x_test=self.x_test, y_test=self.y_test)
    if len(self.y_val):
      out.update(x_val=self.x_val, y_val=self.y_val)
    return out

  def standardize(self, x_raw):
    """Raw inputs (e.g. points of [0, 1] for the sawtooth) as the engine sees this dataset's."""
    return ((np.asarray(x_raw, np.float64) - self.x_mean) / self.x_std).astype(np.float32)

  def describe(self):
    return dict(name=self.name, shape=list(self.shape), num_classes=self.num_classes,
                n_train=len(self.y_train), n_val=len(self.y_val),
                n_test=len(self.y_test), source=self.source)


SOURCES = {
    "fashion_mnist": sources.fashion_mnist,
    "digits": sources.digits,
    "mnist": sources.mnist,
    "mnist16": functools.partial(sources.mnist, 16),
    "mnist1d": functools.partial(sources.mnist1d, False),
    "mnist1d_shuffled": functools.partial(sources.mnist1d, True),
}


def check_name(name):
  if name in SOURCES or (name.startswith("tfds:") and len(name) > 5) or synthetic.parse(name):
    return
  hint = difflib.get_close_matches(name, SOURCES, n=1)
  hint = f" (did you mean '{hint[0]}'?)" if hint else ""
  raise UserError(f"unknown dataset '{name}'{hint}; valid: {', '.join(SOURCES)}, tfds:NAME, "
                  f"{', '.join(f'{f}:N' for f in synthetic.SYNTHETIC)}")


PERMUTE_TEST_LABELS_ENV = "RESEARCH_PERMUTE_TEST_LABELS"


@functools.lru_cache(maxsize=8)
def load_raw(name):
  """The raw arrays of a dataset, parsed once per machine (npz cache) and process; with
  $RESEARCH_PERMUTE_TEST_LABELS set, its test labels permuted (see the module docstring)."""
  raw = _parsed(name)
  seed = os.environ.get(PERMUTE_TEST_LABELS_ENV)
  if not seed:
    return raw
  perm = np.random.default_rng(int(seed)).permutation(len(raw.y_test))
  return dataclasses.replace(raw, y_test=raw.y_test[perm])


def _preparation_code():
  """A hash of the code that turns a source into raw arrays (this module, the file sources, the IDX
  reader, the TFDS path) as Python parses it: comments, docstrings and formatting do not count, any other edit does."""
  from research.system import codehash
  from research.data import raw as raw_module
  return codehash.code_hash(sys.modules[__name__], sources, raw_module, tfds_data, length=12)


def _content(raw):
  """sha256 of a Raw's arrays and labels: what a cache file must still hold when it is read back."""
  digest = hashlib.sha256()
  for a in (raw.x_train, raw.y_train, raw.x_test, raw.y_test):
    a = np.ascontiguousarray(a)
    digest.update(f"{a.dtype}{a.shape}".encode() + a.tobytes())
  digest.update(repr((tuple(raw.class_names), raw.source)).encode())
  return digest.hexdigest()


def cache_path(name):
  """The npz cache of a source's raw arrays: keyed by the name and by the code that prepares it, so an
  edit to the preparation never trains on arrays the old code made."""
  return paths.cache_dir() / "data" / f"{name.replace(':', '-')}.{_preparation_code()}.npz"



def _read_cache(cache):
  """The cached Raw, or None (saying why in one line) when the file is torn, corrupt or edited."""
  import zipfile
  try:
    with np.load(cache, allow_pickle=False) as z:
      raw = Raw(z["x_train"], z["y_train"], z["x_test"], z["y_test"],
                tuple(z["class_names"].tolist()), str(z["source"]))
      stored = str(z["content"])
  except (OSError, ValueError, KeyError, EOFError, zlib.error, zipfile.BadZipFile) as e:
    say(f"the data cache {cache} is unreadable ({type(e).__name__}); rebuilding it")
    return None
  if stored != _content(raw):
    say(f"the data cache {cache} does not hold what was written to it; rebuilding it")
    return None
  return raw


def _parsed(name):
  check_name(name)
  generated = synthetic.parse(name)
  if generated:  # generated in well under a second: no cache to go stale
    make, parameter, seed = generated
    return make(parameter, seed)
  cache = cache_path(name)
  if cache.exists():
    raw = _read_cache(cache)
    if raw is not None:
      return raw
  raw = tfds_data.image_classification(name[5:]) if name.startswith("tfds:") else SOURCES[name]()
  _write_cache(cache, raw)
  return raw


def _write_cache(cache, raw):
  """The parsed arrays as cache (atomically); a full disk or a read-only cache folder is one line naming
  the folder, the bytes needed and RESEARCH_CACHE_DIR."""
  from research.system import faults
  needed = sum(a.nbytes for a in (raw.x_train, raw.y_train, raw.x_test, raw.y_test))
  tmp = cache.with_suffix(f".tmp{os.getpid()}.npz")
  try:
    with faults.reported(f"writing the data cache of {cache.stem.split('.')[0]}", cache.parent, needed):
      cache.parent.mkdir(parents=True, exist_ok=True)
      np.savez(tmp, x_train=raw.x_train, y_train=raw.y_train, x_test=raw.x_test, y_test=raw.y_test,
               class_names=np.array(raw.class_names), source=np.array(raw.source), content=np.array(_content(raw)))
      os.replace(tmp, cache)
  finally:
    with contextlib.suppress(OSError):
      tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------
# Processing options shared by every experiment

def prepare(name, raw, *, resize=0, val_size=0, n_train=0, seed=0):
  """Resize, carve a validation split, take a stratified training subset, standardize."""
  x, y, xt, yt = raw.x_train, raw.y_train, raw.x_test, raw.y_test
  if resize:
    x, xt = resize_images(x, resize), resize_images(xt, resize)
  rng = np.random.default_rng(seed)
  idx = np.arange(len(y))
  val = np.zeros(0, int)
  if val_size:
    if val_size >= len(y):
      raise UserError(f"val_size={val_size} leaves no training data: {name} has {len(y)} training examples")
    val = stratified(y, val_size, rng)
    idx = np.setdiff1d(idx, val)
  if n_train:
    if n_train > len(idx):
      raise UserError(f"n_train={n_train} is larger than the {len(idx)} training examples of {name}"
                      + (f" left after val_size={val_size}" if val_size else "") + "; use n_train=0 for all")
    idx = idx[stratified(y[idx], n_train, rng)]
  mean, std = float(x[idx].mean()), float(x[idx].std()) + 1e-8
  norm = lambda a: ((a - mean) / std).astype(np.float32)
  return Dataset(name, norm(x[idx]), y[idx], norm(xt), yt, norm(x[val]), y[val],
                 raw.class_names, raw.source, idx, mean, std)


@functools.lru_cache(maxsize=4)
def _resized_raw(name, size):
  """The raw arrays at size x size, resized once per process (every n_train reuses them)."""
  raw = load_raw(name)
  return dataclasses.replace(raw, x_train=resize_images(raw.x_train, size), x_test=resize_images(raw.x_test, size))


def load(name, *, resize=0, val_size=0, n_train=0, seed=0):
  """A dataset by name, ready for the engine. resize=0 / val_size=0 / n_train=0 mean off / none / all."""
  raw = _resized_raw(name, resize) if resize else load_raw(name)
  return prepare(name, raw, val_size=val_size, n_train=n_train, seed=seed)
