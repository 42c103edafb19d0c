"""Exact-duplicate removal by SHA-1 of the file bytes, before any split.

The seed paper removes exact duplicates by SHA-1 before splitting and reports
the counts per class (its Table 1).  Two images are duplicates when their file
bytes hash to the same SHA-1; the first one in read order is kept.

For a data set that comes with its own split (FER2013's ``usage`` column), the
copies are removed within each split, and every training image whose hash also
occurs in the validation split is removed from training (train/val leakage),
so the validation split stays complete.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass
class DedupResult:
    """Which samples survive, and why the others did not.

    Attributes:
        keep: (N,) bool, True for the samples kept.
        removed: class name -> number of copies removed (all reasons together).
        within: split name ("all", "train", "val") -> copies removed inside that split.
        leaked: training images removed because their hash occurs in val.
        leaked_by_class: class name -> leaked images removed from train.
        conflicts: number of duplicate groups whose copies carry different labels
            (the first copy's label is the one kept).
    """

    keep: np.ndarray
    removed: dict[str, int] = field(default_factory=dict)
    within: dict[str, int] = field(default_factory=dict)
    leaked: int = 0
    leaked_by_class: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0

    @property
    def total_removed(self) -> int:
        return int((~self.keep).sum())


def _first_copies(hashes: Sequence[str], members: np.ndarray) -> np.ndarray:
    """(N,) bool: True at the first occurrence of each hash among ``members`` indices."""
    first = np.zeros(len(hashes), bool)
    seen: set[str] = set()
    for i in members:
        h = hashes[i]
        if h not in seen:
            seen.add(h)
            first[i] = True
    return first


def _conflicts(hashes: Sequence[str], labels: Sequence[str], members: np.ndarray) -> int:
    """Number of hash groups among ``members`` holding more than one label."""
    groups: dict[str, set[str]] = {}
    for i in members:
        groups.setdefault(hashes[i], set()).add(labels[i])
    return sum(1 for names in groups.values() if len(names) > 1)


def deduplicate(hashes: Sequence[str], labels: Sequence[str], valid: np.ndarray | None = None) -> DedupResult:
    """Keep the first copy of every SHA-1 across the whole set (the paper's Table 1).

    Args:
        hashes: (N,) hex SHA-1 per sample.
        labels: (N,) class name per sample.
        valid: (N,) bool, samples to consider (unreadable files are False and are never kept).
    """
    n = len(hashes)
    valid = np.ones(n, bool) if valid is None else np.asarray(valid, bool)
    members = np.flatnonzero(valid)
    keep = _first_copies(hashes, members) & valid
    dropped = valid & ~keep
    removed = Counter(labels[i] for i in np.flatnonzero(dropped))
    return DedupResult(keep, dict(removed), {"all": int(dropped.sum())}, 0, {}, _conflicts(hashes, labels, members))


def deduplicate_by_split(hashes: Sequence[str], labels: Sequence[str], split: Sequence[str],
                         valid: np.ndarray | None = None) -> DedupResult:
    """Deduplicate a set that comes with a train/val split.

    Copies are removed inside each split (first copy kept), then training
    images whose hash also occurs in val are removed from train.

    Args:
        hashes, labels: (N,) per sample.
        split: (N,) "train" or "val" per sample.
        valid: (N,) bool, samples to consider.
    """
    n = len(hashes)
    valid = np.ones(n, bool) if valid is None else np.asarray(valid, bool)
    split_arr = np.asarray(split)
    keep = np.zeros(n, bool)
    within = {}
    conflicts = 0
    for name in ("train", "val"):
        members = np.flatnonzero(valid & (split_arr == name))
        first = _first_copies(hashes, members)
        keep |= first
        within[name] = int(len(members) - first.sum())
        conflicts += _conflicts(hashes, labels, members)
    val_hashes = {hashes[i] for i in np.flatnonzero(keep & (split_arr == "val"))}
    leak = np.array([keep[i] and split_arr[i] == "train" and hashes[i] in val_hashes for i in range(n)], bool)
    keep &= ~leak
    dropped = valid & ~keep
    removed = Counter(labels[i] for i in np.flatnonzero(dropped))
    leaked_by_class = Counter(labels[i] for i in np.flatnonzero(leak))
    return DedupResult(keep, dict(removed), within, int(leak.sum()), dict(leaked_by_class), conflicts)
