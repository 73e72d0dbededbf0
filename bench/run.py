"""`make bench`: the engine against a plain PyTorch eager loop, in the same run.

Reference model: MLP 784-256-256-10, Adam 1e-3, batch 128, Fashion-MNIST. Every table takes
turns in rounds (each loop or case once per round, after a warm-up round) and reports medians
with their spread, so that a slow spell of a shared machine falls on every row alike:

  headline     torch eager, a jitted JAX step loop, the engine (one run; one call per epoch;
               8 or 64 members in each layout)
  layouts      per-model time of `vmap` and `map` members over model sizes: the measurements
               behind train.choose_layout's rule
  scaling      1 / 8 / 64 (/ 512 on a GPU) members in each layout
  cost growth  one model against depth, width and n_train, beside the FLOPs ratio
  precision    fp32 and bf16 matrix math
  step parts   a step's matrix products alone, its forward and backward pass, the whole step:
               the ceiling of GFLOP/s at the experiments' batch size
  XLA settings the one-run engine under XLA CPU flags (threads, XNNPACK, oneDNN, fast math), a
               fresh process each

FLOPs are XLA's own count of a training step and of an evaluated example (train.Cost), the
peak the best of large fp32 matmuls in the same process. Writes results/bench/{cpu,gpu}/.

  python -m bench [--epochs 2] [--rounds 3] [--quick]
"""
import argparse
import os
import time

import jax
import numpy as np

from research import data, models
from research.system import paths, results
from research.engine import runtime, train
from research.report import stats

BATCH, LR, WIDTHS = 128, 1e-3, (256, 256)
# (depth, width) of the MLPs the layout table compares: narrow to wide, shallow to deep.
LAYOUT_SHAPES = ((2, 16), (2, 64), (2, 256), (8, 256), (2, 512), (2, 1024))


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


def headline(arrays, ds, model, epochs, members, flops, peak, rounds):
  torch_epoch = torch_eager(ds.x_train, ds.y_train)
  jax_epoch = jax_step_loop(arrays, model)
  whole, compile_1 = engine_program(arrays, model, 1, epochs)
  chunked, _ = engine_program(arrays, model, 1, 1)
  per_epoch = lambda epoch: lambda: sum(epoch() for _ in range(epochs)) / epochs
  loops = {"torch eager": per_epoch(torch_epoch) if torch_epoch else None,
           "jax step loop": per_epoch(jax_epoch),
           "engine, 1 run": lambda: whole(epochs)[0],
           "engine, 1 run, one call per epoch": lambda: chunked(epochs)[0]}
  for layout in train.LAYOUTS:
    run, _ = engine_program(arrays, model, members, epochs, layout)
    loops[f"engine, {members} runs, {layout}"] = lambda run=run: run(epochs)[0]
  samples = interleaved({k: f for k, f in loops.items() if f}, rounds)
  med = {k: median(v) for k, v in samples.items()}
  ref = med.get("torch eager")
  engine_flops, train_flops = flops
  rows = []
  for name, s in med.items():
    f = engine_flops if name.startswith("engine") else train_flops
    rows.append([name, f"{s:.3f}", spread(samples[name]), f"{ref / s:.2f}x" if ref else "n/a (pip install -e '.[bench]')",
                 f"{f / s / 1e9:.0f} GFLOP/s ({100 * f / s / 1e9 / peak:.0f}% of peak)"])
  out = results.markdown_table(
      ["training loop", "s / epoch / model", "spread", "speed-up vs torch eager", "achieved"], rows,
      f"**Reference MLP 784-256-256-10, Adam 1e-3, batch 128, Fashion-MNIST (60k).** Median of {rounds} "
      f"rounds of {epochs} epochs each (spread: lowest and highest round), the loops taking turns in every "
      "round, after a warm-up round; compile time excluded. Achieved: XLA's FLOP count of the training steps "
      "over the time (no loop evaluates during the epochs timed here).")
  overhead = med["engine, 1 run, one call per epoch"] / med["engine, 1 run"] - 1
  out += (f"\nOne call per epoch (what progress bars and checkpoints use) against one call for all {epochs}: "
          f"overhead {100 * overhead:+.1f}%. Compile of the 1-run program: {compile_1:.1f} s.\n")
  return out, dict(seconds_per_epoch_per_model=med, samples=samples, chunk_overhead=overhead,
                   compile_s=compile_1, rounds=rounds)


def layouts(arrays, shapes, members, rounds):
  """vmap vs map per model over MLP shapes (depth, width): where the rule switches."""
  loops, costs = {}, {}
  for depth, w in shapes:
    model = models.mlp(10, depth=depth, width=w)
    costs[depth, w] = train.make_trainer(model, "adam", BATCH).cost(arrays)
    for layout in train.LAYOUTS:
      run, _ = engine_program(arrays, model, members, 1, layout)
      loops[depth, w, layout] = lambda run=run: run(1)[0]
  samples = interleaved(loops, rounds)
  rows, doc = [], []
  for depth, w in shapes:
    v, m = median(samples[depth, w, "vmap"]), median(samples[depth, w, "map"])
    faster = "map" if m < v else "vmap"
    rule = train.choose_layout(costs[depth, w], "cpu")
    stopping = train.choose_layout(costs[depth, w], "cpu", patience=1)
    rows.append([f"{depth} x {w}", f"{costs[depth, w].step_flops / 1e6:.0f}", f"{v:.4f}", f"{m:.4f}", f"{v / m:.2f}",
                 faster, rule, stopping])
    doc.append(dict(depth=depth, width=w, step_mflops=costs[depth, w].step_flops / 1e6, vmap=v, map=m,
                    faster=faster, rule=rule, rule_with_stopping=stopping))
  out = results.markdown_table(
      ["hidden", "MFLOP / step / member", "vmap s / epoch / model", "map s / epoch / model", "vmap / map",
       "faster", "rule picks", "with a stopping rule"], rows,
      f"**Member layouts** ({members} members, MLPs on 784 inputs, full data, median of {rounds} interleaved "
      f"rounds of one epoch, every member training). The rule (research/engine/train.py): on CPU map once a weight "
      f"matrix has {train.CPU_MAP_MIN_WEIGHT:,} entries, vmap below; with a stopping rule from "
      f"{train.CPU_MAP_MIN_WEIGHT_STOPPING:,}, since map skips a stopped member's epochs and vmap runs them; "
      "vmap on accelerators.") + "\n"
  return out, doc


def scaling(arrays, model, sizes, epochs, flops, peak, ref, rounds):
  loops = {}
  for m in sizes:
    for layout in train.LAYOUTS if m > 1 else ("vmap",):
      ep = 1 if m >= 64 else epochs
      run, c = engine_program(arrays, model, m, ep, layout)
      loops[m, layout] = (lambda run=run, ep=ep: run(ep)[0], c)
  samples = interleaved({k: f for k, (f, _) in loops.items()}, rounds)
  one = median(samples[1, "vmap"])
  rows, doc = [], {}
  for (m, layout), (_, c) in loops.items():
    s = median(samples[m, layout])
    doc[f"{m}-{layout}"] = dict(members=m, layout=layout, s_per_model_epoch=s, compile_s=c, samples=samples[m, layout])
    rows.append([m, layout if m > 1 else "(one run)", f"{s:.4f}", spread(samples[m, layout]), f"{s / one:.2f}x",
                 f"{ref / s:.1f}x" if ref else "n/a", f"{c:.1f}", f"{100 * flops / s / 1e9 / peak:.0f}%"])
  return results.markdown_table(
      ["members", "layout", "s / epoch / model", "spread", "vs 1 run", "vs torch eager", "compile s", "% of peak"],
      rows, f"**Scaling with the number of members in one program** (reference MLP, full data; median of {rounds} "
      "interleaved rounds; 64 members and more train one epoch a round).") + "\n", doc


def cost_growth(ds, epochs, rounds):
  """Time per epoch of one model against depth, width and n_train, beside the FLOPs ratio."""
  cases = ([("depth", d, (256,) * d, 0) for d in (1, 2, 4, 8)] +
           [("width", w, (w, w), 0) for w in (64, 256, 1024)] +
           [("n_train", n, (256, 256), n) for n in (7500, 15000, 30000, 60000)])
  arrays_by_n, loops, flops = {}, {}, {}
  for axis, value, widths, n in cases:
    if n not in arrays_by_n:
      arrays_by_n[n] = jax.device_put(data.prepare("fashion_mnist", data.load_raw("fashion_mnist"),
                                                   n_train=n if n < 60000 else 0).arrays())
    model = models.mlp_widths(10, widths)
    flops[axis, value] = engine_flops_per_epoch(train.make_trainer(model, "adam", BATCH), arrays_by_n[n])
    run, _ = engine_program(arrays_by_n[n], model, 1, epochs)
    loops[axis, value] = lambda run=run: run(epochs)[0]
  samples = interleaved(loops, rounds)
  base = None
  rows, doc = [], []
  for axis, value, widths, n in cases:
    s, f = median(samples[axis, value]), flops[axis, value]
    base = base or (s, f)
    rows.append([axis, value, "x".join(map(str, widths)), f"{f / 1e9:.1f}", f"{s:.3f}", spread(samples[axis, value]),
                 f"{f / base[1]:.2f}", f"{s / base[0]:.2f}", f"{f / s / 1e9:.0f}"])
    doc.append(dict(axis=axis, value=value, widths=list(widths), gflops_per_epoch=f / 1e9, s_per_epoch=s))
  return results.markdown_table(
      ["grows", "value", "hidden", "GFLOP / epoch", "s / epoch", "spread", "FLOPs ratio", "time ratio", "GFLOP/s"],
      rows, f"**Cost growth: one model, time per epoch against depth, width and n_train** (ratios to the first "
      f"row; linear in FLOPs means the two ratio columns agree; median of {rounds} interleaved rounds).") + "\n", doc


def _epoch_of(step_fn, state, x_NxD, steps):
  """A jitted epoch of `steps` calls of step_fn(state, x_BxD) on consecutive minibatches, and
  XLA's FLOP count of one call. The state threads through every step so nothing is hoisted."""
  def epoch(state):
    def body(i, state):
      return step_fn(state, jax.lax.dynamic_slice_in_dim(x_NxD, i * BATCH, BATCH))
    return jax.lax.fori_loop(0, steps, body, state)
  flops = train.xla_flops(jax.jit(step_fn).lower(state, x_NxD[:BATCH]))
  return jax.jit(epoch), flops


def step_parts(arrays, model, rounds, peak):
  """Where a training step's time goes at the experiments' shapes (batch 128): its matrix products
  alone, the forward and backward pass, and the whole Adam step; each as GFLOP/s and share of the
  peak. The matrix products at these sizes bound what any step of this model can reach."""
  import jax.numpy as jnp
  import optax
  x_NxD = arrays["x_train"].reshape(len(arrays["y_train"]), -1)
  y_N = arrays["y_train"]
  steps = len(y_N) // BATCH
  params = model.init(jax.random.key(0), arrays["x_train"][:1])
  ws = [a for a in jax.tree.leaves(params) if a.ndim == 2]
  tx = optax.adam(LR)

  def matmuls(ws, x_BxD):
    # The products of one step with their shapes: forward h @ W, backward h.T @ dh for every
    # layer and dh @ W.T for all but the first (no gradient for the input). Each product feeds
    # the next state, as in training, so the compiler can drop or fold none of them.
    acts, h = [], x_BxD
    for w in ws:
      acts.append(h)
      h = h @ w
    dh, new = h, list(ws)
    for i in reversed(range(len(ws))):
      new[i] = ws[i] - 1e-9 * (acts[i].T @ dh)
      if i:
        dh = dh @ ws[i].T
    return new

  def forward_backward(carry, x_BxD):
    y_B = y_N[:BATCH]
    loss, grads = jax.value_and_grad(lambda p: train.cross_entropy(model.apply(p, x_BxD + carry[0]), y_B).mean())(params)
    return carry.at[0].add(1e-30 * (loss + sum(jnp.sum(g) for g in jax.tree.leaves(grads))))

  def adam_step(state, x_BxD):
    params, opt = state
    y_B = y_N[:BATCH]
    grads = jax.grad(lambda p: train.cross_entropy(model.apply(p, x_BxD), y_B).mean())(params)
    updates, opt = tx.update(grads, opt, params)
    return optax.apply_updates(params, updates), opt

  zero = jnp.zeros((1, x_NxD.shape[1]), jnp.float32)
  cases = {"matrix products only": (matmuls, ws), "forward and backward": (forward_backward, zero),
           "whole step (Adam update)": (adam_step, (params, tx.init(params)))}
  loops, flops = {}, {}
  for name, (fn, state) in cases.items():
    epoch, flops[name] = _epoch_of(fn, state, x_NxD, steps)
    jax.block_until_ready(epoch(state))

    def timed(epoch=epoch, state=state):
      t = time.perf_counter()
      jax.block_until_ready(epoch(state))
      return time.perf_counter() - t
    loops[name] = timed
  samples = interleaved(loops, rounds)
  rows, doc = [], {}
  for name in cases:
    s = median(samples[name])
    rate = flops[name] * steps / s / 1e9
    doc[name] = dict(s_per_epoch=s, gflop_per_step=flops[name] / 1e9, gflops=rate, share_of_peak=rate / peak)
    rows.append([name, f"{flops[name] / 1e6:.1f}", f"{s:.3f}", spread(samples[name]), f"{rate:.0f}",
                 f"{100 * rate / peak:.0f}%"])
  return results.markdown_table(
      ["part of a step", "MFLOP / step", "s / epoch", "spread", "GFLOP/s", "% of peak"], rows,
      f"**Where a step's time goes** (reference MLP, batch {BATCH}, one epoch of {steps} steps in one compiled "
      f"loop, no shuffling; median of {rounds} interleaved rounds). The first row is the ceiling of any step "
      "of this model at this batch size: the matrix products alone at their shapes.") + "\n", doc


# XLA CPU settings that could change a step's speed, each in a fresh process (XLA reads its flags
# once, at start): matmuls on one thread, XNNPACK's or oneDNN's kernels for the matrix products,
# fast math.
XLA_SETTINGS = {"default": "",
                "one thread per matmul": "--xla_cpu_multi_thread_eigen=false",
                "XNNPACK matmuls": "--xla_cpu_experimental_xnn_fusion_type=dot",
                "oneDNN matmuls": "--xla_cpu_experimental_onednn_fusion_type=dot",
                "fast math": "--xla_cpu_enable_fast_math=true"}


def one_process_epoch(epochs):
  """Run in a child process by `xla_settings`: the engine's one-run program of the reference MLP,
  a warm-up run of `epochs` epochs, then seconds per epoch over a second such run and the accuracy
  it reached."""
  import json
  runtime.setup_jax()
  ds = data.load("fashion_mnist")
  arrays = jax.device_put(ds.arrays())
  run, _ = engine_program(arrays, reference_model(ds.num_classes), 1, epochs)
  run(epochs)
  s, acc = run(epochs)
  print(json.dumps(dict(s=s, test_acc=float(acc[0]))))


def xla_settings(epochs, rounds, settings=XLA_SETTINGS):
  """Seconds per epoch of the one-run engine under each XLA CPU setting, a fresh process each,
  taking turns in rounds."""
  import json
  import subprocess
  import sys

  def loop(flags):
    def once():
      env = dict(os.environ, XLA_FLAGS=(os.environ.get("XLA_FLAGS", "") + " " + flags).strip())
      out = subprocess.run([sys.executable, "-m", "bench", "--one-process-epoch", str(epochs)], env=env,
                           check=True, capture_output=True, text=True).stdout
      found = json.loads(out.strip().splitlines()[-1])
      accs.setdefault(flags, found["test_acc"])
      return found["s"]
    return once
  accs = {}
  samples = interleaved({name: loop(flags) for name, flags in settings.items()}, rounds)
  base = median(samples["default"])
  rows, doc = [], {}
  for name, flags in settings.items():
    s = median(samples[name])
    doc[name] = dict(flags=flags, s_per_epoch=s, samples=samples[name], test_acc=accs[flags])
    rows.append([name, f"`{flags}`" if flags else "", f"{s:.3f}", spread(samples[name]), f"{base / s:.2f}x",
                 f"{100 * accs[flags]:.1f}"])
  return results.markdown_table(
      ["XLA CPU setting", "XLA_FLAGS", "s / epoch", "spread", "speed-up", "test acc after the epochs (%)"], rows,
      f"**XLA CPU settings** (engine, one run of the reference MLP, a fresh process per setting and round, "
      f"{epochs} epochs timed after a warm-up run of as many; median of {rounds} interleaved rounds).") + "\n", doc


def precision(arrays, model, epochs, rounds, members=3):
  runs = {p: engine_program(arrays, models.with_precision(model, p), members, epochs)[0] for p in ("fp32", "bf16")}
  accs = {}

  def timed(p):
    s, acc = runs[p](epochs)
    accs[p] = acc
    return s
  samples = interleaved({p: (lambda p=p: timed(p)) for p in runs}, rounds)
  rows, doc = [], {}
  for p in runs:
    s = median(samples[p])
    doc[p] = dict(s_per_model_epoch=s, test_acc=accs[p].tolist())
    rows.append([p, stats.mean_sd_text(accs[p].tolist()), f"{s:.3f}", spread(samples[p]),
                 f"{doc['fp32']['s_per_model_epoch'] / s:.2f}x"])
  return results.markdown_table(
      ["matrix math", "test acc (%)", "s / epoch / model", "spread", "speed-up"], rows,
      f"**Mixed precision** (reference MLP, {epochs} epochs, mean ± std over {members} seeds; fp32 master "
      f"weights and loss either way; median of {rounds} interleaved rounds).") + "\n", doc


def checks(gpu, head, scale, ref, engine_flops, peak, members):
  """(what, measured, target, met) for the machine's targets."""
  med = head["seconds_per_epoch_per_model"]
  single = med["engine, 1 run"]
  speed = lambda s: ref / s
  out = []
  if gpu:
    out.append(("one compiled run vs torch eager", speed(single), ">= 20x", speed(single) >= 20))
    for m, target in ((64, 300), (512, 500)):
      if f"{m}-vmap" in scale:
        x = speed(scale[f"{m}-vmap"]["s_per_model_epoch"])
        out.append((f"{m} members vmapped vs torch eager", x, f">= {target}x", x >= target))
    return out
  out.append(("one compiled run vs torch eager", speed(single), ">= 2x", speed(single) >= 2))
  rule = train.choose_layout(train.make_trainer(reference_model(), "adam", BATCH).cost(head["arrays"]))
  cell = med[f"engine, {members} runs, {rule}"]
  out.append((f"{members}-member cell ({rule}, the rule's layout) per model vs one run", cell / single, "<= 1.05x",
              cell / single <= 1.05))
  best = engine_flops / min(s for k, s in med.items() if k.startswith("engine")) / 1e9
  out.append(("the engine's best GFLOP/s vs the measured peak", best / peak, "<= 1", best <= peak))
  one = scale["1-vmap"]["s_per_model_epoch"]
  out.append(("scaling table's 1-member row vs the headline's one run", one / single, "within 10%",
              abs(one / single - 1) <= 0.10))
  return out


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--epochs", type=int, default=2)
  p.add_argument("--rounds", type=int, default=3)
  p.add_argument("--sizes", default="", help="member counts for the scaling table, e.g. 1,8,64")
  p.add_argument("--quick", action="store_true", help="one epoch, two rounds, fewer sizes, no cost growth")
  p.add_argument("--one-process-epoch", type=int, default=0, help=argparse.SUPPRESS)
  args = p.parse_args(argv)
  if args.one_process_epoch:
    return one_process_epoch(args.one_process_epoch) or 0
  runtime.setup_jax()
  gpu = jax.default_backend() != "cpu"
  sizes = [int(s) for s in args.sizes.split(",") if s] or ([1, 8, 64, 512] if gpu else [1, 8, 64])
  epochs, rounds = (1, 2) if args.quick else (args.epochs, args.rounds)
  if args.quick:
    sizes = sizes[:2]
  ds = data.load("fashion_mnist")
  arrays = jax.device_put(ds.arrays())
  model = reference_model(ds.num_classes)
  trainer = train.make_trainer(model, "adam", BATCH)
  engine_flops = engine_flops_per_epoch(trainer, arrays)
  train_flops = trainer.cost(arrays).epoch_flops(len(ds.y_train), BATCH, 0)
  env = results.environment()
  peak = runtime.matmul_peak_gflops()
  out = (f"# make bench, {time.strftime('%Y-%m-%d')}: {env['devices']}, {env['cpu_count']} CPU cores, "
         f"jax {env['jax']}\n\nfp32 matmul peak measured (best of 1024-3072 square matmuls): {peak:.0f} GFLOP/s; "
         f"one epoch of the reference MLP: {train_flops / 1e9:.0f} GFLOP of training steps (XLA's count; "
         f"{engine_flops / 1e9:.0f} with the engine's per-epoch validation, none here).\n\n")
  print(out, end="", flush=True)
  members = 64 if gpu else 8
  head, head_doc = headline(arrays, ds, model, epochs, members, (engine_flops, train_flops), peak, rounds)
  print(head, flush=True)
  ref = head_doc["seconds_per_epoch_per_model"].get("torch eager")
  lay, lay_doc = ("", []) if args.quick else layouts(arrays, LAYOUT_SHAPES, 8, rounds)
  print(lay, flush=True)
  scale, scale_doc = scaling(arrays, model, sizes, epochs, engine_flops, peak, ref, rounds)
  print(scale, flush=True)
  growth, growth_doc = ("", []) if args.quick else cost_growth(ds, epochs, rounds)
  print(growth, flush=True)
  prec, prec_doc = precision(arrays, model, epochs, rounds)
  print(prec, flush=True)
  parts, parts_doc = step_parts(arrays, model, rounds, peak)
  print(parts, flush=True)
  flags, flags_doc = ("", {}) if args.quick or gpu else xla_settings(epochs, rounds)
  print(flags, flush=True)
  verdict = ""
  if ref:
    found = checks(gpu, dict(head_doc, arrays=arrays), scale_doc, ref, engine_flops, peak, members)
    verdict = "".join(f"Target: {what} {target}: measured {x:.2f}, {'met' if ok else 'NOT met'}.\n"
                      for what, x, target, ok in found)
    print(verdict)
  doc = dict(environment=env, date=time.strftime("%Y-%m-%d"), peak_gflops=peak, engine_flops_per_epoch=engine_flops,
             train_flops_per_epoch=train_flops, epochs=epochs, rounds=rounds, headline=head_doc, layouts=lay_doc,
             scaling=scale_doc, cost_growth=growth_doc, precision=prec_doc,
             step_parts=parts_doc, xla_settings=flags_doc)
  outdir = paths.results_dir() / "bench" / ("gpu" if gpu else "cpu")
  results.write_json(outdir / "bench.json", doc)
  results.write_atomic(outdir / "table.md",
                       out + head + "\n" + lay + "\n" + scale + "\n" + growth + "\n" + prec + "\n" + parts + "\n"
                       + flags + "\n" + verdict)
  return 0

