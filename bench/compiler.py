"""What XLA makes of one training step of the reference MLP: where a step's time goes (its matrix
products alone, forward and backward, the whole Adam step), and the one-run engine under XLA CPU flags,
a fresh process each."""
import os
import time

import jax

from research import data
from research.engine import runtime, train
from research.system import results

from bench.loops import BATCH, LR, engine_program, interleaved, median, reference_model, spread


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
  x_NxD = arrays["x_train"].reshape(len(arrays["y_train"]), -1)
  steps = len(arrays["y_train"]) // BATCH
  cases = _step_cases(model, model.init(jax.random.key(0), arrays["x_train"][:1]), arrays["y_train"][:BATCH],
                      x_NxD.shape[1])
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
      "of this model at this batch size: the matrix products alone at their shapes.").markdown() + "\n", doc


def _matmuls(ws, x_BxD):
  """The products of one step with their shapes: forward h @ W, backward h.T @ dh for every layer and
  dh @ W.T for all but the first (no gradient for the input). Each product feeds the next state, as in
  training, so the compiler can drop or fold none of them."""
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


def _step_cases(model, params, y_B, n_features):
  """{part of a step: (step_fn(state, x_BxD) -> state, its first state)}."""
  import jax.numpy as jnp
  import optax
  tx = optax.adam(LR)
  loss = lambda p, x_BxD: train.cross_entropy(model.apply(p, x_BxD), y_B).mean()

  def forward_backward(carry, x_BxD):
    value, grads = jax.value_and_grad(loss)(params, x_BxD + carry[0])
    return carry.at[0].add(1e-30 * (value + sum(jnp.sum(g) for g in jax.tree.leaves(grads))))

  def adam_step(state, x_BxD):
    params, opt = state
    updates, opt = tx.update(jax.grad(loss)(params, x_BxD), opt, params)
    return optax.apply_updates(params, updates), opt

  ws = [a for a in jax.tree.leaves(params) if a.ndim == 2]
  return {"matrix products only": (_matmuls, ws),
          "forward and backward": (forward_backward, jnp.zeros((1, n_features), jnp.float32)),
          "whole step (Adam update)": (adam_step, (params, tx.init(params)))}


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
      f"{epochs} epochs timed after a warm-up run of as many; median of {rounds} interleaved rounds).").markdown() + "\n", doc
