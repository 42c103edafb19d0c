"""``realtime-fer batch``: argument parsing and the summary (the library work is ``runner.run_batch``).

Exit codes: 0 every input done or skipped; 1 some inputs failed (each failure is in the
manifest with its error); 2 bad usage (no inputs, colliding names, locked output folder, bad
model...); 130 / 143 interrupted by Ctrl-C / SIGTERM (the manifest is consistent: rerun the same
command to finish what is left).
"""

from __future__ import annotations

import argparse
import contextlib
import sys


def build_batch_parser() -> argparse.ArgumentParser:
    from ..cli import PROG, PROVIDERS, RANGES
    from ..temporal_options import add_temporal_arguments

    parser = argparse.ArgumentParser(
        prog=f"{PROG} batch", description="Annotate a corpus of videos with the options of --video, on local "
        "worker processes or a Ray cluster; resumable through OUT/manifest.jsonl.",
        epilog="Exit codes: 0 all done, 1 some inputs failed (see the manifest), 2 bad usage, 130/143 interrupted.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="video files, folders (searched recursively), quoted globs, or .txt lists of paths")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (sub-folders mirror the inputs')")
    parser.add_argument("--csv", action="store_true", help="write OUT/<name>.csv (the default if no output is named)")
    parser.add_argument("--jsonl", action="store_true", help="write OUT/<name>.jsonl")
    parser.add_argument("--save-video", action="store_true", help="write OUT/<name>.annotated.mp4")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes, each with one recognizer (default: the number of cores)")
    parser.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                        help="run on a Ray cluster: 'auto' (default: the running cluster, else a local one) or an "
                             "address; OUT must be a path every node reaches")
    parser.add_argument("--cpus-per-task", type=float, default=1.0, metavar="F", help="Ray: CPUs per worker actor")
    parser.add_argument("--gpus-per-task", type=float, default=0.0, metavar="F",
                        help="Ray: GPUs per worker actor (0.25: four share a GPU)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    group = parser.add_argument_group("recognizer (as for --video)")
    group.add_argument("--model", metavar="PATH")
    group.add_argument("--provider", choices=PROVIDERS, default="auto")
    group.add_argument("--detector", choices=("blazeface", "mtcnn"), default="blazeface")
    group.add_argument("--range", dest="detector_range", choices=RANGES)
    group.add_argument("--detect-every", type=int, default=None, metavar="N")
    group.add_argument("--min-confidence", type=float, default=0.5, metavar="F")
    group.add_argument("--threads", type=int, default=None, metavar="N", help="classifier threads per worker")
    group.add_argument("--max-frames", type=int, default=None, metavar="N", help="at most N frames per video")
    group.add_argument("--hud", action="store_true", help="draw the fps readout into saved videos")
    add_temporal_arguments(parser.add_argument_group("temporal stage (as for --video)"))
    parser.add_argument("--verbose", action="store_true", help="keep OpenCV/FFmpeg/MediaPipe log output")
    return parser


def run_batch_command(args, stop) -> int:
    """Run ``realtime-fer batch`` with parsed ``args`` under the CLI's signal handler ``stop``; the exit code.

    FerError, KeyboardInterrupt and internal errors propagate to ``cli.main``, which prints them.
    """
    import os

    from ..cli import EXIT_RUNTIME, EXIT_SIGNAL, PROG, _warn
    from .progress import BatchProgress
    from ..temporal_options import temporal_settings
    from .runner import run_batch

    csv = args.csv or not (args.jsonl or args.save_video)
    options = dict(model=args.model, provider=args.provider, detector=args.detector,
                   detector_range=args.detector_range, temporal=temporal_settings(args, "batch"),
                   detect_every=args.detect_every,
                   min_confidence=args.min_confidence, threads=args.threads, max_frames=args.max_frames, hud=args.hud)
    display = BatchProgress() if not args.quiet else None
    with display if display is not None else contextlib.nullcontext():
        records = run_batch(args.inputs, args.out, csv=csv, jsonl=args.jsonl, save_video=args.save_video,
                            workers=args.workers or os.cpu_count() or 1, ray=args.ray,
                            cpus_per_task=args.cpus_per_task, gpus_per_task=args.gpus_per_task,
                            stop=stop.event, on_event=display, **options)
    counts: dict[str, int] = {}
    for record in records:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
        if record["status"] == "failed":
            _warn(f"failed: {record['error']}")
        elif record.get("warning"):
            _warn(f"{record['input']}: {record['warning']}")
    frames = sum(r.get("frames") or 0 for r in records if r["status"] == "done")
    print(f"{PROG} batch: {len(records)} inputs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
          + f"; {frames} frames annotated -> {args.out}/manifest.jsonl", file=sys.stderr)
    if stop.signum is not None:
        _warn("interrupted; rerun the same command to finish the inputs that are not done")
        return EXIT_SIGNAL[stop.signum]
    return EXIT_RUNTIME if counts.get("failed") else 0
