"""Reading the two input layouts and decoding their images.

Two layouts are understood:

* **Class folders**: ``DIR/<ClassName>/*.jpg|png|...``, any size, colour or grey.
  The seed paper's data set (Section 4 of ``Facial Expression Recognition in
  the Wild``) is six such folders of 128x128 RGB JPEG face crops.
* **FER2013 / FER+**: a folder with ``labels.csv`` (columns ``path``, ``usage``,
  ``fer2013_label`` and the ``ferplus_*`` vote counts), as in ``shared/data/fer2013``.

Listing a layout gives an :class:`Inventory` (paths, class names, optional
usage split).  :func:`scan_images` then reads every file once: SHA-1 of the file
bytes, decode with OpenCV, and a first resize to the model size, in a thread
pool (OpenCV and hashlib release the GIL).

Conventions: decoded images are uint8, (H, W, 3) BGR (OpenCV order) or (H, W)
grey; scanned batches are (N, H, W, C) uint8 with C = 3 (BGR) or 1 (grey).
Nothing here prints; long loops report through an optional
``progress(done, total)`` callback.
"""

from __future__ import annotations

import csv
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from realtime_fer.core.align import align_face

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"})
"""File name endings (lower case) treated as images; anything else is skipped and listed."""

FER2013_CODES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Original FER2013 label codes 0..6 (the Kaggle order) as this project's class names."""

FERPLUS_VOTES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")
"""FER+ vote columns (``ferplus_<name>``) in ``fer2013new.csv`` order."""

FERPLUS_TO_CLASS = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                    "anger": "angry", "disgust": "disgust", "fear": "fear"}
"""FER+ vote column -> class name; contempt, unknown and NF have no class and are dropped."""

CLASS_SETS = {
    "six": ("angry", "disgust", "fear", "happy", "sad", "surprise"),
    "seven": ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
}
"""The paper's six classes, and six plus neutral (FER2013 names)."""

USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}

Progress = Callable[[int, int], None]


class DatasetError(ValueError):
    """The input data cannot be used; the message names the class, rows or files and what to do."""


@dataclass
class Inventory:
    """What a layout lists, before any image is decoded.

    Attributes:
        root: the ``--data`` folder.
        layout: "folders" or "fer2013".
        label_source: "folders", "fer2013" or "ferplus".
        paths: one file per sample, in read order (folders sorted, then files sorted;
            FER2013 in ``labels.csv`` order).
        labels: class name per sample.
        usage: per sample "train"/"val" from the FER2013 ``usage`` column, else None.
        skipped: (path, reason) for files listed but not usable (non-image files, ...).
        dropped: reason -> number of samples left out on purpose (ties, other classes, ...).
        notes: sentences for the report.
        ambiguous: number of kept rows flagged ``fer2013_label_ambiguous``.
    """

    root: Path
    layout: str
    label_source: str
    paths: list[Path]
    labels: list[str]
    usage: list[str] | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ambiguous: int = 0

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, keep: np.ndarray) -> "Inventory":
        """A copy holding only the samples where the boolean ``keep`` (N,) is True."""
        idx = np.flatnonzero(keep)
        return Inventory(self.root, self.layout, self.label_source, [self.paths[i] for i in idx],
                         [self.labels[i] for i in idx], None if self.usage is None else [self.usage[i] for i in idx],
                         list(self.skipped), dict(self.dropped), list(self.notes), self.ambiguous)


def is_fer2013_layout(root: Path) -> bool:
    """True when ``root`` holds a ``labels.csv`` (the FER2013 / FER+ layout)."""
    return (Path(root) / "labels.csv").is_file()


def list_class_folders(root: Path) -> Inventory:
    """List ``root/<ClassName>/*`` image files.

    Raises:
        DatasetError: ``root`` is missing or has no class folder, or a class folder
            has no image file (the message names the class).
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"--data: expected a folder, got {str(root)!r} which is not one; pass the data set folder")
    entries = sorted(os.scandir(root), key=lambda e: e.name)
    folders = [e for e in entries if e.is_dir() and not e.name.startswith(".")]
    if not folders:
        raise DatasetError(f"--data {root}: expected class folders (DIR/<ClassName>/*.jpg) or a labels.csv, "
                           "found neither; point --data at the data set root")
    skipped = [(e.path, "not inside a class folder") for e in entries if e.is_file() and not e.name.startswith(".")]
    paths: list[Path] = []
    labels: list[str] = []
    for folder in folders:
        count = 0
        for entry in sorted(os.scandir(folder.path), key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                skipped.append((entry.path, "sub-folder inside a class folder (not read)"))
            elif Path(entry.name).suffix.lower() not in IMAGE_EXTENSIONS:
                skipped.append((entry.path, "not an image file (extension)"))
            else:
                paths.append(Path(entry.path))
                labels.append(folder.name)
                count += 1
        if count == 0:
            raise DatasetError(f"class {folder.name!r}: expected image files in {folder.path}, found none; "
                               "add images or remove the empty folder")
    return Inventory(root, "folders", "folders", paths, labels, None, skipped)


def _rows_text(rows: Sequence[int], limit: int = 8) -> str:
    """'rows 2, 5, 9 (and 4 more)' with 1-based CSV line numbers (header = line 1)."""
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" (and {len(rows) - limit} more)" if len(rows) > limit else ""
    return f"line{'s' if len(rows) > 1 else ''} {shown}{more}"


def _ferplus_label(row: dict) -> str | None:
    """Strict FER+ majority vote column name, "" on a tie, None when the row has no votes."""
    raw = [row.get(f"ferplus_{name}", "") for name in FERPLUS_VOTES]
    if all(v.strip() == "" for v in raw):
        return None
    votes = [float(v) for v in raw]  # ValueError on garbage, caught by the caller
    best = max(votes)
    if votes.count(best) > 1:
        return ""
    return FERPLUS_VOTES[votes.index(best)]


def list_fer2013(root: Path, labels: str = "fer2013", classes: str = "six") -> Inventory:
    """List the FER2013 / FER+ layout described by ``root/labels.csv``.

    Args:
        labels: "fer2013" (original labels, column ``fer2013_label``) or "ferplus"
            (strict majority of the FER+ votes; ties, contempt, unknown and NF are dropped).
        classes: "six" (the paper's six) or "seven" (plus neutral); rows of other
            classes are dropped and counted.

    Raises:
        DatasetError: missing columns, labels outside the known set, unknown usage
            values or missing image files; the message names the CSV lines.
    """
    root = Path(root)
    if labels not in ("fer2013", "ferplus"):
        raise DatasetError(f"--labels: expected fer2013 or ferplus, got {labels!r}; pick one of them")
    if classes not in CLASS_SETS:
        raise DatasetError(f"--classes: expected six or seven, got {classes!r}; pick one of them")
    wanted = set(CLASS_SETS[classes])
    with open(root / "labels.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        needed = {"path", "usage"} | ({"fer2013_label"} if labels == "fer2013" else {f"ferplus_{v}" for v in FERPLUS_VOTES})
        if not needed <= columns:
            raise DatasetError(f"{root / 'labels.csv'}: expected columns {sorted(needed - columns)}, "
                               f"got {sorted(columns)}; use the FER2013/FER+ labels.csv format")
        rows = list(reader)
    present = _existing_files(root, {r["path"] for r in rows})
    bad_label, bad_usage, missing = [], [], []
    paths, names, usage = [], [], []
    dropped: dict[str, int] = {}
    ambiguous = 0
    for line, row in enumerate(rows, start=2):
        split = USAGE_TO_SPLIT.get(row["usage"].strip())
        if split is None:
            bad_usage.append(line)
            continue
        if labels == "fer2013":
            code = row["fer2013_label"].strip()
            if not code.isdigit() or int(code) >= len(FER2013_CODES):
                bad_label.append(line)
                continue
            name = FER2013_CODES[int(code)]
        else:
            try:
                vote = _ferplus_label(row)
            except ValueError:
                bad_label.append(line)
                continue
            if vote is None or vote == "":
                reason = "no FER+ votes" if vote is None else "FER+ vote tie"
                dropped[reason] = dropped.get(reason, 0) + 1
                continue
            if vote not in FERPLUS_TO_CLASS:
                dropped[f"FER+ majority {vote}"] = dropped.get(f"FER+ majority {vote}", 0) + 1
                continue
            name = FERPLUS_TO_CLASS[vote]
        if row["path"] not in present:
            missing.append(line)
            continue
        if split == "test":
            dropped["usage PrivateTest (held out)"] = dropped.get("usage PrivateTest (held out)", 0) + 1
            continue
        if name not in wanted:
            dropped[f"class {name} (not in --classes {classes})"] = dropped.get(f"class {name} (not in --classes {classes})", 0) + 1
            continue
        ambiguous += row.get("fer2013_label_ambiguous", "0").strip() == "1"
        paths.append(root / row["path"])
        names.append(name)
        usage.append(split)
    column = "fer2013_label (0..6)" if labels == "fer2013" else "ferplus_* votes (numbers)"
    if bad_label:
        raise DatasetError(f"{root / 'labels.csv'}: expected {column}, got unknown labels on {_rows_text(bad_label)}; "
                           "fix or remove those rows")
    if bad_usage:
        raise DatasetError(f"{root / 'labels.csv'}: expected usage Training, PublicTest or PrivateTest, got other values "
                           f"on {_rows_text(bad_usage)}; fix or remove those rows")
    if missing:
        raise DatasetError(f"{root / 'labels.csv'}: expected the listed image files, {len(missing)} are missing "
                           f"({_rows_text(missing)}); restore the files or remove those rows")
    notes = []
    if labels == "fer2013" and ambiguous:
        notes.append(f"{ambiguous} kept rows carry fer2013_label_ambiguous=1 (their original label is one of several "
                     "given to identical images); they are kept.")
    return Inventory(root, "fer2013", labels, paths, names, usage, [], dropped, notes, ambiguous)


def _existing_files(root: Path, relative: set[str]) -> set[str]:
    """The subset of ``relative`` paths that exist under ``root`` (one directory listing per folder)."""
    listed: dict[str, set[str]] = {}
    present = set()
    for rel in relative:
        folder, _, name = rel.rpartition("/")
        if folder not in listed:
            try:
                listed[folder] = {e.name for e in os.scandir(root / folder) if e.is_file()}
            except OSError:
                listed[folder] = set()
        if name in listed[folder]:
            present.add(rel)
    return present


def read_inventory(root: Path, labels: str = "fer2013", classes: str = "six") -> Inventory:
    """Pick the layout of ``root`` (``labels.csv`` => FER2013) and list it."""
    root = Path(root)
    if is_fer2013_layout(root):
        return list_fer2013(root, labels, classes)
    return list_class_folders(root)


def decode_image(data: bytes, color: str) -> np.ndarray | None:
    """Decode encoded image bytes to uint8 (H, W, 3) BGR (``color="bgr"``) or (H, W) grey.

    Any channel count and bit depth is converted (grey -> BGR, BGRA -> BGR, 16-bit -> 8-bit).
    Returns None when OpenCV cannot decode the bytes.
    """
    flag = cv2.IMREAD_GRAYSCALE if color == "gray" else cv2.IMREAD_COLOR
    buffer = np.frombuffer(data, np.uint8)
    if buffer.size == 0:
        return None
    image = cv2.imdecode(buffer, flag)
    if image is None or image.size == 0:
        return None
    return image


def fit_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``image`` to ``size`` = (H, W) without rotation, the unaligned path.

    It is the runtime's ``align_face`` with level eyes and no box, so aligned and
    unaligned images are resampled the same way (a non-square image is fitted by
    its longer side and the rest is filled by edge replication).

    Returns (H, W) or (H, W, 3) uint8, same channels as ``image``.
    """
    h, w = size
    if image.shape[0] == h and image.shape[1] == w:
        return image
    return align_face(image, (0.0, 0.0), (1.0, 0.0), None, out_size=(w, h))


@dataclass
class Scan:
    """Result of :func:`scan_images`.

    Attributes:
        images: (N, H, W, C) uint8, BGR or grey, fitted to the model size; zeros where ``ok`` is False.
        sha1: hex SHA-1 of each file's bytes ("" where unreadable).
        ok: (N,) bool, the file was read and decoded.
        errors: (path, reason) of every file that could not be used.
        shapes: (N, 3) int32 decoded (H, W, C) before resizing (0 where not ok).
    """

    images: np.ndarray
    sha1: list[str]
    ok: np.ndarray
    errors: list[tuple[str, str]]
    shapes: np.ndarray


def _scan_one(path: Path, color: str, size: tuple[int, int]):
    """(sha1, fitted image or None, decoded shape or None, error or None) of one file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return "", None, None, f"unreadable ({exc.strerror or exc})"
    digest = hashlib.sha1(data).hexdigest()
    image = decode_image(data, color)
    if image is None:
        return digest, None, None, "not a decodable image (corrupt or unsupported)"
    shape = (image.shape[0], image.shape[1], 1 if image.ndim == 2 else image.shape[2])
    return digest, fit_image(image, size), shape, None


def scan_images(paths: Sequence[Path], color: str = "bgr", size: tuple[int, int] = (96, 96), workers: int = 4,
                progress: Progress | None = None, chunk: int = 512) -> Scan:
    """Hash, decode and fit every file once, in a thread pool.

    Args:
        paths: N image files.
        color: "bgr" (C = 3, OpenCV order) or "gray" (C = 1).
        size: (H, W) of the output images.
        workers: threads (OpenCV decode and SHA-1 release the GIL).
        progress: called as ``progress(done, N)`` after each chunk.

    Returns:
        a :class:`Scan`; unusable files are listed in ``errors``, never raised.
    """
    n = len(paths)
    channels = 1 if color == "gray" else 3
    images = np.zeros((n, size[0], size[1], channels), np.uint8)
    sha1 = [""] * n
    ok = np.zeros(n, bool)
    shapes = np.zeros((n, 3), np.int32)
    errors: list[tuple[str, str]] = []

    def work(start: int) -> int:
        stop = min(start + chunk, n)
        for i in range(start, stop):
            digest, image, shape, error = _scan_one(Path(paths[i]), color, size)
            sha1[i] = digest
            if error is None:
                images[i] = image.reshape(size[0], size[1], channels)
                shapes[i] = shape
                ok[i] = True
            else:
                errors.append((str(paths[i]), error))
        return stop - start

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for count in pool.map(work, range(0, n, chunk)):
            done += count
            if progress is not None:
                progress(done, n)
    errors.sort()
    return Scan(images, sha1, ok, errors, shapes)
