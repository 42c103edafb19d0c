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
                               "CSV: OUT/report.html, track_<id>.png, summary.json.")
    for name, options in ARGUMENTS:
        parser.add_argument(name, **options)
    return parser


def run(args) -> int:
    """Write the report, print the summary table; the exit code."""
    from ..render.report import write_report

    summary = write_report(args.csv, args.out)
    print_summary(summary)
    print(f"{PROG}: report of {len(summary['tracks'])} tracks -> {Path(args.out) / 'report.html'}")
    return EXIT_OK
