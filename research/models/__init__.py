"""The model registry: every network an experiment or a config can name.

  model = models.build("mlp", 10, depth=4, width=128)    # a Model: (init, apply), see nets.py
  models.describe(model, (28, 28, 1))                     # {'params': ..., 'flops': ...}

MODELS maps a name to a builder, a pure function builder(num_classes, **options)
-> Model. Adding a model is one such function (in mlp.py, cnn.py, rnn.py or a
new module) and one line in MODELS; build() checks names and options against
the builder's own signature, so configs need no list of their own.
"""
import difflib
import functools
import inspect
import math

import jax
import jax.numpy as jnp
import numpy as np

from research.models import adapters, cnn, resnet, rnn
from research.system.errors import UserError
# Re-exported: callers need one import for a model, its cost and its precision.
from research.models.mlp import lenet_300_100, logistic, mlp, mlp_widths, residual_mlp  # noqa: F401
from research.models.nets import (ACTIVATIONS, GAINS, PRECISIONS, Model, from_flax, has_state,  # noqa: F401
                          with_precision)

MODELS = {
    "logistic": logistic,
    "mlp": mlp,
    "residual_mlp": residual_mlp,
    "lenet_300_100": lenet_300_100,
    "cnn": cnn.cnn,
    "lenet5": cnn.lenet5,
    "mnist1d_cnn": cnn.mnist1d_cnn,
    "resnet": resnet.resnet,
    "gru": rnn.gru,
    "lstm": rnn.lstm,
    "mnist1d_gru": rnn.mnist1d_gru,
}


def _did_you_mean(word, valid):
  close = difflib.get_close_matches(word, valid, n=1)
  return f" (did you mean '{close[0]}'?)" if close else ""


def options(name):
  """The option names a registered model takes (everything after num_classes), in signature order."""
  if adapters.is_file_model(name):
    return adapters.options(name) or []
  check_name(name)
  params = list(inspect.signature(MODELS[name]).parameters.values())[1:]
  return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def check_name(name):
  if name not in MODELS:
    raise UserError(f"unknown model '{name}'{_did_you_mean(name, list(MODELS))}; "
                    f"valid: {', '.join(sorted(MODELS))}")


def check_options(name, given):
  valid = options(name)
  for key in given:
    if key not in valid:
      raise UserError(f"model '{name}' has no option '{key}'{_did_you_mean(key, valid)}; "
                      f"valid: {', '.join(valid) or '(none)'}")


def build(name, num_classes, **opts):
  """The registered model `name` for `num_classes` classes; a UserError names what is valid.
  FILE.py:NAME is a model in a file of the user's own (research/models/adapters.py): a builder, a flax.linen
  or a flax.nnx module, given the options it declares."""
  if adapters.is_file_model(name):
    return adapters.load(name, num_classes, **opts)
  check_options(name, opts)
  return MODELS[name](num_classes, **opts)


def label(name, opts):
  """A short text for a table: the name and its options, e.g. 'mlp depth=2 width=100'."""
  text = lambda v: "/".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
  return " ".join([name] + [f"{k}={text(v)}" for k, v in opts.items()])


# ----------------------------------------------------------------------------
# What a model costs

def param_shapes(model, example_shape):
  x = jax.ShapeDtypeStruct((1, *example_shape), jnp.float32)
  return jax.eval_shape(model.init, jax.random.key(0), x)


def param_count(model, example_shape):
  return int(sum(math.prod(p.shape) for p in jax.tree.leaves(param_shapes(model, example_shape))))


@functools.lru_cache(maxsize=256)
def _flops(model, example_shape):
  params = param_shapes(model, example_shape)
  x = jax.ShapeDtypeStruct((1, *example_shape), jnp.float32)
  if has_state(model):  # evaluation mode, reading the running statistics
    state = jax.eval_shape(model.init_state, jax.random.key(0), x)
    cost = jax.jit(model.apply).lower(params, x, state).cost_analysis()
  else:
    cost = jax.jit(model.apply).lower(params, x).cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return int(cost.get("flops", 0))


def flops_per_example(model, example_shape):
  """Forward FLOPs of one example (XLA's count: a multiply-add is 2); training is about 3x.

  XLA counts the body of a loop once: a model with a lax.scan over time (rnn.py)
  must be counted on an unrolled copy (rnn.py's models do that)."""
  return _flops(model, tuple(example_shape))


def describe(model, example_shape):
  return dict(params=param_count(model, example_shape),
              flops=flops_per_example(model, example_shape))


def width_for_params(make, target, example_shape):
  """The width w whose model make(w) has the parameter count nearest `target` (the smaller w on a tie).

  make(w) -> Model must grow in parameters with w; a bisection, so any such family works."""
  count = lambda w: param_count(make(w), example_shape)
  hi = 1
  while count(hi) < target:
    hi *= 2
  lo = max(1, hi // 2)
  while hi - lo > 1:  # count(lo) < target <= count(hi), or lo = hi = 1
    mid = (lo + hi) // 2
    lo, hi = (mid, hi) if count(mid) < target else (lo, mid)
  return min((lo, hi), key=lambda w: (abs(count(w) - target), w))


def same_function(a, b, example_shape, seed=0):
  """Whether models a and b are the same function: parameter trees of the same shapes and, both
  initialized from the key of `seed`, identical outputs on a probe input. E.g. a residual MLP without a
  hidden-to-hidden layer (depth 0 or 1) is the plain one."""
  x_BxS = jax.random.normal(jax.random.key(1), (4, *example_shape))
  shapes = lambda m: jax.tree.map(lambda p: p.shape, param_shapes(m, example_shape))
  if jax.tree.structure(shapes(a)) != jax.tree.structure(shapes(b)) or shapes(a) != shapes(b):
    return False
  def out(m):
    key = jax.random.key(seed)
    state = (m.init_state(key, x_BxS),) if has_state(m) else ()  # evaluation mode: running statistics
    return np.asarray(m.apply(m.init(key, x_BxS), x_BxS, *state))
  return bool(np.array_equal(out(a), out(b)))
