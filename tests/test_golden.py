"""Golden numbers: fixed reference cells trained a few epochs, every number they report compared to the
values stored in tests/golden/cells.json. A change to the engine that alters any reported number (the
training step, the stopping rule, which epoch is selected, the final evaluation) fails here until
identity.ENGINE_VERSION is bumped and the values renewed:

  python -m tests.test_golden --renew     # after bumping identity.ENGINE_VERSION on purpose

A refactor that keeps every number passes, and its cells keep their identities."""
import json
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.engine import cells, group_dro, halving, identity, optim, train
from research import models

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden" / "cells.json"
NUMBERS = ("train_acc", "val_acc", "test_acc", "train_loss", "val_loss", "test_loss")


def _data():
  k1, k2, k3, k4 = jax.random.split(jax.random.key(7), 4)
  w = jax.random.normal(k1, (16, 3))
  x, xv, xt = (jax.random.normal(k, (n, 16)) for k, n in ((k2, 384), (k3, 96), (k4, 96)))
  label = lambda a: jnp.argmax(a @ w + 0.5 * jnp.sin(3 * a[:, :3]), -1)
  return dict(x_train=x, y_train=label(x), x_val=xv, y_val=label(xv), x_test=xt, y_test=label(xt))


def _images(flat):
  return {k: (v[:, :16].reshape(-1, 4, 4, 1) if k.startswith("x") else v) for k, v in flat.items()}


def _sequences(flat):
  return {k: (v.reshape(-1, 4, 4) if k.startswith("x") else v) for k, v in flat.items()}


def _grouped(flat):
  """Each example's group: its label crossed with the sign of its first feature (6 groups)."""
  return dict(flat, **{f"g_{s}": flat[f"y_{s}"] * 2 + (flat[f"x_{s}"][:, 0] > 0) for s in ("train", "val")})


def references():
  """name -> (trainer, data, run_cell options and `extra` hyperparameters): one per engine feature the numbers
  pass through."""
  flat = _data()
  mlp = models.build("mlp", 3, depth=2, width=16)
  cosine = optim.schedule("cosine", warmup_epochs=1, epochs=6)
  mask = jax.tree.map(lambda a: jnp.stack([(jnp.arange(a.size).reshape(a.shape) % 3 != 0).astype(a.dtype)] * 3),
                      mlp.init(jax.random.key(0), flat["x_train"][:1]))
  return {
      "mlp_vmap_patience": (train.make_trainer(mlp, "adam", 32, patience=2), flat, dict(layout="vmap")),
      "mlp_map_cosine": (train.make_trainer(mlp, "sgd", 32, patience=0, schedule=cosine), flat, dict(layout="map")),
      "mlp_masked": (train.make_trainer(mlp, "adam", 32, patience=2), flat, dict(masks=mask)),
      "resnet_batch_norm": (train.make_trainer(models.build("resnet", 3, blocks=1, widths=[2, 2, 4]), "adam", 32,
                                               patience=2), _images(flat), {}),
      "gru": (train.make_trainer(models.build("gru", 3, hidden=8), "adam", 32, patience=2), _sequences(flat), {}),
      "mlp_halving_rungs": (train.make_trainer(mlp, "adam", 32, patience=0), flat,
                            dict(rungs=halving.Rungs(epochs=(2, 4), keep=0.5), layout="map")),
      "group_dro": (group_dro.make_trainer(mlp, "adam", 32, num_groups=6, patience=2), _grouped(flat),
                    dict(extra=dict(group_step=0.05, group_adjustment=1.0))),
      "irm_average": (group_dro.make_trainer(mlp, "sgd", 32, num_groups=6, patience=2, objective="irm",
                                             selection="average", schedule=cosine), _grouped(flat),
                      dict(extra=dict(penalty_weight=10.0, penalty_anneal=8.0))),
  }


def _numbers(summary):
  out = {}
  for m in summary.members:
    f = m.final._asdict()
    out[str(m.seed) + "/" + str(m.hparams["learning_rate"])] = dict(
        **{k: f[k] for k in NUMBERS}, best_epoch=f["best_epoch"], epochs_run=f["epochs_run"],
        stopped=f["stopped"], val_acc_curve=m.history["val_acc"])
  return out


def compute(root, only=None):
  found = {}
  for name, (trainer, data, kw) in references().items():
    if only and name not in only:
      continue
    kw = dict(kw)
    extra = kw.pop("extra", {})
    hps = [{"learning_rate": lr, **extra} for lr in (3e-3, 1e-2, 3e-2)]
    res = cells.run_cell(trainer, data, name=name, spec={}, seeds=[0, 1, 2], hparams=hps, epochs=6, root=root,
                         progress=False, checkpoint_every_s=0, **kw)
    found[name] = _numbers(res.summary)
  return found


def _close(a, b):
  if isinstance(a, dict):
    return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
  if isinstance(a, list):
    return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
  if isinstance(a, float) or isinstance(b, float):
    return (a is None and b is None) or (a is not None and b is not None and np.isclose(a, b, rtol=1e-5, atol=1e-6))
  return a == b


@pytest.mark.skipif(jax.__version__ != "0.10.2" or jax.default_backend() != "cpu",
                    reason="the golden numbers were computed with jax 0.10.2 on CPU")
def test_reference_cells_report_the_golden_numbers(tmp_path):
  golden = json.loads(GOLDEN.read_text())
  assert golden["engine"] == identity.ENGINE_VERSION, (
      "identity.ENGINE_VERSION changed: renew tests/golden/cells.json (python -m tests.test_golden --renew)")
  found = json.loads(json.dumps(compute(tmp_path), allow_nan=True).replace("NaN", "null"))
  for name, members in golden["cells"].items():
    assert _close(found[name], members), (
        f"reference cell {name} reports other numbers than engine version {identity.ENGINE_VERSION} did: if the change "
        "is meant, bump identity.ENGINE_VERSION (every cell retrains) and renew tests/golden/cells.json")



def _members_one_epoch_late(original):
  def members(seeds, hparams, hist, finals, state, epochs_done):
    return original(seeds, hparams, hist, finals, state, epochs_done + 1)
  return members


# Edits to the engine that no hashed part of a cell sees (its identity keeps them out on purpose, so that
# a refactor retrains nothing): each must fail the golden comparison.
ENGINE_EDITS = {
    "the last epoch reported instead of the best": lambda mp: mp.setattr(train, "selected", lambda state: state.params),
    "the Python that writes a cell's numbers": lambda mp: mp.setattr(cells, "_members",
                                                                    _members_one_epoch_late(cells._members)),
}


@pytest.mark.skipif(jax.__version__ != "0.10.2" or jax.default_backend() != "cpu",
                    reason="the golden numbers were computed with jax 0.10.2 on CPU")
@pytest.mark.parametrize("edit", sorted(ENGINE_EDITS))
def test_an_engine_change_that_alters_numbers_fails_the_golden_comparison(tmp_path, monkeypatch, edit):
  golden = json.loads(GOLDEN.read_text())["cells"]["mlp_vmap_patience"]
  ENGINE_EDITS[edit](monkeypatch)
  found = json.loads(json.dumps(compute(tmp_path, only={"mlp_vmap_patience"})).replace("NaN", "null"))
  assert not _close(found["mlp_vmap_patience"], golden)


if __name__ == "__main__" and sys.argv[1:] == ["--renew"]:
  import tempfile
  with tempfile.TemporaryDirectory() as tmp:
    values = compute(pathlib.Path(tmp))
  GOLDEN.write_text(json.dumps(dict(engine=identity.ENGINE_VERSION, jax=jax.__version__, cells=values), indent=1,
                               allow_nan=True).replace("NaN", "null") + "\n")
  print(f"wrote {GOLDEN}")
