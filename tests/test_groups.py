"""The two-attribute group builder: counts, rho, a validation set at the same rho, a balanced test set,
no test row in training."""
import numpy as np
import pytest

from experiments.modular import attribute_pools, groups
from research.system.errors import UserError


def synthetic_pools(n_train=4000, n_test=1000, seed=0):
  """Random pools whose x holds each row's own id, so rows can be traced back."""
  rng = np.random.default_rng(seed)

  def pool(n, offset):
    x = (offset + np.arange(n, dtype=np.float32))[:, None]
    return groups.Pool(x, rng.integers(0, 2, n).astype(np.int32), rng.integers(0, 2, n).astype(np.int32))
  return pool(n_train, 0), pool(n_test, 1_000_000)


@pytest.mark.parametrize("rho", [0.005, 0.01, 0.05, 0.25])
def test_counts_follow_rho(rho):
  train, test = synthetic_pools()
  split = groups.build(train, test, rho=rho, n_train=2000, rare=(1, 1), seed=3)
  c = groups.counts(split)
  assert sum(c["train"]) == 2000
  assert c["train"][3] == round(rho * 2000)
  common = c["train"][:3]
  assert max(common) - min(common) <= 1  # the other three share the rest equally
  assert len(set(c["test"])) == 1        # balanced test set
  if rho == 0.25:
    assert len(set(c["train"])) == 1     # 25% is the balanced training set


@pytest.mark.parametrize("rho", [0.01, 0.25])
def test_validation_is_held_out_at_the_same_rho(rho):
  train, test = synthetic_pools()
  split = groups.build(train, test, rho=rho, n_train=2000, n_val=400, rare=(1, 1), seed=3)
  c = groups.counts(split)
  assert sum(c["val"]) == 400 and c["val"][3] == round(rho * 400)
  assert max(c["val"][:3]) - min(c["val"][:3]) <= 1
  assert not set(split.idx_val) & set(split.idx_train)  # rows of the same pool, never shared
  np.testing.assert_array_equal(split.g_val, 2 * train.a[split.idx_val] + train.b[split.idx_val])


def test_validation_is_fixed_across_sizes_and_training_stays_nested():
  train, test = synthetic_pools()
  small = groups.build(train, test, rho=0.01, n_train=500, n_val=300, seed=2)
  big = groups.build(train, test, rho=0.01, n_train=2000, n_val=300, seed=2)
  np.testing.assert_array_equal(small.idx_val, big.idx_val)
  assert set(small.idx_train) <= set(big.idx_train)
  # The training rows are those of a split without validation: holding it out swaps no training row.
  bare = groups.build(train, test, rho=0.01, n_train=2000, seed=2)
  np.testing.assert_array_equal(bare.idx_train, big.idx_train)
  assert len(bare.idx_val) == 0 and "val" in groups.counts(bare)


def test_max_train_leaves_room_for_validation():
  train, test = synthetic_pools()
  rhos = [0.005, 0.25]
  n = groups.max_train(train, rhos, n_val=300)
  assert n < groups.max_train(train, rhos)
  for rho in rhos:
    groups.build(train, test, rho=rho, n_train=n, n_val=300)
  n_rho = groups.max_train(train, [0.25], n_val=300)
  with pytest.raises(UserError, match="largest n_train"):
    groups.build(train, test, rho=0.25, n_train=n_rho + 10, n_val=300)


def test_rare_group_can_be_any_combination():
  train, test = synthetic_pools()
  split = groups.build(train, test, rho=0.02, n_train=1000, rare=(0, 1))
  assert split.rare == 1
  assert groups.counts(split)["train"][1] == 20


def test_no_test_example_in_training_and_labels_match_rows():
  train, test = synthetic_pools()
  split = groups.build(train, test, rho=0.01, n_train=2000)
  ids_train = train.x[split.idx_train, 0]
  ids_test = test.x[split.idx_test, 0]
  assert not set(ids_train) & set(ids_test)
  assert len(set(split.idx_train)) == len(split.idx_train)
  np.testing.assert_array_equal(split.g_train, 2 * train.a[split.idx_train] + train.b[split.idx_train])
  # One pool split by holdout: the halves share no row either.
  tr, te = groups.holdout(train, 0.25, seed=1)
  assert len(tr.a) + len(te.a) == len(train.a)
  assert not set(tr.x[:, 0]) & set(te.x[:, 0])


def test_subsets_are_nested_and_deterministic():
  train, test = synthetic_pools()
  small = groups.build(train, test, rho=0.01, n_train=500, seed=2)
  big = groups.build(train, test, rho=0.01, n_train=2000, seed=2)
  again = groups.build(train, test, rho=0.01, n_train=2000, seed=2)
  assert set(small.idx_train) <= set(big.idx_train)
  np.testing.assert_array_equal(big.idx_train, again.idx_train)
  np.testing.assert_array_equal(big.idx_test, small.idx_test)  # the test set never depends on rho or n


def test_max_train_fits_every_rho_and_too_large_fails():
  train, test = synthetic_pools()
  rhos = [0.005, 0.25]
  n = groups.max_train(train, rhos)
  for rho in rhos:
    groups.build(train, test, rho=rho, n_train=n)
  for rho in rhos:  # each rho's own limit is tight
    n_rho = groups.max_train(train, [rho])
    assert n_rho >= n
    groups.build(train, test, rho=rho, n_train=n_rho)
    with pytest.raises(UserError, match="largest n_train"):
      groups.build(train, test, rho=rho, n_train=n_rho + 10)
  with pytest.raises(UserError):
    groups.build(train, test, rho=1.0, n_train=100)


def test_weights_balance_the_groups():
  g = np.array([0] * 50 + [1] * 30 + [2] * 19 + [3] * 1)
  w = groups.weights(g)
  assert np.isclose(w.mean(), 1.0)
  per_group = [w[g == k].sum() for k in range(4)]
  np.testing.assert_allclose(per_group, per_group[0], rtol=1e-5)


def test_group_accuracy_and_counts_table():
  g = np.array([0, 0, 1, 1, 2, 2, 3, 3])
  pred = np.array([[0, 0, 1, 0, 2, 2, 3, 0], g])
  acc = groups.group_accuracy(pred, g)
  np.testing.assert_allclose(acc, [[1, 0.5, 1, 0.5], [1, 1, 1, 1]])
  names = groups.AttributeNames(("top", "footwear"), ("dark", "light"), "kind", "shade", "test")
  c = dict(train=[10, 10, 10, 1], test=[5, 5, 5, 5], train_fraction=[10 / 31] * 3 + [1 / 31])
  text = groups.counts_table(c, names, rare=3).markdown()
  assert "light footwear (rare)" in text and "| total | 31 |" in text
  assert "val" not in text.splitlines()[0]  # counts without a validation split: no column for it
  text = groups.counts_table(dict(c, val=[2, 2, 2, 0]), names, rare=3).markdown()
  assert "| val |" in text and "| total | 31 | 100 | 6 | 20 |" in text


def test_fashion_attributes_are_crisp():
  train, test, names = attribute_pools.fashion_mnist(0.4, 0.6)
  assert set(np.unique(train.a)) == {0, 1} and set(np.unique(train.b)) == {0, 1}
  s_train, s_test = attribute_pools.shade(train.x), attribute_pools.shade(test.x)
  # The middle band is dropped: light and dark shades do not overlap, in either split.
  assert s_train[train.b == 0].max() < s_train[train.b == 1].min()
  assert s_test[test.b == 0].max() < s_train[train.b == 1].min()
  assert s_test[test.b == 1].min() > s_train[train.b == 0].max()
  # About 20% of the kept items drop out: the pool keeps ~80% of the 42,000 footwear and tops.
  assert 30_000 < len(train.a) < 36_000
  split = groups.build(train, test, rho=0.01, n_train=groups.max_train(train, [0.005, 0.25]))
  c = groups.counts(split)
  assert c["train"][3] == round(0.01 * sum(c["train"])) and len(set(c["test"])) == 1
  assert "light footwear" == groups.group_name(3, names)


def test_data_seeds_draw_other_examples_and_keep_the_test_set():
  train, test = synthetic_pools()
  draws = [groups.build(train, test, rho=0.01, n_train=2000, n_val=400, seed=d, test_seed=1) for d in (0, 1, 2)]
  rare = [set(s.idx_train[s.g_train == 3]) for s in draws]
  assert all(len(r) == 20 for r in rare)
  assert rare[0] != rare[1] and rare[1] != rare[2] and rare[0] != rare[2]  # other rare examples each draw
  assert set(draws[0].idx_val) != set(draws[1].idx_val)
  for s in draws[1:]:  # one test set for every data seed
    np.testing.assert_array_equal(s.idx_test, draws[0].idx_test)
  # Without test_seed the test draw follows the seed, as before data seeds existed.
  np.testing.assert_array_equal(groups.build(train, test, rho=0.01, n_train=2000, seed=0).idx_test, draws[0].idx_test)


def test_rho_zero_has_no_rare_example_anywhere_but_the_test_set():
  train, test = synthetic_pools()
  split = groups.build(train, test, rho=0.0, n_train=2000, n_val=400)
  c = groups.counts(split)
  assert c["train"][3] == 0 and c["val"][3] == 0 and c["test"][3] == c["test"][0] > 0
  assert groups.weights(split.g_train)[split.g_train == 0].mean() > 0  # reweighting skips the empty group


def test_the_frame_is_independent_of_kind_by_construction():
  rng = np.random.default_rng(0)
  x = rng.uniform(0, 0.5, (301, 6, 6, 1)).astype(np.float32)
  a = (np.arange(301) % 3 == 0).astype(np.int32)  # 101 of one kind, 200 of the other
  pool = attribute_pools.framed(groups.Pool(x, a, np.zeros(301, np.int32)), seed=4)
  for k in (0, 1):  # within each kind, half framed (to one item): P(b = 1 | a) = 1/2 for both
    assert abs(pool.b[a == k].sum() - (a == k).sum() / 2) <= 0.5
  ring = np.ones((6, 6), bool)
  ring[1:5, 1:5] = False
  framed, plain = pool.b == 1, pool.b == 0
  assert np.all(pool.x[framed][:, ring] == 1.0)  # the same pixels for every framed item, whatever its kind
  np.testing.assert_array_equal(pool.x[framed][:, ~ring], x[framed][:, ~ring])  # the item itself untouched
  np.testing.assert_array_equal(pool.x[plain], x[plain])
  np.testing.assert_array_equal(pool.a, a)
  # Another seed frames other items, the same share.
  other = attribute_pools.framed(groups.Pool(x, a, np.zeros(301, np.int32)), seed=5)
  assert (other.b != pool.b).any() and other.b.sum() == pool.b.sum()


def test_every_attribute_set_has_its_own_data_without_the_groups():
  for name in ("digits", "digits_frame"):
    train, _, names = attribute_pools.load(name)
    own, about = attribute_pools.OWN_DATA[name]()
    assert np.all(own.a == -1) and set(np.unique(own.b)) == {0, 1} and about
    rows, val = attribute_pools.own_split(own, 100, 40, seed=0)
    assert not set(rows) & set(val)
    assert own.b[rows].sum() == 50 and own.b[val].sum() == 20  # balanced over b
    if name == "digits_frame":
      assert names.b_title == "frame" and abs(train.b[train.a == 1].mean() - train.b[train.a == 0].mean()) < 0.01
