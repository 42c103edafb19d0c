"""Annotate one video file: the library form of ``realtime-fer --video`` (no printing, no exiting).

``run_video_job(input_path, output=..., csv=..., jsonl=...)`` builds the recognizer (or
borrows one), opens the source and the sinks, runs the loop, finalizes every output
(also on ``stop``, an exception or KeyboardInterrupt) and returns a summary dict.
Bad input raises ``realtime_fer.errors`` types before any output is created.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Callable

from ..core.temporal import OFFLINE_DEFAULT
from ..errors import InputError


def check_outputs(inputs: tuple, output=None, csv=None, jsonl=None, *, overwrite: bool = False,
                  output_folder: bool = False, video_output: bool = False) -> None:
    """Refuse existing / clashing outputs before anything is opened or created (InputError).

    ``video_output``: ``output`` is an annotated video (its suffix must name a known container).
    """
    from ..io.sinks import check_output, fourcc_for

    if output:
        check_output(output, overwrite, folder=output_folder, inputs=inputs)
        if video_output:
            fourcc_for(output)
    for path in (csv, jsonl):
        if path:
            check_output(path, overwrite, inputs=inputs)
    named = [p for p in (output, csv, jsonl) if p]
    if len({str(Path(p).resolve()) for p in named}) != len(named):
        raise InputError("outputs: expected distinct paths for --output/--csv/--jsonl, got the same path twice; "
                         "give each output its own file")


def table_sinks(labels, csv=None, jsonl=None, *, with_file: bool = False, overwrite: bool = False,
                stack: contextlib.ExitStack) -> list:
    """The CsvSink / JsonlSink for the paths given (entered into ``stack``)."""
    from ..io.sinks import CsvSink, JsonlSink

    tables = []
    if csv:
        tables.append(stack.enter_context(CsvSink(csv, labels, with_file, overwrite=overwrite)))
    if jsonl:
        tables.append(stack.enter_context(JsonlSink(jsonl, labels, with_file, overwrite=overwrite)))
    return tables


def run_video_job(input_path: str | Path, *, output: str | Path | None = None, csv: str | Path | None = None,
                  jsonl: str | Path | None = None, overwrite: bool = False, model: str | Path | None = None,
                  provider: str = "auto", detector: str = "blazeface", detector_range: str | None = None,
                  detect_every: int | None = None, min_confidence: float = 0.5,
                  workers: int | None = None, threads: int | None = None, max_frames: int | None = None,
                  hud: bool = False, recognizer=None, stop: threading.Event | None = None,
                  progress: Callable[[int, int | None], None] | None = None, codec: str | None = None,
                  preset: str | None = None, crf: float | None = None, audio: bool = True,
                  fps: float | None = None, temporal=None, extra_tables: Callable | None = None) -> dict:
    """Annotate ``input_path`` into ``output`` (annotated video) and/or ``csv`` / ``jsonl`` tables.

    Args:
        input_path: the video file, or a folder of numbered frames (``00001.jpg`` ...; needs ``fps``).
        output, csv, jsonl: output paths (at least one); existing files are refused unless ``overwrite``.
        model .. threads: recognizer settings, as the CLI options of the same names (None: --video's defaults).
        max_frames: stop after this many frames.
        hud: draw the fps/latency readout into the video.
        recognizer: an open ``Recognizer`` to use (and leave open; its tracks are reset first)
            instead of building one from the settings above.
        stop: set it (another thread, a signal handler) to stop after the current frame; outputs
            are finalized up to that frame.
        progress: called as ``progress(frames_done, total_or_None)`` after each frame.
        codec: video encoder (None: H.264/libx264, MJPEG for .avi; "auto": h264_nvenc when the
            provider is CUDA/TensorRT and it opens); preset / crf: its speed preset and quality.
        audio: carry the input's audio over into ``output`` (stream copy; AAC where needed).
        fps: frame rate of a frame folder (required for folders, refused for files).
        temporal: the ``core.temporal.TemporalSettings`` of the temporal stage (None: ``OFFLINE_DEFAULT``,
            as ``--video``; ``apps.temporal_options`` turns the CLI's --temporal/--tau/--smoothing/... into
            one). Offline: the recognizer runs with its temporal stage off and every frame waits ``lag_s``
            (at most ``MAX_VIDEO_LAG_S``) in a ``core.lagged.LaggedFilter`` before it is drawn and written:
            ``lag_s * fps`` decoded frames in memory. Live / off: the recognizer's own causal stage (a
            borrowed ``recognizer`` keeps its own live settings).
        extra_tables: ``extra_tables(labels, stack) -> [table sinks]`` fed like the CSV (e.g. the
            ``--report`` hook of ``apps.video_report``).

    Returns:
        ``{"input", "output", "csv", "jsonl", "frames", "faces", "rows", "tracks", "fps", "seconds",
        "expected_frames", "end_reason", "interrupted", "truncated", "lost_frames", "lost",
        "concealed_frames", "gaps", "codec", "audio"}``: ``tracks`` counts distinct track ids, ``fps``
        is frames / ``seconds`` of the loop, ``expected_frames`` the container's claim (None if
        unknown), ``interrupted`` True when ``stop`` ended the run, ``truncated`` True when clearly
        fewer frames decoded than the container announces, ``lost_frames`` the frames that could not
        be decoded and ``lost`` the first 100 of them as ``[frame, time_ms]`` (unreadable files of a
        folder: ``[number, time_ms]``), ``concealed_frames`` frames decoded with errors concealed,
        ``gaps`` numbers missing in a frame folder, ``codec`` the encoder of ``output``, ``audio``
        "copied" / "re-encoded" / None.

    Raises:
        InputError: no output given, missing/undecodable input, existing output without ``overwrite``.
        ModelError / ProviderError / MissingDependencyError: from building the recognizer.
    """
    from .annotate import StageTimer, run
    from .overlay import Overlay
    from .recognizer_setup import make_detect_ahead, open_recognizer
    from ..io.sinks import VideoSink

    if not (output or csv or jsonl or extra_tables):
        raise InputError("--video: expected at least one of --output, --csv, --jsonl, got none; "
                         "e.g. --output OUT.mp4")
    check_outputs((input_path,), output, csv, jsonl, overwrite=overwrite, video_output=True)
    if output:
        from ..io.av_writer import resolve_codec

        resolve_codec(None if codec == "auto" else codec, output)  # a bad --codec fails before any work
    temporal = OFFLINE_DEFAULT if temporal is None else temporal
    source = open_video_source(input_path, fps=fps, max_frames=max_frames)
    track_ids: set[int] = set()
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        delay = make_delay(temporal, source.info)
        if recognizer is None:
            recognizer = stack.enter_context(open_recognizer(
                "video", model=model, provider=provider, detector=detector, detector_range=detector_range,
                detect_every=detect_every, min_confidence=min_confidence, threads=threads, temporal=temporal))
        else:
            recognizer.reset()
        ahead = make_detect_ahead(recognizer, "video", workers=workers, detector=detector,
                                  detector_range=detector_range, min_confidence=min_confidence,
                                  detect_every=detect_every)
        if ahead is not None:
            stack.callback(ahead.close)
        timer = StageTimer()
        video = None
        if output:
            with_audio = audio and source.info.has_audio
            video = VideoSink(output, source.info.fps, source.info.size, overwrite=overwrite, timer=timer,
                              codec=codec, preset=preset, crf=crf, time_base=_time_base(source),
                              audio_from=input_path if with_audio else None, provider=recognizer.provider,
                              full_audio=lambda: source.end_reason == "eof")
            stack.callback(video.close)
        tables = table_sinks(recognizer.labels, csv, jsonl, overwrite=overwrite, stack=stack)
        if extra_tables is not None:
            tables += extra_tables(recognizer.labels, stack)
        total = source.info.frame_count
        if total is not None and max_frames is not None:
            total = min(total, max_frames)

        def on_frame(_frame, result, _stats):
            track_ids.update(int(t) for t in result.faces.track_ids)

        def report(done: int) -> None:
            if progress is not None:
                progress(done, total)

        overlay = Overlay(recognizer.labels) if video is not None else None  # tables only: nothing to draw on
        stats = run(source, recognizer, overlay=overlay, video=video, tables=tables,
                    on_frame=on_frame, progress=report, stop=stop, hud=hud, timer=timer, ahead=ahead, delay=delay)
    expected = source.info.frame_count
    # the container's count is an estimate for some files (off by a few %), hence the margin
    seen = stats.frames + getattr(source, "lost_frames", 0)
    truncated = bool(max_frames is None and expected and not stats.end_reason == "stopped"
                     and seen < min(expected - 2, 0.95 * expected))
    return {
        "input": str(input_path),
        "output": str(output) if output else None,
        "csv": str(csv) if csv else None,
        "jsonl": str(jsonl) if jsonl else None,
        "frames": stats.frames,
        "faces": stats.faces,
        "rows": stats.rows,
        "tracks": len(track_ids),
        "fps": round(stats.mean_fps, 2),
        "seconds": round(stats.wall_s, 3),
        "expected_frames": expected,
        "end_reason": stats.end_reason,
        "interrupted": stats.end_reason == "stopped",
        "truncated": truncated,
        "lost_frames": getattr(source, "lost_frames", 0),
        "lost": _lost_list(source),
        "concealed_frames": getattr(source, "concealed_frames", 0),
        "gaps": getattr(source, "gaps", 0),
        "codec": video.codec if video is not None else None,
        "temporal": temporal.describe(),
        "delay_frames": delay.max_pending if delay is not None else 0,
        "early_releases": delay.early_releases if delay is not None else 0,
        "audio": None if video is None or not video.has_audio else "copied" if video.audio_copied else "re-encoded",
    }


MAX_DELAY_BYTES = 3 << 30
"""The most decoded frames the offline filter's delay may hold, in bytes (4 s of 1080p at 60 fps is ~1.5 GB)."""


def check_video_lag(temporal) -> None:
    """InputError when an offline ``temporal`` looks further ahead than ``MAX_VIDEO_LAG_S`` (its frames wait in memory)."""
    from ..core.temporal import MAX_VIDEO_LAG_S

    if temporal.mode == "offline" and temporal.lag_s > MAX_VIDEO_LAG_S:
        raise InputError(f"--lag: expected at most {MAX_VIDEO_LAG_S:g} s for a video (its frames wait in memory), "
                         f"got {temporal.lag_s:g}; use a shorter --lag")


def make_delay(temporal, info):
    """The ``LaggedFilter`` of an offline ``temporal`` for a source of ``info`` (fps, size), else None.

    Its queue holds at most ``lagged.pending_capacity(lag_s, fps)`` frames (room for uneven stamps; a
    frame past that is released early). InputError when ``lag_s`` exceeds ``MAX_VIDEO_LAG_S`` or the
    frames would take more than ``MAX_DELAY_BYTES``.
    """
    from ..core.lagged import LaggedFilter, pending_capacity

    if temporal.mode != "offline":
        return None
    check_video_lag(temporal)
    capacity = pending_capacity(temporal.lag_s, info.fps)
    width, height = info.size
    if capacity * width * height * 3 > MAX_DELAY_BYTES:
        raise InputError(f"--lag {temporal.lag_s:g}: expected the delayed frames to fit in "
                         f"{MAX_DELAY_BYTES >> 20} MB, got {capacity} frames of {width}x{height} "
                         f"({capacity * width * height * 3 >> 20} MB); use a shorter --lag")
    return LaggedFilter(temporal, max_pending=capacity)


def open_video_source(path: str | Path, *, fps: float | None = None, max_frames: int | None = None):
    """``VideoFileSource`` for a file, ``FrameFolderSource`` for a folder of numbered frames (needs ``fps``).

    Raises InputError for a folder without ``fps``, ``fps`` with a file, or what the sources raise.
    """
    from ..io.sources import VideoFileSource

    path = Path(path)
    if path.is_dir():
        if fps is None:
            raise InputError(f"--video {path}: expected --fps F with a folder of numbered frames, got none; "
                             "pass the frame rate of the original video, e.g. --fps 30")
        from ..io.frame_folder import FrameFolderSource

        return FrameFolderSource(path, fps, max_frames=max_frames)
    if fps is not None:
        raise InputError(f"--fps: expected only with a folder of numbered frames, got a file ({path}); "
                         "video files carry their own timestamps, drop --fps")
    return VideoFileSource(path, max_frames=max_frames)


def _time_base(source):
    """Timestamp tick for the output: the input file's, 1 / fps for frame folders."""
    from fractions import Fraction

    if source.info.time_base:
        return source.info.time_base
    return 1 / Fraction(source.info.fps).limit_denominator(1001 * 1000)


def _lost_list(source, limit: int = 100) -> list:
    return [[item.position, item.time_ms] for item in getattr(source, "lost", [])[:limit]]
