"""The JAX runtime as every entry point sets it up: the persistent compilation cache, several hosts."""
import jax

from research.engine import sharding
from research.system import paths


def check_x64() -> None:
  """The engine computes in float32 (its dtypes, its checkpoints, its cells' identities): an x64
  environment makes its programs mix float64 in, which fails deep inside a trace. Refused up front."""
  from research.system.errors import UserError
  if jax.config.jax_enable_x64:
    raise UserError("JAX_ENABLE_X64 is set (64-bit floats by default): the engine computes in float32 and its "
                    "programs and checkpoints assume it; unset JAX_ENABLE_X64 (or set it to 0) and run again")


def setup_jax() -> None:
  """The persistent compilation cache, on by default, under the project's cache folder; and
  jax.distributed when the environment names several processes."""
  jax.config.update("jax_compilation_cache_dir", str(paths.cache_dir() / "jax"))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  sharding.maybe_initialize()


def matmul_peak_gflops(sizes: tuple[int, ...] = (1024, 2048, 3072), reps: int = 5) -> float:
  """The best fp32 GFLOP/s of large square matmuls on the default device: the ceiling that
  achieved GFLOP/s are read against (a multiply-add counts 2, as in XLA's cost analysis)."""
  import time
  import jax.numpy as jnp
  best = 0.0
  for n in sizes:
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    f = jax.jit(lambda a: a @ a)
    f(a).block_until_ready()
    for _ in range(reps):
      t = time.perf_counter()
      f(a).block_until_ready()
      best = max(best, 2 * n ** 3 / (time.perf_counter() - t) / 1e9)
  return best
