"""Magnitude pruning: the masks remove exactly the smallest surviving weights, and a mask stays
applied through training inside the compiled step (pruned weights stay exactly zero)."""
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from experiments import pruning
from research import cells, masks, models, train

COMMITTED = pathlib.Path(__file__).parent.parent / "results" / "pruning"


def test_committed_results_render_to_the_committed_text():
  doc = json.loads((COMMITTED / "results.json").read_text())
  assert doc["results"]["layers"] == ["Dense_0", "Dense_1", "Dense_2"]
  assert pruning.table(doc) == (COMMITTED / "table.md").read_text()
  assert pruning.reading(doc).strip() + "\n" == (COMMITTED / "reading.md").read_text()


def _params(members=2, seed=0):
  k = jax.random.split(jax.random.key(seed), 3)
  return {"Dense_0": {"kernel": jax.random.normal(k[0], (members, 6, 5)), "bias": jnp.ones((members, 5))},
          "Dense_1": {"kernel": jax.random.normal(k[1], (members, 5, 4)), "bias": jnp.ones((members, 4))}}


def test_prune_removes_the_smallest_surviving_weights():
  params = _params()
  mask = masks.ones_mask(params)
  m1 = masks.prune(params, mask, {"Dense_0": 0.5, "Dense_1": 0.25})
  for i in range(2):
    w = np.abs(np.asarray(params["Dense_0"]["kernel"][i]))
    keep = m1["Dense_0"]["kernel"][i] > 0
    assert keep.sum() == 15  # exactly half of 30
    assert w[keep].min() >= w[~keep].max()  # every kept weight is larger than every pruned one
    assert m1["Dense_1"]["kernel"][i].sum() == 15  # 20 - round(0.25 * 20)
  assert all((m1[l]["bias"] == 1).all() for l in m1)  # biases are never pruned
  # A second round removes from the survivors only; nothing comes back.
  m2 = masks.prune(params, m1, {"Dense_0": 0.4, "Dense_1": 0.0})
  assert (m2["Dense_0"]["kernel"] <= m1["Dense_0"]["kernel"]).all()
  assert m2["Dense_0"]["kernel"][0].sum() == 9  # 15 - 6
  frac, per = masks.kept(m2)
  assert per == {"Dense_0": 9 / 30, "Dense_1": 15 / 20}
  assert frac == (9 + 15) / 50
  assert cells.digest(m2) != cells.digest(m1) and cells.digest(m1) == cells.digest(
      masks.prune(params, mask, {"Dense_0": 0.5, "Dense_1": 0.25}))


def test_mask_stays_applied_through_training(digits, tmp_path):
  """Start from trained-looking weights, prune, retrain with Adam (whose moments would move a zero
  weight): every pruned weight is exactly 0.0 after training, the others have moved."""
  ds, arrays = digits
  model = models.mlp_widths(ds.num_classes, (32, 16))
  trainer = train.make_trainer(model, "adam", 64)
  seeds = [0, 1]
  hp = [{"learning_rate": 1e-2}] * 2
  v = train.vmapped(trainer)
  start = jax.jit(v.init)(train.keys(seeds), train.stack(hp), arrays, None, None).params
  mask = masks.prune(start, masks.ones_mask(start), {"Dense_0": 0.8, "Dense_1": 0.5, "Dense_2": 0.2})
  res = cells.run_cell(trainer, arrays, name="masked", spec={}, seeds=seeds, hparams=hp, epochs=2,
                       root=tmp_path, masks=mask, init_params=start, need_state=True, progress=False)
  params = res.state.params
  assert masks.exact_zeros(params, mask)
  for layer in mask:
    k, m, k0 = (np.asarray(t[layer]["kernel"]) for t in (params, mask, start))
    assert (k[m == 0] == 0.0).all()
    assert np.mean(k[m == 1] != k0[m == 1]) > 0.9  # the survivors trained
  assert res.state.mask is not None
  acc = res.summary.final("test_acc")
  assert all(a > 0.5 for a in acc), acc  # an 80%-pruned first layer still learns the digits
