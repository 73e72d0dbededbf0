"""Groups from two binary attributes, one combination made rare (Sagawa et al. 2020).

  train_pool, test_pool, names = attribute_pools.ATTRIBUTES["fashion_mnist"]()
  split = build(train_pool, test_pool, rho=0.01, n_train=4000, n_val=2000, rare=(1, 1), seed=0)
  print(counts_table(counts(split), names, split.rare).markdown())

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
attribute_pools.ATTRIBUTES; `make modular ARGS="--config.attributes=NAME"` then runs the whole
experiment on it. `celeb_a` (Male x Blond_Hair through tensorflow-datasets,
Sagawa's setting) is written that way; it needs TensorFlow, tensorflow-datasets
and a network to fetch CelebA, none of which this project's machines have, so
it is untested here.
"""
from typing import NamedTuple

import numpy as np

from research.system import results
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


def counts_table(c, names, rare, caption=""):
  """Sagawa's Table-1 style group counts (c from `counts`; a validation column where it has one)."""
  val = "val" in c
  header = [f"group ({names.b_title} {names.a_title})", "train", "train %"] + (["val"] if val else []) + ["test"]
  rows = []
  for k in range(4):
    mark = " (rare)" if k == rare else ""
    rows.append([f"{group_name(k, names)}{mark}", f"{c['train'][k]:,}", f"{100 * c['train_fraction'][k]:.2f}"]
                + ([f"{c['val'][k]:,}"] if val else []) + [f"{c['test'][k]:,}"])
  rows.append(["total", f"{sum(c['train']):,}", "100"] + ([f"{sum(c['val']):,}"] if val else [])
              + [f"{sum(c['test']):,}"])
  return results.markdown_table(header, rows, caption)


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
