"""The learning-rate experiment's pieces: a diverging rate is detected in the compiled program and
reported as "diverged", never as a number; steps-to-target from per-epoch losses."""
import json

import numpy as np

from experiments import learning_rate
from research import cells, models, results, train


def test_diverging_rate_is_reported_as_diverged(tiny, tmp_path):
  """Two rates in one vmapped cell: the huge one overflows and is frozen, the small one trains on."""
  trainer = train.make_trainer(models.mlp(4, depth=3, width=32), "sgd", 32)
  lrs = [1e-2, 1e3]
  seeds = [0, 1]
  res = cells.run_cell(trainer, tiny, name="lr", spec={}, seeds=seeds * len(lrs),
                       hparams=[{"learning_rate": lr} for lr in lrs for _ in seeds], epochs=3,
                       root=tmp_path, progress=False)
  finals = [m.final for m in res.summary.members]
  assert [f.diverged for f in finals] == [False, False, True, True]
  assert all(f.test_acc is None or np.isnan(f.test_acc) for f in finals[2:])
  assert all(0 < f.test_acc <= 1 for f in finals[:2])
  assert all(f.diverged_epoch == 0 for f in finals[2:])

  # The same cell through the experiment's summary and table: "diverged", not a number.
  steps_per_epoch = tiny["y_train"].shape[0] // 32
  rows = [dict(optimizer="sgd", learning_rate=lr, s_per_model=0.0,
               **learning_rate.rate_numbers(res.summary.members[i * 2:(i + 1) * 2], 1.5, steps_per_epoch))
          for i, lr in enumerate(lrs)]
  assert rows[1]["curves"] == [[], []]  # nothing plotted after the divergence
  doc = json.loads(results.dumps(dict(
      config=dict(optimizers=["sgd"], learning_rates=lrs, target_loss=1.5, depth=3, width=32, batch_size=32,
                  epochs=3, seeds=2),
      results=dict(dataset=dict(name="tiny", n_train=256, n_test=64, num_classes=4), steps_per_epoch=steps_per_epoch,
                   rows=rows, params=0, flops=0))))
  lines = learning_rate.table(doc).splitlines()
  big = next(line for line in lines if line.startswith("| 1000 |"))
  small = next(line for line in lines if line.startswith("| 0.01 |"))
  assert big == "| 1000 | diverged | diverged | diverged |"
  assert "diverged" not in small and "±" in small
  assert "1000 (2 of 2)" in learning_rate.reading(doc)
  fig = learning_rate.plots(doc)["loss_curves.png"]
  assert fig.axes


def test_steps_to_target():
  # Reached in the third epoch: 3 epochs x 10 steps.
  assert learning_rate.steps_to([2.0, 1.0, 0.4, 0.3], 0.5, 10, None) == 30
  assert learning_rate.steps_to([2.0, 1.0, 0.9], 0.5, 10, None) is None
  # A loss below the target only after the run diverged does not count.
  assert learning_rate.steps_to([2.0, None, 0.1], 0.5, 10, 1) is None
  assert learning_rate.steps_text(dict(steps_to_target=[30, None], diverged=[False, False])) == "30 ± 0 (1 of 2)"
  assert learning_rate.steps_text(dict(steps_to_target=[None, None], diverged=[True, True])) == "diverged"
  assert learning_rate.steps_text(dict(steps_to_target=[None, None], diverged=[False, True])) == "not reached"
