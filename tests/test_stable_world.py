"""The stable-world experiment: MNIST-C's corruptions one by one (deterministic, shape and range kept,
each doing what it says), the corruption errors and verdicts on hand-made rows, the evaluation of a
batch-norm model's selected state, and the tiny profile end to end (tests/test_registry.py runs the
permuted-test-label audit)."""
import types

import jax
import numpy as np
import pytest

from research import data, models
from research.engine import train
from experiments.stable_world import corruptions, evaluate, report

RANDOM = {"shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "rotate", "translate", "fog",
          "spatter", "dotted_line", "zigzag"}  # the others draw nothing


@pytest.fixture(scope="module")
def images():
  """Real digits at both sizes the experiment uses: 12 of mnist16's (16x16) and of mnist's (28x28) test
  images, spread over the classes."""
  out = {}
  for name in ("mnist16", "mnist"):
    x = data.load_raw(name).x_test
    out[name] = x[np.linspace(0, len(x) - 1, 12).astype(int)]
  return out


@pytest.mark.parametrize("name", corruptions.NAMES)
def test_each_corruption_is_deterministic_keeps_shape_and_range_and_changes_the_image(images, name):
  for x in images.values():
    a, b = corruptions.corrupt(name, x, seed=3), corruptions.corrupt(name, x, seed=3)
    assert a.shape == x.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert corruptions.digest(a) == corruptions.digest(b)
    assert a.min() >= 0.0 and a.max() <= 1.0
    changed = np.abs(a - x).max(axis=(1, 2, 3))
    assert (changed > 0.05).all(), f"{name} left an image (nearly) as it was"
    other = corruptions.corrupt(name, x, seed=4)
    assert (corruptions.digest(other) != corruptions.digest(a)) == (name in RANDOM)


def test_each_corruption_does_what_its_name_says(images):
  x = images["mnist"]
  c = lambda name: corruptions.corrupt(name, x, seed=0)
  np.testing.assert_allclose(c("brightness"), np.clip(x + 0.5, 0, 1), atol=1e-6)
  stripe = c("stripe")
  np.testing.assert_allclose(stripe[:, :, :7], 1 - x[:, :, :7], atol=1e-6)
  np.testing.assert_array_equal(stripe[:, :, 7:21], x[:, :, 7:21])
  # Translation by 3 px along both axes (MNIST-C's severity 3): each image is one of the four shifts.
  moved = c("translate")
  for img, out in zip(x[..., 0], moved[..., 0]):
    shifts = [np.pad(img, 3)[3 - dy:31 - dy, 3 - dx:31 - dx] for dy in (-3, 3) for dx in (-3, 3)]
    assert min(np.abs(out - s).max() for s in shifts) < 1e-5
  assert (c("scale").sum(axis=(1, 2, 3)) < 0.7 * x.sum(axis=(1, 2, 3))).all()  # zoomed out to 0.7x: less ink
  np.testing.assert_allclose(c("rotate").sum(axis=(1, 2, 3)), x.sum(axis=(1, 2, 3)), rtol=0.1)  # ink kept
  assert abs(c("shot_noise").mean() - x.mean()) < 0.05  # Poisson noise is unbiased but for the clip
  flipped = np.abs(c("impulse_noise") - x) > 1e-6
  assert 0.05 < flipped.mean() < 0.17 and set(np.unique(c("impulse_noise")[flipped])) <= {0.0, 1.0}
  for name in ("dotted_line", "zigzag"):  # strokes drawn over the image, nothing taken away
    assert (c(name) >= x - 1e-6).all() and (c(name) > x + 0.1).any()
  assert (c("fog")[x == 0].mean() > 0.2)  # the dark background greys
  edges = c("canny_edges")
  assert set(np.unique(edges)) <= {0.0, 1.0} and 0.02 < edges.mean() < 0.4
  assert (c("glass_blur").max(axis=(1, 2, 3)) < x.max(axis=(1, 2, 3))).all()  # blurred: no pixel as bright


def test_a_corruption_refuses_what_it_cannot_take():
  with pytest.raises(ValueError, match="unknown corruption"):
    corruptions.corrupt("snow", np.zeros((1, 8, 8, 1)))
  with pytest.raises(ValueError, match="N x H x W x 1"):
    corruptions.corrupt("fog", np.zeros((1, 8, 8)))
  assert set(corruptions.PARAMETERS) == set(corruptions.NAMES) and len(corruptions.NAMES) == 15


def _row(name, clean, corrupted, seeds=3, spread=0.002):
  """A results row whose members have about these accuracies (corrupted: {corruption: accuracy}), the
  seeds spread apart (in another order on the corrupted sets, so that a member's drop varies too)."""
  jitter = np.linspace(-spread, spread, seeds)
  return dict(contender=name, test_acc=list(clean + jitter), diverged=[False] * seeds,
              corrupted_test_acc={c: list(a + 2 * jitter[::-1]) for c, a in corrupted.items()})


def test_corruption_errors_normalise_by_logistic_regression():
  r = dict(rows=[_row("logistic", 0.8, {"fog": 0.5, "stripe": 0.7}, spread=0),
                 _row("cnn", 0.9, {"fog": 0.75, "stripe": 0.9}, spread=0)])
  e = report.corruption_errors(r)
  assert e["logistic"]["mce"] == pytest.approx(100) and e["logistic"]["rel_mce"] == pytest.approx(100)
  # CE: 0.25 / 0.5 and 0.1 / 0.3; relative: (0.25 - 0.1) / (0.5 - 0.2) and (0.1 - 0.1) / (0.3 - 0.2)
  assert e["cnn"]["ce"] == pytest.approx({"fog": 50.0, "stripe": 100 / 3})
  assert e["cnn"]["rel"] == pytest.approx({"fog": 50.0, "stripe": 0.0}, abs=1e-9)
  assert e["cnn"]["worst"] == "fog" and e["cnn"]["worst_ratio"] == pytest.approx(2.5)


def test_verdicts_read_robustness_raw_and_at_matched_clean_accuracy():
  """The CNN is better raw (higher corrupted accuracy) but only as good at matched clean level (it
  loses as much); the deep MLP loses more than the MLP at the same clean accuracy."""
  rows = [_row("mlp", 0.9, {"fog": 0.6}), _row("deep_mlp", 0.9, {"fog": 0.5}), _row("cnn", 0.95, {"fog": 0.65})]
  res = dict(datasets={"mnist16": dict(rows=rows)})
  v = report.verdicts(res, 2.0)
  assert set(v) == {("mnist16", q, m) for q in ("depth", "convolution") for m in ("raw", "matched")}
  assert v[("mnist16", "convolution", "raw")].word == "better"
  assert v[("mnist16", "convolution", "matched")].word == "equivalent"
  assert v[("mnist16", "depth", "raw")].word == "worse" and v[("mnist16", "depth", "matched")].word == "worse"
  assert v[("mnist16", "depth", "raw")].comparison.family == 4


@pytest.mark.slow
def test_the_evaluation_reads_the_selected_parameters_and_batch_norm_statistics():
  """A ResNet's members evaluated as the experiment does: their best parameters with their running
  statistics, not those of the last epoch, and per member."""
  model = models.build("resnet", 3, blocks=1, widths=[2, 2, 4])
  x = jax.random.normal(jax.random.key(0), (20, 8, 8, 1))
  y = jax.numpy.arange(20) % 3
  keys = jax.random.split(jax.random.key(1), 2)
  params = jax.vmap(lambda k: model.init(k, x[:1]))(keys)
  state = jax.vmap(lambda k: model.init_state(k, x[:1]))(keys)
  # Running statistics that change the outputs: a shifted mean in every batch norm.
  state = jax.tree.map(lambda a: a + 0.5, state)
  fake = types.SimpleNamespace(best_params=params, best_model_state=state)
  trainer = train.make_trainer(model, "adam", 4)
  got = evaluate.evaluate_members(trainer, fake, np.array([1, 0]), {"clean": x}, y)["clean"]
  want = [float((model.apply(jax.tree.map(lambda a: a[i], params), x,
                             jax.tree.map(lambda a: a[i], state)).argmax(-1) == y).mean()) for i in (1, 0)]
  assert got == pytest.approx(want)


@pytest.mark.slow
def test_tiny_run_end_to_end(tiny_paper):
  out, doc = tiny_paper.run("stable_world")
  cfg, r = doc["config"], doc["results"]["datasets"]["mnist16"]
  assert [row["contender"] for row in r["rows"]] == cfg["contenders"]
  raw = data.load_raw("mnist16").x_test
  for c in cfg["corruptions"]:  # the recorded content is the content of what was evaluated
    assert r["corruptions"][c]["sha256"] == corruptions.digest(corruptions.corrupt(c, raw, cfg["corruption_seed"]))
  for row in r["rows"]:
    assert set(row["corrupted_test_acc"]) == set(cfg["corruptions"])
    assert all(len(v) == cfg["seeds"] and all(0 <= a <= 1 for a in v) for v in row["corrupted_test_acc"].values())
    # The grid, and at most `extend` values beyond its ends where the pick sat on an end.
    assert row["learning_rate"] in row["tried"] and set(cfg["learning_rates"]) <= set(row["tried"])
    assert len(cfg["learning_rates"]) >= 3 and len(row["tried"]) <= len(cfg["learning_rates"]) + cfg["extend"]
    assert sorted(float(k) for k in row["grid"]) == row["tried"]
  # Trained on clean digits, every contender reads stripes (half the image inverted) worse than clean ones.
  assert all(np.mean(row["corrupted_test_acc"]["stripe"]) < np.mean(row["test_acc"]) for row in r["rows"])
  table = (out / "table.md").read_text()
  assert "mCE (%)" in table and "sha256" in table and "Mu and Gilmer" in table and "±" in table
  reading = (out / "reading.md").read_text()
  assert reading.startswith("- The answer") and len(reading.splitlines()) < 30
  assert "convolution" in reading and any(w in reading for w in ("better", "worse", "equivalent", "unresolved"))
  assert {p.name for p in out.glob("*.png")} == {"corruptions.png", "accuracy.png"}
