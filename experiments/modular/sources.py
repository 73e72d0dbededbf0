"""The attribute sets a run trains on, and every split it draws before any training.

A Source is one attribute set of experiments/modular/attribute_pools.py (kind x shade, the entangled one; kind x
frame, the disentangled one): its pools, its names, one standardization, b's own data. A split is
drawn per (rho, n_train, data seed): the data seed decides which examples of each group are drawn
(the rare ones included); the balanced test set is one draw (TEST_SEED) for every seed and point.
"""
from typing import Callable, NamedTuple

import numpy as np

from experiments.modular import attribute_pools, groups

TEST_SEED = 1  # the test rows: one draw for every data seed, rho and size (seed 0's draw before data seeds)


class Source(NamedTuple):
  name: str                     # a key of attribute_pools.ATTRIBUTES
  pool: groups.Pool
  test_pool: groups.Pool
  names: groups.AttributeNames
  own: groups.Pool              # b's own data (attribute_pools.OWN_DATA): no kind, no example of the four groups
  own_about: str                # what that data is, in words
  standardize: Callable         # raw images -> float32 inputs, with the training pool's mean and std
  spec: dict                    # the data's part of every cell spec


class Point(NamedTuple):
  """Where the contenders train: an attribute set, the rare group's share, the training-set size."""
  source: str
  rho: float
  n: int


def load(cfg, name):
  pool, test_pool, names = attribute_pools.load(name, cfg.q_low, cfg.q_high)
  own, own_about = attribute_pools.OWN_DATA[name](q_low=cfg.q_low, q_high=cfg.q_high)
  # One standardization per attribute set, its training pool's: frozen modules and the modules
  # trained on their own data see the inputs the others learned on.
  mean, std = float(pool.x.mean()), float(pool.x.std()) + 1e-8
  standardize = lambda a: ((a - mean) / std).astype(np.float32)
  spec = dict(attributes=name, q=[cfg.q_low, cfg.q_high], source=names.source, pool=len(pool.a),
              test_pool=len(test_pool.a))
  return Source(name, pool, test_pool, names, own, own_about, standardize, spec)


def plan(cfg, sources):
  """(n_main, [Point]): the rho sweep and the size sweep on the main attribute set, the contrast's
  rhos on the other; n_main is the largest training set every rho of both can fill beside val_size."""
  rare = tuple(cfg.rare)
  main_rhos = list(dict.fromkeys([*cfg.rhos, cfg.rho]))
  need = {cfg.attributes: main_rhos}
  if cfg.contrast:
    need[cfg.contrast] = list(cfg.contrast_rhos)
  n_main = cfg.n_train or min(groups.max_train(sources[name].pool, rhos, rare, n_val=cfg.val_size)
                              for name, rhos in need.items())
  sizes = list(dict.fromkeys(s or n_main for s in cfg.sizes))
  points = ([Point(cfg.attributes, rho, n_main) for rho in main_rhos]
            + [Point(cfg.attributes, cfg.rho, n) for n in sizes if n != n_main]
            + [Point(cfg.contrast, rho, n_main) for rho in need.get(cfg.contrast, [])])
  return n_main, sizes, points


def draw(cfg, source, point, data_seed):
  return groups.build(source.pool, source.test_pool, rho=point.rho, n_train=point.n, n_val=cfg.val_size,
                      rare=tuple(cfg.rare), seed=data_seed, test_seed=TEST_SEED)


def draw_own(cfg, source, data_seed):
  """(training rows, validation rows) of b's own data for one data seed, balanced over b."""
  return attribute_pools.own_split(source.own, cfg.own_size, cfg.own_val_size, seed=data_seed + 100)
