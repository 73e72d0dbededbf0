"""The contenders and the two model-selection rules: every (contender, rule) pair is one cell.

All five train through one program family, research/group_dro.make_trainer, with the same sampler
(minibatches drawn environment-balanced, with replacement), the same stopping rule and the same
selection statistic within a rule; only `objective` (and, for the grayscale oracle, the model's
input) differs:
  ERM               the mean of the two training environments' risks
  IRM               IRMv1's penalty, annealed as in the IRM repository (research/engine/group_dro.py)
  V-REx             the variance of the environments' risks, annealed the same way
  Group DRO         Sagawa et al.'s online adversary over the two environments
  grayscale oracle  ERM on the two channels summed: the colour removed by hand
A rule is a validation split and the statistic selection reads on it, inside the program (each
member's best epoch) and across the grid (the learning rate, and lambda where there is a grid):
  train_domain  the training environments' held-out images, their accuracy over the whole split
                (DomainBed's training-domain validation)
  oracle        those and the test environment's held-out images, the worst of the three
                environments' accuracies: the IRM paper's rule (its hyperparameters maximized
                min(train env 0, train env 1, test acc)), which reads the test environment.
"""
import math
from typing import NamedTuple

import jax
import numpy as np

from research.engine import group_dro
from research import models
from research.models import nets

from experiments.colored import environments


class Contender(NamedTuple):
  label: str
  objective: str          # research/group_dro.make_trainer's objective
  grayscale: bool = False  # the colour removed from the input
  penalized: bool = False  # IRM / V-REx: lambda and its annealing in hp


CONTENDERS = {"erm": Contender("ERM", "erm"),
              "irm": Contender("IRM", "irm", penalized=True),
              "vrex": Contender("V-REx", "vrex", penalized=True),
              "dro": Contender("Group DRO", "group_dro"),
              "gray": Contender("grayscale oracle", "erm", grayscale=True)}
METHODS = ("irm", "vrex", "dro")  # each compared with ERM on the test environment (the verdicts' family)


class Rule(NamedTuple):
  label: str
  short: str
  selection: str  # research/group_dro.make_trainer's selection


RULES = {"train_domain": Rule("training-domain validation (DomainBed)", "(a) training-domain", "average"),
         "oracle": Rule("oracle: worst of the three environments' validation accuracy (the IRM paper's rule)",
                        "(b) oracle", "worst")}
# Two training environments and, in the oracle rule's validation split, the test environment.
NUM_GROUPS = 3
GRID_KEYS = ("learning_rate", "penalty_weight")


def grayscale(model):
  """The colour removed: both channels summed before the model, as the IRM code's grayscale model."""
  gray = lambda x_BxHxWx2: x_BxHxWx2.sum(-1, keepdims=True)
  return nets.Model(lambda key, x: model.init(key, gray(x)), lambda params, x: model.apply(params, gray(x)))


def model_of(cfg, contender):
  """The IRM repository's MLP: 2 x 14 x 14 = 392 inputs (196 for the grayscale oracle), `depth` hidden
  ReLU layers of `width`, 2 logits (softmax cross-entropy on two logits is the logistic loss on
  their difference: the repository's one logit)."""
  base = models.mlp(2, depth=cfg.depth, width=cfg.width)
  return grayscale(base) if CONTENDERS[contender].grayscale else base


def params_of(cfg, contender):
  return models.param_count(model_of(cfg, contender), (14, 14, 2))


def arrays(envs):
  """{rule: the engine's arrays}: the same training and test arrays (one device copy), the rule's
  validation split with each image's environment as its group."""
  put = lambda split: (jax.device_put(split.x), jax.device_put(split.y), jax.device_put(split.env))
  x, y, g = put(envs.train)
  x_test, y_test, _ = put(envs.test)
  base = dict(x_train=x, y_train=y, g_train=g, x_test=x_test, y_test=y_test)
  vals = {"train_domain": envs.train_val,
          "oracle": environments.concat([envs.train_val, envs.oracle_val])}
  out = {}
  for rule, split in vals.items():
    x_val, y_val, g_val = put(split)
    out[rule] = dict(base, x_val=x_val, y_val=y_val, g_val=g_val)
  return out


def grid(cfg, contender, learning_rates):
  """(seeds, hparams): every grid point with every seed, seed-major within a point."""
  c = CONTENDERS[contender]
  points = []
  for lr in learning_rates:
    if c.penalized:
      points += [dict(learning_rate=float(lr), penalty_weight=float(w), penalty_anneal=float(cfg.penalty_anneal))
                 for w in cfg.penalty_weights]
    elif c.objective == "group_dro":
      points.append(dict(learning_rate=float(lr), group_step=float(cfg.group_step),
                         group_adjustment=float(cfg.group_adjustment)))
    else:
      points.append(dict(learning_rate=float(lr)))
  return [s for _ in points for s in range(cfg.seeds)], [p for p in points for _ in range(cfg.seeds)]


def point_of(hp):
  return tuple(hp[k] for k in GRID_KEYS if k in hp)


def pick(members, scores):
  """The grid point whose members have the best mean selection score (each member's best_val: the
  rule's statistic at its selected epoch), and every point's mean. A point with a diverged member
  is never picked (its mean is None) unless every point has one; the grid's order breaks ties."""
  points = list(dict.fromkeys(point_of(m.hparams) for m in members))
  means = {}
  for p in points:
    mine = [(m, s) for m, s in zip(members, scores) if point_of(m.hparams) == p]
    ok = not any(m.final.diverged for m, _ in mine) and all(math.isfinite(s) for _, s in mine)
    means[p] = float(np.mean([s for _, s in mine])) if ok else None
  finite = [p for p in points if means[p] is not None] or points
  return max(finite, key=lambda p: -math.inf if means[p] is None else means[p]), means


def edge(value, values):
  """'low' / 'high' when a pick sits on its grid's edge (a grid of one value has none), else None."""
  values = sorted(values)
  if len(values) < 2:
    return None
  return "low" if value == values[0] else "high" if value == values[-1] else None


def outward(means, best, learning_rates, margin):
  """The next learning rate out (the grid's own ratio) when the pick is on the grid's edge and beats
  its inward neighbour (the same lambda) by at least `margin` (a fraction): the best value may lie
  beyond. None otherwise."""
  lrs = sorted(learning_rates)
  side = edge(best[0], lrs)
  if side is None:
    return None
  inward = lrs[1] if side == "low" else lrs[-2]
  neighbour = means.get((inward, *best[1:]))
  if neighbour is None or means[best] is None or means[best] - neighbour < margin:
    return None
  return lrs[0] * lrs[0] / lrs[1] if side == "low" else lrs[-1] * lrs[-1] / lrs[-2]


def row(cfg, name, rule, summary, best_val, learning_rates):
  """A results row: the picked grid point's members' numbers, its selection scores, the grid's."""
  best, means = pick(summary.members, [float(v) for v in best_val])
  keep = [point_of(m.hparams) == best for m in summary.members]
  chosen = summary.only(lambda m: point_of(m.hparams) == best)
  c = CONTENDERS[name]
  lr, weight = best[0], (best[1] if c.penalized else None)
  return dict(contender=name, rule=rule, **chosen.numbers(), learning_rate=lr, penalty_weight=weight,
              score=[float(v) for v, k in zip(best_val, keep) if k],
              grid={"/".join(f"{v:g}" for v in p): s for p, s in means.items()},
              learning_rates=sorted(learning_rates), grid_lrs=sorted(float(v) for v in cfg.learning_rates),
              lr_edge=edge(lr, learning_rates),
              weight_edge=edge(weight, cfg.penalty_weights) if c.penalized else None,
              params=params_of(cfg, name))


def _cell(cfg, ctx, source, name, rule, data, learning_rates, tag=""):
  """One cell of a contender under a rule over `learning_rates`: (Summary, each member's best_val)."""
  c = CONTENDERS[name]
  seeds, hparams = grid(cfg, name, learning_rates)
  trainer = ctx.trainer(model_of(cfg, name), make=group_dro.make_trainer, num_groups=NUM_GROUPS,
                        objective=c.objective, selection=RULES[rule].selection)
  spec = dict(source=source, contender=name, objective=c.objective, grayscale=c.grayscale, rule=rule,
              selection=RULES[rule].selection, model=f"mlp depth={cfg.depth} width={cfg.width}",
              optimizer=cfg.optimizer, batch_size=cfg.batch_size, data_seed=cfg.data_seed)
  res = ctx.cell(trainer, data, name=f"{source}-{name}-{rule}{tag}", spec=spec, seeds=seeds, hparams=hparams,
                 need_state=True)
  return res.summary, np.asarray(res.state.best_val, float)


def train_row(cfg, ctx, source, name, rule, data):
  """A contender under a rule: the grid, then up to `extend_steps` learning rates further out while the
  pick sits on the grid's edge and beats its neighbour by `extend_margin` points (every contender alike)."""
  lrs = [float(v) for v in cfg.learning_rates]
  summary, best_val = _cell(cfg, ctx, source, name, rule, data, lrs)
  for _ in range(cfg.extend_steps):
    best, means = pick(summary.members, list(best_val))
    new = outward(means, best, lrs, cfg.extend_margin / 100)
    if new is None:
      break
    extra, extra_val = _cell(cfg, ctx, source, name, rule, data, [new], tag=f"-lr{new:g}")
    summary = summary._replace(members=summary.members + extra.members)
    best_val, lrs = np.concatenate([best_val, extra_val]), lrs + [new]
  return row(cfg, name, rule, summary, best_val, lrs)


def train_source(cfg, ctx, source, envs):
  """Every contender under every rule on one source: a list of rows."""
  data_by_rule = arrays(envs)
  return [train_row(cfg, ctx, source, name, rule, data_by_rule[rule]) for name in cfg.contenders
          for rule in cfg.rules]
