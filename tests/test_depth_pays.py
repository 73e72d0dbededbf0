"""Where depth pays: the exact sawtooth net, the piece counter, the synthetic data, the readings, and a
tiny run end to end (tests/test_registry.py runs the permuted-test-label audit and the reuse check)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research import data, models
from research.data import synthetic
from research.engine import train
from experiments import depth_pays
from experiments.depth_pays import paper_cut, sawtooth


def _evaluate(k):
  return jax.jit(train.make_trainer(sawtooth.build(k, 2)).evaluate)


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_the_exact_construction_classifies_every_point_exactly(k):
  """Telgarsky's 2^k points, and every sampled split, through the registered MLP and the engine's
  evaluation of the standardized inputs it trains on."""
  ds = data.load(f"sawtooth:{k}", val_size=1000)
  params = sawtooth.tent_params(k, ds.x_mean, ds.x_std)
  assert jax.tree.map(jnp.shape, params) == jax.tree.map(jnp.shape, models.param_shapes(sawtooth.build(k, 2), (1,)))
  evaluate = _evaluate(k)
  x_pts, y_pts = synthetic.sawtooth_points(k)
  assert len(x_pts) == 2 ** k and list(y_pts[:4]) == [0, 1, 0, 1][:len(y_pts[:4])]
  assert float(evaluate(params, jnp.asarray(ds.standardize(x_pts)[:, None]), jnp.asarray(y_pts))[1]) == 1.0
  for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
    assert float(evaluate(params, jnp.asarray(x), jnp.asarray(y))[1]) == 1.0


@pytest.mark.parametrize("k", [1, 3, 6, 8])
def test_the_exact_construction_has_2_to_the_k_pieces(k):
  x = sawtooth.unit_grid(2 ** 14 + 1)
  g = sawtooth.logit_gap(sawtooth.tent_params(k), x)
  assert sawtooth.count_pieces(g, x) == 2 ** k
  assert sawtooth.count_intervals(g) == 2 ** k + 1  # the target's alternating intervals
  assert sawtooth.max_pieces([2] * k) >= 2 ** k


def test_count_pieces_on_functions_whose_pieces_are_known():
  x = sawtooth.unit_grid(1001)
  assert sawtooth.count_pieces(2 * x - 1, x) == 1
  assert sawtooth.count_pieces(np.zeros_like(x), x) == 1
  assert sawtooth.count_pieces(np.abs(x - 0.3037), x) == 2         # a kink inside a grid cell
  assert sawtooth.count_pieces(np.abs(x - 0.5), x) == 2            # a kink on a grid point
  assert sawtooth.count_pieces(np.abs(x - 0.25) + np.abs(x - 0.75), x) == 3
  assert sawtooth.count_pieces(x + 1e-9 * np.abs(x - 0.5), x) == 1  # a slope change of 2e-9: rounding
  # Resolution: two kinks in one grid cell count once.
  assert sawtooth.count_pieces(np.abs(x - 0.30011) - np.abs(x - 0.30012), x) == 2


def test_the_float64_function_is_the_registered_mlp():
  model = models.build("mlp", 2, depth=3, width=5)
  params = model.init(jax.random.key(0), jnp.zeros((1, 1)))
  x = np.linspace(0, 1, 257)
  z = np.asarray(model.apply(params, jnp.asarray(((x - 0.4) / 0.3)[:, None], jnp.float32)))
  np.testing.assert_allclose(sawtooth.logit_gap(params, x, 0.4, 0.3), z[:, 1] - z[:, 0], atol=1e-5)


def test_random_nets_never_exceed_the_pieces_bound():
  for seed in range(4):
    model = models.build("mlp", 2, depth=3, width=4)
    params = model.init(jax.random.key(seed), jnp.zeros((1, 1)))
    params = jax.tree.map(lambda a: a + 0.5 * jax.random.normal(jax.random.key(seed + 10), a.shape), params)
    x = sawtooth.unit_grid(2 ** 14 + 1)
    assert 1 <= sawtooth.count_pieces(sawtooth.logit_gap(params, x, 0.5, 0.3), x) <= sawtooth.max_pieces([4] * 3)


def test_telgarsky_bound_with_the_output_layer_counted():
  # k = 10, one hidden layer (l = 2): at most 2^(7/2 - 1) = 5.66 units per layer
  assert sawtooth.bound_applies(10, [5]) and not sawtooth.bound_applies(10, [6])
  assert not sawtooth.bound_applies(10, [2] * 10)  # the exact net's shape: the bound says nothing


def test_spread_init_moves_only_the_first_layers_kinks_into_the_unit_interval():
  ds = data.load("sawtooth:3", val_size=200, n_train=1000)
  model = sawtooth.build(1, 16)
  x_1x1 = jnp.asarray(ds.x_train[:1])
  spread = sawtooth.spread_init(model, [0, 1], ds, x_1x1)
  engine = train.make_trainer(model).init(jax.random.PRNGKey(1), {"learning_rate": 1e-3},
                                          {"x_train": x_1x1}).params  # the engine's init of seed 1
  one = jax.tree.map(lambda a: a[1], spread)
  np.testing.assert_array_equal(one["Dense_0"]["kernel"], engine["Dense_0"]["kernel"])
  np.testing.assert_array_equal(one["Dense_1"]["kernel"], engine["Dense_1"]["kernel"])
  kinks = -np.asarray(one["Dense_0"]["bias"]) / np.asarray(one["Dense_0"]["kernel"][0])
  lo, hi = ds.standardize([0.0, 1.0])
  assert np.all((kinks >= lo - 1e-5) & (kinks <= hi + 1e-5)) and np.ptp(kinks) > 0.5 * (hi - lo)
  assert not np.any(np.asarray(engine["Dense_0"]["bias"]))  # the engine's zero biases: one kink point


def test_synthetic_data_is_a_pure_function_of_its_name():
  a, b = data.load_raw("sawtooth:6"), data._parsed("sawtooth:6")
  np.testing.assert_array_equal(a.x_train, b.x_train)
  assert not np.array_equal(a.x_train, data._parsed("sawtooth:6:1").x_train)  # another data seed
  x = a.x_train[:, 0].astype(np.float64)
  np.testing.assert_array_equal(a.y_train, synthetic.sawtooth_labels(x, 6))
  t = x * 2 ** 6 + 0.5
  assert np.abs(t - np.round(t)).min() >= synthetic.BOUNDARY_MARGIN * 2 ** 6  # no point on a boundary
  cut = data.load("paper_cut:2", val_size=1000)
  assert cut.shape == (2,) and len(cut.y_train) == 104_000 and abs(cut.y_train.mean() - 0.5) < 0.01
  with pytest.raises(Exception, match="sawtooth:N"):
    data.check_name("sawtooth:x")


def test_paper_cut_target_is_one_disc_per_folded_cell():
  centers = (np.arange(4) + 0.5) / 2 - 1  # the 4 x 4 cells of two folds
  cx, cy = np.meshgrid(centers, centers)
  assert synthetic.paper_cut_labels(np.stack([cx.ravel(), cy.ravel()], 1), 2).all()
  corners = np.array([[-1.0, -1.0], [0.0, 0.0], [0.5, -0.5], [1.0, 0.5]])
  assert not synthetic.paper_cut_labels(corners, 2).any()
  img = paper_cut.target_image(2, 64)
  assert img.shape == (64, 64) and abs(img.mean() - 0.5) < 0.05
  np.testing.assert_array_equal(paper_cut.from_hex_rows(paper_cut.to_hex_rows(img[:, :61]), 61), img[:, :61])


# ----------------------------------------------------------------------------
# The readings: one Holm family per part, calls only where it survives

def _cell(acc, val=None, lr=1e-2, **extra):
  n = len(acc)
  return dict(train_acc=list(acc), val_acc=list(val or acc), test_acc=list(acc), best_epoch=[5] * n,
              stopped=[True] * n, diverged=[a is None for a in acc], learning_rate=lr, seeds=list(range(n)),
              epochs_run=[10] * n, **extra)


def _saw_row(role, depth, width, acc, pieces, matches=None, val=None):
  fam = {"deep": "2 wide, k deep"}.get(role, role)
  return dict(role=role, shape=f"{depth} x {width}", depth=depth, width=width, matches=matches, family=fam,
              params=10, points_acc=list(acc), pieces=pieces, intervals=pieces,
              **_cell(acc, val))


def _doc():
  k = 3
  exact = dict(role="exact", shape="3 x 2", depth=3, width=2, family="exact", params=22, train_acc=[1.0],
               val_acc=[1.0], test_acc=[1.0], points_acc=[1.0], pieces=[8], intervals=[9])
  deep = _saw_row("deep", 3, 2, [0.99, 0.98, 0.99, 0.985, 0.99], [8] * 5)
  matched = _saw_row("matched", 1, 5, [0.60, 0.62, 0.61, 0.6, 0.59], [6] * 5, matches="3 x 2")
  wide = _saw_row("wide", 1, 8, [0.97, 0.99, 0.96, 0.99, 0.98], [9] * 5)
  saw = dict(tables=[dict(k=k, dataset=dict(n_train=100, n_val=20, n_test=50), passes_per_epoch=1,
                          rows=[exact, deep, matched, wide])],
             selected=dict(best_deep={"3": sawtooth.best_deep([exact, deep, matched, wide])}))
  rows = []
  for n, d, s in ((20000, [0.95, 0.951, 0.949, 0.95, 0.952], [0.80, 0.79, 0.81, 0.8, 0.805]),
                  (100000, [0.97, 0.971, 0.969, 0.97, 0.972], [0.96, 0.961, 0.959, 0.96, 0.962])):
    rows.append(dict(n_train=n, steps_per_epoch=10, passes_per_epoch=1,
                     dataset=dict(n_train=n, n_val=100, n_test=100),
                     deep=dict(shape="3 x 8", depth=3, params=186, **_cell(d)),
                     shallow=dict(shape="1 x 37", depth=1, params=187, **_cell(s))))
  cfg = dict(depth_pays.get_config().to_dict(), seeds=5)
  return dict(config=cfg, results=dict(sawtooth=saw, paper_cut=dict(folds=2, rows=rows)),
              environment=dict(devices="1 x cpu"))


def test_readings_call_differences_through_one_holm_family_per_part():
  doc = _doc()
  saw = doc["results"]["sawtooth"]
  assert saw["selected"]["best_deep"] == {"3": "3 x 2"}
  tests = sawtooth.comparisons(saw)
  assert set(tests) == {("matched", 3, "3 x 2"), ("wide", 3)}
  assert tests[("matched", 3, "3 x 2")].resolved and tests[("matched", 3, "3 x 2")].diff < 0  # deep errs less
  assert not tests[("wide", 3)].resolved
  text = depth_pays.reading(doc)
  assert "deep ahead in 1 of 1 pairs" in text and "Holm over the 2 comparisons of this part" in text
  assert "k = 3: not resolved at 5 seeds" in text
  assert "exactly 2^k at every k" in text and "at k = 3" in text
  assert "The lecture's claim shows here" in text
  cut = paper_cut.comparisons(doc["results"]["paper_cut"])
  assert set(cut) == {("pair", 20000), ("pair", 100000), ("drop", "deep"), ("drop", "shallow")}
  table = depth_pays.table(doc).markdown()
  assert "| 3 | exact 3 x 2 (tent map composed 3 times) | 22 |" in table and "3 x 2 − this: -38.3 (p < 0.001)" in table


@pytest.mark.slow
def test_tiny_run_writes_tables_plots_and_a_reading(tiny_paper):
  out, doc = tiny_paper.run("depth_pays")
  rows = doc["results"]["sawtooth"]["tables"][0]["rows"]
  exact = next(r for r in rows if r["role"] == "exact")
  assert exact["test_acc"] == [1.0] and exact["points_acc"] == [1.0] and exact["pieces"] == [2 ** 3]
  assert all(len(r["pieces"]) == doc["config"]["seeds"] for r in rows if r["role"] != "exact")
  table = (out / "table.md").read_text()
  assert sum(line.startswith("|---") for line in table.splitlines()) == 2 and "±" in table
  assert (out / "reading.md").read_text().startswith("- Sawtooth budget")
  assert all((out / f).stat().st_size > 5_000 for f in ("sawtooth.png", "paper_cut.png"))
  image = doc["results"]["paper_cut"]["rows"][0]["deep"]["image"]
  assert len(image) == doc["config"]["image_side"]


def test_depth_pairs_give_the_report_each_k_and_size():
  pairs = depth_pays.depth_pairs(_doc())
  assert [(p.setting, p.deeper, p.shallower) for p in pairs] == [
      ("sawtooth, 2^3 pieces", "3 x 2 (best deep on validation)", "1 x 5 (same size)"),
      ("sawtooth, 2^3 pieces", "3 x 2 (best deep on validation)", "1 x 8 (represents it)"),
      ("paper cutting, 16 discs, 20,000 examples", "3 x 8", "1 x 37 (same size)"),
      ("paper cutting, 16 discs, 100,000 examples", "3 x 8", "1 x 37 (same size)")]
  assert [(p.deeper_layers, p.shallower_layers) for p in pairs] == [(3, 1)] * 4
