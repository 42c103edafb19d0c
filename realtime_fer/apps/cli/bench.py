"""``realtime-fer bench``: per-stage latency and throughput against decode+encode alone (``engine.bench``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ...errors import InputError
from ..console import EXIT_OK, rich_console
from ..engine.options import RunOptions
from .arguments import subcommand_parser, add_run_arguments

SUMMARY = "per-stage latency and fps, measured against decode+encode alone"


def build_parser() -> argparse.ArgumentParser:
    parser = subcommand_parser("bench", description="Per-stage latency, end-to-end fps and the "
                               "ratio to decode+encode-only throughput, measured in the same run.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--video", metavar="IN", help="benchmark on this video")
    source.add_argument("--synthetic", action="store_true", help="generated 640x360 frames (default)")
    parser.add_argument("--faces", type=int, default=1, metavar="N", help="--synthetic: faces per frame (1..8)")
    parser.add_argument("--frames", type=int, default=None, metavar="N", help="frames per pass (default: all / 300)")
    parser.add_argument("--repeats", type=int, default=1, metavar="N", help="alternate passes N times, keep the best")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_run_arguments(parser, "bench")
    return parser


def run(args, options: RunOptions) -> int:
    from ...io.sources import check_file
    from ..engine.bench import run_bench
    from ..engine.recognizer_setup import make_detect_ahead, open_recognizer, persist_stage

    if args.video:
        check_file(Path(args.video), "video")
    if not 1 <= args.faces <= 8:
        raise InputError(f"--faces: expected 1..8, got {args.faces}; pick a number in that range")
    for option, value, example in (("--frames", args.frames, 100), ("--repeats", args.repeats, 3)):
        if value is not None and value < 1:
            raise InputError(f"{option}: expected an integer >= 1, got {value}; e.g. {option} {example}")
    options.encoder.check_for("bench.mp4")  # bench encodes H.264 .mp4, as --video's default
    with open_recognizer(options.recognizer, "bench") as recognizer:
        def ahead_factory():
            return make_detect_ahead(recognizer, options.recognizer, "bench")

        encoder = options.encoder
        report = run_bench(recognizer, video=args.video, frames=options.max_frames or args.frames, faces=args.faces,
                           repeats=args.repeats, ahead_factory=ahead_factory,
                           encoder={**encoder.sink_options(), "audio": encoder.audio}, temporal=options.temporal,
                           wrap_stage=lambda stage: persist_stage(stage, options.recognizer, "bench"))
    if args.json:
        print(json.dumps(report))
    else:
        _print(report)
    return EXIT_OK


def _print(report: dict) -> None:
    from rich.table import Table

    table = Table("stage", "median ms", "p95 ms", title=f"bench: {Path(report['input']).name}")
    for name, values in report["stages"].items():
        table.add_row(name, f"{values['median_ms']:.2f}", f"{values['p95_ms']:.2f}")
    console = rich_console()
    console.print(table)
    console.print(f"provider {report['provider']}  frames {report['frames']}  faces/frame {report['faces_per_frame']}  "
                  f"encoder {report['codec']} {report['preset'] or ''}  temporal {report['temporal']}")
    console.print(f"end-to-end {report['fps']:.1f} fps; decode+encode only {report['io_only_fps']:.1f} fps "
                  f"(one thread), {report['io_threaded_fps']:.1f} fps (reader + writer threads)")
    console.print(f"ratio {report['ratio']:.3f} (vs one-thread decode+encode), "
                  f"{report['ratio_threaded']:.3f} (vs threaded decode+encode)")
