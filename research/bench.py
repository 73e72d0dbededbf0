"""`make bench`: the engine against a plain PyTorch eager loop, in the same run.

Reference model: MLP 784-256-256-10, Adam 1e-3, batch 128, Fashion-MNIST.
Prints seconds per epoch per model for
  torch eager       a plain PyTorch training loop (the reference)
  jax step loop     one jitted step called from Python per minibatch
  engine, 1 run     the whole run compiled as one program (lax.scan)
  engine, M runs    M seeds vmapped into one program, per model
and their ratios to the reference, the engine's achieved FLOP/s against this
machine's measured fp32 matmul peak, the cost of chunking a run into one call
per epoch, and how time grows with the number of models, depth,
width and training-set size. Writes results/bench/{bench.json,table.md}.

  python -m research.bench [--epochs 3] [--sizes 1,8,64] [--quick]
"""
import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from research import data, models, paths, results, runtime, stats, train

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
  return models.mlp_widths(num_classes, widths)


def train_flops_per_epoch(model, shape, n):
  """Forward + backward ~ 3x the forward FLOPs, over the examples of one epoch."""
  return 3 * models.flops_per_example(model, shape) * (n // BATCH) * BATCH


def engine_program(arrays, model, members, chunk):
  """Compiles `members` vmapped runs, `chunk` epochs per call; returns (run, compile seconds).

  run(epochs) trains fresh runs for `epochs` epochs and returns (seconds per model-epoch,
  final test accuracies)."""
  trainer = train.make_trainer(model, "adam", BATCH)
  v = train.vmapped(trainer)
  init = jax.jit(v.init)
  step = jax.jit(v.train, static_argnums=2, donate_argnums=0)
  fresh = lambda: init(train.keys(range(members)), train.stack([{"learning_rate": LR}] * members), arrays)
  state = fresh()
  t = time.perf_counter()
  fn = step.lower(state, arrays, chunk).compile()
  compile_s = time.perf_counter() - t

  def run(epochs):
    state = jax.block_until_ready(fresh())
    t = time.perf_counter()
    for _ in range(max(1, epochs // chunk)):
      state, hist = fn(state, arrays)
    jax.block_until_ready(hist)
    return (time.perf_counter() - t) / (max(1, epochs // chunk) * chunk) / members, np.asarray(hist.test_acc[:, -1])
  return run, compile_s


def engine(arrays, model, members, epochs, chunk=None, warmup=True):
  """(seconds per model-epoch, compile seconds, final test accuracies) of `members` vmapped runs."""
  run, compile_s = engine_program(arrays, model, members, chunk or epochs)
  if warmup:  # first touch of the buffers
    run(chunk or epochs)
  s, acc = run(epochs)
  return s, compile_s, acc


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
  """Median seconds of each loop over `rounds` rounds that take turns, after one warm-up round.

  Taking turns puts a slow spell of a shared machine into every loop's samples alike, so the
  ratios stay honest where back-to-back timings would not (measured here: +-13% on one loop)."""
  times = {name: [] for name in loops}
  for r in range(rounds + 1):
    for name, f in loops.items():
      s = f()
      if r:
        times[name].append(s)
  return {name: float(np.median(ts)) for name, ts in times.items()}, times


def headline(arrays, ds, model, epochs, members, flops_epoch, peak, rounds=3):
  torch_epoch = torch_eager(ds.x_train, ds.y_train)
  jax_epoch = jax_step_loop(arrays, model)
  whole, compile_1 = engine_program(arrays, model, 1, epochs)
  chunked, _ = engine_program(arrays, model, 1, 1)
  vmapped, _ = engine_program(arrays, model, members, epochs)
  per_epoch = lambda epoch: lambda: sum(epoch() for _ in range(epochs)) / epochs
  loops = {"torch eager": per_epoch(torch_epoch) if torch_epoch else None,
           "jax step loop": per_epoch(jax_epoch),
           "engine, 1 run": lambda: whole(epochs)[0],
           "engine, 1 run, one call per epoch": lambda: chunked(epochs)[0],
           f"engine, {members} runs vmapped": lambda: vmapped(epochs)[0]}
  med, samples = interleaved({k: f for k, f in loops.items() if f}, rounds)
  rows = {k: med.get(k) for k in loops}
  ref = rows["torch eager"]
  table = [[name, f"{s:.3f}", f"{ref / s:.2f}x" if ref else "n/a (pip install -e '.[bench]')",
            f"{flops_epoch / s / 1e9:.0f} GFLOP/s ({100 * flops_epoch / s / 1e9 / peak:.0f}% of peak)"]
           for name, s in rows.items() if s is not None]
  out = results.markdown_table(
      ["training loop", "s / epoch / model", "speed-up vs torch eager", "achieved"], table,
      f"**Reference MLP 784-256-256-10, Adam 1e-3, batch 128, Fashion-MNIST (60k).** Median of {rounds} "
      f"rounds of {epochs} epochs each, the loops taking turns in every round, after a warm-up round; "
      "compile time excluded.")
  single = rows["engine, 1 run"]
  overhead = rows["engine, 1 run, one call per epoch"] / single - 1
  spread = [b / a - 1 for a, b in zip(samples["engine, 1 run"], samples["engine, 1 run, one call per epoch"])]
  out += (f"\nOne call per epoch (what progress bars and checkpoints use) against one call for all {epochs}: "
          f"overhead {100 * overhead:+.1f}% (per round: {', '.join(f'{100 * x:+.1f}%' for x in spread)}). "
          f"Compile of the 1-run program: {compile_1:.1f} s.\n")
  return out, dict(seconds_per_epoch_per_model=rows, samples=samples, chunk_overhead=overhead,
                   compile_s=compile_1, rounds=rounds)


def scaling(arrays, model, sizes, epochs, flops_epoch, peak, ref):
  rows, doc = [], {}
  for m in sizes:
    s, c, _ = engine(arrays, model, m, 1 if m >= 64 else epochs, warmup=m < 64)
    doc[m] = dict(s_per_model_epoch=s, compile_s=c)
    rows.append([m, f"{s:.4f}", f"{doc[sizes[0]]['s_per_model_epoch'] / s:.2f}x",
                 f"{ref / s:.1f}x" if ref else "n/a", f"{c:.1f}", f"{100 * flops_epoch / s / 1e9 / peak:.0f}%"])
  return results.markdown_table(
      ["models vmapped", "s / epoch / model", "vs 1 model", "vs torch eager", "compile s", "% of matmul peak"],
      rows, "**Scaling with the number of models in one vmapped program** (reference MLP, full data).") + "\n", doc


def cost_growth(ds, epochs):
  """Time per epoch of one model against depth, width and n_train, beside the FLOPs ratio."""
  cases = ([("depth", d, (256,) * d, 0) for d in (1, 2, 4, 8)] +
           [("width", w, (w, w), 0) for w in (64, 256, 1024)] +
           [("n_train", n, (256, 256), n) for n in (7500, 15000, 30000, 60000)])
  base = None
  rows, doc = [], []
  arrays_by_n = {}
  for axis, value, widths, n in cases:
    if n not in arrays_by_n:
      arrays_by_n[n] = jax.device_put(data.prepare("fashion_mnist", data.load_raw("fashion_mnist"),
                                                   n_train=n if n < 60000 else 0).arrays())
    model = models.mlp_widths(10, widths)
    flops = train_flops_per_epoch(model, ds.shape, len(arrays_by_n[n]["y_train"]))
    s, c, _ = engine(arrays_by_n[n], model, 1, epochs)
    base = base or (s, flops)
    rows.append([axis, value, "x".join(map(str, widths)), f"{flops / 1e9:.1f}", f"{s:.3f}",
                 f"{flops / base[1]:.2f}", f"{s / base[0]:.2f}", f"{flops / s / 1e9:.0f}"])
    doc.append(dict(axis=axis, value=value, widths=list(widths), gflops_per_epoch=flops / 1e9, s_per_epoch=s))
  return results.markdown_table(
      ["grows", "value", "hidden", "GFLOP / epoch", "s / epoch", "FLOPs ratio", "time ratio", "GFLOP/s"], rows,
      "**Cost growth: one model, time per epoch against depth, width and n_train** (ratios to the first "
      "row; linear in FLOPs means the two ratio columns agree).") + "\n", doc


def precision(arrays, model, epochs, members=3):
  rows, doc = [], {}
  for p in ("fp32", "bf16"):
    s, c, acc = engine(arrays, models.with_precision(model, p), members, epochs)
    doc[p] = dict(s_per_model_epoch=s, test_acc=acc.tolist())
    rows.append([p, stats.mean_sd_text(acc.tolist()), f"{s:.3f}", f"{doc['fp32']['s_per_model_epoch'] / s:.2f}x"])
  return results.markdown_table(
      ["matrix math", "test acc (%)", "s / epoch / model", "speed-up"], rows,
      f"**Mixed precision** (reference MLP, {epochs} epochs, mean ± std over {members} seeds; "
      "fp32 master weights and loss either way).") + "\n", doc


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--epochs", type=int, default=3)
  p.add_argument("--sizes", default="", help="model counts for the scaling table, e.g. 1,8,64")
  p.add_argument("--quick", action="store_true", help="one epoch, fewer sizes, no cost-growth table")
  args = p.parse_args(argv)
  runtime.setup_jax()
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
  peak = matmul_peak()
  out = (f"# make bench, {time.strftime('%Y-%m-%d')}: {env['devices']}, {env['cpu_count']} CPU cores, "
         f"jax {env['jax']}\n\nfp32 matmul peak measured: {peak:.0f} GFLOP/s; one epoch of the reference "
         f"MLP: {flops_epoch / 1e9:.0f} GFLOP (forward + backward).\n\n")
  print(out, end="", flush=True)
  head, head_doc = headline(arrays, ds, model, epochs, 64 if gpu else 8, flops_epoch, peak)
  print(head, flush=True)
  ref = head_doc["seconds_per_epoch_per_model"]["torch eager"]
  scale, scale_doc = scaling(arrays, model, sizes, epochs, flops_epoch, peak, ref)
  print(scale, flush=True)
  growth, growth_doc = ("", []) if args.quick else cost_growth(ds, max(1, epochs - 1))
  print(growth, flush=True)
  prec, prec_doc = precision(arrays, model, epochs)
  print(prec, flush=True)
  verdict = ""
  if ref:
    speed = lambda s: ref / s
    single = head_doc["seconds_per_epoch_per_model"]["engine, 1 run"]
    if gpu:  # the targets of one H200
      checks = [("one compiled run", speed(single), 20)]
      checks += [(f"{m} models vmapped", speed(scale_doc[m]["s_per_model_epoch"]), t)
                 for m, t in ((64, 300), (512, 500)) if m in scale_doc]
    else:
      best = min(s for k, s in head_doc["seconds_per_epoch_per_model"].items() if k.startswith("engine") and s)
      checks = [("the engine's best layout", speed(best), 1.3)]
    verdict = "".join(f"Target: {name} >= {t}x faster per model than torch eager: measured {x:.2f}x, "
                      f"{'met' if x >= t else 'NOT met'}.\n" for name, x, t in checks)
    print(verdict)
  doc = dict(environment=env, date=time.strftime("%Y-%m-%d"), peak_gflops=peak, flops_per_epoch=flops_epoch,
             epochs=epochs, headline=head_doc, scaling={str(k): v for k, v in scale_doc.items()},
             cost_growth=growth_doc, precision=prec_doc)
  outdir = paths.results_dir() / "bench" / ("gpu" if gpu else "cpu")
  results.write_json(outdir / "bench.json", doc)
  results.write_atomic(outdir / "table.md", out + head + "\n" + scale + "\n" + growth + "\n" + prec + "\n" + verdict)
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
