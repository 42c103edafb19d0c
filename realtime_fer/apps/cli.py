"""Command line interface: ``realtime-fer`` (the only module that prints or exits).

Usage::

    realtime-fer --camera 0                       # live window (q / Esc quits); terminal table without a display
    realtime-fer --camera clip.mp4 --no-window    # a file stands in for the camera; rich live table
    realtime-fer --video IN.mp4 --output OUT.mp4 [--csv OUT.csv] [--jsonl OUT.jsonl] [--codec C] [--no-audio]
    realtime-fer --video FRAMES_DIR --fps 30 --csv OUT.csv      # numbered frames 00001.jpg ... as a video
    realtime-fer --image IN.jpg [--output OUT.jpg] | --image FOLDER [--output FOLDER] [--csv F]
    realtime-fer bench [--video IN | --synthetic [--faces N]] [--provider P] [--json]
    realtime-fer eval VIDEOS ANNOTATIONS [--compare] [--json]   # score against ABAW EXPR labels
    realtime-fer report faces.csv --out DIR                     # timelines and shares per track
    realtime-fer batch INPUTS... --out DIR [--csv] [--jsonl] [--save-video] [--workers N] [--ray [ADDRESS]]

Exit codes:
    0   success (also when a truncated or damaged video lost frames: a warning says how many and where);
    1   runtime failure: a camera/stream stopped delivering frames mid-run, or a video file's
        reader failed (outputs are finalized), or an unexpected internal error;
    2   bad usage or input: missing/corrupt file, camera that does not open, bad or
        mismatched model, unavailable provider, missing dependency, existing output
        without --overwrite;
    130 / 143  interrupted by Ctrl-C / SIGTERM (outputs finalized up to the last frame).

Errors are one line on stderr: ``realtime-fer: error: <message>``; warnings
``realtime-fer: warning: <message>``.  Set REALTIME_FER_DEBUG=1 to get tracebacks of
internal errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path

from ..errors import FerError, InputError
from .recognizer_setup import (DEFAULT_DETECT_EVERY, DEFAULT_RANGE, classifier_threads,  # noqa: F401 - re-exported
                               make_detect_ahead, open_recognizer)
from .video_job import check_outputs, table_sinks
from . import video_report
from .temporal_options import add_temporal_arguments, temporal_settings

PROG = "realtime-fer"
EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
PROVIDERS = ("auto", "cpu", "cuda", "tensorrt")
RANGES = ("short", "full", "auto", "both")
def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr, flush=True)


def _add_common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("recognizer")
    group.add_argument("--model", metavar="PATH", help="ONNX expression model with its .json sidecar "
                       "(default: models/expression.int8.onnx on CPU, models/expression.onnx on CUDA/TensorRT)")
    group.add_argument("--provider", choices=PROVIDERS, default="auto", help="ONNX Runtime provider (default auto)")
    group.add_argument("--detector", choices=("blazeface", "mtcnn"), default="blazeface")
    group.add_argument("--range", dest="detector_range", choices=RANGES,
                       help="BlazeFace range (default: short for --camera/--video, both for --image)")
    add_temporal_arguments(group)
    group.add_argument("--detect-every", type=int, default=None, metavar="N",
                       help="run the detector every N frames, tracks coast in between (default: 2 for --video "
                            "and bench, 1 for --camera and --image)")
    group.add_argument("--min-confidence", type=float, default=0.5, metavar="F", help="detector score threshold")
    group.add_argument("--workers", type=int, default=None, metavar="N",
                       help="--video/bench: detection threads running ahead of the frame being drawn "
                            "(default: 1 on 2 cores, 2 on more; 0 = off)")
    group.add_argument("--threads", type=int, default=None, metavar="N",
                       help="ONNX Runtime threads for the classifier (default: 2 for --camera/--image on 2+ "
                            "cores, 1 for --video/bench, whose detection runs ahead on another core)")
    parser.add_argument("--max-frames", type=int, default=None, metavar="N", help="stop after N frames")
    parser.add_argument("--verbose", action="store_true", help="keep OpenCV/FFmpeg/MediaPipe log output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Real-time facial expression recognition (BlazeFace + ONNX Runtime).",
        epilog="Benchmark: realtime-fer bench --help.  Exit codes: 0 ok, 1 runtime failure, 2 bad usage/input, "
               "130/143 interrupted (outputs finalized).")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--camera", metavar="SRC", help="camera index, stream URL, or a video file standing in")
    mode.add_argument("--video", metavar="IN", help="annotate a video file")
    mode.add_argument("--image", metavar="IN", help="an image file or a folder of images")
    parser.add_argument("--output", metavar="OUT", help="annotated video (.mp4/.mov/.mkv H.264 with the input's "
                        "audio, .avi MJPEG), image, or folder")
    parser.add_argument("--csv", metavar="FILE", help="one row per face per frame")
    parser.add_argument("--jsonl", metavar="FILE", help="one JSON object per face per frame")
    parser.add_argument("--report", metavar="DIR", help="--video: per-track timelines, shares and a summary as "
                        "DIR/report.html + PNGs + summary.json (and DIR/faces.csv without --csv)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--no-window", action="store_true", help="--camera: live terminal table instead of a window")
    parser.add_argument("--hud", action=argparse.BooleanOptionalAction, default=None,
                        help="draw the fps/latency readout (default: on for --camera, off otherwise)")
    parser.add_argument("--save-last-frame", metavar="PATH", help=argparse.SUPPRESS)
    _add_video_output(parser)
    parser.add_argument("--fps", type=float, default=None, metavar="F",
                        help="--video FOLDER of numbered frames (00001.jpg ...): the frame rate of the original video")
    _add_common(parser)
    return parser


def _add_video_output(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("video output (--output OUT.mp4/.mov/.mkv/.avi)")
    group.add_argument("--codec", default=None, metavar="NAME",
                       help="FFmpeg video encoder: libx264 (default; MJPEG for .avi), mpeg4 (fastest, not for "
                            "browsers), h264_nvenc (NVIDIA GPU), auto (h264_nvenc when --provider is cuda/tensorrt "
                            "and it opens, else libx264)")
    group.add_argument("--preset", default=None, metavar="NAME",
                       help="encoder speed preset (libx264: ultrafast..veryslow, default veryfast; NVENC: p1..p7, "
                            "default p4)")
    group.add_argument("--crf", type=float, default=None, metavar="Q",
                       help="quality, lower = better and bigger: libx264 CRF 0-51 (default 23), NVENC CQ (23), "
                            "mpeg4/mjpeg qscale 1-31 (4)")
    group.add_argument("--no-audio", action="store_true", help="leave the input's audio out of --output")


def build_bench_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"{PROG} bench", description="Per-stage latency, end-to-end fps and the "
                                     "ratio to decode+encode-only throughput, measured in the same run.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--video", metavar="IN", help="benchmark on this video")
    source.add_argument("--synthetic", action="store_true", help="generated 640x360 frames (default)")
    parser.add_argument("--faces", type=int, default=1, metavar="N", help="--synthetic: faces per frame (1..8)")
    parser.add_argument("--frames", type=int, default=None, metavar="N", help="frames per pass (default: all / 300)")
    parser.add_argument("--repeats", type=int, default=1, metavar="N", help="alternate passes N times, keep the best")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _add_video_output(parser)
    _add_common(parser)
    return parser


# ----------------------------------------------------------------------------- process-wide setup

class _StopOnSignal:
    """SIGINT/SIGTERM set ``event`` (the loop stops after the current frame and finalizes);
    a second SIGINT raises KeyboardInterrupt.  Restores the previous handlers on exit."""

    def __init__(self):
        self.event = threading.Event()
        self.signum: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, _frame):
        if self.event.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        self.event.set()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _quiet_libraries(verbose: bool) -> None:
    """Silence OpenCV/FFmpeg logging (our own messages say what went wrong)."""
    if verbose:
        return
    if "cv2" not in sys.modules:
        os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    with contextlib.suppress(Exception):
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


@contextlib.contextmanager
def _native_stderr_silenced(enabled: bool):
    """Send file descriptor 2 to /dev/null meanwhile, keeping Python's ``sys.stderr`` on the real stderr.

    MediaPipe/LiteRT/FFmpeg write log lines straight to fd 2 (dozens at model load, one at
    the first inference, more at close); the CLI's own messages say what matters.
    """
    if not enabled:
        yield
        return
    try:
        python_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. pytest's capture: leave sys.stderr alone
        python_fd = None
    sys.stderr.flush()
    try:
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    original = sys.stderr
    if python_fd == 2:
        sys.stderr = open(os.dup(saved), "w", encoding=original.encoding or "utf-8", errors="backslashreplace",
                          buffering=1)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        if sys.stderr is not original:
            sys.stderr.flush()
            sys.stderr.close()
            sys.stderr = original
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _recognizer_settings(args, mode: str) -> dict:
    """The recognizer options of ``args`` for ``mode`` (an offline temporal stage runs after the recognizer,
    which then smooths nothing: ``recognizer_setup.open_recognizer``)."""
    return dict(model=args.model, provider=args.provider, detector=args.detector, detector_range=args.detector_range,
                temporal=temporal_settings(args, mode), detect_every=args.detect_every,
                min_confidence=args.min_confidence, threads=args.threads)


def _open_recognizer(args, mode: str):
    """Build the Recognizer (model, provider, detector); FerError on bad model/provider/dependency."""
    return open_recognizer(mode, **_recognizer_settings(args, mode))


def _check_numbers(args, mode: str) -> None:
    temporal_settings(args, mode)  # InputError for bad --temporal/--tau/--switch-margin/--min-hold/--smoothing
    if getattr(args, "report", None) and mode != "video":
        raise InputError(f"--report: expected --video (reports need a whole file), got {mode} mode; "
                         "run realtime-fer report faces.csv --out DIR on a CSV instead")
    if getattr(args, "crf", None) is not None and not 0 <= args.crf <= 63:
        raise InputError(f"--crf: expected a quality number in [0, 63] (libx264: 0-51, lower = better), got "
                         f"{args.crf}; try 23")
    if getattr(args, "fps", None) is not None and not getattr(args, "video", None) and mode != "eval":
        raise InputError("--fps: expected it with --video FOLDER (numbered frames), got it without --video; "
                         "drop --fps")
    if args.detect_every is not None and args.detect_every < 1:
        raise InputError(f"--detect-every: expected an integer >= 1, got {args.detect_every}; use 1 to detect "
                         "on every frame")
    if not 0.0 <= args.min_confidence <= 1.0:
        raise InputError(f"--min-confidence: expected a number in [0, 1], got {args.min_confidence}; try 0.5")
    if args.max_frames is not None and args.max_frames < 1:
        raise InputError(f"--max-frames: expected an integer >= 1, got {args.max_frames}; omit it to process all")
    if args.threads is not None and args.threads < 0:
        raise InputError(f"--threads: expected an integer >= 0, got {args.threads}; 0 lets ONNX Runtime choose")
    if args.workers is not None and args.workers < 0:
        raise InputError(f"--workers: expected an integer >= 0, got {args.workers}; 0 turns look-ahead off")


def _detect_ahead(args, recognizer, mode: str):
    """A DetectAhead for file modes when it can help (several cores), on the --detect-every cadence."""
    return make_detect_ahead(recognizer, mode, workers=args.workers, detector=args.detector,
                             detector_range=args.detector_range, min_confidence=args.min_confidence,
                             detect_every=args.detect_every)


# ----------------------------------------------------------------------------- modes

def _table_sinks(args, labels, with_file: bool, stack: contextlib.ExitStack) -> list:
    return table_sinks(labels, args.csv, args.jsonl, with_file=with_file, overwrite=args.overwrite, stack=stack)


def _precheck_outputs(args, inputs: tuple, output_folder: bool = False) -> None:
    """Refuse existing outputs before anything is opened or created."""
    check_outputs(inputs, args.output, args.csv, args.jsonl, overwrite=args.overwrite, output_folder=output_folder,
                  video_output=bool(args.video or args.camera))


def _progress(total: int | None, title: str = "annotating"):
    """A rich progress bar on stderr (bar, count, fps, ETA) and a throttled update callback."""
    import time

    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    progress = Progress(TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                        TextColumn("{task.fields[fps]}"), TimeElapsedColumn(), TextColumn("ETA"),
                        TimeRemainingColumn(), console=Console(stderr=True), transient=False)
    task = progress.add_task("annotate", total=total, fps="")
    state = {"last": 0.0, "start": time.perf_counter()}

    def update(done: int) -> None:
        now = time.perf_counter()
        if now - state["last"] >= 0.1:
            state["last"] = now
            fps = done / max(now - state["start"], 1e-9)
            progress.update(task, completed=done, fps=f"{fps:.0f} fps")

    def finish(done: int) -> None:
        progress.update(task, completed=done, total=max(done, 1) if total is None else total)

    return progress, update, finish


def _run_video(args, stop: _StopOnSignal) -> int:
    from .video_job import run_video_job

    if not (args.output or args.csv or args.jsonl or args.report):
        raise InputError("--video: expected at least one of --output, --csv, --jsonl, --report, got none; "
                         "e.g. --output OUT.mp4")
    report = video_report.prepare(args)
    state = {}

    def update(done: int, total: int | None) -> None:
        if "bar" not in state:
            state["bar"] = _progress(total)
            state["bar"][0].start()
        state["done"] = done
        state["bar"][1](done)

    try:
        summary = run_video_job(args.video, output=args.output, csv=args.csv, jsonl=args.jsonl,
                                overwrite=args.overwrite, workers=args.workers, max_frames=args.max_frames,
                                hud=bool(args.hud), stop=stop.event, progress=update, codec=args.codec,
                                preset=args.preset, crf=args.crf, audio=not args.no_audio, fps=args.fps,
                                extra_tables=report.tables, **_recognizer_settings(args, "video"))
    finally:
        if "bar" in state:
            progress, _, finish = state["bar"]
            finish(state["done"])
            progress.stop()
    report.finish(warn=_warn)
    outputs = ", ".join(p for p in (args.output, args.csv, args.jsonl, args.report) if p)
    encoded = f" ({summary['codec']}, audio {summary['audio'] or 'none'})" if summary["codec"] else ""
    print(f"{PROG}: {summary['frames']} frames, {summary['faces']} faces, {summary['fps']:.1f} fps -> {outputs}"
          f"{encoded}", file=sys.stderr)
    if stop.signum is not None:
        _warn(f"interrupted after {summary['frames']} frames; outputs finalized up to the last processed frame")
        return EXIT_SIGNAL[stop.signum]
    if summary["end_reason"].startswith("error"):
        _warn(f"{args.video}: reading stopped after {summary['frames']} frames ({summary['end_reason']}); "
              "outputs finalized up to the last processed frame")
        return EXIT_RUNTIME
    if summary["lost_frames"]:
        where = ", ".join(f"{frame} ({time_ms / 1000:.2f} s)" for frame, time_ms in summary["lost"][:10])
        more = ", ..." if summary["lost_frames"] > 10 else ""
        _warn(f"{args.video}: {summary['lost_frames']} frames could not be decoded (damaged), at frame {where}{more}; "
              "the outputs have every other frame, and the CSV's frame numbers keep the gaps")
    if summary["concealed_frames"]:
        _warn(f"{args.video}: {summary['concealed_frames']} frames decoded with errors concealed (damaged data); "
              "they are in the outputs but may show artefacts")
    if summary["truncated"]:
        _warn(f"decoded {summary['frames']} of the ~{summary['expected_frames']} frames {args.video} announces; "
              "the file may be truncated or damaged (outputs cover the decodable frames)")
    return EXIT_OK


def _run_images(args, stop: _StopOnSignal) -> int:
    from .annotate import run
    from .overlay import Overlay
    from ..io.sinks import ImageSink
    from ..io.sources import ImageSource

    folder = Path(args.image).is_dir()
    _precheck_outputs(args, (args.image,), output_folder=folder)
    source = ImageSource(args.image, max_frames=args.max_frames, warn=_warn)
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        recognizer = stack.enter_context(_open_recognizer(args, "image"))
        images = None
        if args.output:
            images = ImageSink(args.output, folder=folder, overwrite=args.overwrite)
            images.check_names([f.name for f in source.files] if folder else [None])
        tables = _table_sinks(args, recognizer.labels, True, stack)
        printed = None if (args.output or args.csv or args.jsonl) else []

        def collect(frame, result, _stats):
            if printed is not None:
                printed.append((frame.name, result))

        stats = run(source, recognizer, overlay=Overlay(recognizer.labels), images=images, tables=tables,
                    on_frame=collect, stop=stop.event, hud=bool(args.hud), reset_each_frame=True)
    if printed is not None:
        _print_image_results(printed)
    print(f"{PROG}: {stats.frames} images, {stats.faces} faces" + (f", {len(source.skipped)} skipped"
          if source.skipped else ""), file=sys.stderr)
    return EXIT_SIGNAL[stop.signum] if stop.signum is not None else EXIT_OK


def _print_image_results(items) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("file", "track", "label", "confidence", "box (x1, y1, x2, y2)")
    for name, result in items:
        if not len(result.faces):
            table.add_row(name, "-", "no face", "", "")
        for k, (label, confidence) in enumerate(result.top()):
            box = ", ".join(f"{v:.0f}" for v in result.faces.boxes[k])
            table.add_row(name, str(result.faces.track_ids[k]), label, f"{confidence:.2f}", box)
    Console().print(table)


def _run_camera(args, stop: _StopOnSignal) -> int:
    from . import live
    from ..io.sources import CameraSource

    _precheck_outputs(args, ())
    source = CameraSource(args.camera, max_frames=args.max_frames)
    window = not args.no_window and live.display_available()
    if not args.no_window and not window:
        _warn("no display available (DISPLAY/WAYLAND_DISPLAY unset or unreachable); showing a terminal table "
              "instead (use --no-window to silence this)")
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        recognizer = stack.enter_context(_open_recognizer(args, "camera"))
        tables = _table_sinks(args, recognizer.labels, False, stack)
        video = None
        if args.output:
            from ..io.sinks import VideoSink

            video = VideoSink(args.output, source.info.fps, source.info.size, overwrite=args.overwrite,
                              codec=args.codec, preset=args.preset, crf=args.crf, provider=recognizer.provider)
            stack.callback(video.close)
        hud = True if args.hud is None else args.hud
        if window:
            stats = live.run_window(source, recognizer, video=video, tables=tables, stop=stop.event, hud=hud,
                                    save_last_frame=args.save_last_frame)
        else:
            stats = live.run_table(source, recognizer, video=video, tables=tables, stop=stop.event,
                                   save_last_frame=args.save_last_frame)
    print(f"{PROG}: {stats.frames} frames, {stats.faces} faces, {stats.mean_fps:.1f} fps, median latency "
          f"{live.median_latency(stats):.1f} ms (capture to overlay {live.median_latency(stats, 'age'):.1f} ms), "
          f"{stats.dropped} stale frames dropped", file=sys.stderr)
    if stop.signum is not None:
        return EXIT_SIGNAL[stop.signum]
    if stats.end_reason.startswith(("stream ended", "stalled", "error")):
        _warn(f"{source.info.name}: {stats.end_reason} after {stats.frames} frames; outputs finalized")
        return EXIT_RUNTIME
    return EXIT_OK


def _run_bench(args) -> int:
    from .bench import run_bench

    if args.video:
        from ..io.sources import _check_file

        _check_file(Path(args.video), "video")
    if not 1 <= args.faces <= 8:
        raise InputError(f"--faces: expected 1..8, got {args.faces}; pick a number in that range")
    with _open_recognizer(args, "bench") as recognizer:
        def ahead_factory():
            return _detect_ahead(args, recognizer, "bench")

        report = run_bench(recognizer, video=args.video, frames=args.max_frames or args.frames, faces=args.faces,
                           repeats=args.repeats, ahead_factory=ahead_factory,
                           encoder={"codec": args.codec, "preset": args.preset, "crf": args.crf,
                                    "audio": not args.no_audio}, temporal=temporal_settings(args, "bench"))
    if args.json:
        print(json.dumps(report))
    else:
        _print_bench(report)
    return EXIT_OK


def _print_bench(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("stage", "median ms", "p95 ms", title=f"bench: {Path(report['input']).name}")
    for name, values in report["stages"].items():
        table.add_row(name, f"{values['median_ms']:.2f}", f"{values['p95_ms']:.2f}")
    console = Console()
    console.print(table)
    console.print(f"provider {report['provider']}  frames {report['frames']}  faces/frame {report['faces_per_frame']}  "
                  f"encoder {report['codec']} {report['preset'] or ''}  temporal {report['temporal']}")
    console.print(f"end-to-end {report['fps']:.1f} fps; decode+encode only {report['io_only_fps']:.1f} fps "
                  f"(one thread), {report['io_threaded_fps']:.1f} fps (reader + writer threads)")
    console.print(f"ratio {report['ratio']:.3f} (vs one-thread decode+encode), "
                  f"{report['ratio_threaded']:.3f} (vs threaded decode+encode)")


# ----------------------------------------------------------------------------- entry point

def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script passes it to ``sys.exit``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in ("bench", "eval", "report", "batch") else None
    if command == "eval":
        from . import evaluate_video

        parser = evaluate_video.build_parser(PROG, _add_common)
    elif command == "report":
        from . import report as report_module

        parser = report_module.build_parser(PROG)
    elif command == "batch":
        from .batch.cli import build_batch_parser, run_batch_command

        parser = build_batch_parser()
    else:
        parser = build_bench_parser() if command == "bench" else build_parser()
    try:
        args = parser.parse_args(argv[1:] if command else argv)
    except SystemExit as exit_:  # argparse printed "realtime-fer: error: ..." (or --help)
        return int(exit_.code or 0)
    _quiet_libraries(getattr(args, "verbose", False))
    try:
        with _native_stderr_silenced(not getattr(args, "verbose", False)), _StopOnSignal() as stop:
            if command == "report":
                return report_module.run(args)
            if command == "batch":
                return run_batch_command(args, stop)
            mode = command or ("video" if args.video else "image" if args.image else "camera")
            _check_numbers(args, mode)
            if command == "eval":
                code = evaluate_video.run(args, lambda: _open_recognizer(args, "eval"), stop=stop.event, warn=_warn)
                if stop.signum is not None:
                    _warn("interrupted: the scores cover the frames read so far")
                    return EXIT_SIGNAL[stop.signum]
                return code
            if command == "bench":
                return _run_bench(args)
            if args.video:
                return _run_video(args, stop)
            if args.image:
                return _run_images(args, stop)
            return _run_camera(args, stop)
    except FerError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_SIGNAL[signal.SIGINT]
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback unless asked
        if os.environ.get("REALTIME_FER_DEBUG"):
            raise
        _error(f"internal error: {type(exc).__name__}: {exc}; rerun with REALTIME_FER_DEBUG=1 for a traceback "
               "and report it")
        return EXIT_RUNTIME


def console_main() -> None:  # pragma: no cover - thin wrapper
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
