"""The member layouts give the same numbers; the rule picks one per backend and cell."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.engine import cells, train
from research import models


def _cell(tiny, root, layout):
  trainer = train.make_trainer(models.mlp(4, depth=2, width=16), "adam", 32)
  return cells.run_cell(trainer, tiny, name=f"c-{layout}", spec={}, seeds=[0, 1, 2],
                        hparams=[{"learning_rate": lr} for lr in (1e-2, 3e-3, 1e-2)], epochs=3, root=root,
                        progress=False, layout=layout, need_state=True)


def test_every_layout_gives_the_numbers_of_the_others(tiny, tmp_path):
  out = {layout: _cell(tiny, tmp_path, layout) for layout in train.LAYOUTS}
  ref = out["vmap"].summary
  for layout, res in out.items():
    assert res.summary.timing.layout == layout
    for key in ("train_loss", "val_loss", "val_acc"):
      np.testing.assert_allclose(np.array(res.summary.history(key), float), np.array(ref.history(key), float),
                                 rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(res.state.params), jax.tree.leaves(out["vmap"].state.params)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
  # map runs each member's own single-run program
  trainer = train.make_trainer(models.mlp(4, depth=2, width=16), "adam", 32)
  _, solo = jax.jit(train.run, static_argnums=(0, 4))(trainer, jax.random.PRNGKey(1),
                                                      {"learning_rate": jnp.float32(3e-3)}, tiny, 3)
  np.testing.assert_allclose(out["map"].summary.history("train_loss")[1], solo.train_loss, rtol=1e-6)
  # another layout is another program: its own cell
  assert len(list(tmp_path.iterdir())) == len(train.LAYOUTS)


def test_the_rule_is_vmap_on_accelerators_and_by_matrix_size_on_cpu():
  small, large = train.Cost(1e5, 1e3, 784 * 256), train.Cost(1e9, 1e6, 784 * 1024)
  assert train.choose_layout(large, "gpu") == "vmap" and train.choose_layout(large, "tpu") == "vmap"
  assert train.choose_layout(small, "cpu") == "vmap" and train.choose_layout(large, "cpu") == "map"


def test_with_a_stopping_rule_map_starts_at_smaller_matrices():
  mid = train.Cost(1e8, 1e5, 784 * 256)
  assert train.choose_layout(mid, "cpu") == "vmap"
  assert train.choose_layout(mid, "cpu", patience=5) == "map"
  assert train.choose_layout(mid, "gpu", patience=5) == "vmap"
  assert train.choose_layout(train.Cost(1e6, 1e3, 784 * 64), "cpu", patience=5) == "vmap"


def test_executed_flops_count_what_each_layout_runs(tiny, tmp_path):
  """vmap pays for a stopped member until its last cellmate stops; map skips its epochs."""
  trainer = train.make_trainer(models.mlp(4, depth=1, width=16), "adam", 32, patience=1)
  out = {layout: cells.run_cell(trainer, tiny, name=f"p-{layout}", spec={}, seeds=[0, 1, 2],
                                hparams=[{"learning_rate": lr} for lr in (3e-1, 1e-3, 3e-2)], epochs=12,
                                root=tmp_path, progress=False, layout=layout)
         for layout in train.LAYOUTS}
  per_epoch = trainer.cost(tiny).epoch_flops(256, 32, 64)
  ran = [m.final.epochs_run for m in out["map"].summary.members]
  assert len(set(ran)) > 1  # the members stop at different epochs
  assert out["map"].summary.timing.flops == sum(ran) * per_epoch
  assert out["vmap"].summary.timing.flops == 3 * out["vmap"].summary.timing.epochs_run * per_epoch
  assert [m.final.epochs_run for m in out["vmap"].summary.members] == ran


def test_cost_counts_a_step_and_an_example(tiny):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=16), "sgd", 32)
  cost = trainer.cost(tiny)
  forward_per_example = 2 * (12 * 16 + 16 * 4)  # multiply-adds of the two matmuls
  assert forward_per_example <= cost.example_flops < 1.5 * forward_per_example
  assert 2 * 32 * forward_per_example <= cost.step_flops < 5 * 32 * forward_per_example
  with pytest.raises(ValueError, match="layout"):
    train.vmapped(trainer, "scan")
