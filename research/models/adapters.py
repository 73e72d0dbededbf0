"""Models written for the ecosystem, trained as they are: flax.linen and flax.nnx modules, and models
in a file of the user's own, named as FILE.py:NAME.

  model = adapters.from_linen(MyLinenModule(10))        # __call__(x, train: bool) may use nn.Dropout
  model = adapters.from_nnx(lambda rngs, in_shape: MyNnxModule(in_shape, 10, rngs=rngs))
  model = adapters.load("/home/me/mine.py:highway", 10, depth=2, width=64)   # what models.build does

Each becomes a nets.Model: init(key, x) -> params, apply(params, x) -> logits (evaluation:
deterministic), and, when the module is stochastic, rng_apply(params, x, rng) -> logits (training:
the engine hands every step its own rng, drawn from the member's seed and the step, so a resumed run
draws the same). The parameters are plain nested dicts, like every other model's.

In a file, NAME is a builder called with the model's options (an experiment passes its own, e.g.
depth, width, activation; the builder takes those it declares):
  - a function returning a nets.Model or a flax.linen Module, or
  - an nnx.Module class, or a function, taking `rngs` (and `in_shape`, the shape of one example, if
    it declares it: nnx layers need their input size when built).
"""
import functools
import importlib.util
import inspect
import pathlib
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import nnx

from research.system.errors import UserError
from research.models.nets import Model

SEPARATOR = ".py:"


def is_file_model(name):
  return isinstance(name, str) and SEPARATOR in name


def short_name(name):
  """What a file model is called in cell names and tables: NAME of FILE.py:NAME."""
  return name.rsplit(":", 1)[1] if is_file_model(name) else name


def _parameters(fn):
  """fn's parameters; a class's are its __init__'s without self (nnx's metaclass hides them)."""
  try:
    params = list(inspect.signature(fn.__init__ if inspect.isclass(fn) else fn).parameters.values())
  except (TypeError, ValueError):
    return []
  return params[1:] if inspect.isclass(fn) else params


def _takes(fn, arg):
  params = _parameters(fn)
  return any(p.name == arg or p.kind == p.VAR_KEYWORD for p in params)


# ----------------------------------------------------------------------------
# flax.linen

def from_linen(module):
  """A linen module over its 'params' collection. If its __call__ takes `train`, it is evaluated with
  train=False and trained with train=True and the step's rng as its 'dropout' stream."""
  if not _takes(module.__call__, "train"):
    return Model(init=lambda key, x: module.init(key, x)["params"],
                 apply=lambda params, x: module.apply({"params": params}, x))
  return Model(init=lambda key, x: module.init(key, x, train=False)["params"],
               apply=lambda params, x: module.apply({"params": params}, x, train=False),
               rng_apply=lambda params, x, rng: module.apply({"params": params}, x, train=True,
                                                              rngs={"dropout": rng}))


# ----------------------------------------------------------------------------
# flax.nnx

def _concrete(abstract):
  """Placeholder values for a module's non-parameter variables (rng streams): a key is reseeded
  before it is read, and a deterministic module reads none."""
  if jnp.issubdtype(abstract.dtype, jax.dtypes.prng_key):
    return jnp.broadcast_to(jax.random.key(0), abstract.shape)
  return jnp.zeros(abstract.shape, abstract.dtype)


def from_nnx(make):
  """make(rngs, in_shape) -> an nnx.Module. Its nnx.Param variables are the parameters (a plain
  dict); its other variables (a Dropout's rng stream) are rebuilt for every call: evaluation runs
  the module deterministic, training reseeds its streams with the step's rng. A module with
  nnx.BatchStat variables (nnx.BatchNorm) is refused: its running statistics would need the
  engine's model state, which only linen modules reach (nets.from_flax_with_state)."""
  @functools.lru_cache(maxsize=8)
  def template(in_shape):
    graphdef, params, rest = nnx.split(nnx.eval_shape(lambda: make(nnx.Rngs(0), in_shape)), nnx.Param, ...)
    variables = jax.tree.leaves(rest, is_leaf=lambda v: isinstance(v, nnx.Variable))
    if any(isinstance(v, nnx.BatchStat) for v in variables):
      raise UserError("an nnx module with BatchStat variables (nnx.BatchNorm) is not supported; "
                      "write it with flax.linen and nets.from_flax_with_state")
    return graphdef, params, rest

  def init(key, x):
    return nnx.to_pure_dict(nnx.split(make(nnx.Rngs(key), tuple(x.shape[1:])), nnx.Param, ...)[1])

  def module(params, x, rng):
    graphdef, abstract_params, abstract_rest = template(tuple(x.shape[1:]))
    state = jax.tree.map(lambda a: a, abstract_params)  # a fresh State to fill in
    nnx.replace_by_pure_dict(state, params)
    m = nnx.merge(graphdef, state, jax.tree.map(_concrete, abstract_rest))
    if rng is not None:
      nnx.reseed(m, default=rng, dropout=rng)
    return nnx.view(m, deterministic=rng is None, raise_if_not_found=False)

  return Model(init=init, apply=lambda params, x: module(params, x, None)(x),
               rng_apply=lambda params, x, rng: module(params, x, rng)(x))


# ----------------------------------------------------------------------------
# FILE.py:NAME

def _builder(spec):
  path, name = spec.rsplit(":", 1)
  file = pathlib.Path(path).expanduser()
  if not file.is_file():
    raise UserError(f"model {spec}: no file {file}")
  module_name = f"research_user_{abs(hash(str(file.resolve())))}"
  if module_name not in sys.modules:
    loader = importlib.util.spec_from_file_location(module_name, file)
    code = importlib.util.module_from_spec(loader)
    try:
      loader.loader.exec_module(code)
    except Exception as e:  # noqa: BLE001 - the user's file: its error is the line
      raise UserError(f"model {spec}: importing {file} failed: {type(e).__name__}: {e}") from e
    sys.modules[module_name] = code
  builder = getattr(sys.modules[module_name], name, None)
  if builder is None or not callable(builder):
    raise UserError(f"model {spec}: {file} defines no callable {name}")
  return builder


def options(spec):
  """The option names a file model's builder declares (None: it takes any, through **kwargs)."""
  params = _parameters(_builder(spec))
  if any(p.kind == p.VAR_KEYWORD for p in params):
    return None
  return [p.name for p in params[1:] if p.name not in ("rngs", "in_shape")]


def load(spec, num_classes, **opts):
  """The model FILE.py:NAME for num_classes classes, with the options its builder declares."""
  fn = _builder(spec)
  declared = options(spec)
  given = opts if declared is None else {k: v for k, v in opts.items() if k in declared}
  if _takes(fn, "rngs"):  # an nnx module (or its builder), built inside the engine's init
    with_shape = _takes(fn, "in_shape")
    return from_nnx(lambda rngs, in_shape: fn(num_classes, **given, rngs=rngs,
                                              **({"in_shape": in_shape} if with_shape else {})))
  made = fn(num_classes, **given)
  if isinstance(made, Model):
    return made
  if isinstance(made, nn.Module):
    return from_linen(made)
  raise UserError(f"model {spec}: {type(made).__name__} is neither a nets.Model nor a flax module")
