"""The search space: MLPs of 0 to max_depth hidden layers, a width per layer, a connection per layer,
one activation, and the learning rate. Candidates are drawn from one seeded stream, so the same
config draws the same candidates, and a larger population starts with the smaller one's candidates.

  cands = sample(cfg, widths=(32, 64, 128, 256), n=16)   # [Candidate(arch, learning_rate)]
  grid = hand_grid(cfg, width=256)                       # the depth experiment's nets
"""
from typing import NamedTuple

import numpy as np

from experiments.search.supernet import Arch


class Candidate(NamedTuple):
  arch: Arch
  learning_rate: float

  def label(self):
    return f"{self.arch.label()}, lr {self.learning_rate:g}"

  def to_json(self):
    return dict(arch=self.arch.to_json(), learning_rate=self.learning_rate)

  @classmethod
  def from_json(cls, d):
    return cls(Arch.from_json(d["arch"]), float(d["learning_rate"]))


def draw(rng, widths, max_depth, activations, learning_rates, residual_p):
  """One candidate: depth uniform over 0..max_depth, each layer's width and connection independent."""
  depth = int(rng.integers(0, max_depth + 1))
  ws = tuple(int(w) for w in rng.choice(widths, depth))
  res = tuple(bool(r) for r in rng.random(depth) < residual_p)
  act = str(rng.choice(activations))
  lr = float(rng.choice(learning_rates))
  return Candidate(Arch(ws, res, act).canonical(), lr)


def sample(cfg, widths, n, seed=None):
  """n distinct candidates (a repeat is redrawn): the first n of the stream of `search_seed`."""
  rng = np.random.default_rng(cfg.search_seed if seed is None else seed)
  out, seen = [], set()
  while len(out) < n:
    c = draw(rng, list(widths), cfg.max_depth, list(cfg.activations), list(cfg.learning_rates), cfg.residual_p)
    if c not in seen:
      seen.add(c)
      out.append(c)
  return out


def hand_grid(cfg, width):
  """The depth experiment's grid: grid_depths x {plain, residual} at one width, relu (residual only
  where it differs: from 2 hidden layers), each at every grid learning rate."""
  archs = []
  for d in cfg.grid_depths:
    archs.append(Arch((width,) * d, (False,) * d, "relu").canonical())
    if d >= 2:
      archs.append(Arch((width,) * d, (True,) * d, "relu").canonical())
  return archs


def space_size(cfg, widths, at_most=None):
  """How many architectures x learning rates the space holds (canonical: one per depth-0 net); with
  at_most, the count stops once past it (a deep space holds more than any search could draw)."""
  per_layer = len(widths) * 2
  nets = 1
  for d in range(1, cfg.max_depth + 1):
    nets += len(widths) * per_layer ** (d - 1) * len(cfg.activations)
    if at_most is not None and nets * len(cfg.learning_rates) > at_most:
      break
  return nets * len(cfg.learning_rates)


# ----------------------------------------------------------------------------
# The bound checked before anything runs: a search too large for the machine is refused with its estimate

ASSUMED_GFLOPS = 20.0   # what the time estimate assumes the engine sustains (about 2 CPU cores, summary.md)
COMPILE_S_PER_LAYER = 0.25  # tracing and compiling one hidden layer of one program (2 shared CPU cores)
MAX_HOURS = 24.0        # the longest search the bound lets start, at those rates
# Inputs per example of the datasets a task may name; a task's '@S' makes them S x S (x 3 for tfds:).
INPUTS = {"fashion_mnist": 784, "digits": 64, "mnist": 784, "mnist16": 256, "mnist1d": 40, "mnist1d_shuffled": 40,
          "sawtooth": 1, "paper_cut": 2}
LARGEST_TRAIN = 60_000  # n_train=0 takes every training example: at most Fashion-MNIST's 60,000
COPIES = 5              # per member: params, selected params, gradient, two optimizer slots (limits.cell_bytes)


def task_inputs(task):
  """Inputs per example of a task (an upper bound for tfds: sets without '@S': 32 x 32 x 3)."""
  family = task["dataset"].split(":")[0]
  if task["resize"]:
    return task["resize"] ** 2 * (3 if family == "tfds" else 1)
  return INPUTS.get(family, 32 * 32 * 3)


class Estimate(NamedTuple):
  held: int      # bytes held at once by the larger population
  flops: float   # training FLOPs of both populations
  seconds: float  # those FLOPs at ASSUMED_GFLOPS, plus compiling every candidate's and supernet's layers
  parts: str     # what the memory is made of, for the message


def estimate(cfg, task, num_classes=10):
  """What a task's search costs, from the config alone: each member of the two supernet populations
  computes the largest shape (max_depth x the largest width) for up to `epochs` epochs, and every
  candidate's own network is compiled once (its FLOPs are counted; its depth is max_depth / 2 on average)."""
  d_in, width, depth = task_inputs(task), max(task["widths"]), max(1, cfg.max_depth)
  params = d_in * width + (depth - 1) * width * width + width * num_classes
  members = max(cfg.random_candidates, cfg.halving_candidates)
  drawn = cfg.random_candidates + cfg.halving_candidates
  n = task["n_train"] or LARGEST_TRAIN
  held = members * params * 4 * COPIES + members * cfg.epochs * 6 * 4 + (n + cfg.val_size) * d_in * 4
  flops = drawn * cfg.epochs * params * (6 * n + 2 * cfg.val_size)
  # The hand grid: plain and residual nets of grid_width at each grid depth, one cell per net over its rates.
  gw, gd = task["grid_width"], max(cfg.grid_depths)
  grid_params = d_in * gw + max(0, gd - 1) * gw * gw + gw * num_classes if gd else d_in * num_classes
  grid_members = len(cfg.grid_learning_rates)
  held = max(held, grid_members * grid_params * 4 * COPIES + (n + cfg.val_size) * d_in * 4)
  flops += 2 * len(cfg.grid_depths) * grid_members * cfg.epochs * grid_params * (6 * n + 2 * cfg.val_size)
  # Candidates' own programs, the two supernets and the retrained picks and grid (about 10 programs).
  layers = drawn * depth / 2 + 10 * max(depth, gd)
  parts = (f"{members} members x a {depth} x {width} supernet of {params:,} parameters, or {grid_members} members "
           f"x a {gd} x {gw} grid net of {grid_params:,}, x {COPIES} copies")
  return Estimate(held, flops, flops / (ASSUMED_GFLOPS * 1e9) + layers * COMPILE_S_PER_LAYER, parts)


def check_budget(cfg, tasks, available=None):
  """UserError with the estimate when a task's search cannot fit in memory, when the searches would
  run past MAX_HOURS, or when the space holds fewer distinct candidates than a strategy draws (sampling
  would never end)."""
  from research.system import limits
  from research.system.errors import UserError
  available = limits._host_available() if available is None else available
  n = max(cfg.random_candidates, cfg.halving_candidates)
  what = (f"config random_candidates={cfg.random_candidates}, halving_candidates={cfg.halving_candidates}, "
          f"max_depth={cfg.max_depth}")
  costs = [(task, estimate(cfg, task)) for task in tasks]
  hours = sum(e.seconds for _, e in costs) / 3600
  for task, e in costs:
    if e.held > available or hours > MAX_HOURS:
      raise UserError(
          f"{what}, widths={list(task['widths'])}: the search of task {task['name']} would hold about "
          f"{limits.human_bytes(e.held)} ({e.parts}), and the searches of every task would take about "
          f"{hours:,.1f} h ({ASSUMED_GFLOPS:g} GFLOP/s, {COMPILE_S_PER_LAYER:g} s to compile a layer); the bound "
          f"is {limits.human_bytes(available)} free and {MAX_HOURS:g} h: use fewer candidates, epochs or a "
          "smaller space")
    size = space_size(cfg, task["widths"], at_most=n)
    if n > size:
      raise UserError(f"{what}: the space of task {task['name']} holds only {size} distinct candidates "
                      "(architectures x learning rates); draw at most that many or widen the space")
