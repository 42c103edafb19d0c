"""``realtime-fer``: the command line (this package is the only place that prints or exits).

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

Exit codes: see ``apps.console``. Errors are one line on stderr: ``realtime-fer: error: <message>``;
warnings ``realtime-fer: warning: <message>``. Set REALTIME_FER_DEBUG=1 to get tracebacks of internal errors.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from ... import __version__
from ...errors import FerError, InputError
from ..console import (EXIT_RUNTIME, EXIT_SIGNAL, EXIT_USAGE, PROG, StopOnSignal, error, native_stderr_silenced,
                       quiet_libraries)
from . import batch, bench, eval as eval_command, report, serve
from .arguments import add_run_arguments, run_options

SUBCOMMANDS = {"batch": batch, "bench": bench, "eval": eval_command, "report": report, "serve": serve}


def _epilog() -> str:
    width = max(len(name) for name in SUBCOMMANDS)
    lines = [f"  {PROG} {name:<{width}}  {module.SUMMARY}" for name, module in SUBCOMMANDS.items()]
    return ("subcommands (each has --help):\n" + "\n".join(lines) + "\n\nExit codes: 0 ok, 1 runtime failure, "
            "2 bad usage/input, 130/143 interrupted (outputs finalized)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Real-time facial expression recognition (BlazeFace + ONNX Runtime).",
        usage=f"{PROG} (--camera SRC | --video IN | --image IN) [options]\n       {PROG} "
              f"{{{','.join(SUBCOMMANDS)}}} ...",
        epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--camera", metavar="SRC", help="camera index, stream URL, or a video file standing in")
    mode.add_argument("--video", metavar="IN", help="annotate a video file")
    mode.add_argument("--image", metavar="IN", help="an image file or a folder of images (sub-folders "
                      "searched too, as batch does)")
    parser.add_argument("--output", metavar="OUT", help="annotated video (.mp4/.mov/.mkv H.264 with the input's "
                        "audio, .avi MJPEG), image, or folder (a name ending in / or an existing folder)")
    parser.add_argument("--csv", metavar="FILE", help="one row per face per frame")
    parser.add_argument("--jsonl", metavar="FILE", help="one JSON object per face per frame")
    parser.add_argument("--report", metavar="DIR", help="--video: per-track timelines, shares and a summary as "
                        "DIR/report.html + PNGs + summary.json (and DIR/faces.csv without --csv)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--no-window", action="store_true", help="--camera: live terminal table instead of a window")
    parser.add_argument("--hud", action=argparse.BooleanOptionalAction, default=None,
                        help="draw the fps/latency readout (default: on for --camera, off otherwise)")
    parser.add_argument("--save-last-frame", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--fps", type=float, default=None, metavar="F",
                        help="--video FOLDER of numbered frames (00001.jpg ...): the frame rate of the original video")
    add_run_arguments(parser, "main")
    return parser


def _check_mode(args, mode: str) -> None:
    if args.fps is not None and not 0 < args.fps <= 1000:
        raise InputError(f"--fps: expected a frame rate in (0, 1000], got {args.fps:g}; e.g. --fps 30")
    if args.report and mode != "video":
        instead = ("--csv faces.csv lists each photo's faces (realtime-fer report faces.csv --out DIR makes a "
                   "per-photo report of it)" if mode == "image" else
                   "record with --csv faces.csv, then run realtime-fer report faces.csv --out DIR")
        raise InputError(f"--report: expected --video (reports need a whole file), got {mode} mode; {instead}")
    if args.fps is not None and mode != "video":
        raise InputError("--fps: expected it with --video FOLDER (numbered frames), got it without --video; "
                         "drop --fps")


def _dispatch(command: str | None, args, stop: StopOnSignal) -> int:
    from .camera import run_camera
    from .video import run_images, run_video

    if command == "report":
        return report.run(args)
    if command in ("batch", "serve"):
        return SUBCOMMANDS[command].run(args, stop)
    mode = command or ("video" if args.video else "image" if args.image else "camera")
    options = run_options(args, mode)
    if command == "eval":
        return eval_command.run(args, options, stop)
    if command == "bench":
        return bench.run(args, options)
    _check_mode(args, mode)
    runner = {"video": run_video, "image": run_images, "camera": run_camera}[mode]
    return runner(args, options, stop)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script passes it to ``sys.exit``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    parser = SUBCOMMANDS[command].build_parser() if command else build_parser()
    try:
        args = parser.parse_args(argv[1:] if command else argv)
    except SystemExit as exit_:  # argparse printed "realtime-fer: error: ..." (or --help / --version)
        return int(exit_.code or 0)
    quiet_libraries(getattr(args, "verbose", False))
    try:
        with native_stderr_silenced(not getattr(args, "verbose", False)), StopOnSignal() as stop:
            return _dispatch(command, args, stop)
    except FerError as exc:
        error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_SIGNAL[signal.SIGINT]
    except OSError as exc:
        from ...io.output_paths import CAUSES, cause_of

        if exc.errno not in CAUSES:
            return _internal_error(exc)
        where = f"output {exc.filename}" if exc.filename else "outputs"
        error(f"{where}: expected to finish writing, got {cause_of(exc)}; this run's unfinished outputs were "
              "deleted: free some space or choose another output path, and run again")
        return EXIT_RUNTIME
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback unless asked
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    if os.environ.get("REALTIME_FER_DEBUG"):
        raise exc
    error(f"internal error: {type(exc).__name__}: {exc}; rerun with REALTIME_FER_DEBUG=1 for a traceback "
          "and report it")
    return EXIT_RUNTIME


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
