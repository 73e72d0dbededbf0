"""Colored MNIST environments (Arjovsky et al. 2019), from research/data/__init__.py's raw digits or clothes.

  sets = build(load_raw("mnist"), source="mnist", sizes=Sizes(...), train_e=(0.1, 0.2), test_e=0.9, seed=0)
  sets.train.x (N x 14 x 14 x 2), sets.train.y, sets.train.env, sets.train_val, sets.oracle_val, sets.test

The recipe of the IRM repository's code (github.com/facebookresearch/InvariantRiskMinimization,
code/colored_mnist/main.py), in numpy and deterministic given the data seed:
- the image subsampled 28x28 -> 14x14 by taking every second row and column ([::2, ::2]);
- a binary label from the class (MNIST: digit < 5 is 1, as `labels < 5` there), flipped with
  probability `label_noise` (0.25): no function of the shape can be right more than 75% of the time;
- a colour agreeing with that noisy label except with probability e, drawn per image;
- the image drawn in channel `colour` (0: red, 1: green), the other channel zero.
So colour predicts the label better (1 - e: 90% and 80% in the training environments) than shape
does (75%), and the test environment (e = 0.9) reverses it.

Fashion-MNIST (Ahuja et al. 2020, "Invariant Risk Minimization Games", their data_construct.py):
label 1 for footwear (Sandal 5, Sneaker 7, Ankle boot 9), 0 for the other clothes (0-4, 6), the Bag
(8) dropped ("footwear"); or the classes split in halves, 0-4 against 5-9 ("halves"). Their code
colours only pixels above 0.5 (binarized); ours colours every image as the IRM code does.

Splits, disjoint images, fixed by the data seed (one permutation of the raw training images): the
training environments' training images, a validation split from each training environment (its own
e), a validation split from the test environment (e = test_e, from the raw *training* images, so
that no choice ever reads the raw test split), and the test environment's test split (the raw
test images). Each split draws its noise and colours from its own generator.
"""
from typing import NamedTuple

import numpy as np

FOOTWEAR = (5, 7, 9)  # Fashion-MNIST's Sandal, Sneaker, Ankle boot
BAG = 8
FASHION_LABELS = ("footwear", "halves")
SOURCES = ("mnist", "fashion_mnist")


class Split(NamedTuple):
  x: np.ndarray       # N x 14 x 14 x 2, float32 in [0, 1]
  y: np.ndarray       # noisy binary label, int32
  env: np.ndarray     # environment index, int32 (0, 1: training; 2: test)
  colour: np.ndarray  # the channel drawn in, int32
  clean: np.ndarray   # the label before noise, int32


class Sizes(NamedTuple):
  per_env: int      # training images per training environment
  val_per_env: int  # validation images per training environment
  oracle_val: int   # validation images of the test environment
  test: int = 0     # test images (0: every raw test image)


class Environments(NamedTuple):
  train: Split       # the training environments' training images, concatenated
  train_val: Split   # validation from the training environments (DomainBed's training-domain validation)
  oracle_val: Split  # validation from the test environment (the IRM paper's tuning)
  test: Split        # the test environment's test split
  train_e: tuple
  test_e: float


def binary_labels(source, classes, fashion_labels="footwear"):
  """(label, keep): the binary label of each class index and which images the recipe keeps."""
  classes = np.asarray(classes)
  if source == "mnist":
    return (classes < 5).astype(np.int32), np.ones(len(classes), bool)
  if fashion_labels == "footwear":
    return np.isin(classes, FOOTWEAR).astype(np.int32), classes != BAG
  if fashion_labels == "halves":
    return (classes < 5).astype(np.int32), np.ones(len(classes), bool)
  raise ValueError(f"fashion_labels must be one of {FASHION_LABELS}, not {fashion_labels!r}")


def subsample(x_NxHxWx1):
  """28x28 -> 14x14 as the IRM code does: every second row and column."""
  return np.asarray(x_NxHxWx1, np.float32)[:, ::2, ::2, 0]


def colour_environment(img_NxHxW, label_N, e, env, rng, label_noise=0.25):
  """One environment: the label flipped with probability label_noise, the colour agreeing with the noisy
  label except with probability e, the image drawn in channel `colour`."""
  n = len(label_N)
  y = label_N ^ (rng.random(n) < label_noise).astype(np.int32)
  colour = y ^ (rng.random(n) < e).astype(np.int32)
  x = np.zeros((*img_NxHxW.shape, 2), np.float32)
  x[np.arange(n), ..., colour] = img_NxHxW
  return Split(x, y.astype(np.int32), np.full(n, env, np.int32), colour.astype(np.int32), label_N.astype(np.int32))


def concat(splits):
  return Split(*(np.concatenate(parts) for parts in zip(*splits)))


def build(raw, *, source, sizes, train_e=(0.1, 0.2), test_e=0.9, label_noise=0.25, seed=0,
          fashion_labels="footwear"):
  """The four splits from a research.data.raw.Raw (images in [0, 1]); see the module docstring."""
  label, keep = binary_labels(source, raw.y_train, fashion_labels)
  pool = np.flatnonzero(keep)
  need = len(train_e) * (sizes.per_env + sizes.val_per_env) + sizes.oracle_val
  if need > len(pool):
    raise ValueError(f"{need} training images asked for, {source} has {len(pool)}")
  code = SOURCES.index(source)  # the two sources draw independent noise and colours
  order = np.random.default_rng([seed, code, 0]).permutation(pool)
  cuts = np.cumsum([sizes.per_env] * len(train_e) + [sizes.val_per_env] * len(train_e) + [sizes.oracle_val])
  chunks = np.split(order[:need], cuts[:-1])
  img = subsample(raw.x_train)
  # Every split its own generator: a size changed in one leaves the others' draws as they were.
  make = lambda idx, e, env, stream: colour_environment(img[idx], label[idx], e, env,
                                                        np.random.default_rng([seed, code, stream]), label_noise)
  k = len(train_e)
  train = concat([make(chunks[i], e, i, 1 + i) for i, e in enumerate(train_e)])
  train_val = concat([make(chunks[k + i], e, i, 1 + k + i) for i, e in enumerate(train_e)])
  oracle_val = make(chunks[2 * k], test_e, k, 1 + 2 * k)
  test_label, test_keep = binary_labels(source, raw.y_test, fashion_labels)
  test_idx = np.flatnonzero(test_keep)
  if sizes.test:
    test_idx = np.sort(np.random.default_rng([seed, code, 99]).permutation(test_idx)[:sizes.test])
  test = colour_environment(subsample(raw.x_test)[test_idx], test_label[test_idx], test_e, k,
                            np.random.default_rng([seed, code, 2 + 2 * k]), label_noise)
  return Environments(train, train_val, oracle_val, test, tuple(train_e), test_e)


def agreement(split):
  """Per environment: (share of labels flipped by the noise, share of colours agreeing with the label)."""
  return {int(e): (float(np.mean(split.y[split.env == e] != split.clean[split.env == e])),
                   float(np.mean(split.colour[split.env == e] == split.y[split.env == e])))
          for e in np.unique(split.env)}
