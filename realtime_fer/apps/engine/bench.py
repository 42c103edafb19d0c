"""Benchmark logic (no printing): per-stage latency, end-to-end fps, and the I/O-only baseline.

``run_bench`` measures, in one run and on the same input:

1. **I/O only**, two ways: ``io_only_fps`` is the plain decode -> encode loop with the
   annotation's own reader and encoder (PyAV; H.264 by default, audio carried over; one
   thread), i.e. what transcoding the input costs and the baseline the project's speed
   target refers to; ``io_threaded_fps`` is the same I/O
   through the pipeline's own reader thread -> queue -> writer thread, with no
   recognition or drawing (an upper bound: decode and encode on separate cores).
2. **Pipeline**: decode -> recognize -> draw -> encode (plus a CSV) exactly as
   ``realtime-fer --video IN --output OUT --csv OUT.csv`` runs it.

``ratio = fps / io_only_fps`` and ``ratio_threaded = fps / io_threaded_fps``.  Stage times (median and p95 ms): decode, detect, track,
align, classify, smooth, draw, encode, and ``latency`` (recognize + draw per frame).
Outputs go to a temporary folder that is deleted afterwards.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

from ...core.temporal import LIVE_DEFAULT
from ...io.sinks import CsvSink, VideoSink
from ...io.sources import VideoFileSource
from ...io.synthetic import SyntheticSource
from ..render.overlay import Overlay
from .loop import Sinks, run
from .timing import STAGE_ORDER, StageTimer


def make_source(video: str | Path | None, frames: int | None, faces: int = 1):
    """A fresh source: the video file (first ``frames`` frames) or ``frames`` synthetic frames."""
    if video is not None:
        return VideoFileSource(video, max_frames=frames)
    return SyntheticSource(frames=frames or 300, faces=faces)


def make_sink(path: Path, source, video, encoder: dict | None, timer=None) -> VideoSink:
    """The ``VideoSink`` the ``--video`` mode would open for ``source`` (same encoder, audio carried over)."""
    encoder = dict(encoder or {})
    audio = encoder.pop("audio", True) and video is not None and source.info.has_audio
    return VideoSink(path, source.info.fps, source.info.size, overwrite=True, timer=timer,
                     time_base=source.info.time_base, audio_from=video if audio else None,
                     full_audio=lambda: source.end_reason == "eof", **encoder)


def io_only_threaded(video, frames, faces, out_path: Path, encoder: dict | None = None) -> tuple[int, float]:
    """(frames, fps) of decode -> encode through the pipeline's reader/writer threads."""
    source = make_source(video, frames, faces)
    sink = make_sink(out_path, source, video, encoder)
    start = time.perf_counter()
    count = 0
    try:
        for frame in source.frames():
            sink.write(frame.image, frame.time_ms)
            count += 1
    finally:
        source.close()
        sink.close()
    return count, count / (time.perf_counter() - start)


def io_only_sequential(video, frames, faces, out_path: Path, encoder: dict | None = None) -> tuple[int, float]:
    """(frames, fps) of a plain single-threaded decode -> encode loop with the annotation's own reader
    (``AvVideoReader``) and encoder (``AvVideoWriter``, same codec/preset/quality, audio carried over)."""
    from ...io.av_reader import AvVideoReader
    from ...io.av_writer import AvVideoWriter, resolve_codec

    encoder = dict(encoder or {})
    with_audio = encoder.pop("audio", True)
    codec = resolve_codec(encoder.pop("codec", None), out_path, encoder.pop("provider", None))
    limit = frames or (10**9 if video is not None else 300)
    reader = None
    if video is None:
        synthetic = SyntheticSource(frames=1, faces=faces)
        synthetic.close()
        size, fps, time_base = synthetic.size, synthetic.info.fps, None
        frames_in = ((synthetic.render(i), i * 1000.0 / fps) for i in range(limit))
    else:
        reader = AvVideoReader(video)
        frames_in = ((image, time_ms) for image, time_ms, _, _ in reader.frames())
        first = next(frames_in)
        size, fps, time_base = (first[0].shape[1], first[0].shape[0]), reader.fps, reader.time_base
        frames_in = itertools.chain([first], frames_in)
    start = time.perf_counter()
    writer = AvVideoWriter(out_path, fps, size, codec=codec, time_base=time_base,
                           audio_from=video if with_audio and reader is not None and reader.has_audio else None,
                           **encoder)
    count = 0
    try:
        for image, time_ms in itertools.islice(frames_in, limit):
            writer.write(image, time_ms)
            count += 1
    finally:
        writer.close(full_audio=frames is None)
        if reader is not None:
            reader.close()
    return count, count / (time.perf_counter() - start)


def pipeline_pass(recognizer, video, frames, faces, out_dir: Path, warmup: int = 10, ahead_factory=None,
                  encoder: dict | None = None, temporal=None, wrap_stage=None) -> tuple:
    """Run the full ``--video`` path; returns (RunStats, StageTimer, whether detection ran ahead).

    ``ahead_factory()`` returns a ``DetectAhead`` for ``recognizer`` (or None), as the CLI uses;
    ``temporal``: the stage's settings (``video_job.open_video_stage``, as in ``--video``; None: live);
    ``wrap_stage(stage)``: the stage as ``--video`` wraps it (``recognizer_setup.persist_stage``), or None.
    """
    from .video_job import open_video_stage

    warm = make_source(video, warmup, faces)  # first inferences allocate; keep them out of the numbers
    for frame in warm.frames():
        recognizer.process(frame.image)
    warm.close()
    recognizer.reset()
    source = make_source(video, frames, faces)
    timer = StageTimer()
    overlay = Overlay(recognizer.labels)
    sink = make_sink(out_dir / "bench.mp4", source, video, encoder, timer=timer)
    table = CsvSink(out_dir / "bench.csv", recognizer.labels, overwrite=True)
    ahead = ahead_factory() if ahead_factory is not None else None
    stage = open_video_stage(temporal or LIVE_DEFAULT, source.info)
    stage = wrap_stage(stage) if wrap_stage is not None else stage
    stats = run(source, recognizer, stage, Sinks(video=sink, tables=[table]), overlay=overlay, timer=timer,
                ahead=ahead)
    return stats, timer, ahead is not None


def run_bench(recognizer, video: str | Path | None = None, frames: int | None = None, faces: int = 1,
              repeats: int = 1, ahead_factory=None, encoder: dict | None = None, temporal=None,
              wrap_stage=None) -> dict:
    """Measure I/O-only and full-pipeline throughput on the same input.

    Args:
        recognizer: an open ``Recognizer`` (its provider is reported).
        video: input file, or None for synthetic frames (``faces`` astronaut faces, 640x360).
        frames: limit (default: whole video / 300 synthetic frames).
        repeats: alternate I/O-only and pipeline passes this many times and keep each one's best
            fps (reduces noise from other processes on a shared machine).
        ahead_factory: builds the ``DetectAhead`` the ``--video`` mode would use (None: no look-ahead).
        encoder: ``{"codec", "preset", "crf", "audio"}`` as ``--video --output`` takes them (None: defaults);
            every pass (I/O-only and pipeline) uses this one encoder.
        temporal: the ``TemporalSettings`` of the run's stage (offline: the one-pass look-ahead filter, as
            ``--video`` runs by default; None: the live default); reported as ``temporal``.

    Returns:
        dict with ``provider``, ``frames``, ``fps``, ``io_only_fps``, ``ratio``, ``stages``
        (``{name: {"median_ms", "p95_ms"}}``), plus ``io_threaded_fps``, ``ratio_threaded``,
        ``faces_per_frame``, ``input``, ``repeats`` and ``detect_ahead``.
    """
    best_thr = best_seq = best_fps = 0.0
    used_ahead = False
    best_timer, count, faces_seen = None, 0, 0
    encoder = {key: value for key, value in (encoder or {}).items() if value is not None}
    encoder["provider"] = recognizer.provider
    with tempfile.TemporaryDirectory(prefix="fer-bench-") as tmp:
        out = Path(tmp)
        for _ in range(max(1, repeats)):
            _, seq_fps = io_only_sequential(video, frames, faces, out / "seq.mp4", encoder)
            stats, timer, used = pipeline_pass(recognizer, video, frames, faces, out, ahead_factory=ahead_factory,
                                               encoder=encoder, temporal=temporal, wrap_stage=wrap_stage)
            used_ahead = used_ahead or used
            _, thr_fps = io_only_threaded(video, frames, faces, out / "io.mp4", encoder)
            best_thr, best_seq = max(best_thr, thr_fps), max(best_seq, seq_fps)
            if stats.mean_fps > best_fps:
                best_fps, best_timer, count, faces_seen = stats.mean_fps, timer, stats.frames, stats.faces
    return _report(recognizer, video, faces, repeats, temporal, encoder, best_timer,
                   dict(count=count, faces_seen=faces_seen, fps=best_fps, seq=best_seq, thr=best_thr, ahead=used_ahead))


def _report(recognizer, video, faces, repeats, temporal, encoder: dict, timer, best: dict) -> dict:
    """The dict ``run_bench`` returns, from the best pass's figures in ``best``."""
    from ...io.av_writer import DEFAULT_PRESET, resolve_codec

    keys = ("count", "faces_seen", "fps", "seq", "thr", "ahead")
    count, faces_seen, best_fps, best_seq, best_thr, used_ahead = (best[k] for k in keys)
    codec_used = resolve_codec(encoder.get("codec"), "bench.mp4", recognizer.provider)
    encoder.setdefault("preset", DEFAULT_PRESET.get(codec_used))
    summary = timer.summary()
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
        "temporal": (temporal or LIVE_DEFAULT).describe(),
        "codec": codec_used,
        "preset": encoder.get("preset"),
        "crf": encoder.get("crf"),
    }
