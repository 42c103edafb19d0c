"""``realtime-fer report faces.csv --out DIR``: timelines and shares per track (``render.report``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..console import EXIT_OK, PROG
from .arguments import subcommand_parser
from .video import print_summary

SUMMARY = "timelines, shares and a summary per track from a faces CSV"
ARGUMENTS = (("csv", dict(metavar="FACES.csv", help="a table written by --csv")),
             ("--out", dict(metavar="DIR", required=True, help="folder for the report (created)")))


def build_parser() -> argparse.ArgumentParser:
    parser = subcommand_parser("report", "Timelines, shares per expression and a summary per track from a faces "
                               "CSV: OUT/report.html, track_<id>.png, summary.json; for a CSV of photos "
                               "(--image), each photo's faces instead.")
    for name, options in ARGUMENTS:
        parser.add_argument(name, **options)
    return parser


def run(args) -> int:
    """Write the report, print the summary table; the exit code."""
    from ..render.report import write_report

    summary = write_report(args.csv, args.out)
    if summary.get("kind") == "photos":
        _print_photos(summary)
        print(f"{PROG}: report of {len(summary['photos'])} photos, {summary['faces']} faces -> "
              f"{Path(args.out) / 'report.html'}")
        return EXIT_OK
    print_summary(summary)
    print(f"{PROG}: report of {len(summary['tracks'])} tracks -> {Path(args.out) / 'report.html'}")
    return EXIT_OK


def _print_photos(summary: dict) -> None:
    """A table on stderr: per photo its faces (number within the photo, label, confidence)."""
    from rich.table import Table

    from ..console import rich_console

    table = Table("photo", "face", "label", "confidence", title="expressions per photo (faces numbered per photo)")
    for photo in summary["photos"]:
        for face in photo["faces"]:
            confidence = "" if face["confidence"] is None else f"{face['confidence']:.2f}"
            table.add_row(photo["file"], str(face["track_id"]), face["label"], confidence)
    rich_console(stderr=True).print(table)
