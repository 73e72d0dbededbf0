"""Spreading a sweep's members over devices.

A sweep's member axis (seeds x hyperparameters) is sharded over a 1-D mesh of
all visible devices; the data is replicated. When the member count does not
divide the device count, members are padded by repeating the last one and the
padding is dropped from the results. XLA's SPMD partitioner does the rest: the
program is the same one that runs on a single device.
"""
import math

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS = "members"


def members_mesh(devices=None):
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), (AXIS,))


def auto_mesh(mode, n_members):
  """mode: 'auto' (shard when there is more than one device and more than one member), 'members', 'none'."""
  if mode == "none" or (mode == "auto" and (jax.device_count() == 1 or n_members == 1)):
    return None
  return members_mesh()


def padded(n, mesh):
  return n if mesh is None else math.ceil(n / mesh.size) * mesh.size


def pad(tree, n, mesh):
  """Repeats the last member of every leaf until the member axis has padded(n) entries."""
  extra = padded(n, mesh) - n
  if not extra or tree is None:
    return tree
  return jax.tree.map(lambda a: np.concatenate([np.asarray(a)] + [np.asarray(a)[-1:]] * extra), tree)


def pad_list(items, n, mesh):
  return list(items) + [items[-1]] * (padded(n, mesh) - n)


def shard(tree, mesh):
  """Member axis split over the mesh."""
  if mesh is None or tree is None:
    return tree
  return jax.device_put(tree, NamedSharding(mesh, P(AXIS)))


def replicate(tree, mesh):
  if mesh is None:
    return tree
  return jax.device_put(tree, NamedSharding(mesh, P()))


def unpad(tree, n):
  return jax.tree.map(lambda a: a[:n], tree)
