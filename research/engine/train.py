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
import functools
import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax

from research.models import nets
from research.engine import optim, programs, sharding


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


def selected(state):
  """The parameters a run reports: those of its best validation epoch (the last epoch when the
  data has no validation split)."""
  return state.best_params


def selected_state(state):
  """The model state that goes with `selected` (None for a model without state)."""
  return state.best_model_state


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


def cross_entropy(logits_BxK, y_B):
  """Per-example loss L_n; the article's total loss L = L_1 + ... + L_N is taken as their mean."""
  return optax.softmax_cross_entropy_with_integer_labels(logits_BxK, y_B)


def correct(logits_BxK, y_B):
  """The largest output wins."""
  return (jnp.argmax(logits_BxK, -1) == y_B).astype(jnp.float32)


def _select(ok, new, old):
  return jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, old)


# A stream of its own for a stochastic model's randomness (dropout), apart from the shuffling keys
# (fold_in(key, epoch)): one rng per (member's seed, step), so a resumed run draws the same ones.
RNG_STREAM = 0x64726F70


def step_rng(key, count):
  """The randomness of one training step of a member (count: the step on the epoch clock)."""
  return jax.random.fold_in(jax.random.fold_in(key, RNG_STREAM), count)


def permuted_batches(key, data, steps, batch_size):
  """Each epoch sees every training example once, in a fresh order (the last partial batch dropped)."""
  n = data["y_train"].shape[0]
  return jax.random.permutation(key, n)[:steps * batch_size].reshape(steps, batch_size)


def epoch_loop(make_step, validate, *, batch_size, patience, batches=permuted_batches):
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
      state = state._replace(epoch=epoch, best_params=_select(better, state.params, state.best_params),
                             best_val=jnp.where(better, score, state.best_val), best_epoch=best_epoch,
                             stopped=(patience > 0) & (epoch - best_epoch >= patience))
      if state.model_state is not None:  # decided at trace time: a model with state (batch norm)
        state = state._replace(best_model_state=_select(better, state.model_state, state.best_model_state))
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


def make_trainer(model, optimizer="adam", batch_size=128, *, patience=0, schedule=None,
                 loss_fn=cross_entropy, correct_fn=correct, eval_batch=2000):
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

  def forward(params, x_BxS, model_state):
    """Evaluation mode: a model with state reads its running statistics and changes nothing."""
    return model.apply(params, x_BxS, model_state) if stateful else model.apply(params, x_BxS)

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

  def batch_loss(params, x_BxS, y_B, w_B, rng=None):
    logits = model.rng_apply(params, x_BxS, rng) if stochastic else model.apply(params, x_BxS)
    return jnp.mean(loss_fn(logits, y_B) * w_B)

  def batch_loss_with_state(params, model_state, x_BxS, y_B, w_B):
    """Training mode: the batch's own statistics, and the running ones updated (the aux output)."""
    logits, model_state = model.train_apply(params, x_BxS, model_state)
    return jnp.mean(loss_fn(logits, y_B) * w_B), model_state

  def update(state, x_BxS, y_B, w_B, tx, rng=None):
    """One step of the optimizer `tx` (rng: a stochastic model's randomness for this step); a
    non-finite loss or gradient freezes the member instead (its model state too)."""
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
      state = state._replace(model_state=_select(ok, model_state, state.model_state))
    return state._replace(params=_select(ok, params, state.params),
                          opt_state=_select(ok, opt_state, state.opt_state),
                          diverged=state.diverged | ~finite), loss

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
    shape = lambda a, rows: jax.ShapeDtypeStruct((rows, *a.shape[1:]), a.dtype)
    x, y = data["x_train"], data["y_train"]
    state = jax.eval_shape(init, jax.random.PRNGKey(0), optim.defaults(optimizer, 1e-3), data)
    tx = chain(placeholder, y.shape[0])
    rng = jax.random.PRNGKey(0) if stochastic else None
    step = jax.jit(lambda *a: update(*a, tx, rng)).lower(state, shape(x, batch_size), shape(y, batch_size),
                                                    jax.ShapeDtypeStruct((batch_size,), jnp.float32))
    example = jax.jit(forward).lower(state.params, shape(x, 1), state.model_state)
    largest = max((math.prod(a.shape) for a in jax.tree.leaves(state.params)), default=0)
    return Cost(_flops(step), _flops(example), int(largest))

  def signature(data):
    loss = batch_loss_with_state if stateful else batch_loss
    return dict(trainer="train", optimizer=optimizer, batch_size=batch_size, patience=patience, eval_batch=eval_batch,
                **programs.model_programs(model, data, batch_size, jax.value_and_grad(loss, has_aux=stateful),
                                 lambda params, x, y, model_state: (loss_fn(forward(params, x, model_state), y),
                                                                    correct_fn(forward(params, x, model_state), y))),
                **programs.optimizer_programs(tx_of, placeholder, factor_at))

  return Trainer(init, train, evaluate, batch_size, cost, patience, signature)


def _flops(lowered):
  analysis = lowered.cost_analysis()
  analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
  return float((analysis or {}).get("flops", 0.0))


def done(state):
  """Whether a member will not train any more: stopped by patience, or diverged."""
  return state.stopped | state.diverged


def run(trainer, key, hp, data, epochs, mask=None):
  """A whole training run, init to last epoch: (final state, history)."""
  return trainer.train(trainer.init(key, hp, data, mask), data, epochs)


# ----------------------------------------------------------------------------
# Sweeps: the same run vmapped over members (seeds x hyperparameters)

def keys(seeds):
  return jnp.stack([jax.random.PRNGKey(int(s)) for s in seeds])


def stack(hps):
  """[{"learning_rate": a}, {"learning_rate": b}] -> {"learning_rate": array([a, b])}."""
  return {k: jnp.asarray([hp[k] for hp in hps], jnp.float32) for k in hps[0]}


# How the members of a cell share one compiled program:
#   vmap  batched: every step is one wide step of all members (what accelerators want)
#   map   one member after another inside the program (lax.map): each member runs the
#         single-run program, so on CPU a member costs what one run costs, while XLA's
#         batched matmul kernels are slower per model there (results/bench/cpu).
LAYOUTS = ("vmap", "map")


def vmapped(trainer, layout="vmap"):
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


def choose_layout(cost, backend=None, *, patience=0):
  """The member layout for a cell: vmap on accelerators; on CPU by the measured rules above
  (`patience`: the trainer's stopping rule)."""
  backend = backend or jax.default_backend()
  if backend != "cpu":
    return "vmap"
  floor = CPU_MAP_MIN_WEIGHT_STOPPING if patience > 0 else CPU_MAP_MIN_WEIGHT
  return "map" if cost.largest_weight >= floor else "vmap"


@functools.partial(jax.jit, static_argnums=(0, 4))
def sweep(trainer, member_keys, hps, data, epochs, masks=None):
  """All members' whole runs as one compiled call: (states, histories) with a member axis."""
  v = vmapped(trainer)
  return v.train(v.init(member_keys, hps, data, masks), data, epochs)
