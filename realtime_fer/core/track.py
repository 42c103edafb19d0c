"""Track ids across frames by box overlap (IoU), with optimal one-to-one matching.

A track survives up to ``max_missed`` consecutive frames without a matching
detection, so a face that the detector misses briefly keeps its id. A new track is
*shown* only once it has been detected in ``min_hits`` detection rounds in a row
(``shown``): a false face that flickers for a frame or two never reaches the screen. Between
detections (``detect_every > 1`` in the pipeline) ``coast()`` returns the live
tracks at their constant-velocity predicted positions.

All coordinates are frame pixels, boxes xyxy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .faces import Faces


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of (n, 4) and (m, 4) xyxy boxes -> (n, m) float32."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return (inter / np.maximum(union, 1e-6)).astype(np.float32)


def assign(allowed: np.ndarray, iou: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) int arrays of a one-to-one assignment of the (n, m) ``allowed`` pairs: as many pairs as
    possible, ties broken by the larger IoU (``iou``, (n, m)); only allowed pairs are returned."""
    if not allowed.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows, cols = linear_sum_assignment(-(allowed * (1.0 + iou)))
    keep = allowed[rows, cols]
    return rows[keep], cols[keep]


@dataclass
class _Track:
    track_id: int
    box: np.ndarray  # (4,) float32
    keypoints: np.ndarray  # (k, 2) float32
    score: float
    velocity: np.ndarray  # (4,) px per frame, box corners
    missed: int = 0
    hits: int = 1  # detection rounds in a row that found it, until it is confirmed


class IouTracker:
    """Greedy-free (Hungarian) IoU tracker.

    Args:
        iou_threshold: minimum IoU for a detection to continue a track.
        max_missed: frames a track may go undetected before it is dropped.
        min_hits: detection rounds in a row a new track needs before ``shown`` lets it through (1: at once).
    """

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 5, min_hits: int = 1):
        if min_hits < 1:
            raise ValueError(f"min_hits: expected an integer >= 1, got {min_hits}")
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.min_hits = int(min_hits)
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._frames_since_update = 0

    @property
    def active_ids(self) -> set[int]:
        return {t.track_id for t in self._tracks}

    def reset(self) -> None:
        self._tracks.clear()
        self._next_id = 1

    def update(self, faces: Faces) -> Faces:
        """Match this frame's detections to tracks; returns ``faces`` with ``track_ids`` set."""
        steps = max(self._frames_since_update, 1)
        self._frames_since_update = 0
        predicted = np.array([t.box + t.velocity * steps for t in self._tracks], np.float32).reshape(-1, 4)
        overlap = iou_matrix(predicted, faces.boxes)
        rows, cols = linear_sum_assignment(-overlap) if overlap.size else (np.zeros(0, int), np.zeros(0, int))
        ids = np.full(len(faces), -1, np.int64)
        matched_tracks = set()
        for r, c in zip(rows, cols):
            if overlap[r, c] < self.iou_threshold:
                continue
            track = self._tracks[r]
            new_box = faces.boxes[c]
            track.velocity = 0.5 * track.velocity + 0.5 * (new_box - track.box) / steps
            if track.missed and track.hits < self.min_hits:
                track.hits = 0  # not yet confirmed and missed in between: start counting again
            track.box, track.keypoints, track.score, track.missed = new_box.copy(), faces.keypoints[c].copy(), float(faces.scores[c]), 0
            track.hits += 1
            ids[c] = track.track_id
            matched_tracks.add(r)
        for r, track in enumerate(self._tracks):
            if r not in matched_tracks:
                track.missed += steps
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        for c in np.flatnonzero(ids < 0):
            track = _Track(self._next_id, faces.boxes[c].copy(), faces.keypoints[c].copy(), float(faces.scores[c]),
                           np.zeros(4, np.float32))
            self._tracks.append(track)
            ids[c] = track.track_id
            self._next_id += 1
        return faces.replace(track_ids=ids)

    def shown(self, faces: Faces) -> Faces:
        """The faces of ``faces`` (track ids from ``update``/``coast``) whose tracks are confirmed (``min_hits``)."""
        if self.min_hits <= 1 or len(faces) == 0:
            return faces
        confirmed = {t.track_id for t in self._tracks if t.hits >= self.min_hits}
        return faces.select(np.array([i in confirmed for i in faces.track_ids.tolist()], bool))

    def coast(self) -> Faces:
        """Faces of the tracks seen at the last detection, moved along their velocity by one more frame."""
        self._frames_since_update += 1
        live = [t for t in self._tracks if t.missed == 0]
        if not live:
            return Faces.empty(self._tracks[0].keypoints.shape[0] if self._tracks else 2)
        shift = [t.velocity * self._frames_since_update for t in live]
        boxes = np.array([t.box + s for t, s in zip(live, shift)], np.float32)
        keypoints = np.array([t.keypoints + (s[:2] + s[2:]) / 2 for t, s in zip(live, shift)], np.float32)
        return Faces(boxes, np.array([t.score for t in live], np.float32), keypoints,
                     np.array([t.track_id for t in live], np.int64))
