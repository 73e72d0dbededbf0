"""The attribute pools the modular experiment draws its groups from: Fashion-MNIST kind x shade (and
a framed variant), 8x8 digits, CelebA, and each attribute's own data (no kind, none of the four groups).

  train_pool, test_pool, names = ATTRIBUTES["fashion_mnist"]()
  own_pool, about = OWN_DATA["fashion_mnist"]()
"""
import numpy as np

from research.system.errors import UserError

from experiments.modular.groups import AttributeNames, Pool


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
