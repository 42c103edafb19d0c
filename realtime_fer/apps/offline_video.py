"""``--video`` with the offline (whole-track, non-causal) temporal stage: two passes over the file.

Pass 1 runs detection, tracking and classification (temporal stage off) and keeps, per face
and frame, only its numbers in a ``TrackBuffer``: box, score, track id, keypoints and raw
probabilities, one float32 row of ``6 + 2k + C`` values (100 bytes with BlazeFace's 6 keypoints
and 7 classes) plus 24 bytes per frame, in flat arrays (no Python object per frame): an hour at
30 fps with one face is ~13 MB; frames are never kept. At the end of the file every track is filtered as a whole (``temporal.filter_track_offline``).
Pass 2 (only with ``--output``) decodes the file again and draws and encodes each frame
with the filtered labels (``Replay`` stands in for the recognizer in ``annotate.run``).
CSV/JSONL rows are written straight from the buffer before pass 2, so they never depend on it.
Pass 2 costs one more decode per frame but no detection or classification.
"""

from __future__ import annotations

import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..core.faces import Faces, FrameResult
from ..core.temporal import TemporalSettings, filter_track_offline


class TrackBuffer:
    """A table sink (``write(result, name)``, ``close()``) that keeps every face's numbers, compactly.

    Rows are float32 ``[x1, y1, x2, y2, score, track_id, kp_x0, kp_y0, ..., raw_0 .. raw_{C-1}]``.
    """

    def __init__(self, labels):
        self.labels = tuple(labels)
        self._index = array.array("q")  # per frame: its index, time stamp and number of faces
        self._time_ms = array.array("d")
        self._counts = array.array("q")
        self._rows = array.array("f")  # all rows, flat: no Python object per frame
        self.num_keypoints: int | None = None
        self.rows_written = 0

    def write(self, result: FrameResult, name: str | None = None) -> None:
        faces = result.faces
        self._index.append(int(result.index))
        self._time_ms.append(float(result.time_ms))
        self._counts.append(len(faces))
        if not len(faces):
            return
        if self.num_keypoints is None:
            self.num_keypoints = faces.keypoints.shape[1]
        elif faces.keypoints.shape[1] != self.num_keypoints:
            raise ValueError(f"TrackBuffer: expected {self.num_keypoints} keypoints per face, got "
                             f"{faces.keypoints.shape[1]}; use one detector per run")
        raw = faces.raw_probs if faces.raw_probs is not None else np.full((len(faces), len(self.labels)), np.nan)
        packed = np.concatenate([faces.boxes, faces.scores[:, None], faces.track_ids[:, None].astype(np.float32),
                                 faces.keypoints.reshape(len(faces), -1), raw], axis=1).astype(np.float32)
        self._rows.frombytes(packed.tobytes())
        self.rows_written += len(faces)

    def close(self) -> None:
        pass

    def __len__(self) -> int:
        return len(self._index)

    def finish(self, settings: TemporalSettings) -> "Replay":
        """Filter every track as a whole; returns the per-frame results to write."""
        counts = np.frombuffer(self._counts, np.int64) if len(self._counts) else np.zeros(0, np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)])
        k = self.num_keypoints or 2
        width = 6 + 2 * k + len(self.labels)
        table = np.frombuffer(self._rows, np.float32).reshape(-1, width) if len(self._rows) else \
            np.zeros((0, width), np.float32)
        frame_of_row = np.repeat(np.arange(len(counts)), counts)
        times = np.frombuffer(self._time_ms, np.float64) if len(self._time_ms) else np.zeros(0)
        indices = np.frombuffer(self._index, np.int64) if len(self._index) else np.zeros(0, np.int64)
        raw = table[:, 6 + 2 * k:]
        probs, labels = raw.copy(), np.zeros(len(table), np.int64)
        finite = np.isfinite(raw).all(axis=1)
        labels[finite] = raw[finite].argmax(axis=1)
        track_ids = table[:, 5].astype(np.int64)
        usable = np.flatnonzero((track_ids >= 0) & finite)
        by_track = usable[np.argsort(track_ids[usable], kind="stable")]  # stable: frame order within a track
        tracks, first = np.unique(track_ids[by_track], return_index=True)
        for rows in np.split(by_track, first[1:]) if len(tracks) else []:
            probs[rows], labels[rows] = filter_track_offline(times[frame_of_row[rows]], raw[rows], settings)
        return Replay(self.labels, indices, times, starts, table, probs, labels, k)


@dataclass
class Replay:
    """The filtered results of a ``TrackBuffer``, served by frame index like a recognizer would.

    ``process(image, index, ...)`` returns the stored ``FrameResult`` of that frame (no faces for
    a frame pass 1 never saw), so ``annotate.run`` can draw and write them in pass 2.
    """

    labels: tuple[str, ...]
    indices: np.ndarray
    times_ms: np.ndarray
    starts: np.ndarray
    table: np.ndarray
    probs: np.ndarray
    label_ids: np.ndarray
    num_keypoints: int
    provider: str = "replay"

    def position(self, index) -> int | None:
        """Where frame ``index`` is stored (frames come in increasing order), or None."""
        if index is None or not len(self.indices):
            return None
        pos = int(np.searchsorted(self.indices, index))
        return pos if pos < len(self.indices) and self.indices[pos] == index else None

    def result(self, position: int) -> FrameResult:
        lo, hi = int(self.starts[position]), int(self.starts[position + 1])
        rows, k = self.table[lo:hi], self.num_keypoints
        faces = Faces(rows[:, :4], rows[:, 4], rows[:, 6:6 + 2 * k].reshape(-1, k, 2), rows[:, 5].astype(np.int64),
                      rows[:, 6 + 2 * k:], self.probs[lo:hi], self.label_ids[lo:hi])
        return FrameResult(int(self.indices[position]), float(self.times_ms[position]), faces, self.labels)

    def results(self) -> Iterator[FrameResult]:
        for position in range(len(self.indices)):
            yield self.result(position)

    def process(self, image, index: int | None = None, time_ms: float | None = None, **_ignored) -> FrameResult:
        position = self.position(index)
        if position is None:
            return FrameResult(int(index or 0), float(time_ms or 0.0), Faces.empty(self.num_keypoints), self.labels)
        return self.result(position)

    def reset(self) -> None:
        pass


def run_offline_video(args, stop, settings: TemporalSettings, *, open_recognizer: Callable, detect_ahead: Callable,
                      table_sinks: Callable, progress: Callable, warn: Callable[[str], None]):
    """The ``--video`` job in offline mode; returns ``(RunStats of pass 1 with the wall time of both passes,
    frame count the file announces)``.

    ``open_recognizer()``, ``detect_ahead(recognizer)``, ``table_sinks(labels, stack)`` and
    ``progress(total, title)`` are the CLI's own helpers (so both paths build things alike).
    The tables are opened before pass 1 and filled right after it, also when pass 1 is interrupted or
    fails (with what was recognized); an interrupted pass 1 leaves no video.
    """
    import contextlib

    from .annotate import StageTimer, run
    from .overlay import Overlay
    from ..io.sinks import VideoSink
    from ..io.sources import VideoFileSource

    source = VideoFileSource(args.video, max_frames=args.max_frames)
    total = announced = source.info.frame_count
    if total is not None and args.max_frames is not None:
        total = min(total, args.max_frames)
    with contextlib.ExitStack() as outer:
        tables, replay, stats = None, None, None
        with contextlib.ExitStack() as stack:
            stack.callback(source.close)
            recognizer = stack.enter_context(open_recognizer())
            labels = recognizer.labels
            tables = table_sinks(labels, outer)  # opened (header written) now, filled after pass 1
            ahead = detect_ahead(recognizer)
            if ahead is not None:
                stack.callback(ahead.close)
            buffer = TrackBuffer(labels)
            try:
                bar, update, finish = progress(total, "recognizing")
                with bar:
                    stats = run(source, recognizer, tables=[buffer], progress=update, stop=stop.event, ahead=ahead)
                    finish(stats.frames)
            finally:  # even after an error: what was recognized reaches the tables
                replay = buffer.finish(settings)
                for result in replay.results():
                    for table in tables:
                        table.write(result, None)
                for table in tables:
                    table.close()
    interrupted = stop.event.is_set()
    replay.provider = getattr(recognizer, "provider", "replay")  # for the HUD of pass 2
    if not args.output:
        return stats, announced
    if interrupted:
        warn(f"interrupted: {args.output} was not written (the offline filter draws in a second pass); "
             "the tables cover the recognized frames")
        return stats, announced
    with contextlib.ExitStack() as stack:
        second = VideoFileSource(args.video, max_frames=stats.frames)
        stack.callback(second.close)
        timer = StageTimer()
        with_audio = not args.no_audio and second.info.has_audio
        video = VideoSink(args.output, second.info.fps, second.info.size, overwrite=args.overwrite, timer=timer,
                          codec=args.codec, preset=args.preset, crf=args.crf, time_base=second.info.time_base or None,
                          audio_from=args.video if with_audio else None, provider=replay.provider,
                          full_audio=lambda: second.end_reason == "eof")
        stack.callback(video.close)
        bar, update, finish = progress(stats.frames, "writing")
        with bar:
            written = run(second, replay, overlay=Overlay(labels), video=video, progress=update, stop=stop.event,
                          hud=bool(args.hud), timer=timer)
            finish(written.frames)
    stats.wall_s += written.wall_s  # fps over both passes
    if written.frames < stats.frames and not stop.event.is_set():
        warn(f"{args.output}: the second pass decoded {written.frames} of {stats.frames} frames; the video ends there")
    return stats, announced
