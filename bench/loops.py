"""The loops `make bench` times, and how: every loop takes turns in rounds (interleaved), so that a
slow spell of a shared machine falls on every row alike.

  loops = {"torch eager": lambda: torch_eager(x, y), "engine": lambda: engine_program(...)[0](epochs)[0]}
  samples = interleaved(loops, rounds)   # {name: [seconds per round]}
"""
import os
import time

import jax
import numpy as np

from research import models
from research.engine import train

BATCH, LR, WIDTHS = 128, 1e-3, (256, 256)


def reference_model(num_classes=10, widths=WIDTHS):
  return models.mlp_widths(num_classes, widths)


def engine_flops_per_epoch(trainer, arrays):
  """Training steps and the per-epoch validation the engine runs (none without a validation
  split, as here: the loops compared all train only), as XLA counts them."""
  n_val = len(arrays["y_val"]) if "y_val" in arrays else 0
  return trainer.cost(arrays).epoch_flops(len(arrays["y_train"]), BATCH, n_val)


def engine_program(arrays, model, members, chunk, layout="vmap"):
  """Compiles `members` runs in `layout`, `chunk` epochs per call; returns (run, compile seconds).

  run(epochs) trains fresh runs for `epochs` epochs and returns (seconds per model-epoch,
  final test accuracies)."""
  trainer = train.make_trainer(model, "adam", BATCH)
  v = train.vmapped(trainer, layout)
  init = jax.jit(v.init)
  step = jax.jit(v.train, static_argnums=2, donate_argnums=0)
  fresh = lambda: init(train.keys(range(members)), train.stack([{"learning_rate": LR}] * members), arrays)
  t = time.perf_counter()
  fn = step.lower(fresh(), arrays, chunk).compile()
  compile_s = time.perf_counter() - t

  def run(epochs):
    state = jax.block_until_ready(fresh())
    calls = max(1, epochs // chunk)
    t = time.perf_counter()
    for _ in range(calls):
      state, hist = fn(state, arrays)
    jax.block_until_ready(hist)
    seconds = (time.perf_counter() - t) / (calls * chunk) / members
    _, test_acc = jax.jit(v.evaluate)(train.selected(state), arrays["x_test"], arrays["y_test"])
    return seconds, np.asarray(test_acc)
  return run, compile_s


def jax_step_loop(arrays, model):
  """A jitted step called from Python per minibatch: the usual JAX training loop.

  Returns epoch(): trains one more epoch, returns its seconds."""
  import optax
  tx = optax.adam(LR)
  x, y = arrays["x_train"], arrays["y_train"]
  params = model.init(jax.random.key(0), x[:1])
  carry = {"params": params, "opt": tx.init(params), "epoch": 0}

  @jax.jit
  def step(params, opt, xb, yb):
    loss, g = jax.value_and_grad(lambda p: train.cross_entropy(model.apply(p, xb), yb).mean())(params)
    upd, opt = tx.update(g, opt, params)
    return optax.apply_updates(params, upd), opt, loss
  steps = len(y) // BATCH
  key = jax.random.key(1)

  def epoch():
    perm = np.asarray(jax.random.permutation(jax.random.fold_in(key, carry["epoch"]), len(y)))
    params, opt = carry["params"], carry["opt"]
    t = time.perf_counter()
    for i in range(steps):
      idx = perm[i * BATCH:(i + 1) * BATCH]
      params, opt, loss = step(params, opt, x[idx], y[idx])
    loss.block_until_ready()
    carry.update(params=params, opt=opt, epoch=carry["epoch"] + 1)
    return time.perf_counter() - t
  return epoch


def torch_eager(x_np, y_np, widths=WIDTHS, num_classes=10):
  """The reference: a plain PyTorch eager loop of the same model on the same data.

  Returns epoch(): trains one more epoch, returns its seconds (None without torch)."""
  try:
    import torch
  except ImportError:
    return None
  torch.manual_seed(0)
  torch.set_num_threads(os.cpu_count())
  dims = (int(np.prod(x_np.shape[1:])), *widths)
  layers = []
  for a, b in zip(dims[:-1], dims[1:]):
    layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
  net = torch.nn.Sequential(*layers, torch.nn.Linear(dims[-1], num_classes))
  opt = torch.optim.Adam(net.parameters(), lr=LR)
  x = torch.from_numpy(x_np.reshape(len(x_np), -1))
  y = torch.from_numpy(y_np.astype(np.int64))
  steps = len(y) // BATCH

  def epoch():
    perm = torch.randperm(len(y))
    t = time.perf_counter()
    for i in range(steps):
      idx = perm[i * BATCH:(i + 1) * BATCH]
      opt.zero_grad()
      loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
      loss.backward()
      opt.step()
    return time.perf_counter() - t
  return epoch


def interleaved(loops, rounds):
  """Each loop's samples over `rounds` rounds that take turns, after one warm-up round.

  Taking turns puts a slow spell of a shared machine into every loop's samples alike, so the
  ratios stay honest where back-to-back timings would not (measured here: +-13% on one loop)."""
  samples = {name: [] for name in loops}
  for r in range(rounds + 1):
    for name, f in loops.items():
      s = f()
      if r:
        samples[name].append(s)
  return samples


def median(xs):
  return float(np.median(xs))


def spread(xs):
  """Lowest and highest sample as a percentage around the median."""
  m = median(xs)
  return f"{100 * (min(xs) / m - 1):+.0f}/{100 * (max(xs) / m - 1):+.0f}%"
