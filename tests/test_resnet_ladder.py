"""The plain vs residual CNN ladder: the nets, the reading's family and verdicts, He's CIFAR-10 recipe
as a config, and a tiny run end to end (tests/test_registry.py runs the permuted-test-label audit)."""
import shlex

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.cli import config, experiment
from research import models
from research.models import resnet
from experiments import resnet_ladder
from experiments.resnet_ladder import ladder, recipes


@pytest.mark.slow
def test_he_resnet_20_has_the_papers_layers_and_parameters():
  """ResNet-20 on 32x32x3: 0.27M parameters (He et al. Table 6); plain and residual share them."""
  res, plain = (models.build("resnet", 10, blocks=3, shortcut=s) for s in (True, False))
  count = models.param_count(res, (32, 32, 3))
  assert 0.265e6 < count < 0.275e6 and count == models.param_count(plain, (32, 32, 3))
  assert [resnet.layers(n) for n in (3, 5, 7, 9, 18)] == [20, 32, 44, 56, 110]
  x = jax.random.normal(jax.random.key(0), (2, 32, 32, 3))
  params, state = res.init(jax.random.key(1), x), res.init_state(jax.random.key(1), x)
  assert not models.same_function(res, plain, (16, 16, 1))
  np.testing.assert_array_equal(*(m.apply(params, x, state).shape for m in (res, plain)))


def test_option_a_shortcut_subsamples_and_pads_with_zeros():
  x = jnp.arange(2 * 4 * 4 * 3, dtype=jnp.float32).reshape(2, 4, 4, 3)
  out = resnet.shortcut_a(x, 5, 2)
  assert out.shape == (2, 2, 2, 5)
  np.testing.assert_array_equal(out[..., :3], x[:, ::2, ::2, :])
  assert not np.any(out[..., 3:])


def _cell(err, lr=1e-3, val=None):
  acc = [1 - e for e in err]
  n = len(acc)
  return dict(train_acc=acc, val_acc=val or acc, test_acc=acc, best_epoch=[5] * n, stopped=[True] * n,
              diverged=[False] * n, learning_rate=lr, seeds=list(range(n)), epochs_run=[10] * n,
              params=1000, flops=2000, curve=[0.5, 0.6, None])


def _doc(plain_deep, resid_deep):
  rows = [dict(blocks=1, layers=8, plain=_cell([0.10, 0.101, 0.099]), residual=_cell([0.10, 0.102, 0.098])),
          dict(blocks=3, layers=20, plain=_cell(plain_deep), residual=_cell(resid_deep))]
  cfg = dict(resnet_ladder.get_config().to_dict(), blocks=[1, 3])
  ds = dict(name="fashion_mnist", shape=[16, 16, 1], n_train=10000, n_val=5000, n_test=10000)
  return dict(config=cfg, results=dict(dataset=ds, rows=rows), environment=dict(devices="1 x cpu"))


def test_the_reading_calls_hes_findings_only_where_holm_resolves_them():
  doc = _doc(plain_deep=[0.15, 0.151, 0.149], resid_deep=[0.08, 0.081, 0.079])
  tests = ladder.comparisons(doc["results"])
  assert set(tests) == {("pair", 8), ("pair", 20), ("deeper", "plain", "train"), ("deeper", "plain", "test"),
                        ("deeper", "residual", "train"), ("deeper", "residual", "test")}
  assert tests[("pair", 20)].resolved and tests[("pair", 20)].diff < 0  # residual errs less
  text = resnet_ladder.reading(doc)
  assert "plain nets degrade with depth" in text and "train error reproduces (+5.0 points" in text
  assert "residual nets improve with depth" in text and "test error reproduces (-2.0 points" in text
  assert "8 layers: not resolved at 3 seeds" in text
  noisy = resnet_ladder.reading(_doc(plain_deep=[0.05, 0.15, 0.10], resid_deep=[0.12, 0.121, 0.119]))
  assert "train error not resolved at 3 seeds" in noisy and "test error the opposite" in noisy
  page = resnet_ladder.table(doc)
  table = page.markdown()
  assert "| 20 (n = 3) | 1.0K | 2.0K | 15.0 ± 0.1 |" in table and "| 8.75 |" in table
  assert "Holm's correction over the 6 comparisons" in table and "ResNet18, with augmentation 94.9%" in table
  assert len(page.tables()) == 1


def test_depth_pairs_give_the_report_each_deeper_net_against_the_shallowest():
  pairs = resnet_ladder.depth_pairs(_doc(plain_deep=[0.15, 0.151, 0.149], resid_deep=[0.08, 0.081, 0.079]))
  assert [(p.setting, p.deeper, p.shallower, p.deeper_layers, p.shallower_layers) for p in pairs] == [
      ("fashion_mnist CNNs (10,000 images), plain", "20 layers", "8 layers", 20, 8),
      ("fashion_mnist CNNs (10,000 images), residual", "20 layers", "8 layers", 20, 8)]
  assert pairs[1].deeper_acc == [0.92, 0.919, 0.921]


def test_hes_cifar10_recipe_is_a_valid_config_of_this_experiment():
  args = shlex.split(recipes.overrides())
  assert "--config.dataset=tfds:cifar10" in args and "--config.blocks=[3,5,7,9,18]" in args
  module, cfg = experiment.configure("resnet", "full", args)  # validates; trains nothing
  assert cfg.widths == [16, 32, 64] and cfg.optimizer == "momentum_l2" and cfg.epochs == 183  # 64k iterations of 351 steps
  seeds, hparams = ladder.hparams_of(cfg)
  assert hparams[0] == {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 1e-4} and len(seeds) == 5
  config.check_protocol(cfg, module.NAME)


@pytest.mark.slow
def test_tiny_run_writes_table_plot_and_reading(tiny_paper):
  out, doc = tiny_paper.run("resnet_ladder")
  rows = doc["results"]["rows"]
  assert [r["layers"] for r in rows] == [8, 14]
  for r in rows:
    assert r["plain"]["params"] == r["residual"]["params"]
    assert len(r["plain"]["test_acc"]) == doc["config"]["seeds"]
  table = (out / "table.md").read_text()
  assert sum(line.startswith("|---") for line in table.splitlines()) == 1 and "±" in table
  assert (out / "reading.md").read_text().startswith("- Budget")
  assert (out / "ladder.png").stat().st_size > 5_000
