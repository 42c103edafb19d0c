"""Benchmark logic (no printing): per-stage latency, end-to-end fps, and the I/O-only baseline.

``run_bench`` measures, in one run and on the same input:

1. **I/O only**, two ways: ``io_only_fps`` is the plain decode -> mp4v-encode loop
   (``cap.read(); writer.write()``, one thread), i.e. what transcoding the input costs and
   the baseline the project's speed target refers to; ``io_threaded_fps`` is the same I/O
   through the pipeline's own reader thread -> queue -> writer thread, with no
   recognition or drawing (an upper bound: decode and encode on separate cores).
2. **Pipeline**: decode -> recognize -> draw -> encode (plus a CSV) exactly as
   ``realtime-fer --video IN --output OUT --csv OUT.csv`` runs it.

``ratio = fps / io_only_fps`` and ``ratio_threaded = fps / io_threaded_fps``.  Stage times (median and p95 ms): decode, detect, track,
align, classify, smooth, draw, encode, and ``latency`` (recognize + draw per frame).
Outputs go to a temporary folder that is deleted afterwards.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .annotate import STAGE_ORDER, StageTimer, run
from .overlay import Overlay
from ..io.sinks import CsvSink, VideoSink
from ..io.sources import VideoFileSource
from ..io.synthetic import SyntheticSource


def make_source(video: str | Path | None, frames: int | None, faces: int = 1):
    """A fresh source: the video file (first ``frames`` frames) or ``frames`` synthetic frames."""
    if video is not None:
        return VideoFileSource(video, max_frames=frames)
    return SyntheticSource(frames=frames or 300, faces=faces)


def io_only_threaded(video, frames, faces, out_path: Path) -> tuple[int, float]:
    """(frames, fps) of decode -> encode through the pipeline's reader/writer threads."""
    source = make_source(video, frames, faces)
    sink = VideoSink(out_path, source.info.fps, source.info.size, overwrite=True)
    start = time.perf_counter()
    count = 0
    try:
        for frame in source.frames():
            sink.write(frame.image)
            count += 1
    finally:
        source.close()
        sink.close()
    return count, count / (time.perf_counter() - start)


def io_only_sequential(video, frames, faces, out_path: Path) -> tuple[int, float]:
    """(frames, fps) of a plain single-threaded ``read(); write()`` loop (the textbook baseline)."""
    import cv2

    if video is None:
        synthetic = SyntheticSource(frames=1, faces=faces)
        synthetic.close()
        read = iter(synthetic.render(i) for i in range(frames or 300)).__next__
        size, fps = synthetic.size, synthetic.info.fps
    else:
        cap = cv2.VideoCapture(str(video), cv2.CAP_FFMPEG)
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0

        def read():
            ok, image = cap.read()
            if not ok:
                raise StopIteration
            return image

    writer = cv2.VideoWriter(str(out_path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    count, limit = 0, frames or 10**9
    start = time.perf_counter()
    try:
        while count < limit:
            writer.write(read())
            count += 1
    except StopIteration:
        pass
    finally:
        writer.release()
        if video is not None:
            cap.release()
    return count, count / (time.perf_counter() - start)


def pipeline_pass(recognizer, video, frames, faces, out_dir: Path, warmup: int = 10, ahead_factory=None) -> tuple:
    """Run the full ``--video`` path; returns (RunStats, StageTimer, whether detection ran ahead).

    ``ahead_factory()`` returns a ``DetectAhead`` for ``recognizer`` (or None), as the CLI uses.
    """
    warm = make_source(video, warmup, faces)  # first inferences allocate; keep them out of the numbers
    for frame in warm.frames():
        recognizer.process(frame.image)
    warm.close()
    recognizer.reset()
    source = make_source(video, frames, faces)
    timer = StageTimer()
    overlay = Overlay(recognizer.labels)
    sink = VideoSink(out_dir / "bench.mp4", source.info.fps, source.info.size, overwrite=True, timer=timer)
    table = CsvSink(out_dir / "bench.csv", recognizer.labels, overwrite=True)
    ahead = ahead_factory() if ahead_factory is not None else None
    stats = run(source, recognizer, overlay=overlay, video=sink, tables=[table], timer=timer, ahead=ahead)
    return stats, timer, ahead is not None


def run_bench(recognizer, video: str | Path | None = None, frames: int | None = None, faces: int = 1,
              repeats: int = 1, ahead_factory=None) -> dict:
    """Measure I/O-only and full-pipeline throughput on the same input.

    Args:
        recognizer: an open ``Recognizer`` (its provider is reported).
        video: input file, or None for synthetic frames (``faces`` astronaut faces, 640x360).
        frames: limit (default: whole video / 300 synthetic frames).
        repeats: alternate I/O-only and pipeline passes this many times and keep each one's best
            fps (reduces noise from other processes on a shared machine).
        ahead_factory: builds the ``DetectAhead`` the ``--video`` mode would use (None: no look-ahead).

    Returns:
        dict with ``provider``, ``frames``, ``fps``, ``io_only_fps``, ``ratio``, ``stages``
        (``{name: {"median_ms", "p95_ms"}}``), plus ``io_threaded_fps``, ``ratio_threaded``,
        ``faces_per_frame``, ``input``, ``repeats`` and ``detect_ahead``.
    """
    best_thr = best_seq = best_fps = 0.0
    used_ahead = False
    best_timer, count, faces_seen = None, 0, 0
    with tempfile.TemporaryDirectory(prefix="fer-bench-") as tmp:
        out = Path(tmp)
        for _ in range(max(1, repeats)):
            _, seq_fps = io_only_sequential(video, frames, faces, out / "seq.mp4")
            stats, timer, used = pipeline_pass(recognizer, video, frames, faces, out, ahead_factory=ahead_factory)
            used_ahead = used_ahead or used
            _, thr_fps = io_only_threaded(video, frames, faces, out / "io.mp4")
            best_thr, best_seq = max(best_thr, thr_fps), max(best_seq, seq_fps)
            if stats.mean_fps > best_fps:
                best_fps, best_timer, count, faces_seen = stats.mean_fps, timer, stats.frames, stats.faces
    summary = best_timer.summary()
    stages = {name: {"median_ms": summary[name]["median_ms"], "p95_ms": summary[name]["p95_ms"]}
              for name in (*STAGE_ORDER, "latency") if name in summary}
    return {
        "provider": recognizer.provider,
        "input": str(video) if video is not None else f"synthetic 640x360, {faces} face(s)",
        "frames": count,
        "faces_per_frame": round(faces_seen / max(count, 1), 3),
        "fps": round(best_fps, 2),
        "io_only_fps": round(best_seq, 2),
        "ratio": round(best_fps / best_seq, 3) if best_seq else None,
        "io_threaded_fps": round(best_thr, 2),
        "ratio_threaded": round(best_fps / best_thr, 3) if best_thr else None,
        "stages": stages,
        "repeats": max(1, repeats),
        "detect_ahead": used_ahead,
    }
