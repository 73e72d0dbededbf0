"""Synthetic sources: many regions on a low-dimensional input, where depth provably pays.

  make, parameter, seed = parse("sawtooth:8:1")   # None for a name that is not synthetic
  raw = make(parameter, seed)                     # a Raw: a pure function of (parameter, seed)

sawtooth:K is Telgarsky's 2^K-piece sawtooth on [0, 1]; paper_cut:F is Lee's paper folded F times
along both axes with a disc cut out. Generated in well under a second, never downloaded or cached.
"""
import numpy as np

from research.data.raw import Raw
from research.system.errors import UserError


SYNTHETIC_TRAIN, SYNTHETIC_TEST = 25_000, 10_000  # sawtooth: val and train are carved from the first
PAPER_CUT_TRAIN, PAPER_CUT_TEST = 105_000, 20_000  # room for 100,000 training + 5,000 validation points


def sawtooth_labels(x_N, k):
  """Telgarsky's alternating labels on [0, 1]: the class of the nearest of the 2^k points i / 2^k,
  i mod 2; the same as [f^k(x) > 1/2] for the tent map f composed k times. 2^k + 1 intervals."""
  return (np.floor(np.asarray(x_N, np.float64) * 2.0 ** k + 0.5) % 2).astype(np.int32)


def sawtooth_points(k):
  """Telgarsky's 2^k points i / 2^k, i = 0 .. 2^k - 1, with their alternating labels (x_N, y_N)."""
  x_N = np.arange(2 ** k, dtype=np.float64) / 2 ** k
  return x_N, sawtooth_labels(x_N, k)


# Sampled points this close to an interval boundary are drawn again: float32 inputs land exactly on a
# boundary about 2^(k + 1 - 24) of the time, where the label is a convention and the exact net's two
# logits tie. Leaves out 2^(k - 20) of [0, 1] (0.1% at k = 10).
BOUNDARY_MARGIN = 2.0 ** -22


def sawtooth(k, seed=0):
  """Points drawn uniformly from [0, 1] (but for BOUNDARY_MARGIN), labelled by the 2^k-piece sawtooth."""
  rng = np.random.default_rng([seed, k])
  n = SYNTHETIC_TRAIN + SYNTHETIC_TEST
  kept = np.zeros(0, np.float32)
  while len(kept) < n:
    # Labels are read from the float32 inputs the engine sees, so no label disagrees with its point.
    x = rng.uniform(0.0, 1.0, n).astype(np.float32)
    t = x.astype(np.float64) * 2.0 ** k + 0.5
    kept = np.concatenate([kept, x[np.abs(t - np.round(t)) >= BOUNDARY_MARGIN * 2.0 ** k]])
  x = kept[:n]
  y = sawtooth_labels(x, k)
  n = SYNTHETIC_TRAIN
  return Raw(x[:n, None], y[:n], x[n:, None], y[n:], ("0", "1"),
             f"synthetic: 2^{k}-piece sawtooth labels of uniform points on [0, 1], data seed {seed}")


# The cut's radius: a disc of half the area of the folded square [-1, 1]^2, so the classes balance.
PAPER_CUT_RADIUS = float(np.sqrt(2.0 / np.pi))


def fold(u_NxD, folds):
  """Folds the square [-1, 1]^D in half along every axis `folds` times (u -> 2|u| - 1): every point
  lands on its place in the folded paper, where one cut decides it for all 4^folds copies."""
  for _ in range(folds):
    u_NxD = 2.0 * np.abs(u_NxD) - 1.0
  return u_NxD


def paper_cut_labels(x_Nx2, folds):
  """Lee's paper cutting: fold [-1, 1]^2 `folds` times along both axes, cut out a disc, unfold:
  2^folds x 2^folds discs (class 1) on the square."""
  u_Nx2 = fold(np.asarray(x_Nx2, np.float64), folds)
  return ((u_Nx2 ** 2).sum(-1) < PAPER_CUT_RADIUS ** 2).astype(np.int32)


def paper_cut(folds, seed=0):
  rng = np.random.default_rng([seed, folds])
  x = rng.uniform(-1.0, 1.0, (PAPER_CUT_TRAIN + PAPER_CUT_TEST, 2)).astype(np.float32)
  y = paper_cut_labels(x, folds)
  n = PAPER_CUT_TRAIN
  return Raw(x[:n], y[:n], x[n:], y[n:], ("paper", "hole"),
             f"synthetic: uniform points on [-1, 1]^2, {4 ** folds} discs cut from paper folded {folds} times "
             f"along both axes, data seed {seed}")


# name -> (generator(parameter, seed), what the parameter is, its largest value)
SYNTHETIC = {"sawtooth": (sawtooth, "K, the sawtooth's 2^K pieces", 20),
             "paper_cut": (paper_cut, "F, the folds along each axis", 8)}


def parse(name):
  """(generator, parameter, seed) of a name like sawtooth:8 or sawtooth:8:1; None if not synthetic."""
  family, _, rest = name.partition(":")
  if family not in SYNTHETIC:
    return None
  make, what, largest = SYNTHETIC[family]
  parts = rest.split(":")
  if not rest or len(parts) > 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[0]) <= largest:
    raise UserError(f"dataset '{name}': write {family}:N or {family}:N:SEED with N = {what} (1 to {largest}) "
                    "and SEED the data seed")
  return make, int(parts[0]), int(parts[1]) if len(parts) == 2 else 0
