"""Group DRO (Sagawa, Koh, Hashimoto, Liang 2020): training against the worst group's loss.

  trainer = make_trainer(model, "adam", 128, num_groups=4, patience=5)
  hp = {"learning_rate": 1e-3, "group_step": 0.01, "group_adjustment": 0.0}
  data = dict(x_train=..., y_train=..., g_train=..., x_val=..., y_val=..., g_val=..., x_test=..., y_test=...)
  result = cells.run_cell(trainer, data, ..., hparams=[hp] * members)   # like any engine trainer

What it implements, from the paper's Algorithm 1 and the authors' code (loss.py and the published
commands of github.com/kohpangwei/group_DRO):
- minibatches drawn group-balanced: each example with probability 1 / (its group's count), with
  replacement (Algorithm 1 draws a group uniformly, then an example of it; the authors pair
  --robust with --reweight_groups, a weighted sampler of the same law);
- per step, each group's mean loss L_g over the batch (0 for a group the batch lacks, as in their
  compute_group_avg), adjusted by C / sqrt(n_g) with n_g the group's training count (the paper's
  group adjustment; C = hp["group_adjustment"], 0 in their published commands);
- the adversary's exponentiated-gradient step q_g <- q_g exp(eta_q (L_g + C / sqrt(n_g))), then
  q <- q / sum(q) (eta_q = hp["group_step"]; their default robust_step_size is 0.01), and then one
  optimizer step on sum_g q_g L_g with the new q, in this order as in their code;
- regularization by early stopping on the worst-group validation accuracy (the paper selects the
  epoch by it); the paper's other regularizer, a strong l2 penalty, is not added: the optimizer
  is the caller's, as for every other contender.
A group with no training example (a zero-shot split) gets q = 0 and is never drawn. q is kept as
log q, so that a group whose weight shrinks for thousands of steps cannot underflow to a 0 it
could never leave; exp of it is the paper's q.

It trains in the engine's one loop (train.epoch_loop) with its own hooks: the step, the
group-balanced sampler and the selection score, so the engine's guarantees hold as everywhere
and cells.run_cell trains, checkpoints and evaluates it unchanged: a step whose loss or gradient
is not finite is not applied and the member is frozen and flagged; after each epoch a member
whose worst-group validation accuracy beats its best keeps those parameters (best_val is that
worst-group accuracy; History.val_acc stays the average validation accuracy, as elsewhere); with
patience > 0 a member stops after that many epochs without improving.

The same program family trains the environment-based objectives that compare against it, so that
every contender of such a table gets the same sampler, stopping and selection rule
(make_trainer(objective=...)); the groups are then environments:
- "erm": the mean of the groups' risks (the IRM repository's ERM: its penalty weight 0);
- "irm": IRMv1 (Arjovsky et al. 2019): the mean risk plus lambda times the mean over groups of
  (d/ds R_g(s * logits) at s = 1)^2, the squared gradient of each group's risk w.r.t. a scalar
  multiplier on the logits;
- "vrex": V-REx (Krueger et al. 2021): the mean risk plus lambda times the variance of the groups'
  risks (over the groups in the batch, divided by their number).
Both penalties anneal as the IRM repository's code does (github.com/facebookresearch/
InvariantRiskMinimization, code/colored_mnist/main.py): lambda = 1 before hp["penalty_anneal"]
optimizer steps, hp["penalty_weight"] from then on, and the whole loss divided by lambda when it is
above 1. Penalty and risks are this minibatch's (the repository's are full-batch). `selection`
picks what best_val keeps: "worst" group validation accuracy (Sagawa's rule, the default) or
"average", the accuracy over the whole validation split (DomainBed's training-domain validation
when the split is held out from the training environments). The defaults (objective="group_dro",
selection="worst") trace exactly the program they always did: every branch below is taken in
Python, so the cells of Group DRO keep their identity (tests/test_group_dro.py pins it).
"""
import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax

from research.engine import optim, programs, train
from research.engine.group_losses import (annealed, balanced_probabilities, group_means, irm_penalty, penalized,
                                          present_mean, scale_gradients, vrex_penalty)
from research.models.nets import Model

# Hyperparameters of the adversary, read from hp beside the optimizer's.
GROUP_HPARAMS = ("group_step", "group_adjustment")
# Hyperparameters of the penalized objectives (irm, vrex): lambda and the optimizer steps before it.
PENALTY_HPARAMS = ("penalty_weight", "penalty_anneal")
OBJECTIVES = ("group_dro", "erm", "irm", "vrex")
SELECTIONS = ("worst", "average")


class PenaltyState(NamedTuple):
  weight: jax.Array  # lambda once annealed
  anneal: jax.Array  # optimizer steps before it (lambda = 1 until then)


class GroupWeightsState(NamedTuple):
  log_q_G: jax.Array       # log of the adversary's weights; -inf for a group without training examples
  counts_G: jax.Array      # training examples per group (n_g), float32
  step_size: jax.Array     # eta_q
  adjustment: jax.Array    # C of the group adjustment C / sqrt(n_g)


class GroupWeights(NamedTuple):
  """An optax-style pair: init(counts_G, step_size, adjustment) -> state; update(loss_G, state) -> state."""
  init: Callable
  update: Callable


def group_weights() -> GroupWeights:
  """The adversary of Group DRO: uniform over the groups that have training examples, then one
  exponentiated-gradient step per minibatch on the adjusted group losses."""
  def init(counts_G, step_size, adjustment):
    counts_G = jnp.asarray(counts_G, jnp.float32)
    present_G = counts_G > 0
    log_q_G = jnp.where(present_G, -jnp.log(jnp.maximum(present_G.sum(), 1)), -jnp.inf)
    return GroupWeightsState(log_q_G, counts_G, jnp.asarray(step_size, jnp.float32),
                             jnp.asarray(adjustment, jnp.float32))

  def update(loss_G, state):
    present_G = state.counts_G > 0
    adjusted_G = loss_G + state.adjustment / jnp.sqrt(jnp.maximum(state.counts_G, 1.0))
    # q * exp(eta * adjusted), normalized: in log space, a step then a log-normalization.
    log_q_G = jnp.where(present_G, state.log_q_G + state.step_size * adjusted_G, -jnp.inf)
    log_q_G = log_q_G - jax.nn.logsumexp(log_q_G)
    return state._replace(log_q_G=jnp.where(present_G, log_q_G, -jnp.inf))
  return GroupWeights(init, update)


def weights(state: GroupWeightsState) -> jax.Array:
  """The adversary's q over the groups (sums to 1)."""
  return jnp.exp(state.log_q_G)


def make_trainer(model: Model, optimizer: str = "adam", batch_size: int = 128, *, num_groups: int, patience: int = 0,
                 schedule: Callable[[float], float] | None = None, loss_fn: Callable = train.cross_entropy,
                 correct_fn: Callable = train.correct, eval_batch: int = 2000, objective: str = "group_dro",
                 selection: str = "worst") -> train.Trainer:
  """A train.Trainer that runs Group DRO over `num_groups` groups (data["g_train"], data["g_val"]:
  each example's group). hp holds the optimizer's hyperparameters and GROUP_HPARAMS.

  objective: "group_dro", or "erm" / "irm" / "vrex" over the same groups (hp then holds
  PENALTY_HPARAMS for irm and vrex instead of GROUP_HPARAMS); selection: "worst" group or
  "average" validation accuracy (see the module docstring)."""
  if objective not in OBJECTIVES:
    raise ValueError(f"objective must be one of {OBJECTIVES}, not {objective!r}")
  if selection not in SELECTIONS:
    raise ValueError(f"selection must be one of {SELECTIONS}, not {selection!r}")
  dro = objective == "group_dro"
  tx_of = optim.make(optimizer)
  factor_at = schedule or optim.constant
  placeholder = optim.defaults(optimizer, 0.0)  # numeric hyperparameters are read from the state
  chain = lambda hp, n_train: optim.scheduled(tx_of(hp), factor_at, n_train // batch_size)
  evaluate_groups, evaluate = _group_evaluation(model, loss_fn, correct_fn, eval_batch, num_groups)
  objective_state, dro_objective, penalty_objective = _objectives(model, loss_fn, num_groups, objective)
  init = _initializer(model, chain, objective_state, num_groups)

  def update(state, x_BxS, y_B, g_B, tx, count):
    """One optimizer step on this batch; Group DRO's adversary steps first on its group losses, the
    penalized objectives anneal their penalty on the step count."""
    inner, own = state.opt_state
    if dro:
      loss, grads, own = dro_objective(state.params, own, x_BxS, y_B, g_B)
    else:
      loss, grads = penalty_objective(state.params, own, x_BxS, y_B, g_B, count)
    return _applied(state, loss, grads, inner, own, tx)

  def make_step(data):
    tx = chain(placeholder, data["y_train"].shape[0])
    return lambda state, batch, count: update(state, batch["x_train"], batch["y_train"], batch["g_train"], tx, count)

  train_epochs = train.epoch_loop(make_step, _validator(evaluate_groups, selection), batch_size=batch_size, patience=patience,
                                  batches=functools.partial(_balanced_batches, num_groups=num_groups))

  def cost(data):
    extra = (dict(group_step=0.01, group_adjustment=0.0) if dro else dict(penalty_weight=1.0, penalty_anneal=0.0))
    state = jax.eval_shape(init, jax.random.PRNGKey(0), dict(optim.defaults(optimizer, 1e-3), **extra), data)
    tx = chain(placeholder, data["y_train"].shape[0])
    return train.step_cost(lambda *a: update(*a, tx, 0), lambda params, x, _: model.apply(params, x), state, data,
                           batch_size, per_example=jnp.int32)

  def signature(data):
    """What determines these cells' numbers besides the loop (train.Trainer.signature): the model's
    init, the objective with its gradient and its own state, the per-group evaluation, the optimizer."""
    return dict(trainer="group_dro", objective=objective, selection=selection, num_groups=num_groups,
                optimizer=optimizer, batch_size=batch_size, patience=patience, eval_batch=eval_batch,
                **_model_programs(model, data, batch_size, num_groups, optimizer, dro,
                                  dro_objective if dro else penalty_objective, objective_state, evaluate_groups),
                **programs.optimizer_programs(tx_of, placeholder, factor_at))

  return train.Trainer(init, train_epochs, evaluate, batch_size, cost, patience, signature)


def _validator(evaluate_groups, selection):
  """validate(state, data) -> (val_loss, val_acc, score): the score that selects is the worst group's
  validation accuracy, or the average one."""
  def validate(state, data):
    val_loss, val_acc, acc_G, count_G = evaluate_groups(state.params, data["x_val"], data["y_val"], data["g_val"])
    worst = jnp.min(jnp.where(count_G > 0, acc_G, jnp.inf))
    return val_loss, val_acc, (worst if selection == "worst" else val_acc)
  return validate


def _initializer(model, chain, objective_state, num_groups):
  def init(key, hp, data, mask=None, params=None):
    """opt_state is (the optimizer's state, the adversary's GroupWeightsState), or for the other
    objectives (the optimizer's state, PenaltyState)."""
    del mask  # no pruning here
    opt_hp = {k: v for k, v in hp.items() if k not in GROUP_HPARAMS + PENALTY_HPARAMS}
    k_init, k_data = jax.random.split(key)
    if params is None:
      params = model.init(k_init, data["x_train"][:1])
    counts_G = jnp.bincount(data["g_train"], length=num_groups)
    opt_state = (chain(opt_hp, data["x_train"].shape[0]).init(params), objective_state(counts_G, hp))
    return train.TrainState(params, opt_state, k_data, jnp.zeros((), jnp.int32), jnp.zeros((), bool), None,
                            params, jnp.full((), -jnp.inf), jnp.zeros((), jnp.int32), jnp.zeros((), bool))
  return init


def _group_evaluation(model, loss_fn, correct_fn, eval_batch, num_groups):
  """(evaluate_groups, evaluate): the engine's evaluation with each group's accuracy beside it."""
  def evaluate_groups(params, x, y, g):
    """(mean loss, accuracy, accuracy per group, examples per group) in chunks of eval_batch."""
    n = y.shape[0]
    size = min(eval_batch, n)
    chunks = -(-n // size)
    pad = chunks * size - n
    fold = lambda a: jnp.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1)).reshape(chunks, size, *a.shape[1:])
    valid = (jnp.arange(chunks * size) < n).reshape(chunks, size)

    def one(args):
      x_CxS, y_C, g_C, valid_C = args
      logits = model.apply(params, x_CxS)
      member_CxG = jax.nn.one_hot(g_C, num_groups) * valid_C[:, None]
      return (jnp.sum(loss_fn(logits, y_C) * valid_C), correct_fn(logits, y_C) @ member_CxG, member_CxG.sum(0))
    losses, hits_KxG, counts_KxG = lax.map(one, (fold(x), fold(y), fold(g), valid))
    hits_G, count_G = hits_KxG.sum(0), counts_KxG.sum(0)
    return losses.sum() / n, hits_G.sum() / n, hits_G / jnp.maximum(count_G, 1.0), count_G

  def evaluate(params, x, y):
    loss, acc, _, _ = evaluate_groups(params, x, y, jnp.zeros(y.shape[0], jnp.int32))
    return loss, acc
  return evaluate_groups, evaluate


def _objectives(model, loss_fn, num_groups, objective):
  """(objective_state, dro_objective, penalty_objective): the objective's own state beside the
  optimizer's, and the two kinds of objective with their gradients."""
  dro = objective == "group_dro"
  adversary = group_weights()

  def objective_state(counts_G, hp):
    """The objective's own state beside the optimizer's: the adversary's GroupWeightsState, or PenaltyState."""
    if dro:
      return adversary.init(counts_G, hp["group_step"], hp["group_adjustment"])
    f32 = lambda k: jnp.asarray(hp.get(k, 0.0), jnp.float32)
    return PenaltyState(f32("penalty_weight"), f32("penalty_anneal"))

  def dro_objective(params, adversary_state, x_BxS, y_B, g_B):
    """(the q-weighted loss, its gradient with q held fixed, the adversary's state after its step on this
    batch's group losses)."""
    def loss_per_group(params):
      return group_means(loss_fn(model.apply(params, x_BxS), y_B), g_B, num_groups)[0]
    loss_G, pullback = jax.vjp(loss_per_group, params)
    adversary_state = adversary.update(loss_G, adversary_state)
    q_G = weights(adversary_state)
    (grads,) = pullback(q_G)
    return q_G @ loss_G, grads, adversary_state

  def penalty_objective(params, penalty_state, x_BxS, y_B, g_B, step):
    """(the mean group risk plus the annealed IRMv1 or V-REx penalty, its gradient)."""
    lam = annealed(penalty_state.weight, penalty_state.anneal, step)

    def objective_loss(params):
      logits = model.apply(params, x_BxS)
      loss_G, count_G = group_means(loss_fn(logits, y_B), g_B, num_groups)
      risk = present_mean(loss_G, count_G > 0)
      if objective == "erm":
        return risk
      penalty = (irm_penalty(scale_gradients(loss_fn, logits, y_B), g_B, num_groups) if objective == "irm"
                 else vrex_penalty(loss_G, count_G > 0))
      return penalized(risk, penalty, lam)
    return jax.value_and_grad(objective_loss)(params)
  return objective_state, dro_objective, penalty_objective


def _applied(state, loss, grads, inner, extra, tx):
  """The step of the optimizer `tx` with the objective's own state `extra` beside the optimizer's;
  a non-finite loss or gradient freezes the member instead (train.py)."""
  updates, inner = tx.update(grads, inner, state.params)
  params = optax.apply_updates(state.params, updates)
  finite = jnp.isfinite(loss) & jnp.isfinite(optax.tree.norm(grads))
  ok = finite & ~state.diverged
  return state._replace(params=train.select(ok, params, state.params),
                        opt_state=train.select(ok, (inner, extra), state.opt_state),
                        diverged=state.diverged | ~finite), loss


def _balanced_batches(key, data, steps, batch_size, *, num_groups):
  """With replacement, every group equally likely (each example 1 / (G x its group's size))."""
  p_N = balanced_probabilities(data["g_train"], num_groups)
  return jax.random.choice(key, data["y_train"].shape[0], (steps, batch_size), p=p_N)


def _model_programs(model, data, batch_size, num_groups, optimizer, dro, objective_fn, objective_state,
                    evaluate_groups):
  """The hashes of the programs a Group DRO trainer adds to the optimizer's: the model's init, the
  objective with its gradient, the objective's state and the per-group evaluation."""
  rows = lambda a, n: jax.ShapeDtypeStruct((n, *a.shape[1:]), a.dtype)
  key = jax.ShapeDtypeStruct((2,), jnp.uint32)
  extra = GROUP_HPARAMS if dro else PENALTY_HPARAMS
  hp = {k: jax.ShapeDtypeStruct((), jnp.float32) for k in (*optim.defaults(optimizer, 0.0), *extra)}
  params = jax.eval_shape(model.init, key, rows(data["x_train"], 1))
  counts_G = jax.ShapeDtypeStruct((num_groups,), jnp.int32)
  batch = tuple(rows(data[f"{a}_train"], batch_size) for a in "xyg")
  own = jax.eval_shape(objective_state, counts_G, hp)
  step = jax.ShapeDtypeStruct((), jnp.int32)
  lowered = (jax.jit(objective_fn).lower(params, own, *batch) if dro else
             jax.jit(objective_fn).lower(params, own, *batch, step))
  return dict(model_init=programs.program_hash(jax.jit(model.init).lower(key, rows(data["x_train"], 1))),
              model_loss=programs.program_hash(lowered),
              objective_state=programs.program_hash(jax.jit(objective_state).lower(counts_G, hp)),
              model_eval=programs.program_hash(jax.jit(evaluate_groups).lower(params, *batch)))
