"""Colored MNIST (experiments/colored/): the environments, the IRMv1 and V-REx penalties and their
annealing (research/engine/group_dro.py), and the tiny profile end to end."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research import data, models
from research.engine import group_dro, group_losses, train
from research.system.errors import UserError

from experiments import colored
from experiments.colored import contenders, environments, report


@pytest.fixture(scope="module")
def envs():
  return environments.build(data.load_raw("mnist"), source="mnist", sizes=environments.Sizes(1600, 200, 400),
                            train_e=(0.1, 0.2), test_e=0.9, seed=0)


def test_environments_follow_the_recipe(envs):
  """Label noise ~25% and colour agreement ~1 - e in every environment of every split; the digit in
  the colour's channel only; the label from digit < 5."""
  for split, es in ((envs.train, (0.1, 0.2)), (envs.train_val, (0.1, 0.2)), (envs.oracle_val, (0.9,)),
                    (envs.test, (0.9,))):
    shares = environments.agreement(split)
    assert len(shares) == len(es)
    n = len(split.y) / len(es)
    tol = 4 * np.sqrt(0.25 * 0.75 / n)  # four binomial standard deviations
    for (flipped, agrees), e in zip(shares.values(), es):
      assert abs(flipped - 0.25) < tol
      assert abs(agrees - (1 - e)) < 4 * np.sqrt(e * (1 - e) / n) + 1e-9
    other = split.x[np.arange(len(split.y)), ..., 1 - split.colour]
    assert not other.any() and split.x[np.arange(len(split.y)), ..., split.colour].max() > 0.9
  assert [len(s.y) for s in envs[:4]] == [3200, 400, 400, 1000]
  assert envs.train.x.shape[1:] == (14, 14, 2) and set(np.unique(envs.train.env)) == {0, 1}
  raw = data.load_raw("mnist")
  np.testing.assert_array_equal(environments.subsample(raw.x_test)[:5], envs.test.x[:5].sum(-1))
  np.testing.assert_array_equal(envs.test.clean, (raw.y_test < 5).astype(np.int32))


def test_environments_are_deterministic_and_their_splits_disjoint(envs):
  again = environments.build(data.load_raw("mnist"), source="mnist", sizes=environments.Sizes(1600, 200, 400),
                             seed=0)
  for a, b in zip(envs[:4], again[:4]):
    for x, y in zip(a, b):
      np.testing.assert_array_equal(x, y)
  other = environments.build(data.load_raw("mnist"), source="mnist", sizes=environments.Sizes(1600, 200, 400), seed=1)
  assert not np.array_equal(other.train.x, envs.train.x)
  # Disjoint images: the gray image (channels summed) of no split appears in another.
  keys = [{g.tobytes() for g in s.x.sum(-1)} for s in (envs.train, envs.train_val, envs.oracle_val)]
  assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])


def test_fashion_labels_footwear_or_halves():
  classes = np.arange(10)
  label, keep = environments.binary_labels("fashion_mnist", classes, "footwear")
  assert label.tolist() == [0, 0, 0, 0, 0, 1, 0, 1, 0, 1] and keep.tolist() == [True] * 8 + [False, True]
  label, keep = environments.binary_labels("fashion_mnist", classes, "halves")
  assert label.tolist() == [1] * 5 + [0] * 5 and keep.all()
  assert environments.binary_labels("mnist", classes)[0].tolist() == [1] * 5 + [0] * 5


def _scale_gradient_by_definition(logits_BxK, y_B):
  """d/ds of the mean cross-entropy of s * logits at s = 1, as IRMv1 defines it."""
  return jax.grad(lambda s: jnp.mean(train.cross_entropy(s * logits_BxK, y_B)))(1.0)


def test_irm_penalty_is_zero_at_each_environments_optimal_scale_and_positive_otherwise():
  """Two environments whose labels are 1 for 8 of 10 and 3 of 10 images: logits whose probability is that
  frequency are optimal for every scale (no gradient w.r.t. s); doubling them is not."""
  y_B = jnp.array([1] * 8 + [0] * 2 + [1] * 3 + [0] * 7)
  g_B = jnp.array([0] * 10 + [1] * 10)
  logit = lambda q: np.log(q / (1 - q))
  z_B = jnp.where(g_B == 0, logit(0.8), logit(0.3))
  logits_Bx2 = jnp.stack([jnp.zeros_like(z_B), z_B], -1)
  penalty = lambda logits: group_losses.irm_penalty(group_losses.scale_gradients(train.cross_entropy, logits, y_B), g_B, 3)
  assert abs(float(penalty(logits_Bx2))) < 1e-10
  doubled = 2.0 * logits_Bx2
  by_hand = np.mean([float(_scale_gradient_by_definition(doubled[g_B == e], y_B[g_B == e])) ** 2 for e in (0, 1)])
  assert by_hand > 1e-3
  np.testing.assert_allclose(float(penalty(doubled)), by_hand, rtol=1e-5)


def test_vrex_penalty_is_the_variance_of_the_environments_risks():
  loss_G = jnp.array([0.3, 0.9, 2.0])
  np.testing.assert_allclose(float(group_losses.vrex_penalty(loss_G, jnp.array([True, True, True]))),
                             np.var([0.3, 0.9, 2.0]), rtol=1e-6)
  # An environment the batch lacks is left out.
  np.testing.assert_allclose(float(group_losses.vrex_penalty(loss_G, jnp.array([True, True, False]))),
                             np.var([0.3, 0.9]), rtol=1e-6)


def test_the_annealing_is_the_irm_repositorys():
  assert float(group_losses.annealed(1e4, 100.0, 99)) == 1.0 and float(group_losses.annealed(1e4, 100.0, 100)) == 1e4
  assert float(group_losses.penalized(1.0, 2.0, 1.0)) == 3.0  # lambda 1: not rescaled
  np.testing.assert_allclose(float(group_losses.penalized(1.0, 2.0, 1e4)), (1.0 + 2e4) / 1e4)


@pytest.fixture(scope="module")
def small(envs):
  return contenders.arrays(environments.Environments(
      *(environments.Split(*(a[::8] for a in s)) for s in envs[:4]), envs.train_e, envs.test_e))["oracle"]


def _run(small, objective, hp, epochs=2):
  trainer = group_dro.make_trainer(models.mlp(2, depth=1, width=16), "adam", 40, num_groups=3,
                                   objective=objective, selection="worst")
  v = train.vmapped(trainer)
  state = v.init(train.keys([0]), train.stack([hp]), small, None, None)
  return jax.jit(v.train, static_argnums=2)(state, small, epochs)


def test_irm_with_lambda_zero_from_the_start_trains_what_erm_trains(small):
  erm, _ = _run(small, "erm", {"learning_rate": 1e-2})
  irm0, _ = _run(small, "irm", {"learning_rate": 1e-2, "penalty_weight": 0.0, "penalty_anneal": 0.0})
  for a, b in zip(jax.tree.leaves(erm.params), jax.tree.leaves(irm0.params)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  irm, _ = _run(small, "irm", {"learning_rate": 1e-2, "penalty_weight": 1e4, "penalty_anneal": 0.0})
  vrex, _ = _run(small, "vrex", {"learning_rate": 1e-2, "penalty_weight": 1e4, "penalty_anneal": 0.0})
  differs = lambda s: max(float(jnp.abs(a - b).max()) for a, b in zip(jax.tree.leaves(erm.params),
                                                                       jax.tree.leaves(s.params)))
  assert differs(irm) > 1e-3 and differs(vrex) > 1e-3
  # The oracle rule's validation split holds three environments; best_val is the worst of their accuracies.
  assert set(np.unique(np.asarray(small["g_val"]))) == {0, 1, 2}


def test_a_pick_on_the_grids_edge_that_beats_its_neighbour_trains_the_next_value_out():
  lrs = [3e-4, 1e-3, 3e-3]
  means = {(3e-4,): 0.50, (1e-3,): 0.52, (3e-3,): 0.55}
  np.testing.assert_allclose(contenders.outward(means, (3e-3,), lrs, 0.01), 9e-3)
  assert contenders.outward(means, (3e-3,), lrs, 0.05) is None  # beats its neighbour by less than the margin
  assert contenders.outward(means, (1e-3,), lrs, 0.01) is None  # inside the grid
  low = {(3e-4, 1e4): 0.60, (1e-3, 1e4): 0.55, (3e-3, 1e4): 0.50}
  np.testing.assert_allclose(contenders.outward(low, (3e-4, 1e4), lrs, 0.01), 9e-5)
  assert contenders.edge(1e-3, lrs) is None and contenders.edge(3e-3, lrs) == "high"


def test_validate_refuses_what_no_table_can_come_from():
  cfg = colored.get_config()
  cfg.contenders = ["irm", "gray"]
  with pytest.raises(UserError, match="erm"):
    colored.validate(cfg)
  cfg = colored.get_config()
  cfg.per_env = 1800
  with pytest.raises(UserError, match="4,000"):
    colored.validate(cfg)


@pytest.mark.slow
def test_tiny_run_writes_table_plots_and_reading(tiny_paper):
  out, doc = tiny_paper.run("colored")
  cfg = doc["config"]
  rows = doc["results"]["sources"]["mnist"]["rows"]
  assert [(r["contender"], r["rule"]) for r in rows] == [(c, rule) for c in cfg["contenders"] for rule in cfg["rules"]]
  for r in rows:
    assert len(r["test_acc"]) == cfg["seeds"] and r["learning_rate"] in r["learning_rates"]
    assert set(cfg["learning_rates"]) <= set(r["learning_rates"])
    assert len(r["learning_rates"]) <= len(cfg["learning_rates"]) + cfg["extend_steps"]
    if r["rule"] == "train_domain":  # the whole split's accuracy
      np.testing.assert_allclose(r["score"], r["val_acc"], atol=1e-6)
    else:  # the worst environment's, at most the whole split's
      assert all(s <= v + 1e-6 for s, v in zip(r["score"], r["val_acc"]))
  assert (rows[2]["penalty_weight"], rows[0]["penalty_weight"]) == (1e4, None)  # IRM has a lambda, ERM none
  table = (out / "table.md").read_text()
  assert sum(line.startswith("|---") for line in table.splitlines()) == 2 and "| ERM | (a) training-domain |" in table and "| 58.5 |" in table
  assert (out / "reading.md").read_text().startswith("- Does any method beat ERM on the colour-flipped test")
  assert (out / "environments.png").stat().st_size > 5_000 and (out / "accuracy.png").stat().st_size > 5_000
  assert set(report.verdicts(doc)) == {("mnist", rule, "irm") for rule in cfg["rules"]}
