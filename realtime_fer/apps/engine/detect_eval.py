"""Face-detection recall against boxed faces, with one matching rule (no printing; ``benchmarks/eval_detect.py``
prints the table).

A labelled face is *found* when a detection has IoU >= 0.3 with its box, or the detection's centre lies inside the
box and its area is 0.2-2.5x the box's; each detection finds at most one face (an optimal one-to-one assignment).
The loose rule suits FDDB, whose boxes bound chin-to-forehead ellipses and are taller than detector boxes.
Detections that find no face are *unmatched*: false positives on FDDB (every face is labelled there, except
faces under ~20 px), mostly unlabelled real faces elsewhere.

Label files are CSVs with ``path`` (relative to the CSV's folder) and ``x1, y1, x2, y2`` (pixels) per face.
"""

from __future__ import annotations

import csv
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...core.track import assign, iou_matrix

MIN_IOU = 0.3
AREA_RATIO = (0.2, 2.5)


def match_ok(truth: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 4) labelled and (m, 4) detected xyxy boxes -> ((n, m) bool: the pair may match, (n, m) float32 IoU)."""
    iou = iou_matrix(truth, found)
    if iou.size == 0:
        return iou.astype(bool), iou
    centre = (found[:, :2] + found[:, 2:]) / 2
    inside = ((centre[None, :, 0] >= truth[:, None, 0]) & (centre[None, :, 0] <= truth[:, None, 2])
              & (centre[None, :, 1] >= truth[:, None, 1]) & (centre[None, :, 1] <= truth[:, None, 3]))
    area = lambda b: np.maximum((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), 1e-6)  # noqa: E731
    ratio = area(found)[None, :] / area(truth)[:, None]
    return (iou >= MIN_IOU) | (inside & (ratio >= AREA_RATIO[0]) & (ratio <= AREA_RATIO[1])), iou


def count_matches(truth: np.ndarray, found: np.ndarray) -> int:
    """How many labelled faces a one-to-one assignment of detections finds (the most possible, ties by IoU)."""
    ok, iou = match_ok(np.asarray(truth, np.float32).reshape(-1, 4), np.asarray(found, np.float32).reshape(-1, 4))
    return len(assign(ok, iou)[0])


def tally(pairs) -> tuple[int, int, int]:
    """(labelled faces, found, unmatched detections) over ``pairs`` of ((n, 4) labelled, (m, 4) detected) xyxy
    boxes, each pair matched by ``count_matches``."""
    faces = found = unmatched = 0
    for truth, detected in pairs:
        hits = count_matches(truth, detected)
        faces, found, unmatched = faces + len(truth), found + hits, unmatched + len(detected) - hits
    return faces, found, unmatched


def load_boxes(labels_csv: str | Path) -> OrderedDict[Path, np.ndarray]:
    """image path -> (n, 4) float32 xyxy labelled boxes, in the CSV's order."""
    labels_csv = Path(labels_csv)
    images: OrderedDict[Path, list] = OrderedDict()
    with open(labels_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            box = [float(row[k]) for k in ("x1", "y1", "x2", "y2")]
            images.setdefault(labels_csv.parent / row["path"], []).append(box)
    return OrderedDict((path, np.array(boxes, np.float32)) for path, boxes in images.items())


@dataclass(frozen=True)
class RecallResult:
    """One detector on one set: ``found`` of ``faces`` over ``images``, ``unmatched`` detections in all,
    ``ms`` median detection time per image."""

    images: int
    faces: int
    found: int
    unmatched: int
    ms: float

    @property
    def recall(self) -> float:
        return self.found / max(self.faces, 1)

    @property
    def unmatched_per_image(self) -> float:
        return self.unmatched / max(self.images, 1)


def measure_recall(detector, images: OrderedDict, every: int = 1) -> RecallResult:
    """Run ``detector`` (``detect(bgr) -> Faces``) on every ``every``-th image of ``load_boxes``'s mapping."""
    import cv2

    times = []
    chosen = list(images.items())[::every]

    def detected():
        for path, truth in chosen:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise FileNotFoundError(f"{path}: expected an image, got nothing readable")
            start = time.perf_counter()
            boxes = detector.detect(image).boxes
            times.append((time.perf_counter() - start) * 1000.0)
            yield truth, boxes

    faces, found, unmatched = tally(detected())
    return RecallResult(len(chosen), faces, found, unmatched, float(np.median(times)) if times else 0.0)


def count_false_faces(detector, frames) -> tuple[int, int]:
    """(detections, frames with any detection) of ``detector`` over ``frames`` (BGR arrays) that hold no face."""
    total = with_any = 0
    for frame in frames:
        n = len(detector.detect(frame))
        total, with_any = total + n, with_any + (n > 0)
    return total, with_any
