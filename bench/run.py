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
import time

import jax

from research import data
from research.engine import runtime, train
from research.system import paths, results

from bench.compiler import one_process_epoch, step_parts, xla_settings
from bench.loops import BATCH, WIDTHS, engine_flops_per_epoch, reference_model
from bench.tables import LAYOUT_SHAPES, cost_growth, headline, layouts, precision, scaling

__all__ = ["BATCH", "WIDTHS", "main", "reference_model", "step_parts"]


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
  out = _header(env, peak, train_flops, engine_flops)
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
  results.write_atomic(outdir / "table.md", out + "\n".join([head, lay, scale, growth, prec, parts, flags, verdict]))
  return 0


def _header(env, peak, train_flops, engine_flops):
  """The table's first lines: the machine, the measured peak and the reference MLP's FLOPs per epoch."""
  return (f"# make bench, {time.strftime('%Y-%m-%d')}: {env['devices']}, {env['cpu_count']} CPU cores, "
          f"jax {env['jax']}\n\nfp32 matmul peak measured (best of 1024-3072 square matmuls): {peak:.0f} GFLOP/s; "
          f"one epoch of the reference MLP: {train_flops / 1e9:.0f} GFLOP of training steps (XLA's count; "
          f"{engine_flops / 1e9:.0f} with the engine's per-epoch validation, none here).\n\n")
