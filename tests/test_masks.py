"""Masks over any params pytree: weight matrices are found by shape and named by path, exactly
round(rate * kept) go per member, biases stay, and training keeps pruned weights exactly zero."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.engine import masks, train
from research import models

HP = {"learning_rate": 1e-2}


def logistic_members(members=3, d=12, k=4):
  """research.models.logistic's params {"w_DxK", "b_K"} with a member axis."""
  model = models.logistic(k)
  keys = jax.random.split(jax.random.key(0), members)
  return model, jax.vmap(model.init, in_axes=(0, None))(keys, jnp.zeros((1, d)))


def test_a_hand_written_model_is_pruned_per_member():
  _, params = logistic_members()
  assert masks.layers(params) == ["w_DxK"]  # b_K is a vector behind the member axis: never pruned
  mask = masks.prune(params, masks.ones_mask(params), {"w_DxK": 0.3})
  for i in range(3):
    keep = mask["w_DxK"][i] > 0
    assert keep.sum() == 48 - round(0.3 * 48)
    w = np.abs(np.asarray(params["w_DxK"][i]))
    assert w[keep].min() >= w[~keep].max()
  assert (mask["b_K"] == 1).all()
  again = masks.prune(params, mask, {"w_DxK": 0.5})
  assert again["w_DxK"][0].sum() == 34 - round(0.5 * 34)  # of the survivors only
  frac, per = masks.kept(again)
  assert per == {"w_DxK": 17 / 48} and frac == 17 / 48


def test_layers_are_named_by_path_in_numeric_order():
  params = {f"Dense_{n}": {"kernel": jnp.ones((2, 3, 3)), "bias": jnp.ones((2, 3))} for n in (0, 1, 2, 10)}
  params["blocks"] = [{"w_DxK": jnp.ones((2, 3, 3))}, {"w_DxK": jnp.ones((2, 3, 3)), "b_K": jnp.ones((2, 3))}]
  assert masks.layers(params) == ["Dense_0", "Dense_1", "Dense_2", "Dense_10", "blocks/0/w_DxK",
                                  "blocks/1/w_DxK"]
  with pytest.raises(ValueError, match="Dense_3"):
    masks.prune(params, masks.ones_mask(params), {"Dense_3": 0.5})


def test_mask_keeps_pruned_weights_exactly_zero_through_training(tiny):
  model, start = logistic_members(members=2)
  trainer = train.make_trainer(model, "adam", 32)
  mask = masks.prune(start, masks.ones_mask(start), {"w_DxK": 0.5})
  v = train.vmapped(trainer)
  hp = train.stack([HP, HP])
  state = v.init(train.keys([0, 1]), hp, tiny, mask, start)
  state, _ = v.train(state, tiny, 3)
  assert masks.exact_zeros(state.params, mask)
  w, m = np.asarray(state.params["w_DxK"]), mask["w_DxK"]
  assert (w[m == 0] == 0.0).all() and (w[m == 1] != np.asarray(start["w_DxK"])[m == 1]).all()
  assert not np.allclose(state.params["b_K"], start["b_K"])  # biases train, unmasked
