"""Sharded sweeps on 8 simulated CPU devices give the numbers of the single-device run.

XLA_FLAGS must be set before JAX starts, so the check runs in its own process."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from research.engine import sharding

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def eight_devices():
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
  p = subprocess.run([sys.executable, str(ROOT / "tests" / "sharded_sweep.py")], cwd=ROOT, env=env,
                     capture_output=True, text=True, timeout=600)
  assert p.returncode == 0, p.stderr[-3000:]
  return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_members_sharded_over_8_devices_match_one_device(eight_devices):
  r = eight_devices["members"]
  assert r["mesh"] == ["members"] and r["devices"] == 8 and r["members"] == 5  # padded to 8, padding dropped
  np.testing.assert_allclose(r["acc_sharded"], r["acc_single"], atol=1e-6)
  assert r["loss_max_diff"] < 1e-5 and r["params_max_diff"] < 1e-4


@pytest.mark.slow
def test_data_parallel_single_model_matches_one_device(eight_devices):
  r = eight_devices["data"]
  assert r["mesh"] == ["batch"] and r["members"] == 1
  np.testing.assert_allclose(r["acc_sharded"], r["acc_single"], atol=1e-6)
  assert r["loss_max_diff"] < 1e-5 and r["params_max_diff"] < 1e-4


def test_padding_helpers():
  class FakeMesh:
    axis_names, size = ("members",), 8
  assert sharding.padded(5, FakeMesh) == 8 and sharding.padded(16, FakeMesh) == 16
  padded = sharding.pad({"a": np.arange(3)}, 3, FakeMesh)
  assert padded["a"].tolist() == [0, 1, 2, 2, 2, 2, 2, 2]
  assert sharding.auto_mesh("auto", 4) is None  # one device here


def _depth_run(workdir, extra_env, n_processes=1):
  args = [sys.executable, "-m", "research", "run", "depth", "--profile", "quick", "--no-progress",
          "--config.n_train=512", "--config.depths=[1]", "--config.epochs=1", "--config.width=16"]
  env = dict(os.environ, RESEARCH_RESULTS_DIR=str(workdir / "results"),
             RESEARCH_CHECKPOINTS_DIR=str(workdir / "ckpt"), JAX_PLATFORMS="cpu", **extra_env)
  procs = [subprocess.Popen(args, cwd=ROOT, env=dict(env, JAX_PROCESS_ID=str(i)) if n_processes > 1 else env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
           for i in range(n_processes)]
  for p in procs:
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-2000:]
  return json.loads((workdir / "results" / "quick" / "depth_vs_accuracy" / "results.json").read_text())


@pytest.mark.slow
def test_two_processes_on_one_machine_match_one_process(tmp_path):
  """docs/engine.md's multi-host example: two JAX processes, one CPU device each, gloo collectives."""
  one = _depth_run(tmp_path / "one", {})
  two = _depth_run(tmp_path / "two", {"JAX_COORDINATOR_ADDRESS": "localhost:12357", "JAX_NUM_PROCESSES": "2"}, 2)
  assert two["environment"]["devices"].startswith("2 x")
  np.testing.assert_allclose(two["results"]["rows"][0]["test_acc"], one["results"]["rows"][0]["test_acc"], atol=1e-6)
