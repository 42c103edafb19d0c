"""``realtime-fer batch``: argument parsing and the summary (the library work is ``batch.run_batch``).

Exit codes: 0 every input done or skipped; 1 some inputs failed (each failure is in the
manifest with its error); 2 bad usage (no inputs, colliding names, locked output folder, bad
model...); 130 / 143 interrupted by Ctrl-C / SIGTERM (the manifest is consistent: rerun the same
command to finish what is left).
"""

from __future__ import annotations

import argparse
import contextlib
import os

from ..console import EXIT_OK, EXIT_RUNTIME, EXIT_SIGNAL, PROG, StopOnSignal, warn
from .arguments import subcommand_parser, add_run_arguments, run_options

SUMMARY = "annotate a corpus of videos on worker processes or a Ray cluster (resumable)"


def build_parser() -> argparse.ArgumentParser:
    parser = subcommand_parser(
        "batch", "Annotate a corpus of videos with the options of --video, on local worker processes or a Ray "
        "cluster; resumable through OUT/manifest.jsonl.",
        epilog="Exit codes: 0 all done, 1 some inputs failed (see the manifest), 2 bad usage, 130/143 interrupted.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="video files, folders (searched recursively), quoted globs, or .txt lists of paths")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (sub-folders mirror the inputs')")
    parser.add_argument("--csv", action="store_true", help="write OUT/<name>.csv (the default if no output is named)")
    parser.add_argument("--jsonl", action="store_true", help="write OUT/<name>.jsonl")
    parser.add_argument("--save-video", action="store_true", help="write OUT/<name>.annotated.mp4")
    parser.add_argument("--hud", action=argparse.BooleanOptionalAction, default=None,
                        help="draw the fps/latency readout into saved videos (default: off)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes, each with one recognizer (default: the number of cores)")
    parser.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                        help="run on a Ray cluster: 'auto' (default: the running cluster, else a local one) or an "
                             "address; OUT must be a path every node reaches")
    parser.add_argument("--cpus-per-task", type=float, default=1.0, metavar="F", help="Ray: CPUs per worker actor")
    parser.add_argument("--gpus-per-task", type=float, default=0.0, metavar="F",
                        help="Ray: GPUs per worker actor (0.25: four share a GPU)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    add_run_arguments(parser, "batch")
    return parser


def run(args, stop: StopOnSignal) -> int:
    """Run ``realtime-fer batch`` with parsed ``args`` under the CLI's signal handler ``stop``; the exit code.

    FerError, KeyboardInterrupt and internal errors propagate to ``cli.entry.main``, which prints them.
    """
    from ..batch.job import JobSettings
    from ..batch.runner import run_batch
    from .progress import BatchProgress

    options = run_options(args, "batch")
    settings = JobSettings(csv=args.csv or not (args.jsonl or args.save_video), jsonl=args.jsonl,
                           save_video=args.save_video, recognizer=options.recognizer, temporal=options.temporal,
                           max_frames=options.max_frames, hud=bool(args.hud))
    display = BatchProgress() if not args.quiet else None
    with display if display is not None else contextlib.nullcontext():
        records = run_batch(args.inputs, args.out, settings, workers=_workers(args.workers),
                            ray=args.ray, cpus_per_task=args.cpus_per_task, gpus_per_task=args.gpus_per_task,
                            stop=stop.event, on_event=display)
    return _summary(args, records, stop)


def _workers(requested: int | None) -> int:
    """--workers as given (``run_batch`` refuses < 1), or one per core when left out."""
    return requested if requested is not None else os.cpu_count() or 1


def _summary(args, records: list[dict], stop: StopOnSignal) -> int:
    import sys

    counts: dict[str, int] = {}
    for record in records:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
        if record["status"] == "failed":
            warn(f"failed: {record['error']}")
        elif record.get("warning"):
            warn(f"{record['input']}: {record['warning']}")
    frames = sum(r.get("frames") or 0 for r in records if r["status"] == "done")
    print(f"{PROG} batch: {len(records)} inputs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
          + f"; {frames} frames annotated -> {args.out}/manifest.jsonl", file=sys.stderr)
    if stop.signum is not None:
        warn("interrupted; rerun the same command to finish the inputs that are not done")
        return EXIT_SIGNAL[stop.signum]
    return EXIT_RUNTIME if counts.get("failed") else EXIT_OK
