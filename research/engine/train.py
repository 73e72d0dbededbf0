"""The engine: a training run is a pure function compiled into one XLA program.

  trainer = make_trainer(model, "adam", batch_size=128)
  state = trainer.init(key, {"learning_rate": 1e-3}, data)
  state, history = trainer.train(state, data, epochs=10)   # lax.scan over epochs and steps

Everything the run needs is an argument: the data (resident on the device),
the key (shuffling with jax.random, one key per epoch by fold_in, so any
chunking of the epochs gives the same numbers) and the hyperparameters (kept
in the optimizer state by optax.inject_hyperparams). `vmap` over keys and
hyperparameters turns one run into a sweep: see `sweep`.

Divergence is handled inside the program: a step whose loss or gradient is not
finite is not applied, and the member is frozen and flagged from then on, so
the other members of a vmapped sweep continue unaffected.

Selection is inside the program too, and reads the validation split only: after
every epoch a member whose validation accuracy beats its best so far keeps its
parameters as `best_params` and the epoch as `best_epoch`; with `patience` > 0 a
member that has not improved for that many epochs stops (its epochs are skipped,
so its numbers do not depend on how long its cellmates train). The test set is
not seen by training at all: callers evaluate the selected parameters on it once.

A model with state (nets.has_state: batch normalization's running statistics) has it threaded
through the same program: each step trains on the batch's statistics and carries the updated running
ones in `TrainState.model_state` (frozen with the parameters on divergence); validation, selection
(`best_model_state` beside `best_params`) and evaluation read the running ones. The branch is taken in
Python at trace time, so a model without state lowers to the program it always did (its state
fields are None: no leaves) and every committed cell keeps its identity.
"""
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax
from jax import lax

from research.engine import optim, programs
from research.engine.loop import (Cost, History, Trainer, TrainState, done, epoch_loop, permuted_batches, select,
                                  selected, selected_state, step_rng)
from research.engine.sweeps import (CPU_MAP_MIN_WEIGHT, CPU_MAP_MIN_WEIGHT_STOPPING, LAYOUTS, choose_layout, keys,
                                    stack, sweep, vmapped)
from research.engine.types import Data, HParams, PyTree
from research.models import nets
from research.models.nets import Model

__all__ = ["CPU_MAP_MIN_WEIGHT", "CPU_MAP_MIN_WEIGHT_STOPPING", "Cost", "History", "LAYOUTS", "TrainState", "Trainer",
           "choose_layout", "chunked_evaluate", "correct", "cross_entropy", "done", "epoch_loop", "keys",
           "make_trainer", "permuted_batches", "run", "select", "selected", "selected_state", "stack", "step_cost",
           "step_rng", "sweep", "vmapped", "xla_flops"]


def cross_entropy(logits_BxK: jax.Array, y_B: jax.Array) -> jax.Array:
  """Per-example loss L_n; the article's total loss L = L_1 + ... + L_N is taken as their mean."""
  return optax.softmax_cross_entropy_with_integer_labels(logits_BxK, y_B)


def correct(logits_BxK: jax.Array, y_B: jax.Array) -> jax.Array:
  """The largest output wins."""
  return (jnp.argmax(logits_BxK, -1) == y_B).astype(jnp.float32)


def make_trainer(model: Model, optimizer: str = "adam", batch_size: int = 128, *, patience: int = 0,
                 schedule: Callable[[float], float] | None = None, loss_fn: Callable = cross_entropy,
                 correct_fn: Callable = correct, eval_batch: int = 2000) -> Trainer:
  """A Trainer for `model`. loss_fn/correct_fn map (logits, labels) to per-example values.

  patience: a member stops once its validation accuracy has not improved for this many epochs
  (0: never; it still keeps its best epoch's parameters). schedule: fractional epoch -> factor
  on the learning rate (optim.schedule), inside the optimizer's chain; None: constant. Both are
  constants of the program.
  """
  tx_of = optim.make(optimizer)
  factor_at = schedule or optim.constant
  # Numeric hyperparameters are read from the optimizer state, so the update
  # never needs the values this placeholder transformation was built with.
  placeholder = optim.defaults(optimizer, 0.0)
  chain = lambda hp, n_train: optim.scheduled(tx_of(hp), factor_at, n_train // batch_size)
  # Decided at trace time: a model without state or randomness traces exactly the program it always did.
  stateful = nets.has_state(model)
  stochastic = model.rng_apply is not None
  if stateful and stochastic:
    raise ValueError("a model with both state and randomness is not supported yet")
  forward, batch_loss, batch_loss_with_state = _losses(model, loss_fn, stateful, stochastic)
  update = _updater(batch_loss, batch_loss_with_state, stateful)
  evaluate = chunked_evaluate(forward, loss_fn, correct_fn, eval_batch)

  init = _initializer(model, chain, stateful)

  def make_step(data):
    tx = chain(placeholder, data["y_train"].shape[0])

    def step(state, batch, count):
      w_B = jnp.ones(batch_size) if "w_train" not in batch else batch["w_train"]
      rng = step_rng(state.key, count) if stochastic else None
      return update(state, batch["x_train"], batch["y_train"], w_B, tx, rng)
    return step

  def validate(state, data):
    val_loss, val_acc = evaluate(state.params, data["x_val"], data["y_val"], state.model_state)
    return val_loss, val_acc, val_acc

  train = epoch_loop(make_step, validate, batch_size=batch_size, patience=patience)

  def cost(data):
    state = jax.eval_shape(init, jax.random.PRNGKey(0), optim.defaults(optimizer, 1e-3), data)
    tx = chain(placeholder, data["y_train"].shape[0])
    rng = jax.random.PRNGKey(0) if stochastic else None
    return step_cost(lambda *a: update(*a, tx, rng), forward, state, data, batch_size)

  def signature(data):
    loss = batch_loss_with_state if stateful else batch_loss
    return dict(trainer="train", optimizer=optimizer, batch_size=batch_size, patience=patience, eval_batch=eval_batch,
                **programs.model_programs(model, data, batch_size, jax.value_and_grad(loss, has_aux=stateful),
                                 lambda params, x, y, model_state: (loss_fn(forward(params, x, model_state), y),
                                                                    correct_fn(forward(params, x, model_state), y))),
                **programs.optimizer_programs(tx_of, placeholder, factor_at))

  return Trainer(init, train, evaluate, batch_size, cost, patience, signature)


def _initializer(model, chain, stateful):
  def init(key, hp, data, mask=None, params=None):
    """A fresh state; `params` (e.g. pruned or rewound weights) replaces the model's init."""
    k_init, k_data = jax.random.split(key)
    if params is None:
      params = model.init(k_init, data["x_train"][:1])
    if mask is not None:
      params = jax.tree.map(jnp.multiply, params, mask)
    model_state = model.init_state(k_init, data["x_train"][:1]) if stateful else None
    return TrainState(params, chain(hp, data["x_train"].shape[0]).init(params), k_data, jnp.zeros((), jnp.int32),
                      jnp.zeros((), bool), mask, params, jnp.full((), -jnp.inf), jnp.zeros((), jnp.int32),
                      jnp.zeros((), bool), model_state, model_state)
  return init


def _losses(model, loss_fn, stateful, stochastic):
  """(forward, batch_loss, batch_loss_with_state): the model in evaluation mode, and its mean weighted
  training loss on a minibatch, without and with model state."""
  def forward(params, x_BxS, model_state):
    """Evaluation mode: a model with state reads its running statistics and changes nothing."""
    return model.apply(params, x_BxS, model_state) if stateful else model.apply(params, x_BxS)

  def batch_loss(params, x_BxS, y_B, w_B, rng=None):
    logits = model.rng_apply(params, x_BxS, rng) if stochastic else model.apply(params, x_BxS)
    return jnp.mean(loss_fn(logits, y_B) * w_B)

  def batch_loss_with_state(params, model_state, x_BxS, y_B, w_B):
    """Training mode: the batch's own statistics, and the running ones updated (the aux output)."""
    logits, model_state = model.train_apply(params, x_BxS, model_state)
    return jnp.mean(loss_fn(logits, y_B) * w_B), model_state
  return forward, batch_loss, batch_loss_with_state


def _updater(batch_loss, batch_loss_with_state, stateful):
  """update(state, x_BxS, y_B, w_B, tx, rng=None) -> (state, loss): one step of the optimizer `tx`
  (rng: a stochastic model's randomness for this step); a non-finite loss or gradient freezes the
  member instead (its model state too)."""
  def update(state, x_BxS, y_B, w_B, tx, rng=None):
    if stateful:
      (loss, model_state), grads = jax.value_and_grad(batch_loss_with_state, has_aux=True)(
          state.params, state.model_state, x_BxS, y_B, w_B)
    else:
      loss, grads = jax.value_and_grad(batch_loss)(state.params, x_BxS, y_B, w_B, rng)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    if state.mask is not None:
      params = jax.tree.map(jnp.multiply, params, state.mask)
    finite = jnp.isfinite(loss) & jnp.isfinite(optax.tree.norm(grads))
    ok = finite & ~state.diverged
    if stateful:
      state = state._replace(model_state=select(ok, model_state, state.model_state))
    return state._replace(params=select(ok, params, state.params),
                          opt_state=select(ok, opt_state, state.opt_state),
                          diverged=state.diverged | ~finite), loss
  return update


def chunked_evaluate(forward: Callable, loss_fn: Callable, correct_fn: Callable, eval_batch: int) -> Callable:
  """evaluate(params, x, y, model_state=None) -> (mean loss, accuracy) over all of (x, y), in chunks of
  eval_batch examples (the last one padded and masked), so memory does not grow with the split."""
  def evaluate(params, x, y, model_state=None):
    n = y.shape[0]
    size = min(eval_batch, n)
    chunks = -(-n // size)
    pad = chunks * size - n
    x = jnp.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1)).reshape(chunks, size, *x.shape[1:])
    y = jnp.pad(y, [(0, pad)] + [(0, 0)] * (y.ndim - 1)).reshape(chunks, size, *y.shape[1:])
    valid = (jnp.arange(chunks * size) < n).reshape(chunks, size)

    def one(args):
      x_CxS, y_C, valid_C = args
      logits = forward(params, x_CxS, model_state)
      return (jnp.sum(loss_fn(logits, y_C) * valid_C),
              jnp.sum(correct_fn(logits, y_C) * valid_C))
    losses, hits = lax.map(one, (x, y, valid))
    return losses.sum() / n, hits.sum() / n
  return evaluate


def step_cost(step: Callable, forward: Callable, state: TrainState, data: Data, batch_size: int, *,
              per_example: Any = jnp.float32) -> Cost:
  """The Cost of one member: XLA's FLOPs of step(state, x_BxS, y_B, w_B) on one minibatch (w_B: a
  per-example array of dtype per_example) and of forward(params, x, model_state) on one example
  (state: abstract shapes are enough)."""
  shape = lambda a, rows: jax.ShapeDtypeStruct((rows, *a.shape[1:]), a.dtype)
  x, y = data["x_train"], data["y_train"]
  lowered = jax.jit(step).lower(state, shape(x, batch_size), shape(y, batch_size),
                                jax.ShapeDtypeStruct((batch_size,), per_example))
  example = jax.jit(forward).lower(state.params, shape(x, 1), state.model_state)
  largest = max((math.prod(a.shape) for a in jax.tree.leaves(state.params)), default=0)
  return Cost(xla_flops(lowered), xla_flops(example), int(largest))


def xla_flops(lowered: jax.stages.Lowered) -> float:
  """FLOPs of a lowered program as XLA's cost analysis counts them (0 when it has none)."""
  analysis = lowered.cost_analysis()
  analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
  return float((analysis or {}).get("flops", 0.0))


def run(trainer: Trainer, key: jax.Array, hp: HParams, data: Data, epochs: int,
        mask: PyTree = None) -> tuple[TrainState, History]:
  """A whole training run, init to last epoch: (final state, history)."""
  return trainer.train(trainer.init(key, hp, data, mask), data, epochs)
