"""Datasets through tensorflow-datasets: prepared once as array_record files
under cache_dir()/"tfds", read back with tfds.data_source (no TensorFlow).

  raw = tfds_data.fashion_mnist("/usr/share/datasets/fashion-mnist")
  raw = tfds_data.image_classification("cifar10")

Fashion-MNIST goes through a subclass of TFDS's own builder that keeps its
registered checksums but neither extracts (tf.io.gfile) nor encodes images
with TensorFlow, so it prepares offline from Debian's files. Other stock
builders need TensorFlow to prepare; the `tfds` extra installs it.
"""
import contextlib
import dataclasses
import gzip
import importlib.util
import pathlib
import shutil
import urllib.parse

import numpy as np

from research.system import paths
from research.system.errors import UserError
from research.data.raw import Raw, read_idx

EXTRA = "pip install -e '.[tfds]'"
# The official .gz files' header fields (file name, mtime) that Debian's copies
# lack; with them restored the bytes match TFDS's registered sha256.
OFFICIAL_MTIMES = {
    "train-images-idx3-ubyte": 1504176606, "train-labels-idx1-ubyte": 1504176606,
    "t10k-images-idx3-ubyte": 1504176627, "t10k-labels-idx1-ubyte": 1504176627,
}


class Unavailable(Exception):
  """TFDS could not give this dataset here; the caller has another way."""


def data_dir():
  return paths.cache_dir() / "tfds"


def official_gzip(gz_bytes, stem):
  """The official file from a copy whose header lost its name and mtime (same deflate stream)."""
  if gz_bytes[3] & 0x08:  # already names its file: the official one, or one we cannot repair
    return gz_bytes
  if gz_bytes[:4] != b"\x1f\x8b\x08\x00":
    raise Unavailable(f"{stem}.gz has gzip header flags this repair does not know")
  return (b"\x1f\x8b\x08\x08" + OFFICIAL_MTIMES[stem].to_bytes(4, "little") + b"\x00\x03"
          + stem.encode() + b"\x00" + gz_bytes[10:])


def _stage_official(folder, manual_dir):
  """Writes the four official .gz files into manual_dir, where TFDS's download manager looks."""
  manual_dir.mkdir(parents=True, exist_ok=True)
  for stem in OFFICIAL_MTIMES:
    src = pathlib.Path(folder) / f"{stem}.gz"
    if not src.exists():
      raise Unavailable(f"no {src} (TFDS checks the compressed files)")
    (manual_dir / src.name).write_bytes(official_gzip(src.read_bytes(), stem))


def _fashion_builder_class():
  import tensorflow_datasets as tfds
  from tensorflow_datasets.image_classification import mnist

  class FashionMnistWithoutTf(mnist.FashionMNIST, skip_registration=True):
    """The stock builder's files, checksums and output, without TensorFlow."""
    name = "fashion_mnist"  # the stock name: its checksums, its folder, its reader

    def _split_generators(self, dl_manager):
      files = dl_manager.download({k: urllib.parse.urljoin(self.URL, v) for k, v in {
          "train_data": mnist._MNIST_TRAIN_DATA_FILENAME, "train_labels": mnist._MNIST_TRAIN_LABELS_FILENAME,
          "test_data": mnist._MNIST_TEST_DATA_FILENAME, "test_labels": mnist._MNIST_TEST_LABELS_FILENAME,
      }.items()})
      return [tfds.core.SplitGenerator(name=split, gen_kwargs=dict(data_path=files[f"{split}_data"],
                                                                   label_path=files[f"{split}_labels"]))
              for split in ("train", "test")]

    def _generate_examples(self, data_path, label_path):
      images = _idx_from_gz(data_path)
      labels = _idx_from_gz(label_path)
      for index, (image, label) in enumerate(zip(images, labels)):
        yield index, {"image": png_bytes(image), "label": int(label)}

  return FashionMnistWithoutTf


def _idx_from_gz(path):
  return read_idx(gzip.decompress(pathlib.Path(path).read_bytes()), str(path))


def png_bytes(image):
  """PNG bytes of an H x W (x C) uint8 image, as TFDS stores images (pillow, not tf.image)."""
  import io
  from PIL import Image
  out = io.BytesIO()
  Image.fromarray(np.asarray(image, np.uint8).squeeze(-1) if np.ndim(image) == 3 and image.shape[-1] == 1
                  else np.asarray(image, np.uint8)).save(out, format="PNG")
  return out.getvalue()


def fashion_mnist(folder, reference):
  """Fashion-MNIST prepared by TFDS from the .gz files in folder (its checksums verified),
  in the order of `reference` (the IDX reader's Raw): TFDS shuffles examples when it
  writes them, and the committed results drew their subsets from the files' order."""
  try:
    import tensorflow_datasets as tfds
    with _quiet():
      builder = _fashion_builder_class()(data_dir=str(data_dir()))
      if not builder.is_prepared():
        manual = data_dir() / "manual" / "fashion_mnist"
        try:
          _stage_official(folder, manual)
          builder.download_and_prepare(file_format="array_record",
                                       download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
        finally:
          shutil.rmtree(manual, ignore_errors=True)
      raw = in_order_of(_arrays(builder, "fashion_mnist"), reference)
  except Unavailable:
    raise
  except Exception as e:  # noqa: BLE001 - a checksum mismatch, a broken install: the IDX reader still works
    raise Unavailable(f"{type(e).__name__}: {str(e)[:200]}") from e
  return dataclasses.replace(raw, source=f"tensorflow-datasets fashion_mnist {builder.version} (array_record), "
                             f"prepared from the IDX files in {folder}, sha256 verified")


def _row_order(x, y):
  """A stable sort of examples by their bytes (image and label)."""
  rows = np.concatenate([np.round(x.reshape(len(x), -1) * 255).astype(np.uint8),
                         y.astype(np.uint8)[:, None]], 1)
  return np.argsort(np.ascontiguousarray(rows).view(f"V{rows.shape[1]}").ravel(), kind="stable")


def in_order_of(raw, reference):
  """raw's examples reordered like reference's; Unavailable unless they are the same examples."""
  out = {}
  for x, y in (("x_train", "y_train"), ("x_test", "y_test")):
    a, b = (getattr(raw, x), getattr(raw, y)), (getattr(reference, x), getattr(reference, y))
    if a[0].shape != b[0].shape:
      raise Unavailable(f"TFDS gave {x} of shape {a[0].shape}, the IDX files {b[0].shape}")
    perm = np.empty(len(b[1]), int)
    perm[_row_order(*b)] = _row_order(*a)  # identical rows may swap: the arrays stay the same
    out[x], out[y] = a[0][perm], a[1][perm]
    if not (np.array_equal(out[x], b[0]) and np.array_equal(out[y], b[1])):
      raise Unavailable(f"TFDS's {x} holds other examples than the IDX files")
  return dataclasses.replace(raw, **out)


def _needs_tensorflow(builder):
  """Stock builders extract and encode with TensorFlow; builders defined elsewhere may not."""
  return (type(builder).__module__.startswith("tensorflow_datasets.")
          and importlib.util.find_spec("tensorflow") is None)


@contextlib.contextmanager
def _absl_errors_only():
  """TFDS logs a warning for every folder it has not prepared yet: noise before a one-line error."""
  import logging
  absl = logging.getLogger("absl")
  level = absl.level
  absl.setLevel(logging.ERROR)
  try:
    yield
  finally:
    absl.setLevel(level)


@contextlib.contextmanager
def _quiet():
  """Preparing prints progress bars, 'Downloading and preparing ...' and absl warnings; a run's
  output is its own progress and one-line errors."""
  import io
  import tensorflow_datasets as tfds
  tfds.disable_progress_bar()
  with _absl_errors_only(), contextlib.redirect_stdout(io.StringIO()):
    yield


def image_classification(name):
  """tfds:NAME, any image-classification dataset with train and test splits, prepared once."""
  import tensorflow_datasets as tfds
  try:
    with _absl_errors_only():
      builder = tfds.builder(name, data_dir=str(data_dir()))
      prepared = builder.is_prepared()
  except Exception as e:  # noqa: BLE001 - tfds raises its own not-found types
    raise UserError(f"tfds:{name} is not a tensorflow-datasets dataset ({type(e).__name__}: "
                    f"{str(e).splitlines()[0][:120]})") from e
  if not prepared:
    if _needs_tensorflow(builder):  # fail at once, before tfds tries the network
      raise UserError(f"tfds:{name} needs TensorFlow to be prepared by tensorflow-datasets: {EXTRA} "
                      "(tensorflow-cpu); fashion_mnist, digits and mnist1d need none")
    try:
      with _quiet():
        builder.download_and_prepare(file_format="array_record")
    except Exception as e:  # noqa: BLE001 - network, checksums, a missing TensorFlow deep inside
      raise UserError(f"tfds:{name} could not be prepared ({type(e).__name__}: "
                      f"{str(e).splitlines()[0][:120] if str(e) else ''}); some datasets need TensorFlow "
                      f"({EXTRA}), a network, or files downloaded by hand") from e
  with _quiet():
    return _arrays(builder, name)


def _keys(info, name):
  """(image key, label key): the supervised keys, else the one Image and one ClassLabel feature."""
  import tensorflow_datasets as tfds
  if info.supervised_keys and len(info.supervised_keys) == 2:
    return tuple(info.supervised_keys)
  kind = lambda t: [k for k, f in info.features.items() if isinstance(f, t)]
  images, labels = kind(tfds.features.Image), kind(tfds.features.ClassLabel)
  if len(images) != 1 or len(labels) != 1:
    raise UserError(f"tfds:{name} is not an image-classification dataset (images {images}, labels {labels})")
  return images[0], labels[0]


def _arrays(builder, name):
  """Decodes the train and test splits into numpy (the caller caches them)."""
  info = builder.info
  missing = {"train", "test"} - set(info.splits)
  if missing:
    raise UserError(f"tfds:{name} has splits {sorted(info.splits)}, not train and test")
  image_key, label_key = _keys(info, name)
  out = {}
  for split in ("train", "test"):
    source = builder.as_data_source(split=split)
    rows = source.__getitems__(range(len(source)))  # one batched read, PNGs decoded by TFDS
    out[split] = (np.stack([r[image_key] for r in rows]), np.array([r[label_key] for r in rows], np.int32))
  scale = lambda x: x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else 1.0)
  names = tuple(info.features[label_key].names)
  return Raw(scale(out["train"][0]), out["train"][1], scale(out["test"][0]), out["test"][1], names,
             f"tensorflow-datasets {name} {builder.version} (array_record)")
