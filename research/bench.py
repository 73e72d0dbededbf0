"""`make bench`: the engine against a plain PyTorch eager loop, in the same run.

Reference model: MLP 784-256-256-10, Adam 1e-3, batch 128, Fashion-MNIST.
Prints seconds per epoch per model for
  torch eager       a plain PyTorch training loop (the reference)
  jax step loop     one jitted step called from Python per minibatch
  engine, 1 run     the whole run compiled as one program (lax.scan)
  engine, M runs    M seeds vmapped into one program, per model
and their ratios to the reference, the engine's achieved FLOP/s against this
machine's measured fp32 matmul peak, the cost of chunking a run into one call
per epoch, and (issue 5) how time grows with the number of models, depth,
width and training-set size. Writes results/bench/{bench.json,table.md}.

  python -m research.bench [--epochs 3] [--sizes 1,8,64] [--quick]
"""
import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from research import data, models, paths, results, train
from research.experiment import setup_jax

BATCH, LR, WIDTHS = 128, 1e-3, (256, 256)


def matmul_peak(n=2048, reps=10):
  """Best fp32 GFLOP/s of an n x n matmul on the default device."""
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
  f = jax.jit(lambda a: a @ a)
  f(a).block_until_ready()
  best = float("inf")
  for _ in range(reps):
    t = time.perf_counter()
    f(a).block_until_ready()
    best = min(best, time.perf_counter() - t)
  return 2 * n ** 3 / best / 1e9


def reference_model(num_classes=10, widths=WIDTHS):
  return models.mlp_widths(widths, num_classes)


def train_flops_per_epoch(model, shape, n):
  """Forward + backward ~ 3x the forward FLOPs, over the examples of one epoch."""
  return 3 * models.flops_per_example(model, shape) * (n // BATCH) * BATCH


def engine(arrays, model, members, epochs, chunk=None):
  """Seconds per model-epoch of `members` vmapped runs (compile excluded), and compile seconds."""
  trainer = train.make_trainer(model, "adam", BATCH)
  v = train.vmapped(trainer)
  seeds = list(range(members))
  init = jax.jit(v.init)
  step = jax.jit(v.train, static_argnums=2, donate_argnums=0)
  chunk = chunk or epochs
  state = init(train.keys(seeds), train.stack([{"learning_rate": LR}] * members), arrays)
  t = time.perf_counter()
  fn = step.lower(state, arrays, chunk).compile()
  compile_s = time.perf_counter() - t
  jax.block_until_ready(fn(state, arrays))  # warm-up: first-touch of buffers
  state = init(train.keys(seeds), train.stack([{"learning_rate": LR}] * members), arrays)
  t = time.perf_counter()
  for _ in range(epochs // chunk):
    state, hist = fn(state, arrays)
  jax.block_until_ready(hist)
  return (time.perf_counter() - t) / epochs / members, compile_s


def jax_step_loop(arrays, model, epochs):
  """A jitted step called from Python per minibatch: the usual JAX training loop."""
  import optax
  tx = optax.adam(LR)
  x, y = arrays["x_train"], arrays["y_train"]
  params = model.init(jax.random.key(0), x[:1])
  opt = tx.init(params)

  @jax.jit
  def step(params, opt, xb, yb):
    loss, g = jax.value_and_grad(lambda p: train.cross_entropy(model.apply(p, xb), yb).mean())(params)
    upd, opt = tx.update(g, opt, params)
    return optax.apply_updates(params, upd), opt, loss
  steps = len(y) // BATCH
  key = jax.random.key(1)
  times = []
  for e in range(epochs + 1):  # the first epoch compiles and warms up
    perm = np.asarray(jax.random.permutation(jax.random.fold_in(key, e), len(y)))
    t = time.perf_counter()
    for i in range(steps):
      idx = perm[i * BATCH:(i + 1) * BATCH]
      params, opt, loss = step(params, opt, x[idx], y[idx])
    loss.block_until_ready()
    times.append(time.perf_counter() - t)
  return float(np.mean(times[1:]))


def torch_eager(x_np, y_np, epochs, widths=WIDTHS, num_classes=10):
  """The reference: a plain PyTorch eager loop of the same model on the same data."""
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
  times = []
  for _ in range(epochs + 1):  # the first epoch warms up
    perm = torch.randperm(len(y))
    t = time.perf_counter()
    for i in range(steps):
      idx = perm[i * BATCH:(i + 1) * BATCH]
      opt.zero_grad()
      loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
      loss.backward()
      opt.step()
    times.append(time.perf_counter() - t)
  return float(np.mean(times[1:]))


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--epochs", type=int, default=3)
  p.add_argument("--sizes", default="", help="model counts for the scaling table, e.g. 1,8,64")
  p.add_argument("--quick", action="store_true", help="fewer epochs and sizes (a smoke test)")
  args = p.parse_args(argv)
  setup_jax()
  gpu = jax.default_backend() != "cpu"
  sizes = [int(s) for s in args.sizes.split(",") if s] or ([1, 8, 64, 512] if gpu else [1, 8, 64])
  epochs = 1 if args.quick else args.epochs
  if args.quick:
    sizes = sizes[:2]
  ds = data.load("fashion_mnist")
  arrays = jax.device_put(ds.arrays())
  model = reference_model(ds.num_classes)
  flops_epoch = train_flops_per_epoch(model, ds.shape, len(ds.y_train))
  env = results.environment()
  print(f"# make bench: {env['devices']}, {env['cpu_count']} CPU cores, jax {env['jax']}")
  peak = matmul_peak()
  print(f"fp32 matmul peak: {peak:.0f} GFLOP/s; one epoch of the reference MLP: {flops_epoch / 1e9:.0f} GFLOP")

  rows = {}
  rows["torch eager"] = torch_eager(ds.x_train, ds.y_train, epochs)
  rows["jax step loop"] = jax_step_loop(arrays, model, epochs)
  single, compile_1 = engine(arrays, model, 1, epochs)
  rows["engine, 1 run"] = single
  chunked, _ = engine(arrays, model, 1, epochs, chunk=1)
  scaling = {}
  for m in sizes:
    s, c = engine(arrays, model, m, 1 if m >= 64 else epochs)
    scaling[m] = (s, c)
    if m > 1:
      rows[f"engine, {m} runs vmapped"] = s
  ref = rows["torch eager"]
  table = [["torch eager" if ref else "torch eager (torch not installed)", "", "", ""]]
  lines = []
  for name, s in rows.items():
    if s is None:
      continue
    ratio = f"{ref / s:.2f}x" if ref else "n/a"
    util = flops_epoch / s / 1e9
    lines.append([name, f"{s:.3f}", ratio, f"{util:.0f} GFLOP/s ({100 * util / peak:.0f}% of peak)"])
  table = lines
  out = results.markdown_table(["training loop", "s / epoch / model", "speed-up vs torch eager", "achieved"],
                               table, f"**Reference MLP 784-256-256-10, Adam, batch 128, Fashion-MNIST, "
                               f"{env['devices']}, {env['cpu_count']} cores.** Mean over {epochs} epochs "
                               "after a warm-up; compile time excluded.")
  overhead = chunked / single - 1
  out += (f"\nChunking the run into one call per epoch (progress bar, checkpoints): {chunked:.3f} vs "
          f"{single:.3f} s/epoch, overhead {100 * overhead:+.1f}%. Compile of the 1-run program: {compile_1:.1f} s.\n")
  out += "\n" + results.markdown_table(
      ["models vmapped", "s / epoch / model", "vs 1 model", "vs torch eager", "compile s", "% of matmul peak"],
      [[m, f"{s:.4f}", f"{scaling[1][0] / s:.2f}x" if 1 in scaling else "", f"{ref / s:.1f}x" if ref else "n/a",
        f"{c:.1f}", f"{100 * flops_epoch / s / 1e9 / peak:.0f}%"] for m, (s, c) in scaling.items()],
      "**Scaling with the number of models in one vmapped program.**")
  print(out)
  doc = dict(environment=env, peak_gflops=peak, flops_per_epoch=flops_epoch, epochs=epochs,
             seconds_per_epoch_per_model=rows, chunk_overhead=overhead, chunked=chunked,
             compile_s=compile_1, scaling={str(k): dict(s_per_model_epoch=v[0], compile_s=v[1])
                                            for k, v in scaling.items()},
             date=time.strftime("%Y-%m-%d"))
  outdir = paths.results_dir() / "bench"
  results.write_json(outdir / "bench.json", doc)
  results.write_atomic(outdir / "table.md", out)
  if ref:
    target = 1.3 if not gpu else 300
    best = min(s for k, s in rows.items() if k.startswith("engine") and s)
    verdict = "meets" if ref / best >= target else "MISSES"
    print(f"target: engine >= {target}x torch eager per model on this device: {ref / best:.2f}x, {verdict} it")
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
