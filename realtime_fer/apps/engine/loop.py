"""The processing loop shared by every mode: source -> recognizer -> temporal stage -> overlay -> sinks.

Threads (file mode): the source decodes on its reader thread into a bounded queue, this loop runs
recognition and drawing on the calling thread, and ``VideoSink`` encodes on its writer thread from
another bounded queue, so decode, inference and encode overlap and memory stays flat. CSV/JSONL rows
are written here, one ``write`` + flush per frame.

Temporal stage (``stage``: a ``core.temporal.TemporalStage``): each recognized frame is pushed into it,
and the frames it releases are drawn and written, in order. A live stage releases each frame at once; a
lagged one (offline, ``--video``) holds it until ``lag_s`` seconds of later frames are known, with its
decoded image waiting here.

Stopping: the loop ends at end of stream, when ``stop`` (a ``threading.Event``, set e.g. by a
SIGINT/SIGTERM handler) is set, when ``on_frame`` returns False, or on an exception. In every case
the frames still waiting in the stage are filtered with what is known and written, then the source is
closed and every sink is finalized (queued frames encoded, the MP4 index written, table files closed),
so outputs are valid up to the last processed frame.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ...core.faces import FrameResult
from ...io.sources import SourceFrame
from ..render.overlay import Overlay, hud_lines
from .detect_ahead import DetectAhead
from .timing import RateMeter, StageTimer


@dataclass
class RunStats:
    """What a run did.

    Attributes:
        frames: frames processed; faces: the faces written (after the temporal stage, so a flicker it dropped
        is not counted), summed over frames;
        rows: table rows written; dropped: stale camera frames skipped;
        wall_s: loop wall time; end_reason: "eof", "stopped", "quit", "stalled (...)", "error: ...", "max_frames";
        fps: smoothed processing rate; latency_ms: the last written frame's processing time (recognize,
        temporal stage and draw, without the time it waited in a lagged stage); last_result: the last
        FrameResult written; timer: per-stage timings.
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


@dataclass
class Sinks:
    """Where the frames of a run go: ``video`` (``VideoSink``), ``tables`` (``CsvSink``/``JsonlSink``/anything
    with ``write(result, name)`` and ``close()``), ``images`` (``ImageSink``); each may be left out."""

    video: object = None
    tables: tuple | list = ()
    images: object = None


@dataclass
class Hooks:
    """Callbacks of a run: ``on_frame(frame, result, stats)`` after each written frame (return False to stop,
    e.g. "q" pressed), ``progress(frames_written)``, and ``stop`` (set from another thread or a signal handler
    to stop after the current frame)."""

    on_frame: Callable[[SourceFrame, FrameResult, RunStats], bool | None] | None = None
    progress: Callable[[int], None] | None = None
    stop: threading.Event | None = None


def run(source, recognizer, stage, sinks: Sinks, *, overlay: Overlay | None = None, hooks: Hooks | None = None,
        hud: bool = False, reset_each_frame: bool = False, timer: StageTimer | None = None,
        ahead: DetectAhead | None = None) -> RunStats:
    """Process every frame of ``source`` and feed ``sinks``; always finalizes them.

    Args:
        source: a ``sources`` object (``frames(stop)``, ``close()``, ``end_reason``).
        recognizer: ``Recognizer`` with its own temporal stage off (``process(image, index, time_ms)``).
        stage: the ``core.temporal.TemporalStage`` the results go through (``open_stage(settings, fps)``).
        sinks: see ``Sinks``; overlay: draws onto each frame before it reaches the video/images/``on_frame``.
        hooks: see ``Hooks``; hud: draw the fps / latency / faces HUD.
        reset_each_frame: forget tracks between frames (unrelated still images).
        timer: collects stage timings; pass the one ``VideoSink(timer=...)`` reports "encode" into.
        ahead: a ``DetectAhead`` sharing ``recognizer``'s detector: frames are then read 4 frames ahead and
            detected in parallel (file modes; adds latency).

    Returns:
        RunStats; ``end_reason`` says why the loop ended. Exceptions propagate after the waiting frames
        are written and the sinks are finalized.
    """
    hooks = hooks or Hooks()
    loop = _Loop(recognizer, stage, sinks, overlay, hooks, hud, timer or StageTimer())
    started = time.perf_counter()
    try:
        for frame in _read_ahead(source, hooks.stop, ahead):
            if reset_each_frame:
                recognizer.reset()
                stage.reset()
            if not loop.step(frame, ahead):
                loop.stats.end_reason = "quit"
                break
        else:
            loop.stats.end_reason = source.end_reason or "eof"
    finally:
        loop.stats.end_reason = loop.stats.end_reason or "error"
        errors = loop.flush()
        loop.stats.wall_s = time.perf_counter() - started
        _finalize(ahead, source, sinks, errors)
    loop.stats.rows = sum(getattr(t, "rows_written", 0) for t in sinks.tables)
    return loop.stats


class _Loop:
    """The state of one run: recognize and push each frame, draw and write what the stage releases."""

    def __init__(self, recognizer, stage, sinks: Sinks, overlay, hooks: Hooks, hud: bool, timer: StageTimer):
        self.recognizer, self.stage, self.sinks, self.overlay, self.hooks = recognizer, stage, sinks, overlay, hooks
        self.hud, self.provider = hud, getattr(recognizer, "provider", None)
        self.stats, self.meter = RunStats(timer=timer), RateMeter()
        self.waiting: collections.deque = collections.deque()  # (frame, ms spent on it) in the stage, in order
        self.live_ids = hasattr(recognizer, "tracker")
        self.written = 0

    def step(self, frame: SourceFrame, ahead: DetectAhead | None) -> bool:
        """Recognize ``frame``, push it into the stage, write what it releases; False when ``on_frame`` quits."""
        start = time.perf_counter()
        result = _recognize(frame, self.recognizer, ahead, self.stats.timer)
        pushed = time.perf_counter()
        released = self.stage.push(result, self.recognizer.tracker.active_ids if self.live_ids else None)
        done = time.perf_counter()
        name = getattr(self.stage, "name", "smooth")  # the live stage adds to the recognizer's own (off) "smooth"
        timings = {**result.timings_ms, name: result.timings_ms.get(name, 0.0) + (done - pushed) * 1e3}
        self.stats.timer.add_many(timings)
        self.stats.fps = self.meter.tick()
        self.stats.frames += 1
        self.stats.dropped += frame.dropped
        self.waiting.append((frame, (done - start) * 1e3))
        return all([self.emit(shown) for shown in released])

    def emit(self, result: FrameResult) -> bool:
        """Draw and write the oldest waiting frame with its filtered ``result``; False when ``on_frame`` quits."""
        frame, spent_ms = self.waiting.popleft()
        stats, sinks = self.stats, self.sinks
        drawn = time.perf_counter()
        if self.overlay is not None:
            lines = hud_lines(stats.fps, stats.latency_ms, len(result.faces), self.provider) if self.hud else ()
            self.overlay.draw(frame.image, result, lines)
        done = time.perf_counter()
        stats.timer.add("draw", (done - drawn) * 1e3)
        stats.latency_ms = spent_ms + (done - drawn) * 1e3
        stats.timer.add("latency", stats.latency_ms)
        if frame.captured:
            stats.timer.add("age", (done - frame.captured) * 1e3)
        stats.last_result = result
        stats.faces += len(result.faces)
        for table in sinks.tables:
            table.write(result, frame.name)
        if sinks.video is not None:
            sinks.video.write(frame.image, frame.time_ms)
        if sinks.images is not None:
            sinks.images.write(frame.image, frame.name)
        self.written += 1
        if self.hooks.on_frame is not None and self.hooks.on_frame(frame, result, stats) is False:
            return False
        if self.hooks.progress is not None:
            self.hooks.progress(self.written)
        return True

    def flush(self) -> list:
        """Write the frames still waiting in the stage (filtered with what is known); the errors met."""
        try:
            for result in self.stage.flush():
                self.emit(result)
        except Exception as exc:  # noqa: BLE001 - finalize the sinks all the same
            return [exc]
        return []


def _read_ahead(source, stop, ahead: DetectAhead | None, depth: int = 4):
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


def _recognize(frame: SourceFrame, recognizer, ahead: DetectAhead | None, timer: StageTimer) -> FrameResult:
    """Recognize one frame (with the detections made ahead, when there is a look-ahead); records "decode"
    and, with a look-ahead, the worker's "detect" time and the wait for it ("detect_wait") in the result."""
    timer.add("decode", frame.decode_ms)
    start = time.perf_counter()
    detections = ahead.detections_for(frame.image) if ahead is not None else None
    waited = time.perf_counter()
    result = recognizer.process(frame.image, index=frame.index, time_ms=frame.time_ms, detections=detections,
                                coast=ahead is not None and detections is None)
    if ahead is not None:
        result.timings_ms.update(detect=ahead.last_detect_ms, detect_wait=(waited - start) * 1e3)
    return result


def _finalize(ahead, source, sinks: Sinks, errors: list) -> None:
    """Close the look-ahead, the source and every sink; the first error (of ``errors`` and these) is re-raised
    after all were tried."""
    for closable in (ahead, source, sinks.video, *sinks.tables, sinks.images):
        if closable is None:
            continue
        try:
            closable.close()
        except Exception as exc:  # noqa: BLE001 - keep finalizing the others
            errors.append(exc)
    if errors:
        raise errors[0]
