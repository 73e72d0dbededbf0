"""Weights that really go to zero: an L1 penalty taken as a proximal step (research/optim.prox_l1).

After every step of SGD + momentum + L2, each weight matrix is soft-thresholded by learning rate x
the L1 strength, so a weight the penalty wins over is exactly 0.0 and stays there until its
gradient outweighs the penalty. The rate decays as the dense net's does (cosine over `epochs`),
but inside the optimizer, with the engine's schedule constant: the engine scales the optimizer's
update by its schedule's factor after the proximal step, which would leave (1 - factor) x w
instead of 0.0. One cell trains every strength of the config over the seeds
(a strength of 0 is the dense net's recipe again). The exact zeros per layer after every
epoch come from the optimizer's own count (optim.count_zeros: the engine's History holds no such
column, and the engine is not changed for it); the zeros of the selected weights are counted on
the parameters, and the two must agree at the selected epoch.

Beside each strength: magnitude pruning of the dense net to the same per-layer, per-seed count of
surviving weights, one shot, no retraining (what Han et al. say L1 is good for: pruning
without retraining).
"""
import jax
import numpy as np

from research.engine import masks, optim, train

from experiments.pruning import recipe as rc


def zeros_over_training(zeros_log_MxE, sizes, val_acc_history, members):
  """Per epoch, the mean over `members` of the fraction of a layer's weights exactly 0.0 after
  that epoch (None where every member had stopped); epochs a member skipped have no count."""
  out = []
  for e in range(len(val_acc_history[members[0]])):
    ran = [m for m in members if val_acc_history[m][e] is not None]
    out.append(float(np.mean([zeros_log_MxE[m][e] / sizes for m in ran])) if ran else None)
  return out


def chain(recipe, dense_params):
  """Returns {"strengths", "rows"}; a row per L1 strength: the weights kept (not exactly 0.0 in the
  selected parameters) overall and per layer, exact zeros per layer over training, whether the
  optimizer's count agrees with the parameters, the cell's numbers, and the dense net pruned by
  magnitude to the same counts (accuracies without retraining)."""
  cfg, ctx, seeds, arrays = recipe.cfg, recipe.ctx, recipe.seeds, recipe.arrays
  size, strengths = len(seeds), list(cfg.l1_strengths)
  trainer = train.make_trainer(recipe.model, "prox_l1", cfg.batch_size, patience=cfg.patience, schedule=optim.constant)
  steps = arrays["y_train"].shape[0] // cfg.batch_size
  decay_epochs = float(cfg.epochs) if cfg.schedule == "cosine" else 0.0
  hp = [rc.hparams(cfg, cfg.learning_rate, "prox_l1", l1=float(s), steps_per_epoch=float(steps),
                   decay_epochs=decay_epochs) for s in strengths for _ in seeds]
  cell = ctx.cell(trainer, arrays, name="l1", spec=dict(recipe.spec, chain="l1", optimizer="prox_l1"),
                  seeds=seeds * len(strengths), hparams=hp, need_state=True)
  params = train.selected(cell.state)
  log = optim.zeros_per_epoch(cell.state.opt_state)
  nonzero, sizes = masks.nonzero_counts(params), masks.layer_sizes(params)
  names = list(sizes)
  # The count mirrors the parameters' tree, a (M, epochs) log in place of each leaf.
  log_leaves = jax.tree.leaves(log)
  log_by_layer = {name: np.asarray(log_leaves[i]) for name, i in masks.weights(params).items()}
  history = cell.summary.history("val_acc")
  best_epoch = cell.summary.final("best_epoch")
  rows = []
  for g, strength in enumerate(strengths):
    members = list(range(g * size, (g + 1) * size))
    counts = {name: nonzero[name][members] for name in names}
    total = sum(sizes.values())
    magnitude = masks.keep_largest(dense_params, counts)
    agree = all(best_epoch[m] is None or
                log_by_layer[name][m][best_epoch[m] - 1] == sizes[name] - nonzero[name][m]
                for name in names for m in members)
    rows.append(dict(l1=float(strength),
                     kept=float(np.mean([sum(counts[n][i] for n in names) / total for i in range(size)])),
                     layer_kept={n: float(np.mean(counts[n]) / sizes[n]) for n in names},
                     zeros_per_epoch={n: zeros_over_training(log_by_layer[n], sizes[n], history, members)
                                      for n in names},
                     counts_agree=bool(agree), numbers=rc.group(cell.summary, g, size).numbers(),
                     magnitude=rc.accuracies(recipe, rc.masked(dense_params, magnitude))))
  return dict(strengths=strengths, steps_per_epoch=steps, rows=rows)
