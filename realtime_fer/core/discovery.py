"""Discovery: a slow detector that finds small faces, run now and then beside a fast one that runs every frame.

BlazeFace short (the fast detector) finds faces that fill a webcam frame in ~1-2 ms; CenterFace (the slow one)
also finds small, distant and turned faces, at ~10x the cost. A *discovery pass* runs the slow detector every
``every`` frames (files: on the look-ahead thread, ``apps.engine.detect_ahead``) or, for a live stream, at most
every ``period_s`` seconds on a thread of its own beside the frame loop (``BackgroundDiscovery``): the frame loop
never waits for it. What it found is kept (``DiscoveryCache``) and added, on every frame the fast detector runs,
to the fast detector's faces (``merge``): the tracker then sees each small face on every detection round, at the
box of its last sighting, and keeps its track id; a face that the fast detector also finds is shown at the fast
detector's box (and the cache follows it there).

All boxes are xyxy frame pixels; the merged ``Faces`` carry only the two eye keypoints (``faces.KEYPOINT_NAMES``),
the points every detector shares, so faces of either detector can be tracked together.
"""

from __future__ import annotations

import threading
import time
import numpy as np

from .faces import KEYPOINT_NAMES, Faces
from .presets import DiscoverySettings
from .track import assign, iou_matrix

MERGE_IOU = 0.3
"""A discovered face overlapping a fast detection by this IoU (or with its centre inside it) is the same face."""


def discovery_size(width: int, height: int) -> int:
    """The slow detector's input side for a (width, height) frame: half the longest side, at least 320 (a multiple
    of 32). A 20 px face (the video modes' smallest) is then 10 px in the network input, which CenterFace still
    finds; 1280x720 runs at 640 (~20 ms on one core here), 640x360 at 320 (~5 ms)."""
    return max(320, int(round(max(width, height) / 2 / 32)) * 32)


def eyes_only(faces: Faces) -> Faces:
    """``faces`` with only the keypoints every detector shares (the two eyes)."""
    return faces.replace(keypoints=faces.keypoints[:, :len(KEYPOINT_NAMES)])


def same_faces(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, 4), (m, 4) xyxy -> (n, m) bool: the boxes may show the same face: IoU >= ``MERGE_IOU``, or each box's
    centre lies inside the other (BlazeFace and CenterFace draw different boxes around one face; a BlazeFace box
    spanning two neighbours holds their centres, but they do not hold its centre)."""
    return _same_and_iou(a, b)[0]


def _same_and_iou(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(``same_faces``, IoU), both (n, m)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), bool), np.zeros((len(a), len(b)), np.float32)
    inside = lambda box, point: ((point[None, :, 0] >= box[:, None, 0]) & (point[None, :, 0] <= box[:, None, 2])  # noqa: E731
                                 & (point[None, :, 1] >= box[:, None, 1]) & (point[None, :, 1] <= box[:, None, 3]))
    centre_a, centre_b = (a[:, :2] + a[:, 2:]) / 2, (b[:, :2] + b[:, 2:]) / 2
    iou = iou_matrix(a, b)
    return (iou >= MERGE_IOU) | (inside(a, centre_b) & inside(b, centre_a).T), iou


def pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, 4), (m, 4) xyxy -> (n,) int: the box of ``b`` that each box of ``a`` is the same face as (``same_faces``),
    -1 for none; one to one (an optimal assignment, ties by IoU)."""
    which = np.full(len(a), -1, np.int64)
    rows, cols = assign(*_same_and_iou(a, b))
    which[rows] = cols
    return which


def merge(fast: Faces, found: Faces) -> tuple[Faces, np.ndarray]:
    """(fast's faces plus the faces of ``found`` that are none of them, the (m,) index into ``fast`` of the face each
    ``found`` face is, -1 for none). Eye keypoints only (``eyes_only``)."""
    fast, found = eyes_only(fast), eyes_only(found)
    which = pair(found.boxes, fast.boxes)
    return _joined(fast, found.select(which < 0)), which


def _joined(first: Faces, second: Faces) -> Faces:
    """``first``'s faces then ``second``'s (boxes, scores, keypoints)."""
    return Faces(np.concatenate([first.boxes, second.boxes]), np.concatenate([first.scores, second.scores]),
                 np.concatenate([first.keypoints, second.keypoints]))


class DiscoveryCache:
    """The faces of the last discovery pass, carried between passes (no model, no threads: the cadence logic).

    ``due(index)``: whether frame ``index`` of a file gets a pass (every ``settings.every`` frames).
    ``update(found)``: a pass's faces replace the cache (faces of the previous pass not found again survive
    ``settings.keep - 1`` more passes). ``combine(fast)``: the fast detector's faces of a frame plus the cached
    faces none of them is; a cached face that a fast face is moves to that face's box, and once the fast detector
    has found it, it is the fast detector's to keep: the first frame that detector no longer finds it, it leaves the
    cache (the tracker's ``max_missed`` still bridges a missed frame or two). So only the faces the fast detector
    cannot find (small, turned) are carried between passes, and a face that leaves the shot or a one-frame flicker
    is not held until the next pass.
    """

    def __init__(self, settings: DiscoverySettings = DiscoverySettings()):
        self.settings = settings
        self._faces = Faces.empty()
        self._ages = np.zeros(0, np.int64)
        self._seen = np.zeros(0, bool)  # the fast detector found it since it was discovered
        self._next = 0

    def __len__(self) -> int:
        return len(self._faces)

    @property
    def faces(self) -> Faces:
        return self._faces

    def due(self, index: int) -> bool:
        """Whether frame ``index`` (increasing; only frames the fast detector runs on are asked) gets a pass: the
        first frame asked at or after each multiple of ``settings.every``."""
        if index < self._next:
            return False
        self._next = (index // self.settings.every + 1) * self.settings.every
        return True

    def update(self, found: Faces) -> None:
        found = eyes_only(found)
        alive = self._ages + 1 < self.settings.keep
        old, ages, seen = self._faces.select(alive), self._ages[alive] + 1, self._seen[alive]
        kept = ~same_faces(old.boxes, found.boxes).any(axis=1) if len(found) else np.ones(len(old), bool)
        self._faces = _joined(found, old.select(kept))
        self._ages = np.concatenate([np.zeros(len(found), np.int64), ages[kept]])
        self._seen = np.concatenate([np.zeros(len(found), bool), seen[kept]])

    def clear(self) -> None:
        self._faces, self._ages, self._seen, self._next = Faces.empty(), np.zeros(0, np.int64), np.zeros(0, bool), 0

    def combine(self, fast: Faces) -> Faces:
        """(n, ...) fast faces -> the frame's faces (eye keypoints only); see the class docstring."""
        fast = eyes_only(fast)
        which = pair(self._faces.boxes, fast.boxes)
        keep = (which >= 0) | ~self._seen  # found now, or never found by the fast detector
        boxes, points = self._faces.boxes.copy(), self._faces.keypoints.copy()
        boxes[which >= 0], points[which >= 0] = fast.boxes[which[which >= 0]], fast.keypoints[which[which >= 0]]
        self._faces = self._faces.replace(boxes=boxes, keypoints=points).select(keep)
        self._seen, self._ages = (self._seen | (which >= 0))[keep], self._ages[keep]
        return _joined(fast, self._faces.select(which[keep] < 0))  # the cached faces no fast face is


class InlineDiscovery:
    """Discovery inside the caller's frame loop (files): a pass on the frames ``DiscoveryCache.due`` picks.

    The same interface as ``BackgroundDiscovery``: ``step(frame, fast, index)``, ``reset()``, ``wait()``;
    ``detector`` and ``cache`` are what ``apps.engine.detect_ahead`` runs on its look-ahead threads instead.
    """

    def __init__(self, detector, settings: DiscoverySettings = DiscoverySettings()):
        self.detector, self.settings = detector, settings
        self.cache = DiscoveryCache(settings)

    def step(self, frame: np.ndarray, fast: Faces, index: int) -> Faces:
        """(H, W, 3) uint8 BGR frame ``index`` and its fast faces -> the frame's faces (a pass first when due)."""
        if self.cache.due(index):
            self.cache.update(self.detector.detect(frame))
        return self.cache.combine(fast)

    def reset(self) -> None:
        self.cache.clear()

    def wait(self, timeout: float = 5.0) -> None:
        """Nothing runs beside the caller."""


class FrameSized:
    """Wraps a CenterFace detector: each frame runs at ``discovery_size`` of its own size (``size`` None), or at
    ``size``; ``detect`` as the wrapped detector's, one call at a time (the streams of a server share one)."""

    def __init__(self, detector, size: int | None = None):
        self.detector, self.size = detector, size
        self.provider = getattr(detector, "provider", None)
        self._lock = threading.Lock()

    def detect(self, frame: np.ndarray) -> Faces:
        with self._lock:
            self.detector.size = self.size or discovery_size(frame.shape[1], frame.shape[0])
            return self.detector.detect(frame)

    def close(self) -> None:
        self.detector.close()


def open_discovery_detector(settings: DiscoverySettings, provider: str = "auto", min_confidence: float = 0.5,
                            min_size: float = 0.0):
    """The slow detector of ``settings``: CenterFace on ``provider`` (CUDA when that resolves to CUDA), one CPU
    thread (it runs beside the frame loop), sized per frame (``FrameSized``), faces narrower than ``min_size`` px
    dropped."""
    from .centerface import CenterFaceDetector
    from .detect import MinSizeFilter

    if settings.detector != "centerface":
        raise ValueError(f"discovery detector: expected 'centerface', got {settings.detector!r}")
    detector = FrameSized(CenterFaceDetector(None, min_confidence, provider, threads=1), settings.size)
    return MinSizeFilter(detector, min_size) if min_size > 0 else detector


class BackgroundDiscovery:
    """Discovery for a live stream: the slow detector runs on its own thread, on the newest frame it was offered,
    at most every ``settings.period_s`` seconds; ``step(frame, fast)`` never waits for it.

    Args:
        detector: the slow detector (``detect(bgr) -> Faces``; borrowed, not closed here).
        settings: ``DiscoverySettings``; clock: seconds (``time.monotonic``; a test passes its own).

    ``step`` returns the fast faces plus the faces the last finished pass found (``DiscoveryCache.combine``). A
    copy made with ``copy.deepcopy`` shares the detector and starts with an empty cache and no thread (one per
    stream of a server).
    """

    def __init__(self, detector, settings: DiscoverySettings = DiscoverySettings(), clock=time.monotonic):
        self.detector, self.settings, self.clock = detector, settings, clock
        self.cache = DiscoveryCache(settings)
        self._lock = threading.Lock()
        self._result: Faces | None = None
        self._busy = False
        self._last_start = -np.inf
        self._thread: threading.Thread | None = None
        self.passes = 0

    def __deepcopy__(self, memo):
        memo[id(self.detector)] = self.detector  # shared with the copy of whatever else refers to it
        return BackgroundDiscovery(self.detector, self.settings, self.clock)

    def step(self, frame: np.ndarray, fast: Faces, index: int | None = None) -> Faces:
        """(H, W, 3) uint8 BGR frame and its fast faces -> the frame's faces; may start a pass on ``frame``
        (``index``: unused, the clock decides)."""
        with self._lock:
            result, self._result = self._result, None
            start = not self._busy and self.clock() - self._last_start >= self.settings.period_s
            if start:
                self._busy, self._last_start = True, self.clock()
        if result is not None:
            self.cache.update(result)
        if start:
            self._thread = threading.Thread(target=self._run, args=(frame.copy(),), name="fer-discover", daemon=True)
            self._thread.start()
        return self.cache.combine(fast)

    def _run(self, frame: np.ndarray) -> None:
        try:
            found = self.detector.detect(frame)
        except Exception:  # noqa: BLE001 - a failed pass finds nothing; the frame loop goes on
            found = Faces.empty()
        with self._lock:
            self._result, self._busy = found, False
            self.passes += 1

    def wait(self, timeout: float = 5.0) -> None:
        """Block until no pass is running, its thread ended (tests, and before the detector is closed)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def reset(self) -> None:
        self.wait()
        with self._lock:
            self._result = None
            self._last_start = -np.inf
        self.cache.clear()
