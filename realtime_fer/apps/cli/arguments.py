"""The options both command lines share, and the one place they become values (``engine.options``).

``add_run_arguments(parser, command)`` declares the recognizer, temporal-stage, encoder and common options
of ``realtime-fer`` (``command`` "main"), ``bench``, ``eval`` and ``batch`` with one help text each;
``run_options(args, mode)`` turns the parsed namespace into a validated ``RunOptions`` (InputError naming
the option), once, before anything runs.

``--temporal live|offline|off`` picks the temporal mode (default: ``engine.modes.MODE_DEFAULTS``); ``--tau``,
``--switch-margin``, ``--min-hold``, ``--evidence`` and ``--lag`` (offline) override that mode's defaults, and the older
``--smoothing F`` (a per-frame EMA weight) maps to ``--tau`` = that EMA's time constant at 30 fps
(0 = ``--temporal off``).
"""

from __future__ import annotations

import argparse

from ...core.temporal import (EVIDENCE, LIVE_BEFORE, MAX_LOG_MARGIN, MAX_VIDEO_LAG_S, MODES, OFF, OFFLINE_BEFORE,
                              TemporalSettings, default_settings)
from ...errors import InputError
from ..engine.modes import MODE_DEFAULTS
from ..engine.options import DETECTORS, PROVIDERS, RANGES, EncoderOptions, OutputOptions, RecognizerOptions, \
    RunOptions

def subcommand_parser(name: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
    """The parser of ``realtime-fer NAME``."""
    from ..console import PROG

    return argparse.ArgumentParser(prog=f"{PROG} {name}", description=description, epilog=epilog)


def add_run_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The recognizer and temporal-stage groups, plus --max-frames and --verbose; ``command`` "main" and "bench"
    also get the video-output group (and --detect-threads; "batch" names its worker processes --workers); "serve"
    gets neither --max-frames nor --detect-threads (a server has no frame count to stop at and no look-ahead)."""
    group = parser.add_argument_group("recognizer")
    group.add_argument("--model", metavar="PATH", help="ONNX expression model with its .json sidecar (default: "
                       "--camera, --video, batch, eval, bench: models/expression-compact-talking.onnx, chosen on "
                       "people talking; --image: models/expression-faceres.int8.onnx on CPU, "
                       "models/expression-faceres.onnx on CUDA/TensorRT, the most accurate on photos; see "
                       "docs/models.md)")
    group.add_argument("--provider", choices=PROVIDERS, default="auto", help="ONNX Runtime provider (default auto)")
    group.add_argument("--detector", choices=DETECTORS, default=None,
                       help="face detector (default: centerface for --image; otherwise blazeface with centerface "
                            "passes now and then for small faces; naming one runs it alone; see docs/detection.md)")
    group.add_argument("--detector-size", type=int, default=None, metavar="PX",
                       help="centerface: longest side of its input in pixels (default: the frame's own, kept "
                            "between 640 and 1280; larger finds smaller faces, slower)")
    group.add_argument("--range", dest="detector_range", choices=RANGES,
                       help="BlazeFace range (default: short for --camera/--video/batch, both for --image "
                            "--detector blazeface)")
    group.add_argument("--detect-every", type=int, default=None, metavar="N",
                       help="run the detector every N frames, tracks coast in between (default: 2 for --video, "
                            "batch, eval and bench, 1 for --camera and --image)")
    group.add_argument("--min-confidence", type=float, default=0.5, metavar="F", help="detector score threshold")
    group.add_argument("--min-face", dest="min_size", type=float, default=None, metavar="PX",
                       help="drop faces narrower than PX pixels (default: 10 for --image, 20 otherwise; 0 keeps "
                            "all)")
    group.add_argument("--min-frames", dest="min_hits", type=int, default=None, metavar="N",
                       help="frames in a row a new face must be found in before it is shown (default 3 for "
                            "--camera, --video and batch: files then show it from its first frame, --camera "
                            "3 frames late; 1 for --image)")
    group.add_argument("--threads", type=int, default=None, metavar="N",
                       help="ONNX Runtime threads for the classifier (default: 2 for --camera/--image on 2+ "
                            "cores, 1 for files, whose detection runs ahead on another core)")
    if command != "serve":
        group.add_argument("--detect-threads", dest="lookahead", type=int, default=None, metavar="N",
                           help="files: detection threads running ahead of the frame being drawn (default: 1 on 2 "
                                "cores, 2 on more; batch: 0 when the workers fill the cores; 0 = off)")
    if command not in ("batch", "serve"):
        group.add_argument("--workers", dest="lookahead", type=int, default=None, help=argparse.SUPPRESS)
    add_temporal_arguments(parser.add_argument_group("temporal stage"))
    if command in ("main", "bench"):
        add_encoder_arguments(parser)
    if command != "serve":
        parser.add_argument("--max-frames", type=int, default=None, metavar="N", help="stop after N frames (batch: "
                            "per video)")
    parser.add_argument("--verbose", action="store_true", help="keep OpenCV/FFmpeg/MediaPipe log output")


def add_encoder_arguments(parser: argparse.ArgumentParser) -> None:
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


def add_temporal_arguments(group) -> None:
    """Add --temporal, --tau, --switch-margin, --min-hold, --evidence, --lag and --smoothing to ``group``."""
    group.add_argument("--temporal", choices=MODES, default=None,
                       help="temporal stage: live = causal change detection on the label, offline = best label "
                            "sequence with --lag seconds of look-ahead (files only), off = raw "
                            "(default: offline for --video, batch and eval, live otherwise)")
    group.add_argument("--tau", type=float, default=None, metavar="S",
                       help="probability smoothing time constant in seconds (default 0: the raw probabilities)")
    group.add_argument("--switch-margin", type=float, default=None, metavar="F",
                       help="lead a new label needs over the shown one, in nats of log-probability (default 0.45; "
                            "with --evidence prob: in probability, default 0.15 live, 0.3 offline)")
    group.add_argument("--min-hold", type=float, default=None, metavar="S",
                       help="seconds of that lead a label switch costs (default 0.8; with --evidence prob: 0.4 "
                            "live, 0.8 offline)")
    group.add_argument("--evidence", choices=EVIDENCE, default=None,
                       help="what a lead is measured in: log = log-probability (default: a confident brief "
                            "expression switches fast, a wavering lead slowly), prob = probability (the former "
                            "probability-lead design: --tau 0.3/0.5 and the margins above)")
    group.add_argument("--lag", type=float, default=None, metavar="S",
                       help=f"offline: seconds each frame waits for its future (default 1; at most "
                            f"{MAX_VIDEO_LAG_S:g}: --video holds lag x fps decoded frames, ~190 MB per second of "
                            "1080p at 30 fps)")
    group.add_argument("--smoothing", type=float, default=None, metavar="F",
                       help="older form of --tau: a per-frame EMA weight in [0, 1) at 30 fps (0.6 = 0.065 s); "
                            "0 = --temporal off")


def temporal_settings(args, mode: str) -> TemporalSettings:
    """The settings the options in ``args`` ask for in CLI ``mode``; InputError naming the bad option."""
    chosen = args.temporal or MODE_DEFAULTS[mode].temporal
    if chosen == "offline" and not MODE_DEFAULTS[mode].files:
        raise InputError(f"--temporal offline: expected --video, batch or eval (a file's future is needed), got "
                         f"{mode} mode; use --temporal live")
    if args.lag is not None and chosen != "offline":
        raise InputError(f"--lag: expected it with the offline filter, got --temporal {chosen}; drop --lag or use "
                         "--temporal offline")
    evidence = getattr(args, "evidence", None)
    checks = (("--tau", args.tau, 0.0, 60.0, "e.g. 0.3"),
              ("--switch-margin", args.switch_margin, 0.0, 1.0 if evidence == "prob" else MAX_LOG_MARGIN,
               "e.g. 0.15" if evidence == "prob" else "e.g. 0.5"),
              ("--min-hold", args.min_hold, 0.0, 60.0, "e.g. 0.4"),
              ("--lag", args.lag, 0.0, 60.0 if mode == "eval" else MAX_VIDEO_LAG_S, "e.g. 1"))
    for option, value, low, high, hint in checks:  # also with --temporal off: no bad value passes unseen
        if value is not None and not low <= value <= high:
            raise InputError(f"{option}: expected a number in [{low:g}, {high:g}], got {value}; {hint}")
    if args.smoothing is not None:
        if not 0.0 <= args.smoothing < 1.0:
            raise InputError(f"--smoothing: expected a number in [0, 1), got {args.smoothing}; 0 turns smoothing off")
        if args.smoothing == 0.0 and args.temporal is None:
            return OFF
    if chosen == "off":
        return OFF
    settings = default_settings(chosen)
    if evidence == "prob":
        settings = {"live": LIVE_BEFORE, "offline": OFFLINE_BEFORE}[chosen]
    if args.smoothing is not None and args.tau is None:
        settings = settings.with_(tau_s=TemporalSettings.tau_from_ema_weight(args.smoothing))
    changes = {k: v for k, v in (("tau_s", args.tau), ("margin", args.switch_margin),
                                 ("min_hold_s", args.min_hold), ("lag_s", args.lag)) if v is not None}
    return settings.with_(**changes)


def recognizer_options(args) -> RecognizerOptions:
    return RecognizerOptions(model=args.model, provider=args.provider, detector=args.detector,
                             detector_range=args.detector_range, detect_every=args.detect_every,
                             min_confidence=args.min_confidence, threads=args.threads,
                             detector_size=args.detector_size, min_size=args.min_size, min_hits=args.min_hits,
                             lookahead=getattr(args, "lookahead", None))


def encoder_options(args) -> EncoderOptions:
    return EncoderOptions(codec=getattr(args, "codec", None), preset=getattr(args, "preset", None),
                          crf=getattr(args, "crf", None), audio=not getattr(args, "no_audio", False))


def run_options(args, mode: str) -> RunOptions:
    """Every option value of ``args`` for CLI ``mode`` ("video", "image", "camera", "bench", "eval", "batch"),
    validated; the outputs are those of ``realtime-fer`` (batch names its own)."""
    outputs = OutputOptions(output=getattr(args, "output", None), csv=_path(args, "csv"),
                            jsonl=_path(args, "jsonl"), overwrite=getattr(args, "overwrite", False),
                            hud=bool(getattr(args, "hud", False)))
    return RunOptions(recognizer_options(args), temporal_settings(args, mode), encoder_options(args), outputs,
                      getattr(args, "max_frames", None))


def _path(args, name: str):
    value = getattr(args, name, None)
    return value if isinstance(value, str) else None
