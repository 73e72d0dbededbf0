"""The contenders: the article's ten logistic neurons, MLPs of 1 to 4 hidden layers, a LeNet-1989-like CNN.

Every contender reads the same 16 x 16 = 256 pixels and ends in ten outputs whose softmax are the ten
probabilities; the largest wins (research/engine/train.py's `correct`).
"""
from typing import NamedTuple

from research import models

NUM_CLASSES = 10


class Contender(NamedTuple):
  key: str       # its name in results.json and the comparisons: logistic, mlp-2, cnn
  model: str     # the registered model (research/models/__init__.py)
  options: dict  # that model's options
  label: str     # the table's words
  family: str    # logistic, mlp or cnn
  hidden: int    # hidden layers (0: logistic regression); REPORT.md's depth summary reads it


def cnn_label(options):
  """'CNN 12-12 conv 5x5/2, 30 dense': the channels, kernel and stride, the dense layers."""
  convs = "-".join(map(str, options["channels"]))
  dense = "-".join(map(str, options["dense"]))
  pool = f", max-pool {options['pool']}" if options["pool"] > 1 else ""
  return (f"CNN conv {convs} ({options['kernel']}x{options['kernel']}, stride {options['stride']}{pool})"
          + (f", dense {dense}" if dense else ""))


def mlp_key(depth):
  return f"mlp-{depth}"


def contenders(cfg):
  """In the table's order (cfg: a ConfigDict or results.json's config): logistic, the MLPs by depth, the CNN."""
  out = [Contender("logistic", "logistic", {}, "logistic: ten neurons, 256 → 10", "logistic", 0)]
  for d in cfg["depths"]:
    out.append(Contender(mlp_key(d), "mlp", dict(depth=int(d), width=int(cfg["width"])),
                         f"MLP {d} hidden × {cfg['width']}", "mlp", int(d)))
  options = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in dict(cfg["cnn"]).items()}
  out.append(Contender("cnn", "cnn", options, cnn_label(options), "cnn",
                       len(options["channels"]) + len(options["dense"])))
  return out


def build(contender):
  return models.build(contender.model, NUM_CLASSES, **contender.options)
