"""Lottery tickets (Frankle and Carbin 2019; Frankle et al. 2020) and the controls that define them.

Iterative magnitude pruning: train, remove the smallest surviving weights of every layer (the
hidden layers to the next target fraction, the output layer at `output_prune_factor` of their
rate, as Frankle and Carbin), rewind the survivors, train again. Two chains, each pruning its own
trained weights: survivors rewound to the initialization (theta_0), and to the dense run's weights
after `rewind_epoch` epochs (theta_k, Frankle et al. 2020's late rewinding; round 1 of both prunes
the dense net, so their first masks are equal). Controls at every round, beside the dense net:

  reinit   the theta_0 ticket's masks with fresh random weights (drawn like theta_0, other seeds)
  random   random masks with the theta_0 ticket's kept count in every layer, from theta_0

All four variants of a round train in one cell (masks and starting weights are data) with the
dense net's trainer, cosine schedule and stopping rule. A rewound net restarts the schedule and
its optimizer state at epoch 0: the engine starts a state at epoch 0, so theta_k's ticket gets
the full schedule again, not the remaining epochs (one epoch more of training than theta_0's).
"""
import jax
import numpy as np

from research.engine import masks, train

from experiments.pruning import recipe as rc

VARIANTS = ("init", "early", "reinit", "random")
# Seeds of the reinit control's fresh weights: seed + FRESH, never a seed of the experiment.
FRESH = 10_000


def rates(kept_before, kept_after, output_factor, names):
  """{layer: fraction of its surviving weights to remove} for one round: the hidden layers from
  kept_before to kept_after of their weights, the output layer (the last) at output_factor x that rate."""
  hidden = 1.0 - kept_after / kept_before
  return {layer: hidden * (output_factor if layer == names[-1] else 1.0) for layer in names}


def cell_inputs(masks_by_variant, starts_by_variant):
  """(masks_M, init_params_M) of a round's cell: the variants' groups one after another, in VARIANTS order."""
  return (masks.concat(*(masks_by_variant[v] for v in VARIANTS)),
          masks.concat(*(starts_by_variant[v] for v in VARIANTS)))


def rewind_weights(recipe):
  """theta_k: the dense run's weights after cfg.rewind_epoch epochs, from a cell of that many
  epochs with the dense cell's trainer, seeds and rate (the same program: every epoch's shuffle
  depends on seed and epoch only, and the schedule's horizon is the trainer's). The last
  weights, not the best on validation: a member cannot stop before epoch patience + 1."""
  cfg = recipe.cfg
  cell = recipe.ctx.cell(recipe.trainer, recipe.arrays, name="rewind", spec=dict(recipe.spec, chain="rewind"),
                         seeds=recipe.seeds, hparams=[rc.hparams(cfg, cfg.learning_rate)] * len(recipe.seeds),
                         epochs=cfg.rewind_epoch, need_state=True)
  return jax.tree.map(np.asarray, cell.state.params)


def chain(recipe, dense_params, init_params, early_params):
  """Every round of both ticket chains with their controls. Returns {"rewind_epoch", "rows"}; a row
  per round and variant: the target fraction, the weights kept (from the masks, checked against
  the trained parameters) and the cell's numbers."""
  cfg, ctx, seeds = recipe.cfg, recipe.ctx, recipe.seeds
  size = len(seeds)
  names = masks.layers(dense_params)
  fresh_params = rc.initial_params(recipe, [s + FRESH for s in seeds])
  starts = dict(init=init_params, early=early_params, reinit=fresh_params, random=init_params)
  hp = rc.hparams(cfg, cfg.learning_rate)
  ones = masks.ones_mask(dense_params)
  mask = dict(init=ones, early=ones)
  trained = dict(init=dense_params, early=dense_params)  # what each chain prunes next
  rows, kept_before = [], 1.0
  for t, target in enumerate(cfg.ticket_kept, 1):
    rate = rates(kept_before, target, cfg.output_prune_factor, names)
    kept_before = target
    for chain_name in ("init", "early"):
      mask[chain_name] = masks.prune(trained[chain_name], mask[chain_name], rate)
    round_masks = dict(mask, reinit=mask["init"], random=masks.random_like(mask["init"], seed=t))
    cell_masks, cell_starts = cell_inputs(round_masks, starts)
    cell = ctx.cell(recipe.trainer, recipe.arrays, name=f"tickets-r{t}",
                    spec=dict(recipe.spec, chain="tickets", round=t),
                    seeds=seeds * len(VARIANTS), hparams=[hp] * (size * len(VARIANTS)), masks=cell_masks,
                    init_params=cell_starts, need_state=True)
    params = train.selected(cell.state)
    for g, variant in enumerate(VARIANTS):
      lo, hi = g * size, (g + 1) * size
      if variant in trained:
        trained[variant] = masks.members(params, lo, hi)
      rows.append(dict(round=t, target=target, variant=variant,
                       **rc.sparsity(masks.members(params, lo, hi), round_masks[variant]),
                       numbers=rc.group(cell.summary, g, size).numbers()))
  return dict(rewind_epoch=cfg.rewind_epoch, rows=rows)
