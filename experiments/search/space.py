"""The search space: MLPs of 0 to max_depth hidden layers, a width per layer, a connection per layer,
one activation, and the learning rate. Candidates are drawn from one seeded stream, so the same
config draws the same candidates, and a larger population starts with the smaller one's candidates.

  cands = sample(cfg, widths=(32, 64, 128, 256), n=16)   # [Candidate(arch, learning_rate)]
  grid = hand_grid(cfg, width=256)                       # the depth experiment's nets
"""
from typing import NamedTuple

import numpy as np

from research.supernet import Arch


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


def space_size(cfg, widths):
  """How many architectures x learning rates the space holds (canonical: one per depth-0 net)."""
  per_layer = len(widths) * 2
  nets = 1 + sum(len(widths) * per_layer ** (d - 1) * len(cfg.activations) for d in range(1, cfg.max_depth + 1))
  return nets * len(cfg.learning_rates)
