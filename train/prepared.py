"""What every trainer shares: the one-line training error and a prepared data set held in memory.

Its own module so that ``train.fit`` (the trainer) and the data loaders it calls (``train.faceres_model``) both
import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class FitError(Exception):
    """Bad input to training (missing data, mismatched checkpoint); the message is one line."""


@dataclass
class Prepared:
    """A prepared data set held in RAM: x float32 (N, H, W, C) in [0, 1], y float32 one-hot (N, K)."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    meta: dict

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])
