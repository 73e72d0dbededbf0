"""The learning-rate experiment's pieces: a diverging rate is detected in the compiled program and
reported as "diverged", never chosen or compared; every choice and every time-to-target reads the
validation split, so permuting the test labels changes nothing but test numbers."""
import json

import numpy as np

from experiments import learning_rate
from research.engine import cells, train
from research import models
from research.system import results

CONFIG = dict(optimizers=["sgd"], learning_rates=[1e-2, 1e3], target_fraction=0.9, depth=3, width=32, batch_size=32,
              epochs=3, patience=2, schedule="constant", warmup_epochs=0.0, seeds=2)


def test_diverging_rate_is_reported_as_diverged(tiny, tmp_path):
  """Two rates in one vmapped cell: the huge one overflows and is frozen, the small one trains on."""
  trainer = train.make_trainer(models.mlp(4, depth=3, width=32), "sgd", 32, patience=2)
  lrs = CONFIG["learning_rates"]
  seeds, hparams = learning_rate.members("sgd", lrs, [0, 1])
  cell = cells.run_cell(trainer, tiny, name="lr", spec={}, seeds=seeds, hparams=hparams, epochs=3,
                        root=tmp_path, progress=False).summary
  finals = [m.final for m in cell.members]
  assert [f.diverged for f in finals] == [False, False, True, True]
  assert all(f.test_acc is None or np.isnan(f.test_acc) for f in finals[2:])
  assert all(0 < f.test_acc <= 1 for f in finals[:2])
  assert all(f.diverged_epoch == 0 for f in finals[2:])

  # The same cell through the experiment's rows, choices, table and reading: "diverged", not a number.
  steps_per_epoch = tiny["y_train"].shape[0] // 32
  rows = [dict(optimizer="sgd", learning_rate=lr,
               **learning_rate.rate_numbers(cell.only(lambda m, lr=lr: m.hparams["learning_rate"] == lr)))
          for lr in lrs]
  assert rows[1]["val_curves"] == [[], []] and rows[1]["loss_curves"] == [[], []]  # nothing after divergence
  target = learning_rate.target_val_acc(rows, CONFIG["target_fraction"])
  assert np.isclose(target, 0.9 * np.mean(rows[0]["val_acc"]))  # the diverged row sets no target
  for r in rows:
    r["steps_to_target"] = learning_rate.steps_to_target(r, target, steps_per_epoch)
  selected = learning_rate.select(rows, ["sgd"], target)
  assert selected["best_rate"] == {"sgd": 1e-2} and selected["optimizer"] == "sgd"
  doc = json.loads(results.dumps(dict(
      config=CONFIG,
      results=dict(dataset=dict(name="tiny", n_train=256, n_val=64, n_test=64, num_classes=4),
                   steps_per_epoch=steps_per_epoch, rows=rows, selected=selected, params=0, flops=0))))
  lines = learning_rate.table(doc).markdown().splitlines()
  big = next(line for line in lines if line.startswith("| 1000 |"))
  small = next(line for line in lines if line.startswith("| 0.01 (chosen: sgd) |"))
  assert big == "| 1000 | diverged | diverged | — | diverged |"
  assert "diverged" not in small and "±" in small
  reading = learning_rate.reading(doc)
  assert "sgd at 1000 (2 of 2)" in reading and "left out of every choice and comparison" in reading
  assert learning_rate.comparisons(doc["results"], ["sgd"]) == {}  # the diverged rate is never compared
  fig = learning_rate.plots(doc)["loss_curves.png"]
  assert fig.axes


def _row(opt, lr, val, test, diverged=False, steps=(62, 62)):
  return dict(optimizer=opt, learning_rate=lr, val_acc=list(val), test_acc=list(test), seeds=[0, 1],
              diverged=[diverged] * 2, steps_to_target=list(steps))


def test_choices_read_validation_only():
  rows = [_row("sgd", 0.01, [0.80, 0.81], [0.90, 0.91], steps=(124, 186)),
          _row("sgd", 0.1, [0.82, 0.83], [0.70, 0.71], steps=(62, 124)),  # best on validation, worst on test
          _row("sgd", 1.0, [0.95, None], [0.99, None], diverged=True, steps=(62, None)),  # never chosen
          _row("adam", 0.01, [0.81, 0.82], [0.95, 0.96], steps=(62, None))]
  assert np.isclose(learning_rate.target_val_acc(rows, 0.5), 0.5 * 0.825)
  sel = learning_rate.select(rows, ["sgd", "adam"], 0.4)
  assert sel["best_rate"] == {"sgd": 0.1, "adam": 0.01}
  assert sel["optimizer"] == "sgd"  # its chosen rate validates best; adam's tests best
  # Fewest mean steps among the rates every seed of which reached the target; adam has none.
  assert sel["fastest_rate"] == {"sgd": 0.1, "adam": None}


def test_steps_to_target():
  # Reached in the third epoch: 3 epochs x 10 steps.
  assert learning_rate.steps_to([0.2, 0.6, 0.85, 0.9], 0.8, 10) == 30
  assert learning_rate.steps_to([0.2, 0.6, 0.7], 0.8, 10) is None
  assert learning_rate.steps_to([0.2, None, None], 0.8, 10) is None  # stopped or cut at divergence
  assert learning_rate.steps_to([0.9], None, 10) is None  # no target: every row diverged
  assert learning_rate.steps_text(dict(steps_to_target=[30, None], diverged=[False, False])) == "30 ± 0 (1 of 2)"
  assert learning_rate.steps_text(dict(steps_to_target=[None, None], diverged=[True, True])) == "diverged"
  assert learning_rate.steps_text(dict(steps_to_target=[None, None], diverged=[False, True])) == "not reached"
