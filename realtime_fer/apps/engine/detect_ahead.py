"""``DetectAhead``: face detection of upcoming frames on worker threads (file modes)."""

from __future__ import annotations

import collections
import queue
import time
from concurrent.futures import ThreadPoolExecutor


class DetectAhead:
    """Runs face detection for upcoming frames on worker threads (file modes only).

    Detection is the one stateless, expensive stage, so frames N+1..N+k can be detected
    while the loop tracks, classifies and draws frame N. ``detections_for(frame)`` returns
    the result computed ahead for that very array (matched by identity), which the loop
    passes to ``Recognizer.process(..., detections=...)``. A frame that was not submitted
    is detected synchronously, so results never differ from the plain path; after repeated
    misses look-ahead switches itself off. With ``every = N`` only every N-th submitted
    frame is detected; ``detections_for`` returns None for the others, which the loop
    processes with ``coast=True`` (tracks move on without a detection).

    Discovery (``discovery``: the recognizer's ``core.discovery.InlineDiscovery``, whose slow detector and cache are
    used here instead of in ``Recognizer.process``): on the detected frames that ``DiscoveryCache.due`` picks (about
    every ``settings.every`` frames) the slow detector runs too, on the same threads; ``detections_for`` then returns
    the fast faces plus the carried discovered ones (``DiscoveryCache.combine``), the cache updated in frame order
    whatever order the threads finish in. ``Recognizer.reset()`` clears that same cache.

    Args:
        detector: the recognizer's detector (borrowed, not closed here).
        extra_detectors: more detector instances (same settings, owned and closed here) so
            that several frames are detected in parallel; each worker uses one at a time.
    """

    MAX_MISSES = 8

    def __init__(self, detector, extra_detectors=(), every: int = 1, discovery=None):
        self._extra = list(extra_detectors)
        self._free: queue.Queue = queue.Queue()  # detectors not in use; get() waits for one
        for each in (detector, *self._extra):
            self._free.put(each)
        self._pool = ThreadPoolExecutor(max_workers=1 + len(self._extra), thread_name_prefix="fer-detect")
        self._pending: collections.deque = collections.deque()
        self.misses = 0
        self.last_detect_ms = 0.0
        self.every = max(int(every), 1)
        self._submitted = 0
        self._slow, self._cache = (discovery.detector, discovery.cache) if discovery is not None else (None, None)

    @property
    def active(self) -> bool:
        return self.misses < self.MAX_MISSES and self._pool is not None

    def _detect(self, image):
        """(Faces, ms) from whichever detector is free (each detector serves one call at a time)."""
        detector = self._free.get()
        try:
            start = time.perf_counter()
            faces = detector.detect(image)
            return faces, (time.perf_counter() - start) * 1e3
        finally:
            self._free.put(detector)

    def submit(self, image) -> None:
        """Start detecting ``image`` (an (H, W, 3) uint8 BGR frame about to be processed)."""
        if self.active:
            due = self._submitted % self.every == 0
            slow = due and self._cache is not None and self._cache.due(self._submitted)
            self._submitted += 1
            self._pending.append((image, self._pool.submit(self._detect, image) if due else None,
                                  self._pool.submit(self._slow.detect, image) if slow else None))

    def detections_for(self, frame):
        """Faces of ``frame``: the look-ahead result when it was submitted, None when it was submitted
        but is not due for detection (``every``), else a direct detection."""
        match = next((i for i, (image, *_) in enumerate(self._pending) if image is frame), None)
        if match is not None:
            for _ in range(match):  # frames that were submitted but never processed
                for future in self._pending.popleft()[1:]:
                    if future is not None:
                        future.cancel()
            _, future, slow = self._pending.popleft()
            if future is None:
                self.last_detect_ms = 0.0
                return None
            faces, self.last_detect_ms = future.result()
            if self._cache is None:
                return faces
            if slow is not None:
                self._cache.update(slow.result())
            return self._cache.combine(faces)
        self.misses += 1
        faces, self.last_detect_ms = self._detect(frame)
        return faces if self._cache is None else self._cache.combine(faces)  # eye keypoints, as the others

    def close(self) -> None:
        """Wait for the workers and close the extra detectors."""
        if self._pool is None:
            return
        for _, *futures in self._pending:
            for future in futures:
                if future is not None:
                    future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)
        self._pool = None
        for detector in self._extra:
            detector.close()


