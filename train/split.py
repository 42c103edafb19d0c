"""Label encoding, the train/val split, class weights and one-hot labels.

Label encoding follows scikit-learn's ``LabelEncoder``: the sorted class names
get codes 0..K-1.  The stratified split is the seed paper's (its Table 2):
``train_test_split(..., test_size=0.2, stratify=y, shuffle=True,
random_state=0)`` on the deduplicated set in read order.  On a set with the
paper's Table 1 counts this plain call gives exactly its Table 2 counts (checked
by ``tests/train/test_prepare_tables.py``).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_class_weight

from train.datasets import DatasetError


def encode_labels(labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """(sorted class names, (N,) int64 codes) with ``LabelEncoder`` semantics."""
    encoder = LabelEncoder()
    codes = encoder.fit_transform(np.asarray(labels, dtype=object).astype(str))
    return [str(c) for c in encoder.classes_], codes.astype(np.int64)


def check_stratifiable(codes: np.ndarray, classes: Sequence[str], test_size: float) -> None:
    """Raise :class:`DatasetError` naming every class too small for a stratified split.

    A class needs at least ``max(2, ceil(1 / test_size))`` and ``ceil(1 / (1 - test_size))``
    images so that both sides can expect one of them.
    """
    need = max(2, math.ceil(1 / test_size - 1e-9), math.ceil(1 / (1 - test_size) - 1e-9))
    counts = np.bincount(codes, minlength=len(classes))
    small = [f"{classes[k]!r} ({counts[k]})" for k in range(len(classes)) if counts[k] < need]
    if small:
        raise DatasetError(f"stratified split: expected at least {need} images per class for test size {test_size}, "
                           f"got {', '.join(small)}; add images to those classes or remove them")


def stratified_split(codes: np.ndarray, classes: Sequence[str], test_size: float = 0.2, seed: int = 0,
                     shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, val indices), int64, in the order ``train_test_split`` returns them.

    Args:
        codes: (N,) int codes of the deduplicated set in read order.
    """
    check_stratifiable(codes, classes, test_size)
    index = np.arange(len(codes))
    train, val = train_test_split(index, test_size=test_size, stratify=codes if shuffle else None,
                                  shuffle=shuffle, random_state=seed)
    for k, name in enumerate(classes):
        if not (codes[train] == k).any() or not (codes[val] == k).any():
            raise DatasetError(f"stratified split: expected class {name!r} on both sides, got an empty side; "
                               "add images to that class or change --val-fraction")
    return np.asarray(train, np.int64), np.asarray(val, np.int64)


def usage_split(usage: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, val indices) from per-sample "train"/"val" marks, in read order."""
    marks = np.asarray(usage)
    return np.flatnonzero(marks == "train").astype(np.int64), np.flatnonzero(marks == "val").astype(np.int64)


def class_weights(codes: np.ndarray, num_classes: int) -> np.ndarray:
    """(K,) float64 scikit-learn 'balanced' weights ``n / (K * count_k)`` of the training codes.

    Raises:
        DatasetError: a class has no training sample.
    """
    counts = np.bincount(codes, minlength=num_classes)
    if (counts == 0).any():
        raise DatasetError(f"class weights: expected every class in the training set, got none of codes "
                           f"{np.flatnonzero(counts == 0).tolist()}; add images to those classes")
    return compute_class_weight("balanced", classes=np.arange(num_classes), y=codes)


def one_hot(codes: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, K) float32 one-hot rows of (N,) int codes."""
    out = np.zeros((len(codes), num_classes), np.float32)
    out[np.arange(len(codes)), codes] = 1.0
    return out
