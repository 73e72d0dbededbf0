"""Run by test_sharding.py in a process that sees 8 simulated CPU devices.

Trains the same cells on one device and sharded (members over 8 devices, with
padding; and one model data-parallel) and prints how far apart the numbers are.
"""
import json
import sys
import tempfile

import jax
import numpy as np

from research.engine import cells, sharding, train
from research import models


def main():
  assert jax.device_count() == 8, jax.devices()
  k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
  w = jax.random.normal(k1, (12, 4))
  x, xt = jax.random.normal(k2, (512, 12)), jax.random.normal(k3, (64, 12))
  data = dict(x_train=x, y_train=jax.numpy.argmax(x @ w, -1), x_test=xt, y_test=jax.numpy.argmax(xt @ w, -1))
  trainer = train.make_trainer(models.mlp(4, depth=2, width=16), "adam", 64)
  out = {}
  with tempfile.TemporaryDirectory() as root:
    def cell(tag, seeds, mesh):
      hps = [{"learning_rate": 1e-2 * (1 + i % 2)} for i in range(len(seeds))]
      return cells.run_cell(trainer, data, name=tag, spec={}, seeds=seeds, hparams=hps, epochs=3,
                            root=f"{root}/{tag}", progress=False, mesh=mesh, chunk_epochs=2,
                            checkpoint_every_s=0)
    for tag, seeds, mode in (("members", [0, 1, 2, 3, 4], "members"), ("data", [7], "data")):
      single = cell(f"{tag}-single", seeds, None)
      mesh = sharding.auto_mesh(mode, len(seeds))
      sharded = cell(f"{tag}-sharded", seeds, mesh)
      a = np.array(single.summary.history("train_loss"))
      b = np.array(sharded.summary.history("train_loss"))
      pa, pb = (np.concatenate([np.ravel(l) for l in jax.tree.leaves(r.state.params)]) for r in (single, sharded))
      out[tag] = dict(mesh=list(mesh.axis_names), devices=mesh.size, members=len(sharded.summary.members),
                      loss_max_diff=float(np.abs(a - b).max()), params_max_diff=float(np.abs(pa - pb).max()),
                      identical=bool(np.array_equal(a, b) and np.array_equal(pa, pb)),
                      acc_single=single.summary.final("test_acc"),
                      acc_sharded=sharded.summary.final("test_acc"),
                      sharding=str(sharded.state.params["Dense_0"]["kernel"].sharding))
  json.dump(out, sys.stdout)


if __name__ == "__main__":
  main()
