"""The engine's one training loop, the state it carries, and what a trainer is.

  train = epoch_loop(make_step, validate, batch_size=128, patience=5)
  state, history = train(state, data, epochs=10)   # lax.scan over epochs and steps

Every trainer (train.make_trainer, group_dro.make_trainer) is this loop with its own step and
validation. Divergence is handled inside the program: a step whose loss or gradient is not finite is
not applied, and the member is frozen and flagged from then on, so the other members of a vmapped
sweep continue unaffected. Selection is inside it too, and reads the validation split only (see
`epoch_loop`); the test set is not seen by training at all.
"""
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from research.engine import sharding
from research.engine.types import Data, PyTree


class TrainState(NamedTuple):
  params: Any
  opt_state: Any
  key: jax.Array       # raw uint32 PRNG key for shuffling
  epoch: jax.Array     # epochs of the run's clock (a stopped member's skipped epochs count)
  diverged: jax.Array  # a non-finite loss or gradient was seen; params frozen since
  mask: Any = None     # optional {0, 1} pytree like params (pruning); applied after every step
  best_params: Any = None  # the parameters after best_epoch: what a run reports (see `selected`)
  best_val: jax.Array = None    # their validation accuracy (-inf before the first epoch)
  best_epoch: jax.Array = None  # 1-based epoch of best_params; 0 before the first epoch
  stopped: jax.Array = None     # patience ran out: no epoch runs any more
  # A model with state (nets.has_state: batch norm's running statistics) carries it here, and the
  # state that goes with best_params beside them; None for every other model, which adds nothing
  # to the traced program.
  model_state: Any = None
  best_model_state: Any = None


class History(NamedTuple):
  """Per-epoch numbers (NaN for an epoch a stopped member skipped); a trailing epoch axis."""
  train_loss: jax.Array  # mean minibatch loss over the epoch
  val_loss: jax.Array    # NaN when the data has no validation split
  val_acc: jax.Array
  diverged: jax.Array


class Trainer(NamedTuple):
  init: Callable      # (key, hp, data, mask=None, params=None) -> TrainState
  train: Callable     # (state, data, epochs) -> (TrainState, History); epochs is static
  evaluate: Callable  # (params, x, y, model_state=None) -> (mean loss, accuracy)
  batch_size: int = 0
  cost: Callable = None  # (data) -> Cost of one member: what XLA counts for a step and an example
  patience: int = 0      # epochs without a better validation accuracy before a member stops; 0: never
  # (data) -> {part: value}: what determines this trainer's numbers besides the engine's own loop
  # (research/engine/cells.py hashes it into a cell's identity; the loop is guarded by golden numbers).
  # None: the cell's identity hashes the whole lowered training epoch instead.
  signature: Callable = None


class Cost(NamedTuple):
  """FLOPs as XLA's cost analysis counts them (a multiply-add is 2). A loop inside the model
  (a GRU's scan over time) is counted once, not per iteration: an undercount for such models."""
  step_flops: float      # one optimizer step on one minibatch: forward, backward, update
  example_flops: float   # the forward pass of one example (evaluation)
  largest_weight: int = 0  # entries of the model's largest parameter array

  def epoch_flops(self, n_train, batch_size, n_eval):
    """One epoch: every step, then the evaluation of n_eval examples (the validation split)."""
    return (n_train // batch_size) * self.step_flops + n_eval * self.example_flops



def selected(state: TrainState) -> PyTree:
  """The parameters a run reports: those of its best validation epoch (the last epoch when the
  data has no validation split)."""
  return state.best_params


def selected_state(state: TrainState) -> PyTree:
  """The model state that goes with `selected` (None for a model without state)."""
  return state.best_model_state


def select(ok: jax.Array, new: PyTree, old: PyTree) -> PyTree:
  """new where ok, old elsewhere, leaf by leaf (ok: a scalar or per-member flag)."""
  return jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, old)


# A stream of its own for a stochastic model's randomness (dropout), apart from the shuffling keys
# (fold_in(key, epoch)): one rng per (member's seed, step), so a resumed run draws the same ones.
RNG_STREAM = 0x64726F70


def step_rng(key: jax.Array, count: jax.Array) -> jax.Array:
  """The randomness of one training step of a member (count: the step on the epoch clock)."""
  return jax.random.fold_in(jax.random.fold_in(key, RNG_STREAM), count)


def permuted_batches(key: jax.Array, data: Data, steps: int, batch_size: int) -> jax.Array:
  """Each epoch sees every training example once, in a fresh order (the last partial batch dropped)."""
  n = data["y_train"].shape[0]
  return jax.random.permutation(key, n)[:steps * batch_size].reshape(steps, batch_size)


def epoch_loop(make_step: Callable, validate: Callable, *, batch_size: int, patience: int,
               batches: Callable = permuted_batches) -> Callable:
  """The engine's one training program: (state, data, epochs) -> (state, History), lax.scan over epochs
  and, inside each, over minibatches. Every trainer is this loop with its own hooks:

    make_step(data) -> step(state, batch, count) -> (state, loss)  one optimizer step on `batch`
        ({name: rows} of every *_train array); `count` is the step's index on the epoch clock (the
        learning-rate schedule is inside the optimizer's chain: optim.scheduled)
    validate(state, data) -> (val_loss, val_acc, score)  after each epoch; the best `score` so far
        selects the reported parameters (NaN is never better)
    batches(key, data, steps, batch_size) -> (steps, batch_size) indices of each step's examples

  Without a validation split every epoch that did not diverge is the best. A member stopped by
  patience or diverged skips its epochs (NaN history), so its numbers do not depend on its cellmates."""
  def train(state, data, epochs):
    n = data["y_train"].shape[0]
    steps = n // batch_size
    rows = {k: a for k, a in data.items() if k.endswith("_train")}
    step = make_step(data)

    def one_step(carry, i_idx_B):
      state, loss_sum = carry
      i, idx_B = i_idx_B
      batch = {k: a[idx_B] for k, a in rows.items()}
      batch["x_train"] = sharding.constrain_batch(batch["x_train"])  # data parallel under a "batch" mesh
      state, loss = step(state, batch, state.epoch * steps + i)
      return (state, loss_sum + loss), None

    def run_epoch(state):
      idx = batches(jax.random.fold_in(state.key, state.epoch), data, steps, batch_size)
      (state, loss_sum), _ = lax.scan(one_step, (state, jnp.zeros(())), (jnp.arange(steps), idx))
      epoch = state.epoch + 1
      if "x_val" in data:
        val_loss, val_acc, score = validate(state, data)
        better = score > state.best_val  # NaN (a diverged member) is never better
      else:
        val_loss = val_acc = score = jnp.full((), jnp.nan)
        better = ~state.diverged
      best_epoch = jnp.where(better, epoch, state.best_epoch)
      state = state._replace(epoch=epoch, best_params=select(better, state.params, state.best_params),
                             best_val=jnp.where(better, score, state.best_val), best_epoch=best_epoch,
                             stopped=(patience > 0) & (epoch - best_epoch >= patience))
      if state.model_state is not None:  # decided at trace time: a model with state (batch norm)
        state = state._replace(best_model_state=select(better, state.model_state, state.best_model_state))
      return state, History(loss_sum / steps, val_loss, val_acc, state.diverged)

    def skip_epoch(state):
      nan = jnp.full((), jnp.nan)
      return state._replace(epoch=state.epoch + 1), History(nan, nan, nan, state.diverged)

    def epoch(state, _):
      # Under vmap both branches run and one is selected; one member at a time, a stopped or
      # diverged member's epoch costs nothing.
      return lax.cond(state.stopped | state.diverged, skip_epoch, run_epoch, state)

    state, hist = lax.scan(epoch, state, None, length=epochs)
    return state, jax.tree.map(lambda a: jnp.moveaxis(a, 0, -1), hist)
  return train


def done(state: TrainState) -> jax.Array:
  """Whether a member will not train any more: stopped by patience, or diverged."""
  return state.stopped | state.diverged
