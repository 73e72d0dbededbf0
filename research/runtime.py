"""The JAX runtime as every entry point sets it up: the persistent compilation cache, several hosts."""
import jax

from research import paths, sharding


def setup_jax():
  """The persistent compilation cache, on by default, under the project's cache folder; and
  jax.distributed when the environment names several processes."""
  jax.config.update("jax_compilation_cache_dir", str(paths.cache_dir() / "jax"))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  sharding.maybe_initialize()
