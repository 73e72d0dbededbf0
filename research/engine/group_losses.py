"""Per-group risks, and the penalties over groups (environments) that Group DRO's rivals add.

  loss_G, count_G = group_means(loss_B, g_B, num_groups)
  risk = present_mean(loss_G, count_G > 0)
  loss = penalized(risk, vrex_penalty(loss_G, count_G > 0), annealed(weight, anneal, step))

IRMv1 is Arjovsky et al. 2019, V-REx Krueger et al. 2021; the annealing is the IRM repository's
(research/engine/group_dro.py's docstring gives the sources).
"""
from typing import Callable

import jax
import jax.numpy as jnp


def group_means(values_B: jax.Array, g_B: jax.Array, num_groups: int) -> tuple[jax.Array, jax.Array]:
  """(mean of values_B within each group, examples per group): 0 for a group the batch lacks."""
  member_BxG = jax.nn.one_hot(g_B, num_groups, dtype=values_B.dtype)
  count_G = member_BxG.sum(0)
  return (member_BxG.T @ values_B) / jnp.maximum(count_G, 1.0), count_G


def balanced_probabilities(g_N: jax.Array, num_groups: int) -> jax.Array:
  """Each example's probability of being drawn when every group present is drawn equally often."""
  count_G = jnp.bincount(g_N, length=num_groups).astype(jnp.float32)
  present = (count_G > 0).sum()
  return 1.0 / (count_G[g_N] * present)


def present_mean(values_G: jax.Array, present_G: jax.Array) -> jax.Array:
  """The mean of values_G over the groups present (0 when none is)."""
  w_G = present_G.astype(values_G.dtype)
  return (w_G @ values_G) / jnp.maximum(w_G.sum(), 1.0)


def scale_gradients(loss_fn: Callable, logits_BxK: jax.Array, y_B: jax.Array) -> jax.Array:
  """Per example, d/ds loss_fn(s * logits, y) at s = 1: IRMv1's gradient w.r.t. a dummy multiplier
  on the logits (a group's mean of it is the gradient of the group's mean risk)."""
  one = jnp.ones((), logits_BxK.dtype)
  return jax.jvp(lambda s: loss_fn(s * logits_BxK, y_B), (one,), (one,))[1]


def irm_penalty(scale_grad_B: jax.Array, g_B: jax.Array, num_groups: int) -> jax.Array:
  """IRMv1: the mean over the groups present of (d/ds R_g(s * logits) at s = 1)^2."""
  grad_G, count_G = group_means(scale_grad_B, g_B, num_groups)
  return present_mean(grad_G ** 2, count_G > 0)


def vrex_penalty(loss_G: jax.Array, present_G: jax.Array) -> jax.Array:
  """V-REx: the variance of the groups' risks (over the groups present, divided by their number)."""
  return present_mean((loss_G - present_mean(loss_G, present_G)) ** 2, present_G)


def annealed(weight: jax.Array, anneal: jax.Array, step: jax.Array) -> jax.Array:
  """The IRM repository's schedule of lambda: 1 before `anneal` optimizer steps, `weight` from then on."""
  return jnp.where(step >= anneal, weight, 1.0)


def penalized(risk: jax.Array, penalty: jax.Array, lam: jax.Array) -> jax.Array:
  """risk + lam * penalty, divided by lam when lam > 1 (the repository keeps gradients in range so).
  Divided by max(lam, 1), not selected by a where: the unselected loss / lam of lam = 0 would make
  the gradient NaN."""
  return (risk + lam * penalty) / jnp.maximum(lam, 1.0)
