"""The value types that travel between pipeline stages.

``Faces`` is a struct of arrays for all faces of one frame. Coordinates are in
pixels of the *original* frame (x to the right, y down, origin top-left).
Keypoints follow the detector-independent order in ``KEYPOINT_NAMES``, where
"left"/"right" mean the left/right side *of the image* (so for a face looking at
the camera, ``image_left_eye`` is the person's right eye).

Stages never mutate a ``Faces``; they return a new one (``replace``/``select``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

KEYPOINT_NAMES = ("image_left_eye", "image_right_eye")
DEFAULT_FPS = 30.0
"""The frame rate assumed wherever a source or its time stamps do not say (a container without a rate, a
repeated stamp, frames given without times)."""
"""Keypoints every detector must provide, in this order; detectors may add more after them."""


def _check(name: str, array: np.ndarray, shape: tuple) -> None:
    """Raise ValueError naming the field unless ``array`` matches ``shape`` (None = any)."""
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        wanted = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"Faces.{name}: expected shape {wanted}, got {array.shape}")


@dataclass(frozen=True)
class Faces:
    """All faces of one frame.

    Attributes:
        boxes: (n, 4) float32, xyxy in frame pixels.
        scores: (n,) float32 detector confidence in [0, 1].
        keypoints: (n, k, 2) float32 (x, y) frame pixels, k >= 2, first two as in KEYPOINT_NAMES.
        track_ids: (n,) int64, -1 where no tracker has assigned an id yet.
        raw_probs: (n, C) float32 class probabilities of this frame alone, or None before classification.
        probs: (n, C) float32 temporally smoothed probabilities, or None before smoothing.
        label_ids: (n,) int64 class index shown per face (the temporal stage's steady label,
            not always the argmax of ``probs``), or None: then the argmax of ``shown_probs``.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray
    track_ids: np.ndarray = field(default=None)  # type: ignore[assignment]
    raw_probs: np.ndarray | None = None
    probs: np.ndarray | None = None
    label_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        set_("boxes", np.asarray(self.boxes, np.float32).reshape(-1, 4))
        n = len(self.boxes)
        set_("scores", np.asarray(self.scores, np.float32))
        set_("keypoints", np.asarray(self.keypoints, np.float32))
        if self.keypoints.size == 0 and self.keypoints.ndim != 3:
            set_("keypoints", self.keypoints.reshape(n, len(KEYPOINT_NAMES), 2))
        ids = np.full(n, -1, np.int64) if self.track_ids is None else np.asarray(self.track_ids, np.int64)
        set_("track_ids", ids)
        _check("scores", self.scores, (n,))
        _check("keypoints", self.keypoints, (n, None, 2))
        _check("track_ids", self.track_ids, (n,))
        if self.keypoints.shape[1] < len(KEYPOINT_NAMES):
            raise ValueError(f"Faces.keypoints: expected at least {len(KEYPOINT_NAMES)} keypoints, got {self.keypoints.shape[1]}")
        for name in ("raw_probs", "probs"):
            value = getattr(self, name)
            if value is not None:
                set_(name, np.asarray(value, np.float32))
                _check(name, getattr(self, name), (n, None))
        if self.label_ids is not None:
            set_("label_ids", np.asarray(self.label_ids, np.int64).reshape(-1))
            _check("label_ids", self.label_ids, (n,))

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def empty(cls, num_keypoints: int = len(KEYPOINT_NAMES)) -> "Faces":
        """A frame without faces."""
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros((0, num_keypoints, 2)))

    def replace(self, **changes) -> "Faces":
        """A copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    def select(self, index) -> "Faces":
        """The faces picked by a boolean mask or an integer index array."""
        pick = lambda a: None if a is None else a[index]  # noqa: E731
        return Faces(self.boxes[index], self.scores[index], self.keypoints[index], self.track_ids[index],
                     pick(self.raw_probs), pick(self.probs), pick(self.label_ids))

    @property
    def shown_probs(self) -> np.ndarray | None:
        """(n, C) float32 probabilities to report: the smoothed ones, else the raw ones, else None."""
        return self.probs if self.probs is not None else self.raw_probs

    @property
    def held(self) -> np.ndarray:
        """(n,) bool: the shown label (``label_ids``) is not the argmax of ``shown_probs``, i.e. the temporal stage
        holds it on the evidence of other frames (all False without ``label_ids`` or probabilities)."""
        probs = self.shown_probs
        if self.label_ids is None or probs is None or not len(self):
            return np.zeros(len(self), bool)
        return self.label_ids != probs.argmax(axis=1)

    @property
    def eyes(self) -> tuple[np.ndarray, np.ndarray]:
        """(image-left eyes (n, 2), image-right eyes (n, 2)) in frame pixels."""
        return self.keypoints[:, 0], self.keypoints[:, 1]


@dataclass(frozen=True)
class FrameResult:
    """What the recognizer returns for one frame.

    Attributes:
        index: 0-based frame number within its source.
        time_ms: presentation time of the frame in milliseconds (source clock).
        faces: the faces found, with track ids and probabilities.
        labels: class names, in the order of the probability columns.
        timings_ms: wall time per stage for this frame, e.g. {"detect": 4.1, "classify": 0.4}.
    """

    index: int
    time_ms: float
    faces: Faces
    labels: tuple[str, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)

    def top(self) -> list[tuple[str, float]]:
        """(label, confidence) per face: the temporal stage's shown label (``faces.label_ids``, else the
        argmax) and its smoothed (or, failing that, raw) probability."""
        probs = self.faces.shown_probs
        if probs is None:
            return []
        best = self.faces.label_ids if self.faces.label_ids is not None else probs.argmax(axis=1)
        return [(self.labels[i], float(probs[k, i])) for k, i in enumerate(best)]
