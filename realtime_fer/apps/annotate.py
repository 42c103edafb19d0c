"""The processing loop shared by every mode: source -> recognizer -> overlay -> sinks.

Threads (file mode): the source decodes on its reader thread into a bounded queue,
this loop runs recognition and drawing on the calling thread, and ``VideoSink``
encodes on its writer thread from another bounded queue, so decode, inference and
encode overlap and memory stays flat.  CSV/JSONL rows are written here, one
``write`` + flush per frame.

Delay (``delay``: a ``core.lagged.LaggedFilter``, the offline temporal filter of ``--video``):
each recognized frame and its result wait in the filter's bounded queue until ``lag_s``
seconds of later frames are known, and are then drawn and written, in order. Without a
delay (live / off) frames are drawn and written as soon as they are recognized.

Stopping: the loop ends at end of stream, when ``stop`` (a ``threading.Event``, set
e.g. by a SIGINT/SIGTERM handler) is set, when ``on_frame`` returns False, or on an
exception.  In every case the frames still waiting in the delay are filtered with what
is known and written, then the source is closed and every sink is finalized (queued
frames encoded, the MP4 index written, table files closed), so outputs are valid up
to the last processed frame.
"""

from __future__ import annotations

import collections
import dataclasses
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..core.faces import FrameResult
from .overlay import Overlay, hud_lines
from ..io.sources import SourceFrame

STAGE_ORDER = ("decode", "detect", "track", "align", "classify", "smooth", "offline_filter", "draw", "encode")


class StageTimer:
    """Per-stage wall times in ms, each kept in a fixed-size ring (memory stays flat).

    Thread-safe: the writer thread adds "encode" while the loop adds the rest.
    Statistics cover the last ``capacity`` samples of each stage.
    """

    def __init__(self, capacity: int = 8192):
        self.capacity = int(capacity)
        self._rings: dict[str, np.ndarray] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            ring = self._rings.get(stage)
            if ring is None:
                ring = self._rings[stage] = np.zeros(self.capacity, np.float64)
                self._counts[stage] = 0
            ring[self._counts[stage] % self.capacity] = ms
            self._counts[stage] += 1

    def add_many(self, timings: dict[str, float]) -> None:
        for stage, ms in timings.items():
            self.add(stage, ms)

    def samples(self, stage: str) -> np.ndarray:
        """The retained samples of ``stage`` (unordered copy; empty if never recorded)."""
        with self._lock:
            if stage not in self._rings:
                return np.zeros(0)
            return self._rings[stage][:min(self._counts[stage], self.capacity)].copy()

    def count(self, stage: str) -> int:
        return self._counts.get(stage, 0)

    def stages(self) -> list[str]:
        """Recorded stages, STAGE_ORDER first, then any others in insertion order."""
        known = [s for s in STAGE_ORDER if s in self._rings]
        return known + [s for s in self._rings if s not in STAGE_ORDER]

    def summary(self) -> dict[str, dict[str, float]]:
        """``{stage: {"median_ms", "p95_ms", "count"}}`` over the retained samples."""
        out = {}
        for stage in self.stages():
            values = self.samples(stage)
            out[stage] = {"median_ms": round(float(np.median(values)), 4),
                          "p95_ms": round(float(np.percentile(values, 95)), 4), "count": self.count(stage)}
        return out


class RateMeter:
    """Exponentially smoothed events per second (for the fps readout)."""

    def __init__(self, alpha: float = 0.1):
        self.alpha, self.rate, self._last = alpha, None, None

    def tick(self, now: float | None = None) -> float | None:
        now = time.perf_counter() if now is None else now
        if self._last is not None and now > self._last:
            instant = 1.0 / (now - self._last)
            self.rate = instant if self.rate is None else self.rate + self.alpha * (instant - self.rate)
        self._last = now
        return self.rate


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

    Args:
        detector: the recognizer's detector (borrowed, not closed here).
        extra_detectors: more detector instances (same settings, owned and closed here) so
            that several frames are detected in parallel; each worker uses one at a time.
    """

    MAX_MISSES = 8

    def __init__(self, detector, extra_detectors=(), every: int = 1):
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
            self._submitted += 1
            self._pending.append((image, self._pool.submit(self._detect, image) if due else None))

    def detections_for(self, frame):
        """Faces of ``frame``: the look-ahead result when it was submitted, None when it was submitted
        but is not due for detection (``every``), else a direct detection."""
        match = next((i for i, (image, _) in enumerate(self._pending) if image is frame), None)
        if match is not None:
            for _ in range(match):  # frames that were submitted but never processed
                future = self._pending.popleft()[1]
                if future is not None:
                    future.cancel()
            future = self._pending.popleft()[1]
            if future is None:
                self.last_detect_ms = 0.0
                return None
            faces, self.last_detect_ms = future.result()
            return faces
        self.misses += 1
        faces, self.last_detect_ms = self._detect(frame)
        return faces

    def close(self) -> None:
        """Wait for the workers and close the extra detectors."""
        if self._pool is None:
            return
        for _, future in self._pending:
            if future is not None:
                future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)
        self._pool = None
        for detector in self._extra:
            detector.close()


@dataclass
class RunStats:
    """What a run did.

    Attributes:
        frames: frames processed; faces: face detections summed over frames;
        rows: table rows written; dropped: stale camera frames skipped;
        wall_s: loop wall time; end_reason: "eof", "stopped", "quit", "stalled (...)", "error: ...", "max_frames";
        fps: smoothed processing rate; latency_ms: last frame's processing latency
        (recognize + draw); last_result: the last FrameResult; timer: per-stage timings.
    """

    frames: int = 0
    faces: int = 0
    rows: int = 0
    dropped: int = 0
    wall_s: float = 0.0
    end_reason: str = ""
    fps: float | None = None
    latency_ms: float | None = None
    last_result: FrameResult | None = None
    timer: StageTimer = field(default_factory=StageTimer)

    @property
    def mean_fps(self) -> float:
        """Frames per second over the whole run."""
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


def run(source, recognizer, *, overlay: Overlay | None = None, video=None, tables=(), images=None,
        on_frame: Callable[[SourceFrame, FrameResult, RunStats], bool | None] | None = None,
        progress: Callable[[int], None] | None = None, stop: threading.Event | None = None,
        hud: bool = False, reset_each_frame: bool = False, timer: StageTimer | None = None,
        ahead: DetectAhead | None = None, lookahead: int = 4, delay=None) -> RunStats:
    """Process every frame of ``source`` and feed the sinks; always finalizes them.

    Args:
        source: a ``sources`` object (``frames(stop)``, ``close()``, ``end_reason``).
        recognizer: ``Recognizer`` (or anything with ``process(image, index, time_ms)``).
        overlay: draws onto each frame before it reaches ``video``/``images``/``on_frame``.
        video: ``VideoSink`` or None; tables: ``CsvSink``/``JsonlSink``s; images: ``ImageSink`` or None.
        on_frame: called after drawing with (frame, result, stats); return False to stop (e.g. "q" pressed).
        progress: called with the number of frames written after each frame.
        stop: set from another thread or a signal handler to stop after the current frame.
        hud: draw the fps / latency / faces HUD.
        reset_each_frame: forget tracks between frames (unrelated still images).
        timer: collects stage timings; pass the one ``VideoSink(timer=...)`` reports "encode" into.
        ahead: a ``DetectAhead`` sharing ``recognizer``'s detector: frames are then read
            ``lookahead`` frames ahead and detected in parallel (file modes; adds latency).
        delay: a ``core.lagged.LaggedFilter`` (offline temporal filter): frames and results wait in it
            and are drawn and written once released (the recognizer's own temporal stage should be off).

    Returns:
        RunStats; ``end_reason`` says why the loop ended.  Exceptions propagate after
        the waiting frames are written and the sinks are finalized.
    """
    stats = RunStats(timer=timer or StageTimer())
    meter = RateMeter()
    provider = getattr(recognizer, "provider", None)
    started = time.perf_counter()
    written = [0]

    def emit(frame: SourceFrame, result: FrameResult, draw: bool) -> bool:
        """Draw (when asked) and write one frame; False when ``on_frame`` asks to quit."""
        if draw and overlay is not None:
            drawn = time.perf_counter()
            lines = hud_lines(stats.fps, stats.latency_ms, len(result.faces), provider) if hud else ()
            overlay.draw(frame.image, result, lines)
            stats.timer.add("draw", (time.perf_counter() - drawn) * 1e3)
        for table in tables:
            table.write(result, frame.name)
        if video is not None:
            video.write(frame.image, frame.time_ms)
        if images is not None:
            images.write(frame.image, frame.name)
        written[0] += 1
        if on_frame is not None and on_frame(frame, result, stats) is False:
            return False
        if progress is not None:
            progress(written[0])
        return True

    live_ids = getattr(getattr(recognizer, "tracker", None), "active_ids", None) if delay is not None else None
    try:
        for frame in _read_ahead(source, stop, ahead, lookahead):
            if reset_each_frame:
                recognizer.reset()
            result = _process(frame, recognizer, overlay, stats, hud, provider, ahead, draw=delay is None)
            stats.fps = meter.tick()
            if delay is None:
                if not emit(frame, result, draw=False):
                    stats.end_reason = "quit"
                    break
                continue
            ids = recognizer.tracker.active_ids if live_ids is not None else None
            filter_start = time.perf_counter()
            released = delay.push(frame.time_ms, result.faces, (frame, result), ids)
            stats.timer.add("offline_filter", (time.perf_counter() - filter_start) * 1e3)
            if not all([emit(f, dataclasses.replace(r, faces=faces), draw=True) for _, faces, (f, r) in released]):
                stats.end_reason = "quit"
                break
        else:
            stats.end_reason = source.end_reason or "eof"
    finally:
        stats.wall_s = time.perf_counter() - started
        if not stats.end_reason:
            stats.end_reason = "error"
        errors = []
        if delay is not None:  # the frames still waiting: filtered with what is known, written in order
            try:
                for _, faces, (f, r) in delay.flush():
                    emit(f, dataclasses.replace(r, faces=faces), draw=True)
            except Exception as exc:  # noqa: BLE001 - finalize the sinks all the same
                errors.append(exc)
            stats.wall_s = time.perf_counter() - started
        _finalize(ahead, source, video, tables, images, errors)
    stats.rows = sum(getattr(t, "rows_written", 0) for t in tables)
    return stats


def _read_ahead(source, stop, ahead: DetectAhead | None, depth: int):
    """Frames of ``source``; with ``ahead``, each frame's detection starts ``depth`` frames early."""
    if ahead is None:
        yield from source.frames(stop)
        return
    buffer: collections.deque = collections.deque()
    for frame in source.frames(stop):
        ahead.submit(frame.image)
        buffer.append(frame)
        if len(buffer) > depth:
            yield buffer.popleft()
    while buffer and not (stop is not None and stop.is_set()):
        yield buffer.popleft()


def _process(frame: SourceFrame, recognizer, overlay, stats: RunStats, hud: bool, provider,
             ahead: DetectAhead | None = None, draw: bool = True) -> FrameResult:
    """Recognize and (``draw``) draw one frame; record timings and counters in ``stats``."""
    timer = stats.timer
    timer.add("decode", frame.decode_ms)
    start = time.perf_counter()
    detections = ahead.detections_for(frame.image) if ahead is not None else None
    waited = time.perf_counter()
    result = recognizer.process(frame.image, index=frame.index, time_ms=frame.time_ms, detections=detections,
                                coast=ahead is not None and detections is None)
    timings = result.timings_ms
    if ahead is not None:  # report the worker's detection time, and the wait for it separately
        timings = {**timings, "detect": ahead.last_detect_ms, "detect_wait": (waited - start) * 1e3}
    timer.add_many(timings)
    drawn = time.perf_counter()
    if draw and overlay is not None:
        lines = hud_lines(stats.fps, stats.latency_ms, len(result.faces), provider) if hud else ()
        overlay.draw(frame.image, result, lines)
    done = time.perf_counter()
    if draw:
        timer.add("draw", (done - drawn) * 1e3)
    stats.latency_ms = (done - start) * 1e3
    timer.add("latency", stats.latency_ms)
    if frame.captured:
        timer.add("age", (done - frame.captured) * 1e3)
    stats.frames += 1
    stats.faces += len(result.faces)
    stats.dropped += frame.dropped
    stats.last_result = result
    return result


def _finalize(ahead, source, video, tables, images, errors: list | None = None) -> None:
    """Close the look-ahead, the source and every sink; the first error (of ``errors`` and these) is re-raised
    after all were tried."""
    errors = [] if errors is None else errors
    for closable in (ahead, source, video, *tables, images):
        if closable is None:
            continue
        try:
            closable.close()
        except Exception as exc:  # noqa: BLE001 - keep finalizing the others
            errors.append(exc)
    if errors:
        raise errors[0]
