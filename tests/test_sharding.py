"""Sharded sweeps on 8 simulated CPU devices give the numbers of the single-device run.

XLA_FLAGS must be set before JAX starts, so the check runs in its own process."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from research import sharding

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def eight_devices():
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
  p = subprocess.run([sys.executable, str(ROOT / "tests" / "sharded_sweep.py")], cwd=ROOT, env=env,
                     capture_output=True, text=True, timeout=600)
  assert p.returncode == 0, p.stderr[-3000:]
  return json.loads(p.stdout.strip().splitlines()[-1])


def test_members_sharded_over_8_devices_match_one_device(eight_devices):
  r = eight_devices["members"]
  assert r["mesh"] == ["members"] and r["devices"] == 8 and r["members"] == 5  # padded to 8, padding dropped
  np.testing.assert_allclose(r["acc_sharded"], r["acc_single"], atol=1e-6)
  assert r["loss_max_diff"] < 1e-5 and r["params_max_diff"] < 1e-4


def test_data_parallel_single_model_matches_one_device(eight_devices):
  r = eight_devices["data"]
  assert r["mesh"] == ["batch"] and r["members"] == 1
  np.testing.assert_allclose(r["acc_sharded"], r["acc_single"], atol=1e-6)
  assert r["loss_max_diff"] < 1e-5 and r["params_max_diff"] < 1e-4


def test_padding_helpers():
  class FakeMesh:
    axis_names, size = ("members",), 8
  assert sharding.padded(5, FakeMesh) == 8 and sharding.padded(16, FakeMesh) == 16
  assert sharding.pad_list([1, 2, 3], 3, FakeMesh) == [1, 2, 3, 3, 3, 3, 3, 3]
  padded = sharding.pad({"a": np.arange(3)}, 3, FakeMesh)
  assert padded["a"].tolist() == [0, 1, 2, 2, 2, 2, 2, 2]
  assert sharding.auto_mesh("auto", 4) is None  # one device here
