"""Names for the types that the engine's signatures share."""
import os
from typing import Any

import jax
import numpy as np

PyTree = Any  # nested dicts, lists and tuples of arrays: parameters, masks, optimizer and train states
Array = jax.Array | np.ndarray
Data = dict[str, Array]  # {"x_train": N x ..., "y_train": N, "x_val": ..., ...}
HParams = dict[str, float]  # one member's hyperparameters, e.g. {"learning_rate": 1e-3}
PathLike = str | os.PathLike
