"""Groups from two binary attributes, one combination made rare (Sagawa et al. 2020).

  train_pool, test_pool, names = ATTRIBUTES["fashion_mnist"]()
  split = build(train_pool, test_pool, rho=0.01, n_train=4000, n_val=2000, rare=(1, 1), seed=0)
  print(counts_table(counts(split), names, split.rare))

Every example has two binary attributes a and b; its group (the 4-way label)
is 2a + b. `build` draws a training set in which the `rare` group is a
fraction rho of the examples and the other three groups share the rest
equally (rho = 25% is balanced), a validation set of n_val rows drawn the same
way (the same rho: it is the data a practitioner would hold out of the skewed
training data), and a test set balanced over the four groups. Training and
validation rows come only from the training pool and test rows only from the
test pool, so no test example is ever trained on or selected by; a dataset with
one pool splits it first with `holdout`. Subsets are nested: for one seed, a
smaller n_train or rho keeps a prefix of each group's fixed shuffled order, so
a sweep over sizes adds data without swapping it; the validation rows come from
the other end of each group's order, so they never meet a training row and are
the same for every n_train at one rho.

Plugging in another dataset: any (x, a, b) arrays make a `Pool`. Write a
function returning (train_pool, test_pool, AttributeNames) and add it to
ATTRIBUTES; `make modular ARGS="--config.attributes=NAME"` then runs the whole
experiment on it. `celeb_a` (Male x Blond_Hair through tensorflow-datasets,
Sagawa's setting) is written that way; it needs TensorFlow, tensorflow-datasets
and a network to fetch CelebA, none of which this project's machines have, so
it is untested here.
"""
from typing import NamedTuple

import numpy as np

from research.system.errors import UserError


class Pool(NamedTuple):
  """Examples with two binary attributes."""
  x: np.ndarray  # N x ... (images N x H x W x C in [0, 1])
  a: np.ndarray  # N, int {0, 1}
  b: np.ndarray  # N, int {0, 1}


class AttributeNames(NamedTuple):
  a: tuple       # names of a = 0 and a = 1, e.g. ("top", "footwear")
  b: tuple       # names of b = 0 and b = 1, e.g. ("dark", "light")
  a_title: str   # e.g. "kind"
  b_title: str   # e.g. "shade"
  source: str


class Split(NamedTuple):
  idx_train: np.ndarray  # rows of the training pool
  idx_test: np.ndarray   # rows of the test pool
  g_train: np.ndarray    # group (2a + b) of each training row
  g_test: np.ndarray
  rho: float
  rare: int              # the rare group's index
  idx_val: np.ndarray = np.zeros(0, np.int64)  # rows of the training pool held out for selection
  g_val: np.ndarray = np.zeros(0, np.int32)


def group_of(a, b):
  return 2 * np.asarray(a, np.int32) + np.asarray(b, np.int32)


def group_name(g, names):
  """'light footwear': b's name, then a's."""
  return f"{names.b[g % 2]} {names.a[g // 2]}"


def _orders(pool, seed):
  """Each group's rows in one fixed shuffled order (the prefix rule makes subsets nested)."""
  g = group_of(pool.a, pool.b)
  rng = np.random.default_rng(seed)
  return [rng.permutation(np.flatnonzero(g == k)) for k in range(4)]


def sizes(n_train, rho, rare):
  """Per-group training counts: round(rho * n) rare, the rest shared equally by the others."""
  n_rare = int(round(rho * n_train))
  rest = n_train - n_rare
  common = [rest // 3 + (i < rest % 3) for i in range(3)]
  out = []
  for k in range(4):
    out.append(n_rare if k == rare else common.pop(0))
  return out


def max_train(pool, rhos, rare=(1, 1), n_val=0):
  """The largest n_train that every rho in `rhos` can fill from the pool, beside n_val validation rows."""
  r = int(group_of(*rare))
  best = []
  for rho in rhos:
    # What each group has left once this rho's validation rows are held out.
    avail = np.bincount(group_of(pool.a, pool.b), minlength=4) - np.asarray(sizes(n_val, rho, r))
    n = min(avail[k] for k in range(4) if k != r)
    cap_common = int(np.floor(3 * max(n, 0) / (1 - rho)))
    cap_rare = int(np.floor(max(avail[r], 0) / rho)) if rho > 0 else cap_common
    m = min(cap_common, cap_rare)
    while m > 0 and any(s > a for s, a in zip(sizes(m, rho, r), avail)):
      m -= 1  # rounding can overshoot a group by one
    best.append(m)
  return int(min(best))


def build(train_pool, test_pool, *, rho, n_train, n_val=0, rare=(1, 1), seed=0, n_test_per_group=0,
          test_seed=None):
  """A Split: rho * n_train rare training rows, n_val validation rows at the same rho (none of them a
  training row), a test set balanced over the four groups.

  n_test_per_group = 0 takes as many as the smallest group of the test pool has. test_seed draws
  the test rows (seed + 1 when None): a fixed test_seed keeps one test set across data seeds.
  """
  if not 0 <= rho < 1:
    raise UserError(f"rho={rho}: the rare fraction must be in [0, 1)")
  r = int(group_of(*rare))
  need, need_val = sizes(n_train, rho, r), sizes(n_val, rho, r)
  orders = _orders(train_pool, seed)
  short = [k for k in range(4) if need[k] + need_val[k] > len(orders[k])]
  if short:
    raise UserError(f"n_train={n_train} and n_val={n_val} at rho={rho} need {need} training and {need_val} "
                    f"validation examples per group but the training pool has {[len(o) for o in orders]}; "
                    f"the largest n_train that fits is {max_train(train_pool, [rho], rare, n_val)}")
  idx_train = np.concatenate([orders[k][:need[k]] for k in range(4)])
  # From the far end of each order: disjoint from every training prefix, the same for every n_train.
  idx_val = np.concatenate([orders[k][len(orders[k]) - need_val[k]:] for k in range(4)])
  test_orders = _orders(test_pool, seed + 1 if test_seed is None else test_seed)
  per = n_test_per_group or min(len(o) for o in test_orders)
  if per > min(len(o) for o in test_orders):
    raise UserError(f"n_test_per_group={per}: the test pool's smallest group has "
                    f"{min(len(o) for o in test_orders)} examples")
  idx_test = np.concatenate([o[:per] for o in test_orders])
  g_train_pool = group_of(train_pool.a, train_pool.b)
  return Split(idx_train, idx_test, g_train_pool[idx_train], group_of(test_pool.a, test_pool.b)[idx_test],
               float(rho), r, idx_val, g_val=g_train_pool[idx_val])


def balanced_sample(pool, per_group, seed, exclude=()):
  """per_group rows of each group, none of them in `exclude` (e.g. a few labels for a new task)."""
  g = group_of(pool.a, pool.b)
  free = np.ones(len(g), bool)
  free[np.asarray(exclude, int)] = False
  rng = np.random.default_rng(seed)
  out = []
  for k in range(4):
    rows = np.flatnonzero((g == k) & free)
    if len(rows) < per_group:
      raise UserError(f"only {len(rows)} unused examples in group {k} for {per_group} per group")
    out.append(rng.permutation(rows)[:per_group])
  return np.concatenate(out)


def holdout(pool, test_fraction=0.2, seed=0):
  """(train_pool, test_pool) from a dataset that comes as one pool; the two share no row."""
  rng = np.random.default_rng(seed)
  perm = rng.permutation(len(pool.a))
  n_test = int(round(test_fraction * len(perm)))
  take = lambda rows: Pool(pool.x[rows], pool.a[rows], pool.b[rows])
  return take(np.sort(perm[n_test:])), take(np.sort(perm[:n_test]))


def counts(split):
  """{'train': [n per group], 'val': [...], 'test': [...], 'train_fraction': [...]} (JSON-able)."""
  tr = np.bincount(split.g_train, minlength=4)
  va = np.bincount(split.g_val, minlength=4)
  te = np.bincount(split.g_test, minlength=4)
  return dict(train=tr.tolist(), val=va.tolist(), test=te.tolist(), train_fraction=(tr / max(1, tr.sum())).tolist())


def counts_table(c, names, rare):
  """Sagawa's Table-1 style group counts (c from `counts`; a validation column where it has one)."""
  val = "val" in c
  lines = [f"| group ({names.b_title} {names.a_title}) | train | train % |" + (" val |" if val else "") + " test |",
           "|---|---|---|" + ("---|" if val else "") + "---|"]
  for k in range(4):
    mark = " (rare)" if k == rare else ""
    lines.append(f"| {group_name(k, names)}{mark} | {c['train'][k]:,} | {100 * c['train_fraction'][k]:.2f} |"
                 + (f" {c['val'][k]:,} |" if val else "") + f" {c['test'][k]:,} |")
  lines.append(f"| total | {sum(c['train']):,} | 100 |" + (f" {sum(c['val']):,} |" if val else "")
               + f" {sum(c['test']):,} |")
  return "\n".join(lines) + "\n"


def weights(g_train, num_groups=4):
  """Sagawa's upweighting: each group's examples weigh 1 / (its count), scaled to mean 1."""
  n = np.bincount(g_train, minlength=num_groups).astype(np.float64)
  w = np.where(n > 0, len(g_train) / (num_groups * np.maximum(n, 1)), 0.0)[g_train]
  return (w / w.mean()).astype(np.float32)


def group_accuracy(pred_MxN, g_N, num_groups=4):
  """Accuracy of each member's 4-way predictions on each group: M x num_groups."""
  return accuracy_by_group(pred_MxN, g_N, g_N, num_groups)


def accuracy_by_group(pred_MxN, label_N, g_N, num_groups=4):
  """Accuracy of each member's predictions of `label_N` (the group, or one attribute) within each
  group: M x num_groups, NaN for a group without examples."""
  pred_MxN = np.asarray(pred_MxN)
  hits = pred_MxN == np.asarray(label_N)[None]
  return np.stack([hits[:, g_N == k].mean(1) if np.any(g_N == k) else np.full(len(pred_MxN), np.nan)
                   for k in range(num_groups)], 1)


def attribute_accuracy(pred_MxNx2, g_N, num_groups=4):
  """How often each member's (a, b) predictions are right on each group: M x num_groups x 2."""
  pred = np.asarray(pred_MxNx2)
  truth = np.stack([g_N // 2, g_N % 2], -1)[None]
  hits = pred == truth
  return np.stack([hits[:, g_N == k].mean(1) for k in range(num_groups)], 1)


# ----------------------------------------------------------------------------
# Attribute definitions

FOOTWEAR = (5, 7, 9)  # Sandal, Sneaker, Ankle boot
TOPS = (0, 2, 4, 6)   # T-shirt/top, Pullover, Coat, Shirt


def shade(x_NxHxWx1, background=0.1):
  """Mean intensity of the item's own pixels (those above `background`), in [0, 1]."""
  x = x_NxHxWx1.reshape(len(x_NxHxWx1), -1)
  fg = x > background
  return (x * fg).sum(1) / np.maximum(fg.sum(1), 1)


def _fashion_shades(q_low, q_high):
  """(raw Fashion-MNIST, the dark and light shade thresholds): the q_low and q_high quantiles of the
  training split's footwear and tops together, so that "light" means the same for both."""
  from research import data
  if not 0 < q_low <= q_high < 1:
    raise UserError(f"q_low={q_low}, q_high={q_high}: need 0 < q_low <= q_high < 1")
  raw = data.load_raw("fashion_mnist")
  lo, hi = np.quantile(shade(raw.x_train[np.isin(raw.y_train, FOOTWEAR + TOPS)]), [q_low, q_high])
  return raw, lo, hi


def _crisp(x, y, classes, lo, hi):
  """(x, y, b) of the given classes whose shade is outside [lo, hi]; b = light."""
  keep = np.isin(y, classes)
  x, y = x[keep], y[keep]
  s = shade(x)
  crisp = (s < lo) | (s > hi)
  return x[crisp], y[crisp], (s[crisp] > hi).astype(np.int32)


def fashion_mnist(q_low=0.4, q_high=0.6):
  """a = footwear (1) vs top (0); b = light (1) vs dark (0) item.

  The shade thresholds come from the training pool (_fashion_shades); items in between are
  dropped, so every b label is crisp. The same thresholds cut the test pool.
  """
  raw, lo, hi = _fashion_shades(q_low, q_high)

  def pool(x, y):
    x, y, b = _crisp(x, y, FOOTWEAR + TOPS, lo, hi)
    return Pool(x, np.isin(y, FOOTWEAR).astype(np.int32), b)

  names = AttributeNames(("top", "footwear"), ("dark", "light"), "kind", "shade",
                         f"Fashion-MNIST ({raw.source}); footwear = Sandal, Sneaker, Ankle boot; "
                         f"top = T-shirt/top, Pullover, Coat, Shirt; shade = mean of pixels > 0.1, "
                         f"dark < {lo:.3f} (q{q_low:g}) < dropped < {hi:.3f} (q{q_high:g}) < light")
  return pool(raw.x_train, raw.y_train), pool(raw.x_test, raw.y_test), names


def digits(q_low=None, q_high=None):
  """a = high digit (5-9) vs low (0-4); b = odd vs even: scikit-learn's 8x8 digits, for runs of seconds.

  The two attributes are labels, independent by construction: each group holds two or three
  digits. The dataset's fixed 75/25 split gives the two pools.
  """
  del q_low, q_high  # labels, not thresholds
  from research import data
  raw = data.load_raw("digits")
  pool = lambda x, y: Pool(x, (y >= 5).astype(np.int32), (y % 2).astype(np.int32))
  names = AttributeNames(("low digit", "high digit"), ("even", "odd"), "magnitude", "parity",
                         f"Digits ({raw.source}); high = 5-9, low = 0-4; odd = 1, 3, 5, 7, 9")
  return pool(raw.x_train, raw.y_train), pool(raw.x_test, raw.y_test), names


def celeb_a(size=28, q_low=None, q_high=None):
  """a = Male, b = Blond_Hair (Sagawa's CelebA setting), grey images resized to size x size."""
  del q_low, q_high  # CelebA's attributes are labels, not thresholds
  from research import data
  from research.system import paths

  def pool(split):
    xs, a, b = [], [], []
    # Batches, resized as they come: the full-size images would need ~25 GB.
    for d in tfds.as_numpy(tfds.load("celeb_a", split=split, batch_size=1000,
                                     data_dir=str(paths.cache_dir() / "tfds"))):
      grey = d["image"].astype(np.float32).mean(-1, keepdims=True) / 255.0
      xs.append(data.resize_images(grey, size))
      a.append(np.asarray(d["attributes"]["Male"], np.int32))
      b.append(np.asarray(d["attributes"]["Blond_Hair"], np.int32))
    return Pool(np.concatenate(xs), np.concatenate(a), np.concatenate(b))

  try:
    import tensorflow_datasets as tfds
    train, test = pool("train"), pool("test")
  except Exception as e:  # noqa: BLE001 - any failure here means "not available"
    raise UserError(f"celeb_a could not be loaded ({type(e).__name__}: {str(e)[:120]}); it needs "
                    "tensorflow, tensorflow-datasets and a network to fetch CelebA") from e
  return train, test, AttributeNames(("female", "male"), ("dark-haired", "blond"), "person", "hair",
                                     "CelebA through tensorflow-datasets, Male x Blond_Hair")


# ----------------------------------------------------------------------------
# A disentangled attribute: a frame drawn on the image, whatever the item (Colored MNIST's
# construction: Arjovsky et al. colour a digit independently of its shape).

FRAME_SEED = 12345  # which items carry the frame: part of the attribute's definition, not a data draw


def frame(x_NxHxWxC, width=1, value=1.0):
  """The images with a bright frame `width` pixels wide along their edges (max(pixel, value) there):
  the same pixels for every item, so the frame says nothing about what the item is."""
  h, w = x_NxHxWxC.shape[1:3]
  ring_HxW = np.ones((h, w), bool)
  ring_HxW[width:h - width, width:w - width] = False
  return np.where(ring_HxW[None, :, :, None], np.maximum(x_NxHxWxC, value), x_NxHxWxC).astype(x_NxHxWxC.dtype)


def framed(pool, seed=FRAME_SEED):
  """The pool with b replaced by the frame: within each a, a random half of the items is framed, so
  P(b = 1 | a) = 1/2 for both values of a (to one item) and b is independent of a by construction."""
  rng = np.random.default_rng(seed)
  b = np.zeros(len(pool.b), np.int32)
  for k in np.unique(pool.a):
    rows = rng.permutation(np.flatnonzero(pool.a == k))
    b[rows[:len(rows) // 2]] = 1
  return Pool(np.where(b[:, None, None, None] == 1, frame(pool.x), pool.x), pool.a, b)


def _framed_names(names, detail):
  return AttributeNames(names.a, ("plain", "framed"), names.a_title, "frame",
                        f"{names.source}; frame = a 1-pixel border at full intensity drawn on a random half of "
                        f"the items of each {names.a_title} ({detail})")


def fashion_mnist_frame(q_low=0.4, q_high=0.6):
  """a = footwear vs top (the items of `fashion_mnist`); b = framed (1) vs plain (0)."""
  train, test, names = fashion_mnist(q_low, q_high)
  return framed(train), framed(test, FRAME_SEED + 1), _framed_names(names, "independent of kind and of shade")


def digits_frame(q_low=None, q_high=None):
  """a = high vs low digit; b = framed vs plain (a tiny stand-in for fashion_mnist_frame)."""
  train, test, names = digits(q_low, q_high)
  return framed(train), framed(test, FRAME_SEED + 1), _framed_names(names, "independent of the digit")


# name -> function(q_low, q_high) -> (train_pool, test_pool, AttributeNames)
ATTRIBUTES = {"fashion_mnist": fashion_mnist, "digits": digits, "celeb_a": celeb_a,
              "fashion_mnist_frame": fashion_mnist_frame, "digits_frame": digits_frame}


# ----------------------------------------------------------------------------
# Each attribute's own data: examples labelled with b alone, with no a and no example of the four
# groups, where a module for b can learn it without leaning on a (the article's "basic classifier"
# trained on plenty of data for its own attribute). a is -1 there: these items have no kind.

OTHER = (1, 3, 8)  # Trouser, Dress, Bag: Fashion-MNIST items that are neither tops nor footwear


def _no_kind(x, b):
  return Pool(x, np.full(len(b), -1, np.int32), np.asarray(b, np.int32))


def fashion_mnist_own(q_low=0.4, q_high=0.6):
  """(own training pool, description): trousers, dresses and bags whose shade is outside the
  tops-and-footwear thresholds, b = light."""
  raw, lo, hi = _fashion_shades(q_low, q_high)
  x, _, b = _crisp(raw.x_train, raw.y_train, OTHER, lo, hi)
  return _no_kind(x, b), "trousers, dresses and bags of the training split, by the same shade thresholds"


def fashion_mnist_frame_own(q_low=0.4, q_high=0.6):
  """Trousers, dresses and bags (every shade), a random half of each class framed."""
  raw, _, _ = _fashion_shades(q_low, q_high)
  keep = np.isin(raw.y_train, OTHER)
  pool = framed(Pool(raw.x_train[keep], raw.y_train[keep].astype(np.int32), np.zeros(keep.sum(), np.int32)),
                FRAME_SEED + 2)
  return _no_kind(pool.x, pool.b), "trousers, dresses and bags of the training split, half of each class framed"


def _low_digits(pool, b):
  low = pool.a == 0
  return _no_kind(pool.x[low], b[low])


def digits_own(q_low=None, q_high=None):
  """The low digits (0-4) of the training split with their parity: the digits have no third kind, so
  this tiny stand-in shares rows with the groups' pool (never a rare, high-digit row)."""
  train, _, _ = digits(q_low, q_high)
  return _low_digits(train, train.b), "the low digits (0-4) of the training split"


def digits_frame_own(q_low=None, q_high=None):
  train, _, _ = digits(q_low, q_high)
  low = framed(Pool(train.x, train.a, train.b), FRAME_SEED + 2)
  return _low_digits(low, low.b), "the low digits (0-4) of the training split, half of them framed"


# name -> function(q_low, q_high) -> (b's own training pool, what it holds)
OWN_DATA = {"fashion_mnist": fashion_mnist_own, "fashion_mnist_frame": fashion_mnist_frame_own,
            "digits": digits_own, "digits_frame": digits_frame_own}


def own_split(own_pool, n_train, n_val, seed):
  """(training rows, validation rows) of b's own pool, each balanced over b and disjoint; n_train
  = 0 takes as many as the smaller b allows beside the validation rows."""
  orders = [np.random.default_rng(seed).permutation(np.flatnonzero(own_pool.b == v)) for v in (0, 1)]
  per_val = n_val // 2
  room = min(len(o) for o in orders) - per_val
  per_train = room if not n_train else n_train // 2
  if per_train < 1 or per_train > room:
    raise UserError(f"own data: {n_train} training and {n_val} validation examples balanced over b need "
                    f"{per_train + per_val} of each b; the pool has {[len(o) for o in orders]}")
  return (np.concatenate([o[:per_train] for o in orders]),
          np.concatenate([o[len(o) - per_val:] for o in orders]))


def load(name, q_low=0.4, q_high=0.6):
  if name not in ATTRIBUTES:
    raise UserError(f"unknown attributes '{name}'; valid: {', '.join(ATTRIBUTES)}")
  return ATTRIBUTES[name](q_low=q_low, q_high=q_high)
