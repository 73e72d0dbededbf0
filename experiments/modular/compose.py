"""Models built from other models, as pure functions of (params, x).

  pair = parallel(mlp(2, depth=1, width=64), mlp(2, depth=1, width=64))   # two attribute modules
  trunk = shared_trunk((128,), heads=(2, 2))       # one trunk, two attribute heads
  four_way = product(pair)                         # fixed combiner: p(a, b) = p(a) p(b)
  model = compose(pair, combiner=mlp(4, depth=1, width=16), readout=head_log_probs)   # learned combiner

A two-head model's output is its heads' logits side by side (B x 4 for two
binary heads) and its labels are B x 2 (a, b); `two_head_loss` and
`two_head_correct` are the engine's loss_fn / correct_fn for it, the latter
scoring the 4-way prediction of the product rule, class 2a + b.

`compose(*modules, combiner=...)` feeds the modules' readouts to the
combiner. Frozen modules (the default) sit inside the params but behind
stop_gradient, so their gradient is exactly zero and Adam or SGD leave them
bit-for-bit unchanged: the engine trains the combiner alone without knowing
that the model has parts. frozen=False fine-tunes everything end to end.
"""
import jax
import jax.numpy as jnp
import optax

from research.models.mlp import mlp_widths
from research.models.nets import Model


def parallel(*modules):
  """Modules side by side on the same input: params is a tuple, outputs are concatenated."""
  def init(key, x_BxS):
    return tuple(m.init(k, x_BxS) for m, k in zip(modules, jax.random.split(key, len(modules))))

  def apply(params, x_BxS):
    return jnp.concatenate([m.apply(p, x_BxS) for m, p in zip(modules, params)], -1)
  return Model(init, apply)


def shared_trunk(widths, heads=(2, 2), activation="relu"):
  """x -> hidden layers (the trunk) -> one Dense head per attribute, logits side by side.

  Heads side by side on one trunk are one Dense layer of sum(heads) outputs, so
  this is the MLP itself, read as len(heads) groups of logits."""
  return mlp_widths(sum(heads), widths, activation=activation)


def head_log_probs(logits_BxH, heads=(2, 2)):
  """Log-softmax within each head of a two-head output."""
  cuts = [sum(heads[:i]) for i in range(1, len(heads))]
  return jnp.concatenate([jax.nn.log_softmax(z) for z in jnp.split(logits_BxH, cuts, -1)], -1)


def product_logits(logits_Bx4):
  """The fixed combiner: log p(a, b) = log p(a) + log p(b), class index 2a + b."""
  lp = head_log_probs(logits_Bx4)
  return (lp[:, :2, None] + lp[:, None, 2:]).reshape(len(lp), 4)


def product(two_head):
  """A 4-way classifier from a two-head model through the fixed product combiner (no params)."""
  return Model(two_head.init, lambda params, x_BxS: product_logits(two_head.apply(params, x_BxS)))


def compose(*modules, combiner, readout=jax.nn.log_softmax, frozen=True):
  """combiner(concat(readout(module(x)) for each module)); params {'modules': (...), 'combiner': ...}.

  readout maps a module's logits to the combiner's features (log-probabilities
  by default; head_log_probs for a two-head module). frozen: stop_gradient on
  the modules' params, so training the composition trains the combiner alone.
  """
  def features(module_params, x_BxS):
    if frozen:
      module_params = jax.lax.stop_gradient(module_params)
    return jnp.concatenate([readout(m.apply(p, x_BxS)) for m, p in zip(modules, module_params)], -1)

  def init(key, x_BxS):
    keys = jax.random.split(key, len(modules) + 1)
    module_params = tuple(m.init(k, x_BxS) for m, k in zip(modules, keys[1:]))
    return {"modules": module_params, "combiner": combiner.init(keys[0], features(module_params, x_BxS))}

  def apply(params, x_BxS):
    return combiner.apply(params["combiner"], features(params["modules"], x_BxS))
  return Model(init, apply)


def with_modules(params, *module_params):
  """A composition's params with its modules' params replaced (e.g. by trained ones)."""
  return {"modules": tuple(module_params), "combiner": params["combiner"]}


def init_members(model, keys_M, x_1xS, *module_params_M):
  """Starting params with a member axis: fresh combiners around given (trained) modules.

  module_params_M: each module's params with the same leading member axis as keys_M.
  """
  fresh = jax.vmap(model.init, in_axes=(0, None))(keys_M, x_1xS)
  return with_modules(fresh, *module_params_M)


def two_head_loss(logits_Bx4, y_Bx2):
  """Each head's cross-entropy on its own attribute, summed."""
  ce = optax.softmax_cross_entropy_with_integer_labels
  return ce(logits_Bx4[:, :2], y_Bx2[:, 0]) + ce(logits_Bx4[:, 2:], y_Bx2[:, 1])


def two_head_correct(logits_Bx4, y_Bx2):
  """Whether the product rule's 4-way prediction is the example's group 2a + b."""
  return (jnp.argmax(product_logits(logits_Bx4), -1) == 2 * y_Bx2[:, 0] + y_Bx2[:, 1]).astype(jnp.float32)
