import gzip
import os
import pathlib

import numpy as np
import pytest

from research import data
from research.data import sources
from research.system.errors import UserError

FASHION = pathlib.Path(sources.DEBIAN_DIR)
needs_fashion = pytest.mark.skipif(not (FASHION / "train-labels-idx1-ubyte.gz").exists() and
                                   not os.environ.get("FASHION_MNIST_DIR"),
                                   reason="Fashion-MNIST not installed (make test installs it)")


def test_digits_splits_and_metadata(digits):
  ds, _ = digits
  assert ds.shape == (8, 8, 1) and ds.num_classes == 10
  assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 1797 and len(ds.y_val) == 150
  assert abs(float(ds.x_train.mean())) < 1e-4 and abs(float(ds.x_train.std()) - 1) < 1e-3


def test_stratified_subset_and_validation_split():
  ds = data.load("digits", n_train=200, val_size=100, seed=3)
  assert len(ds.y_train) == 200 and len(ds.y_val) == 100
  counts = np.bincount(ds.y_train, minlength=10)
  assert counts.min() >= 19 and counts.max() <= 21
  assert len(set(ds.idx_train)) == 200
  assert data.load("digits", n_train=200, val_size=100, seed=3).idx_train.tolist() == ds.idx_train.tolist()
  # the validation rows are not among the training rows
  raw = data.load_raw("digits")
  train_rows = {raw.x_train[i].tobytes() for i in ds.idx_train}
  assert len(raw.y_train) == 1348
  val_idx = [i for i in range(len(raw.y_train)) if i not in set(ds.idx_train)]
  assert len(val_idx) == 1348 - 200 and len(train_rows) <= 200


def test_n_train_larger_than_the_data_is_a_clear_error():
  with pytest.raises(UserError, match="n_train=5000 is larger than the 1348 training examples"):
    data.load("digits", n_train=5000)


def test_unknown_dataset_suggests_the_closest_name():
  with pytest.raises(UserError, match="did you mean 'fashion_mnist'"):
    data.load("fashion_mnst")


def test_resize_to_16x16_gives_256_inputs():
  ds = data.load("digits", resize=16)
  assert ds.shape == (16, 16, 1)


def test_mnist1d_is_generated_offline():
  ds = data.load("mnist1d")
  assert ds.shape == (40, 1) and len(ds.y_train) == 4000 and len(ds.y_test) == 1000
  shuffled = data.load("mnist1d_shuffled")
  assert not np.allclose(ds.x_train, shuffled.x_train)
  np.testing.assert_allclose(np.sort(ds.x_train[0].ravel()), np.sort(shuffled.x_train[0].ravel()), rtol=1e-5)


def test_tfds_without_tensorflow_is_a_clear_error(monkeypatch, tmp_path):
  monkeypatch.setenv("RESEARCH_CACHE_DIR", str(tmp_path))
  data.load_raw.cache_clear()
  try:
    data.load_raw("tfds:mnist")
  except UserError as e:
    assert "tfds:mnist" in str(e)
  else:  # a machine with TensorFlow and a network may build it
    pass


def test_idx_header_is_checked():
  good = bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(18)
  assert sources.read_idx(good).shape == (2, 3, 3)
  with pytest.raises(UserError, match="truncated"):
    sources.read_idx(good[:-1])
  with pytest.raises(UserError, match="magic"):
    sources.read_idx(b"\x1f\x8b" + good[2:])


@needs_fashion
def test_fashion_mnist_is_real_and_verified():
  ds = data.load("fashion_mnist")
  assert ds.shape == (28, 28, 1) and len(ds.y_train) == 60000 and len(ds.y_test) == 10000
  assert ds.class_names[9] == "Ankle boot" and np.bincount(ds.y_test).tolist() == [1000] * 10
  assert "sha256 verified" in ds.source


@needs_fashion
def test_corrupt_or_truncated_fashion_files_are_named(tmp_path, monkeypatch):
  src = pathlib.Path(os.environ.get("FASHION_MNIST_DIR", sources.DEBIAN_DIR))
  for f in src.glob("*"):
    (tmp_path / f.name).write_bytes(f.read_bytes())
  labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
  raw = gzip.decompress(labels.read_bytes())
  labels.write_bytes(gzip.compress(raw[:-10]))
  monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
  monkeypatch.setenv("RESEARCH_CACHE_DIR", str(tmp_path / "cache"))
  with pytest.raises(UserError, match="t10k-labels-idx1-ubyte.gz is corrupt"):
    sources.fashion_mnist()
  labels.write_bytes(labels.read_bytes()[:100])  # a cut gzip stream
  with pytest.raises(UserError, match="corrupt"):
    sources.fashion_mnist()
  labels.unlink()
  with pytest.raises(UserError, match="lacks t10k-labels-idx1-ubyte"):
    sources.fashion_mnist()


def test_missing_fashion_folder_says_how_to_get_it(tmp_path, monkeypatch):
  monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
  with pytest.raises(UserError, match="apt-get install dataset-fashion-mnist"):
    sources.fashion_mnist()


def test_mnist16_is_the_articles_16x16_digits_with_a_fixed_split():
  from research import data
  ds = data.load("mnist16", val_size=500)
  assert ds.shape == (16, 16, 1) and ds.num_classes == 10
  assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (3500, 500, 1000)
  assert np.bincount(ds.y_test).tolist() == [100] * 10  # stratified, fixed by seed 0
  again = data.load("mnist16", val_size=500)
  assert np.array_equal(ds.x_test, again.x_test) and np.array_equal(ds.idx_train, again.idx_train)
