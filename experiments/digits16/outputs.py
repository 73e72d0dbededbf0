"""What the best net does with a digit: its ten probabilities, and its confusion matrix on the test set.

Only reported, never chosen by: the net is picked on validation (the contender best on mean
validation accuracy, then its member best on validation), and the digit shown is fixed by a rule
(the first test image of cfg.shown_digit).
"""
import jax
import numpy as np

from research import models
from research.engine import train


def best_member(summary):
  """Index (in seed order) of the member with the best validation accuracy; the first of equals;
  None when every member diverged."""
  ok = [(m.final.val_acc, -i) for i, m in enumerate(summary.members)
        if not m.final.diverged and m.final.val_acc is not None and np.isfinite(m.final.val_acc)]
  return -max(ok)[1] if ok else None


def member_params(state, i):
  return jax.tree.map(lambda a: a[i], train.selected(state))


def probabilities(model, params, x_NxS):
  """Softmax of the model's ten outputs, N x 10 (float64 on the host)."""
  if models.has_state(model):
    raise ValueError("outputs.probabilities reads models without state (no batch norm) only")
  logits = np.asarray(jax.jit(model.apply)(params, x_NxS), np.float64)
  z = np.exp(logits - logits.max(-1, keepdims=True))
  return z / z.sum(-1, keepdims=True)


def confusion(y_true, y_pred, k):
  """k x k counts: row = true class, column = the class the net said."""
  out = np.zeros((k, k), int)
  np.add.at(out, (np.asarray(y_true), np.asarray(y_pred)), 1)
  return out


def shown_index(y_test, digit):
  """The first test image labelled `digit` (image 0 if there is none)."""
  hits = np.flatnonzero(np.asarray(y_test) == digit)
  return int(hits[0]) if len(hits) else 0


def of_member(model, state, i, ds, digit):
  """The outputs the figures need, for member i of a cell's state: the test confusion matrix, and the
  shown digit's image and ten probabilities. Every key says 'test': these are test-set numbers."""
  probs_NxK = probabilities(model, member_params(state, i), jax.device_put(ds.x_test))
  k = probs_NxK.shape[1]
  j = shown_index(ds.y_test, digit)
  return dict(test_confusion=confusion(ds.y_test, probs_NxK.argmax(-1), k).tolist(),
              test_index=j, test_label=int(ds.y_test[j]),
              test_image=np.round(ds.x_test[j].reshape(ds.x_test.shape[1:3]), 4).tolist(),
              test_probs=[float(p) for p in probs_NxK[j]])
