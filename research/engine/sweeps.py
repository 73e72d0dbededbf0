"""Sweeps: one trainer's run over a leading member axis (seeds x hyperparameters), in one program.

  v = vmapped(trainer, layout=choose_layout(trainer.cost(data)))
  states, histories = v.train(v.init(keys(seeds), stack(hparams), data, masks, None), data, epochs)
"""
import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import lax

from research.engine.loop import Cost, History, Trainer, TrainState
from research.engine.types import Data, HParams, PyTree


def keys(seeds: Sequence[int]) -> jax.Array:
  return jnp.stack([jax.random.PRNGKey(int(s)) for s in seeds])


def stack(hps: Sequence[HParams]) -> dict[str, jax.Array]:
  """[{"learning_rate": a}, {"learning_rate": b}] -> {"learning_rate": array([a, b])}."""
  return {k: jnp.asarray([hp[k] for hp in hps], jnp.float32) for k in hps[0]}


# How the members of a cell share one compiled program:
#   vmap  batched: every step is one wide step of all members (what accelerators want)
#   map   one member after another inside the program (lax.map): each member runs the
#         single-run program, so on CPU a member costs what one run costs, while XLA's
#         batched matmul kernels are slower per model there (results/bench/cpu).
LAYOUTS = ("vmap", "map")


def vmapped(trainer: Trainer, layout: str = "vmap") -> Trainer:
  """The trainer's functions over a leading member axis; data is shared, not mapped. The
  numbers agree between layouts to float32 rounding (XLA sums batched reductions in another
  order); a one-member cell runs the unbatched program in either, bit for bit a single run."""
  if layout not in LAYOUTS:
    raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
  init = jax.vmap(trainer.init, in_axes=(0, 0, None, 0, 0))

  def evaluate(params, x, y, model_state=None):
    # Passed on only when there is one: a Trainer built elsewhere (group_dro) takes three arguments.
    if model_state is None:
      return jax.vmap(trainer.evaluate, in_axes=(0, None, None))(params, x, y)
    return jax.vmap(trainer.evaluate, in_axes=(0, None, None, 0))(params, x, y, model_state)

  def train(state, data, epochs):
    if jax.tree.leaves(state)[0].shape[0] == 1:
      state, hist = trainer.train(jax.tree.map(lambda a: a[0], state), data, epochs)
      return jax.tree.map(lambda a: a[None], (state, hist))
    if layout == "map":
      return lax.map(lambda member: trainer.train(member, data, epochs), state)
    return jax.vmap(functools.partial(trainer.train, epochs=epochs), in_axes=(0, None))(state, data)
  return Trainer(lambda k, hp, data, mask=None, params=None: init(k, hp, data, mask, params),
                 train, evaluate, trainer.batch_size, trainer.cost, trainer.patience, trainer.signature)


# On CPU, from the layout table of `make bench` (8 members, 2 cores): members one after another
# (map) train faster per model once a weight matrix is large (784 x 512 and up: map 1.12-1.28x
# faster), batched (vmap) up to 784 x 256, whatever the depth (8 x 256: vmap 1.05x faster at the
# FLOPs of 2 x 512). The switch sits between the two.
CPU_MAP_MIN_WEIGHT = 300_000
# With a stopping rule the layouts differ in what a stopped member costs: under vmap both branches
# of its epoch's lax.cond run, so the cell pays for every member until the last one stops; under
# map a stopped member's epochs are skipped. In the depth experiment's cells (patience 5, 5 members,
# width 256) members ran 59-85% of their cell's epochs (68% over the experiment), which outweighs
# map's 1.05-1.08x per-model cost at 784 x 256. Below, the bench disagrees with itself: 784 x 64 had
# vmap 1.3x faster on a shared machine, the two even on a quiet one (784 x 16: map 1.15x faster),
# so map may pay at every size with a stopping rule; the switch stays here until a quiet layout
# table with stopped members says more, since moving it retrains every cell of the small nets.
CPU_MAP_MIN_WEIGHT_STOPPING = 150_000


def choose_layout(cost: Cost, backend: str | None = None, *, patience: int = 0) -> str:
  """The member layout for a cell: vmap on accelerators; on CPU by the measured rules above
  (`patience`: the trainer's stopping rule)."""
  backend = backend or jax.default_backend()
  if backend != "cpu":
    return "vmap"
  floor = CPU_MAP_MIN_WEIGHT_STOPPING if patience > 0 else CPU_MAP_MIN_WEIGHT
  return "map" if cost.largest_weight >= floor else "vmap"


@functools.partial(jax.jit, static_argnums=(0, 4))
def sweep(trainer: Trainer, member_keys: jax.Array, hps: dict[str, jax.Array], data: Data, epochs: int,
          masks: PyTree = None) -> tuple[TrainState, History]:
  """All members' whole runs as one compiled call: (states, histories) with a member axis."""
  v = vmapped(trainer)
  return v.train(v.init(member_keys, hps, data, masks), data, epochs)
