"""Training every contender under the protocol, and picking the best net on validation."""
import numpy as np

from research import models
from research.engine import optim
from research.report import protocol, stats

from experiments.digits16 import outputs
from research.engine import tuning
from experiments.digits16.contenders import NUM_CLASSES, build, contenders


def _value_cell(cfg, ctx, contender, trainer, arrays, ds):
  """train_value(lr) for tuning.tune: one cell of cfg.seeds members at that learning rate. Its state is
  kept (need_state) for the outputs of the member best on validation."""
  seeds = list(range(cfg.seeds))
  spec = dict(contender=contender.key, model=contender.model, options=contender.options, dataset=ds.describe(),
              optimizer=cfg.optimizer, batch_size=cfg.batch_size)

  def train_value(lr):
    return ctx.cell(trainer, arrays, name=f"{contender.key}-lr{lr:g}", spec=dict(spec, learning_rate=lr),
                    seeds=seeds, hparams=[optim.defaults(cfg.optimizer, lr)] * len(seeds), need_state=True)
  return train_value


def _row(contender, model, ds, cells, merged):
  tuned = protocol.tuned(merged)
  tried = sorted(cells)
  return dict(key=contender.key, label=contender.label, family=contender.family, hidden=contender.hidden,
              model=models.label(contender.model, contender.options), **models.describe(model, ds.shape),
              **tuned, tried=tried, edge=tuning.at_edge(tried, tuned["learning_rate"]),
              train_flops=float(merged.timing.flops),
              member_epochs=int(sum(m.final.epochs_run or 0 for m in merged.members)))


def select(rows):
  """What the reading and the figures call best, on validation only: the contender with the best mean
  validation accuracy (diverged rows excluded), the order of all, and the best MLP."""
  ok = sorted((r for r in rows if not any(r["diverged"])), key=lambda r: -stats.mean_sd(r["val_acc"])[0])
  mlps = [r["key"] for r in ok if r["family"] == "mlp"]
  return dict(best=ok[0]["key"] if ok else None, by_validation=[r["key"] for r in ok],
              best_mlp=mlps[0] if mlps else None)


def run(cfg, ctx):
  ds, arrays = ctx.data(cfg.dataset, val_size=cfg.val_size, n_train=cfg.n_train)
  if ds.num_classes != NUM_CLASSES:
    raise ValueError(f"dataset {cfg.dataset} has {ds.num_classes} classes; the contenders have {NUM_CLASSES} outputs")
  rows, shown = [], {}
  for contender in contenders(cfg):
    model = build(contender)
    trainer = ctx.trainer(model)
    cells, merged = tuning.tune(cfg, _value_cell(cfg, ctx, contender, trainer, arrays, ds))
    row = _row(contender, model, ds, cells, merged)
    rows.append(row)
    # The member best on validation at the chosen rate; its outputs stay in memory until the best
    # contender is known (all of it chosen on validation).
    cell = cells[row["learning_rate"]]
    i = outputs.best_member(cell.summary)
    if i is not None:
      shown[contender.key] = dict(seed=int(cell.summary.members[i].seed), learning_rate=row["learning_rate"],
                                  val_acc=cell.summary.members[i].final.val_acc,
                                  **outputs.of_member(model, cell.state, i, ds, cfg.shown_digit))
  selected = select(rows)
  best = shown.get(selected["best"])
  net = None if best is None else dict(key=selected["best"], **{k: best[k] for k in ("seed", "learning_rate",
                                                                                       "val_acc")})
  figure = None if best is None else {k: v for k, v in best.items() if k.startswith("test_") and k != "test_confusion"}
  return dict(dataset=ds.describe(), rows=rows, selected=selected, net=net, figure=figure,
              test_confusion=None if best is None else best["test_confusion"],
              n_test=int(len(ds.y_test)),
              test_acc_of_net=None if best is None else float(np.trace(best["test_confusion"]) / len(ds.y_test)))
