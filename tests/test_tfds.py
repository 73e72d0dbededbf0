"""tensorflow-datasets as the data layer, for real and offline: Fashion-MNIST
prepared from Debian's files, and a tfds:NAME builder made of local PNGs."""
import importlib.util
import os
import pathlib

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds

from research import data, models
from research.data import sources
from research.data import tfds_data
from research.engine import train
from research.system.errors import UserError

FASHION = pathlib.Path(os.environ.get("FASHION_MNIST_DIR", sources.DEBIAN_DIR))
needs_fashion_gz = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                      reason="Fashion-MNIST .gz files not installed (make test installs them)")


class TinyQuadrants(tfds.core.GeneratorBasedBuilder):
  """8x8 images, class = which quadrant is bright; PNG bytes, so no TensorFlow is needed."""
  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=(8, 8, 1)),
        "label": tfds.features.ClassLabel(names=["top left", "top right", "bottom left", "bottom right"]),
    }), supervised_keys=("image", "label"))

  def _split_generators(self, dl_manager):
    return {"train": self._generate_examples(128, seed=0), "test": self._generate_examples(32, seed=1)}

  def _generate_examples(self, n, seed):
    rng = np.random.default_rng(seed)
    for i in range(n):
      label = i % 4
      image = rng.integers(0, 60, (8, 8, 1), dtype=np.uint8)
      r, c = divmod(label, 2)
      image[4 * r:4 * r + 4, 4 * c:4 * c + 4] += 180
      yield i, {"image": tfds_data.png_bytes(image), "label": label}


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
  monkeypatch.setenv("RESEARCH_CACHE_DIR", str(tmp_path / "cache"))
  data.load_raw.cache_clear()
  yield tmp_path / "cache"
  data.load_raw.cache_clear()


@needs_fashion_gz
@pytest.mark.slow
def test_fashion_mnist_through_tfds_equals_the_idx_reader():
  """Prepared (once, into the project cache) from the local files with TFDS's checksums, never downloaded."""
  folder, arrays = sources.find_fashion()
  reference = sources.fashion_mnist_idx(folder, arrays)
  raw = tfds_data.fashion_mnist(folder, reference)
  assert raw.source.startswith("tensorflow-datasets fashion_mnist") and "sha256 verified" in raw.source
  assert (tfds_data.data_dir() / "fashion_mnist").is_dir()
  for k in ("x_train", "y_train", "x_test", "y_test"):
    np.testing.assert_array_equal(getattr(raw, k), getattr(reference, k))
  assert raw.class_names == sources.FASHION_CLASSES


@needs_fashion_gz
def test_debian_files_repaired_match_tfds_checksums():
  from tensorflow_datasets.core.download import checksums
  import hashlib
  registered = {pathlib.Path(u).name: info.checksum
                for u, info in checksums.get_all_url_infos().items() if "fashion-mnist" in u}
  name = "t10k-labels-idx1-ubyte"
  repaired = tfds_data.official_gzip((FASHION / f"{name}.gz").read_bytes(), name)
  assert hashlib.sha256(repaired).hexdigest() == registered[f"{name}.gz"]


def test_a_tfds_dataset_prepares_caches_and_trains(fresh_cache):
  ds = data.load("tfds:tiny_quadrants", val_size=16)
  assert ds.shape == (8, 8, 1) and ds.num_classes == 4
  assert len(ds.y_train) == 112 and len(ds.y_val) == 16 and len(ds.y_test) == 32
  assert (fresh_cache / "tfds" / "tiny_quadrants" / "1.0.0").is_dir()
  assert list((fresh_cache / "data").glob("tfds-tiny_quadrants*.npz"))
  data.load_raw.cache_clear()  # the second load reads the npz cache, the same arrays
  np.testing.assert_array_equal(data.load("tfds:tiny_quadrants", val_size=16).x_train, ds.x_train)
  trainer = train.make_trainer(models.mlp(ds.num_classes, depth=1, width=32), "adam", batch_size=16)
  state, hist = train.run(trainer, jax.random.PRNGKey(0), {"learning_rate": 1e-2},
                          jax.device_put(ds.arrays()), epochs=3)
  assert int(state.epoch) == 3 and float(hist.val_acc[-1]) > 0.5


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None, reason="TensorFlow is installed")
def test_stock_builder_without_tensorflow_names_the_extra(fresh_cache):
  with pytest.raises(UserError, match=r"tfds:mnist needs TensorFlow.*pip install -e '\.\[tfds\]'"):
    data.load_raw("tfds:mnist")


def test_unknown_tfds_name_is_one_clear_line(fresh_cache):
  with pytest.raises(UserError, match="tfds:no_such_dataset_here is not a tensorflow-datasets dataset") as e:
    data.load_raw("tfds:no_such_dataset_here")
  assert "\n" not in str(e.value)
