"""Spreading a sweep over devices and hosts.

Two layouts, chosen by an experiment's `shard` config key:
  members  the sweep's member axis (seeds x hyperparameters) is split over a 1-D
           mesh of every device; the data is replicated. Members are padded to
           a multiple of the device count by repeating the last one, and the
           padding is dropped from the results.
  data     one model (or a few) per step, its minibatch split over the devices
           (data parallel): the step constrains the batch to the "batch" axis
           and XLA's SPMD partitioner adds the gradient all-reduce.
  auto     members when there are several devices and several members, data
           when there are several devices and a single member, else none.
The compiled program is the same one that runs on a single device.

Several hosts: `maybe_initialize()` calls jax.distributed.initialize() when
the environment names several processes; jax.devices() is then global, every
process runs the same program on its own shards, orbax writes each process's
shards, and only process 0 writes results files.
"""
import math
import os

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

from research.engine.types import Array, PyTree

MEMBERS, BATCH = "members", "batch"
MODES = ("auto", "members", "data", "none")


def maybe_initialize() -> None:
  """jax.distributed.initialize() when several processes are configured (JAX_NUM_PROCESSES, SLURM, Open MPI)."""
  n = int(os.environ.get("JAX_NUM_PROCESSES") or os.environ.get("SLURM_NTASKS")
          or os.environ.get("OMPI_COMM_WORLD_SIZE") or 1)
  if n > 1 and not jax.distributed.is_initialized():
    # Collectives between CPU processes (no effect on accelerators). Set before any backend starts.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if os.environ.get("JAX_NUM_PROCESSES"):
      jax.distributed.initialize(os.environ.get("JAX_COORDINATOR_ADDRESS", "localhost:12355"),
                                 num_processes=n, process_id=int(os.environ.get("JAX_PROCESS_ID", 0)))
    else:  # SLURM / Open MPI: jax reads the cluster's own variables
      jax.distributed.initialize()


def is_main_process() -> bool:
  return jax.process_index() == 0


def _mesh(axis):
  return Mesh(np.asarray(jax.devices()), (axis,), axis_types=(AxisType.Auto,))


def auto_mesh(mode: str, n_members: int) -> Mesh | None:
  """The mesh for a cell of n_members under `mode` (see the module docstring), or None."""
  devices = jax.device_count()
  if mode == "none" or devices == 1:
    return None
  if mode == "members" or (mode == "auto" and n_members > 1):
    return _mesh(MEMBERS)
  return _mesh(BATCH)


def splits_members(mesh: Mesh | None) -> bool:
  return mesh is not None and MEMBERS in mesh.axis_names


def padded(n: int, mesh: Mesh | None) -> int:
  return math.ceil(n / mesh.size) * mesh.size if splits_members(mesh) else n


def pad(tree: PyTree, n: int, mesh: Mesh | None) -> PyTree:
  """Repeats the last member of every leaf until the member axis has padded(n) entries."""
  extra = padded(n, mesh) - n
  if not extra or tree is None:
    return tree
  return jax.tree.map(lambda a: np.concatenate([np.asarray(a)] + [np.asarray(a)[-1:]] * extra), tree)


def _put(tree, sharding):
  """Global arrays from data every process holds in full (works across hosts too)."""
  def one(a):
    host = np.asarray(a)
    return jax.make_array_from_callback(host.shape, sharding, lambda idx: host[idx])
  return jax.tree.map(one, tree)


def shard(tree: PyTree, mesh: Mesh | None) -> PyTree:
  """Member axis split over the mesh (replicated on a data-parallel mesh)."""
  if mesh is None or tree is None:
    return tree
  return _put(tree, NamedSharding(mesh, P(MEMBERS) if splits_members(mesh) else P()))


def replicate(tree: PyTree, mesh: Mesh | None) -> PyTree:
  if mesh is None:
    return tree
  return _put(tree, NamedSharding(mesh, P()))


def unpad(tree: PyTree, n: int) -> PyTree:
  return jax.tree.map(lambda a: a[:n], tree)


def to_host(x: Array) -> np.ndarray:
  """A numpy copy of a (possibly multi-host) array."""
  if isinstance(x, jax.Array) and not x.is_fully_addressable:
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))
  return np.asarray(x)


def constrain_batch(x_BxS: jax.Array) -> jax.Array:
  """Splits a minibatch over the "batch" axis of the mesh being traced under, if there is one."""
  mesh = jax.sharding.get_abstract_mesh()
  if mesh.empty or BATCH not in mesh.axis_names:
    return x_BxS
  return jax.lax.with_sharding_constraint(x_BxS, P(BATCH))
