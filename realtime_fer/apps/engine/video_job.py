"""Annotate one video file: the library form of ``realtime-fer --video`` (no printing, no exiting).

``run_video_job(path, RunOptions(...))`` builds the recognizer (or borrows one), opens the source and
the sinks, runs the loop with the temporal stage of ``options.temporal``, finalizes every output (also on
``stop``, an exception or KeyboardInterrupt) and returns a ``VideoJobResult``. Bad input raises
``realtime_fer.errors`` types before any output is created.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ...errors import InputError
from .options import RunOptions, check_video_lag

MAX_DELAY_BYTES = 3 << 30
"""The most decoded frames the offline filter's delay may hold, in bytes (4 s of 1080p at 60 fps is ~1.5 GB)."""


@dataclass(frozen=True)
class JobHooks:
    """Callbacks of a job: ``stop`` (set it from another thread or a signal handler to stop after the current
    frame; outputs are finalized up to that frame), ``progress(frames_done, total_or_None)`` after each frame,
    ``extra_tables(labels, stack) -> [table sinks]`` fed like the CSV (e.g. ``video_report.VideoReport.tables``)."""

    stop: threading.Event | None = None
    progress: Callable[[int, int | None], None] | None = None
    extra_tables: Callable | None = None


@dataclass(frozen=True)
class VideoJobResult:
    """What a job did.

    Attributes:
        input, output, csv, jsonl: the paths (str; None for outputs not written).
        frames, faces, rows: frames processed, faces summed over frames, table rows written.
        tracks: distinct track ids; fps: frames / ``seconds`` of the loop.
        expected_frames: the container's claim (None if unknown); end_reason: why the loop ended.
        interrupted: ``stop`` ended the run; truncated: clearly fewer frames decoded than announced.
        lost_frames: frames that could not be decoded; lost: the first 100 as ``[frame, time_ms]``
            (unreadable files of a folder: ``[number, time_ms]``); concealed_frames: decoded with errors concealed;
        gaps: numbers missing in a frame folder; missized: images of a frame folder whose size differs from the
            first image's, left out (never stretched), as ``[name, width, height]`` (the first 100);
        codec: the encoder of ``output``; temporal: the stage's settings
            (``TemporalSettings.describe()``); delay_frames: the most frames a lagged stage may hold (0: live);
            early_releases: frames it released early; audio: "copied" / "re-encoded" / None.
    """

    input: str
    output: str | None
    csv: str | None
    jsonl: str | None
    frames: int
    faces: int
    rows: int
    tracks: int
    fps: float
    seconds: float
    expected_frames: int | None
    end_reason: str
    interrupted: bool
    truncated: bool
    lost_frames: int
    lost: list
    concealed_frames: int
    gaps: int
    missized: list
    codec: str | None
    temporal: str
    delay_frames: int
    early_releases: int
    audio: str | None


def check_outputs(inputs: tuple, output=None, csv=None, jsonl=None, *, overwrite: bool = False,
                  output_folder: bool = False, video_output: bool = False) -> None:
    """Refuse existing / clashing outputs before anything is opened or created (InputError).

    ``video_output``: ``output`` is an annotated video (its suffix must name a known container).
    """
    from ...io.sinks import check_output, fourcc_for

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
    from ...io.sinks import CsvSink, JsonlSink

    tables = []
    if csv:
        tables.append(stack.enter_context(CsvSink(csv, labels, with_file, overwrite=overwrite)))
    if jsonl:
        tables.append(stack.enter_context(JsonlSink(jsonl, labels, with_file, overwrite=overwrite)))
    return tables


def run_video_job(input_path: str | Path, options: RunOptions, *, fps: float | None = None, recognizer=None,
                  hooks: JobHooks | None = None) -> VideoJobResult:
    """Annotate ``input_path`` into the outputs of ``options.outputs`` (annotated video and/or tables).

    Args:
        input_path: the video file, or a folder of numbered frames (``00001.jpg`` ...; needs ``fps``).
        options: recognizer, temporal stage, encoder, outputs (at least one; existing files are refused unless
            ``overwrite``), max_frames. Offline temporal settings hold every frame ``lag_s`` (at most
            ``MAX_VIDEO_LAG_S``) in a ``core.temporal.LaggedStage`` before it is drawn and written: ``lag_s * fps``
            decoded frames in memory.
        fps: frame rate of a frame folder (required for folders, refused for files).
        recognizer: an open ``Recognizer`` with its own temporal stage off, to use (and leave open; its tracks
            are reset first) instead of building one from ``options.recognizer``.
        hooks: stop / progress / extra tables (``JobHooks``).

    Raises:
        InputError: no output given, missing/undecodable input, existing output without ``overwrite``.
        ModelError / ProviderError / MissingDependencyError: from building the recognizer.
    """
    hooks = hooks or JobHooks()
    outputs = options.outputs
    if not (outputs.any or hooks.extra_tables):
        raise InputError("--video: expected at least one of --output, --csv, --jsonl, got none; "
                         "e.g. --output OUT.mp4")
    check_outputs((input_path,), outputs.output, outputs.csv, outputs.jsonl, overwrite=outputs.overwrite,
                  video_output=True)
    if outputs.output:
        options.encoder.check_for(outputs.output)  # a bad --codec or --crf fails before any work
    source = open_video_source(input_path, fps=fps, max_frames=options.max_frames)
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        from .recognizer_setup import persist_stage

        stage = persist_stage(open_video_stage(options.temporal, source.info), options.recognizer, "video")
        if recognizer is None:
            from .recognizer_setup import open_recognizer

            recognizer = stack.enter_context(open_recognizer(options.recognizer, "video"))
        else:
            recognizer.reset()
        return _run(input_path, options, source, stage, recognizer, hooks)


def _run(input_path, options: RunOptions, source, stage, recognizer, hooks: JobHooks) -> VideoJobResult:
    """Open the look-ahead and the sinks, run the loop, and sum it up."""
    from ..render.overlay import Overlay
    from .loop import Hooks, Sinks, run
    from .recognizer_setup import make_detect_ahead
    from .timing import StageTimer

    outputs = options.outputs
    track_ids: set[int] = set()
    timer = StageTimer()
    with contextlib.ExitStack() as stack:
        ahead = make_detect_ahead(recognizer, options.recognizer, "video")
        if ahead is not None:
            stack.callback(ahead.close)
        video = _video_sink(input_path, options, source, recognizer, timer, stack)
        tables = table_sinks(recognizer.labels, outputs.csv, outputs.jsonl, overwrite=outputs.overwrite, stack=stack)
        if hooks.extra_tables is not None:
            tables += hooks.extra_tables(recognizer.labels, stack)
        total = source.info.frame_count
        if total is not None and options.max_frames is not None:
            total = min(total, options.max_frames)

        def on_frame(_frame, result, _stats):
            track_ids.update(int(t) for t in result.faces.track_ids)

        def report(done: int) -> None:
            if hooks.progress is not None:
                hooks.progress(done, total)

        overlay = Overlay(recognizer.labels) if video is not None else None  # tables only: nothing to draw on
        stats = run(source, recognizer, stage, Sinks(video=video, tables=tables), overlay=overlay,
                    hooks=Hooks(on_frame=on_frame, progress=report, stop=hooks.stop), hud=outputs.hud, timer=timer,
                    ahead=ahead)
    return _result(input_path, options, source, stats, video, stage, len(track_ids))


def _video_sink(input_path, options: RunOptions, source, recognizer, timer, stack: contextlib.ExitStack):
    """The ``VideoSink`` of ``options.outputs.output`` (entered into ``stack``), or None."""
    from ...io.sinks import VideoSink

    outputs, encoder = options.outputs, options.encoder
    if not outputs.output:
        return None
    with_audio = encoder.audio and source.info.has_audio
    video = VideoSink(outputs.output, source.info.fps, source.info.size, overwrite=outputs.overwrite, timer=timer,
                      time_base=_time_base(source), audio_from=input_path if with_audio else None,
                      provider=recognizer.provider, full_audio=lambda: source.end_reason == "eof",
                      **encoder.sink_options())
    return stack.enter_context(video)  # an error deletes it; an interrupt or the end finalizes it


def _result(input_path, options: RunOptions, source, stats, video, stage, tracks: int) -> VideoJobResult:
    outputs = options.outputs
    expected = source.info.frame_count
    # the container's count is an estimate for some files (off by a few %), hence the margin
    seen = stats.frames + getattr(source, "lost_frames", 0)
    truncated = bool(options.max_frames is None and expected and not stats.end_reason == "stopped"
                     and seen < min(expected - 2, 0.95 * expected))
    lagged = getattr(stage, "max_pending", None)
    return VideoJobResult(
        input=str(input_path), output=str(outputs.output) if outputs.output else None,
        csv=str(outputs.csv) if outputs.csv else None, jsonl=str(outputs.jsonl) if outputs.jsonl else None,
        frames=stats.frames, faces=stats.faces, rows=stats.rows, tracks=tracks, fps=round(stats.mean_fps, 2),
        seconds=round(stats.wall_s, 3), expected_frames=expected, end_reason=stats.end_reason,
        interrupted=stats.end_reason == "stopped", truncated=truncated,
        lost_frames=getattr(source, "lost_frames", 0), lost=_lost_list(source),
        concealed_frames=getattr(source, "concealed_frames", 0), gaps=getattr(source, "gaps", 0),
        missized=[[name, w, h] for name, (w, h) in getattr(source, "missized", [])[:100]],
        codec=video.codec if video is not None else None, temporal=options.temporal.describe(),
        delay_frames=lagged or 0, early_releases=getattr(stage, "early_releases", 0),
        audio=None if video is None or not video.has_audio else "copied" if video.audio_copied else "re-encoded")


def open_video_stage(temporal, info):
    """The temporal stage of ``temporal`` for a source of ``info`` (fps, size): ``core.temporal.open_stage``,
    whose lagged stage holds at most ``pending_capacity(lag_s, fps)`` frames (room for uneven stamps; a frame
    past that is released early). InputError when ``lag_s`` exceeds ``MAX_VIDEO_LAG_S`` or the waiting frames
    would take more than ``MAX_DELAY_BYTES``.
    """
    from ...core.temporal import open_stage

    check_video_lag(temporal)
    stage = open_stage(temporal, info.fps)
    capacity = getattr(stage, "max_pending", None)
    width, height = info.size
    if capacity is not None and capacity * width * height * 3 > MAX_DELAY_BYTES:
        raise InputError(f"--lag {temporal.lag_s:g}: expected the delayed frames to fit in "
                         f"{MAX_DELAY_BYTES >> 20} MB, got {capacity} frames of {width}x{height} "
                         f"({capacity * width * height * 3 >> 20} MB); use a shorter --lag")
    return stage


def open_video_source(path: str | Path, *, fps: float | None = None, max_frames: int | None = None):
    """``VideoFileSource`` for a file, ``FrameFolderSource`` for a folder of numbered frames (needs ``fps``).

    Raises InputError for a folder without ``fps``, ``fps`` with a file, or what the sources raise.
    """
    from ...io.sources import VideoFileSource

    path = Path(path)
    if path.is_dir():
        if fps is None:
            raise InputError(f"--video {path}: expected --fps F with a folder of numbered frames, got none; "
                             "pass the frame rate of the original video, e.g. --fps 30")
        from ...io.frame_folder import FrameFolderSource

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
