"""Han et al. 2015: per-layer thresholds set by each layer's sensitivity, iterative prune and retrain.

Each round, per layer, a weight goes when its magnitude is below a quality parameter q times the
standard deviation of the layer's surviving weights (per member). q is chosen per layer from a
sensitivity scan (Han's Figure 5): each layer pruned alone at every q of a grid, the others
untouched, no retraining; the largest q whose mean validation accuracy is at most `tolerance`
points below the unpruned net's. Then every layer is pruned at its q and the survivors retrain
from their values at a tenth of the learning rate until the stopping rule ends them. The chains
of several tolerances train in one cell (their masks are data).

The std is of the surviving weights, not of the whole matrix with its zeros: with the zeros
counted, the threshold shrinks as the layer empties and later rounds prune almost nothing.
"""
import numpy as np

from research.engine import masks, train

from experiments.pruning import recipe as rc


def scan(recipe, params_M, mask_M, grid):
  """The sensitivity of every layer, each pruned alone at each quality parameter of `grid`.

  {"val_acc": (M,) of the weights as they are, "layers": {layer: {"q": grid, "pruned": per q the (M,)
  fraction of the layer's surviving weights removed, "val_acc": per q (M,)}}}, accuracies in percent."""
  std = masks.layer_std(params_M, mask_M)
  kept_before = masks.kept_counts(mask_M)
  out = dict(val_acc=rc.val_accuracy(recipe, rc.masked(params_M, mask_M)).tolist(), layers={})
  for layer in masks.layers(params_M):
    pruned, val = [], []
    for q in grid:
      m = masks.prune_below(params_M, mask_M, {layer: q * std[layer]})
      pruned.append((1 - masks.kept_counts(m)[layer] / np.maximum(kept_before[layer], 1)).tolist())
      val.append(rc.val_accuracy(recipe, rc.masked(params_M, m)).tolist())
    out["layers"][layer] = dict(q=list(grid), pruned=pruned, val_acc=val)
  return out


def qualities(sensitivity, members, tolerance):
  """{layer: q}: per layer, the largest q of the scan whose mean validation accuracy over
  `members` (indices) is at most `tolerance` points below theirs unpruned; 0 (nothing pruned) if
  none is. Reads validation only."""
  base = np.mean(np.asarray(sensitivity["val_acc"])[members])
  chosen = {}
  for layer, s in sensitivity["layers"].items():
    ok = [q for q, acc in zip(s["q"], s["val_acc"]) if np.mean(np.asarray(acc)[members]) >= base - tolerance]
    chosen[layer] = max(ok, default=0.0)
  return chosen


def thresholds(params_M, mask_M, quality_per_group, size):
  """{layer: (M,) absolute threshold}: each member's group's q times its own surviving weights' std."""
  std = masks.layer_std(params_M, mask_M)
  return {layer: np.repeat([q[layer] for q in quality_per_group], size) * std[layer] for layer in std}


def chain(recipe, dense_params):
  """Han's rounds for every tolerance of the config, the tolerances' chains in one cell per round.

  Returns {"tolerances", "grid", "sensitivity" (the dense net's scan, round 1's), "rows"}; a row per
  round and tolerance: the q per layer, the weights kept (from the masks, checked against the
  parameters), the pruned weights' accuracy before retraining and the retrained cell's numbers."""
  cfg, ctx, seeds = recipe.cfg, recipe.ctx, recipe.seeds
  size, tolerances = len(seeds), list(cfg.sensitivity_drops)
  groups = [list(range(g * size, (g + 1) * size)) for g in range(len(tolerances))]
  params = rc.tile(dense_params, len(tolerances))
  mask = masks.ones_mask(params)
  hp = rc.hparams(cfg, cfg.learning_rate * cfg.retrain_lr_factor)
  first, rows = None, []
  for r in range(1, cfg.han_rounds + 1):
    sensitivity = scan(recipe, params, mask, cfg.quality_grid)
    first = first or sensitivity
    quality = [qualities(sensitivity, members, tol) for members, tol in zip(groups, tolerances)]
    mask = masks.prune_below(params, mask, thresholds(params, mask, quality, size))
    before = rc.accuracies(recipe, rc.masked(params, mask))
    cell = ctx.cell(recipe.retrainer, recipe.arrays, name=f"han-r{r}", spec=dict(recipe.spec, chain="han", round=r),
                    seeds=seeds * len(tolerances), hparams=[hp] * (size * len(tolerances)), masks=mask,
                    init_params=params, epochs=cfg.retrain_epochs, need_state=True)
    params = train.selected(cell.state)
    for g, tol in enumerate(tolerances):
      lo, hi = g * size, (g + 1) * size
      rows.append(dict(round=r, tolerance=tol, quality=quality[g],
                       **rc.sparsity(masks.members(params, lo, hi), masks.members(mask, lo, hi)),
                       before={k: v[lo:hi] for k, v in before.items()},
                       numbers=rc.group(cell.summary, g, size).numbers()))
  return dict(tolerances=tolerances, grid=list(cfg.quality_grid), sensitivity=first, rows=rows)
