"""The tables of `make bench` that time whole training runs: the headline (torch eager, a jitted JAX step
loop, the engine), member layouts, scaling over members, cost growth over model size, precision.
Each returns (markdown, the numbers for bench.json)."""
import jax

from research import data, models
from research.engine import train
from research.report import stats
from research.system import results

from bench.loops import (BATCH, engine_flops_per_epoch, engine_program, interleaved, jax_step_loop, median, spread,
                         torch_eager)

# (depth, width) of the MLPs the layout table compares: narrow to wide, shallow to deep.
LAYOUT_SHAPES = ((2, 16), (2, 64), (2, 256), (8, 256), (2, 512), (2, 1024))


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
      "over the time (no loop evaluates during the epochs timed here).").markdown()
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
      "vmap on accelerators.").markdown() + "\n"
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
      "interleaved rounds; 64 members and more train one epoch a round).").markdown() + "\n", doc


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
      f"row; linear in FLOPs means the two ratio columns agree; median of {rounds} interleaved rounds).").markdown() + "\n", doc


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
      f"weights and loss either way; median of {rounds} interleaved rounds).").markdown() + "\n", doc
