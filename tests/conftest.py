"""Shared fixtures. Results and checkpoints of tests go to a temporary folder;
the data and compilation caches are the project's own (.cache/), so a second
`make test` compiles and parses less."""
import jax
import jax.numpy as jnp
import pytest

from research import data
from research import runtime

runtime.setup_jax()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
  """results/ and checkpoints/ under a temporary folder."""
  monkeypatch.setenv("RESEARCH_RESULTS_DIR", str(tmp_path / "results"))
  monkeypatch.setenv("RESEARCH_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
  return tmp_path


@pytest.fixture(scope="session")
def digits():
  """scikit-learn's 8x8 handwritten digits: (Dataset, arrays on the device)."""
  ds = data.load("digits", val_size=150)
  return ds, jax.device_put(ds.arrays())


@pytest.fixture(scope="session")
def tiny():
  """A small random 4-class problem for fast engine tests, with a validation split."""
  k1, k2, k3, k4 = jax.random.split(jax.random.key(0), 4)
  w = jax.random.normal(k1, (12, 4))
  x = jax.random.normal(k2, (256, 12))
  xt = jax.random.normal(k3, (64, 12))
  xv = jax.random.normal(k4, (64, 12))
  return dict(x_train=x, y_train=jnp.argmax(x @ w, -1), x_test=xt, y_test=jnp.argmax(xt @ w, -1),
              x_val=xv, y_val=jnp.argmax(xv @ w, -1))
