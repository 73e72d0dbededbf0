"""The strategies, each selecting on the validation split only, and the retraining of their picks.

  random    n candidates drawn from the space, trained together as one supernet cell to convergence
            by the stopping rule
  halving   successive halving (Li et al. 2017): more candidates, one supernet cell whose chunks are
            rungs; after each rung the worse half of the members still training stop
  grid      the depth experiment's hand-made grid: plain and residual nets of one width at a few
            depths, relu, each standalone network its own cell over the grid's learning rates

Each strategy's pick (best validation accuracy of its search) is retrained from scratch over fresh
seeds as its standalone network; only those retrained numbers are reported on test.
"""
import jax

from experiments.search import supernet
from research.engine import train

from experiments.search import accounting, space

STRATEGIES = ("random", "halving", "grid")


def candidate_records(summary, cands, own_epoch_flops):
  """Per candidate of a cell: its pick-relevant numbers (validation only) and its bill."""
  out = []
  for m, c in zip(summary.members, cands):
    ran = accounting.ran_N(m.history)
    out.append(dict(candidate=c.to_json(), label=c.label(), depth=c.arch.depth, val_acc=m.final.val_acc,
                    best_epoch=m.final.best_epoch, epochs_ran=int(ran.sum()), diverged=m.final.diverged,
                    own_epoch_gflop=own_epoch_flops[c.arch] / 1e9))
  return out


def own_epoch_flops(cfg, num_classes, archs, arrays, cache):
  """{arch: FLOPs of one epoch of its standalone network} (XLA's count, as the engine counts a cell)."""
  n_train, n_val = arrays["y_train"].shape[0], arrays["y_val"].shape[0]
  for a in archs:
    if a not in cache:
      t = train.make_trainer(supernet.arch_net(num_classes, a), cfg.optimizer, cfg.batch_size)
      cache[a] = t.cost(arrays).epoch_flops(n_train, cfg.batch_size, n_val)
  return {a: cache[a] for a in archs}


def population(cfg, ctx, task, arrays, num_classes, cands, strategy, rungs=None, cache=None):
  """One supernet cell of the candidates; returns the strategy's record."""
  archs = [c.arch for c in cands]
  depth, width = supernet.bounds(archs)
  trainer = ctx.trainer(supernet.supernet(num_classes, depth=depth, width=width))
  seeds = list(range(len(cands)))  # member i starts from its network's init of seed i
  hparams = [{"learning_rate": c.learning_rate} for c in cands]
  init = supernet.population_init(num_classes, archs, seeds, arrays["x_train"][:1], depth, width)
  spec = dict(model="supernet", depth=depth, width=width, strategy=strategy, task=task["name"],
              candidates=[c.to_json() for c in cands], rungs=rungs.to_json() if rungs else None)
  out = ctx.cell(trainer, arrays, name=f"{task['key']}-{strategy}", spec=spec, seeds=seeds, hparams=hparams,
                 init_params=init, rungs=rungs)
  own = own_epoch_flops(cfg, num_classes, set(archs), arrays, cache if cache is not None else {})
  records = candidate_records(out.summary, cands, own)
  sup_epoch = trainer.cost(arrays).epoch_flops(arrays["y_train"].shape[0], cfg.batch_size, arrays["y_val"].shape[0])
  timing = out.summary.timing._asdict()
  histories = [m.history for m in out.summary.members]
  bill = accounting.compute([timing], sum(r["epochs_ran"] for r in records),
                            sum(r["epochs_ran"] for r in records) * sup_epoch,
                            sum(r["epochs_ran"] * r["own_epoch_gflop"] * 1e9 for r in records), len(cands))
  return dict(strategy=strategy, supernet=[depth, width], records=records, compute=bill,
              anytime=accounting.anytime([(histories, sup_epoch)]), rungs=rungs.to_json() if rungs else None)


def grid(cfg, ctx, task, arrays, num_classes, archs, cache=None):
  """The hand grid: one standalone cell per architecture over the grid's learning rates (seed 0)."""
  records, timings, cells, executed = [], [], [], 0.0
  own = own_epoch_flops(cfg, num_classes, set(archs), arrays, cache if cache is not None else {})
  for a in archs:
    cands = [space.Candidate(a, float(lr)) for lr in cfg.grid_learning_rates]
    trainer = ctx.trainer(supernet.arch_net(num_classes, a))
    spec = dict(model="arch_mlp", arch=a.to_json(), strategy="grid", task=task["name"])
    out = ctx.cell(trainer, arrays, name=f"{task['key']}-grid-{a.depth}{'r' if any(a.residual) else ''}", spec=spec,
                   seeds=[0] * len(cands), hparams=[{"learning_rate": c.learning_rate} for c in cands])
    recs = candidate_records(out.summary, cands, own)
    records += recs
    timings.append(out.summary.timing._asdict())
    executed += out.summary.timing.flops
    cells.append(([m.history for m in out.summary.members], own[a]))
  epochs = sum(r["epochs_ran"] for r in records)
  bill = accounting.compute(timings, epochs, executed, sum(r["epochs_ran"] * r["own_epoch_gflop"] * 1e9
                                                           for r in records), len(records))
  return dict(strategy="grid", supernet=None, records=records, compute=bill, anytime=accounting.anytime(cells))


def pick(record):
  """The candidate with the best validation accuracy of a strategy's search (the first of equals);
  (None, None) when every candidate diverged: there is nothing to pick or retrain."""
  ok = [r for r in record["records"] if not r["diverged"] and r["val_acc"] is not None]
  if not ok:
    return None, None
  best = max(ok, key=lambda r: r["val_acc"])
  return space.Candidate.from_json(best["candidate"]), best


def retrain(cfg, ctx, task, arrays, num_classes, cand):
  """The pick trained from scratch as its standalone network over the report seeds: its numbers."""
  seeds = [cfg.retrain_seed + i for i in range(cfg.seeds)]
  trainer = ctx.trainer(supernet.arch_net(num_classes, cand.arch))
  spec = dict(model="arch_mlp", arch=cand.arch.to_json(), task=task["name"], role="retrained pick")
  out = ctx.cell(trainer, arrays, name=f"{task['key']}-retrain", spec=spec, seeds=seeds,
                 hparams=[{"learning_rate": cand.learning_rate}] * len(seeds))
  return dict(out.summary.numbers(), timing=out.summary.timing._asdict(),
              params=_params(num_classes, cand.arch, arrays))


def _params(num_classes, arch, arrays):
  shapes = jax.eval_shape(supernet.arch_net(num_classes, arch).init, jax.random.key(0), arrays["x_train"][:1])
  return int(sum(a.size for a in jax.tree.leaves(shapes)))


__all__ = ["STRATEGIES", "population", "grid", "pick", "retrain"]
