"""``realtime-fer report faces.csv --out DIR``: timelines and shares per track (``render.report``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..console import EXIT_OK, PROG
from .video import print_summary

SUMMARY = "timelines, shares and a summary per track from a faces CSV"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"{PROG} report", description="Timelines, shares per expression and a "
                                     "summary per track from a faces CSV: OUT/report.html, track_<id>.png, "
                                     "summary.json.")
    parser.add_argument("csv", metavar="FACES.csv", help="a table written by --csv")
    parser.add_argument("--out", metavar="DIR", required=True, help="folder for the report (created)")
    return parser


def run(args) -> int:
    """Write the report, print the summary table; the exit code."""
    from ..render.report import write_report

    summary = write_report(args.csv, args.out)
    print_summary(summary)
    print(f"{PROG}: report of {len(summary['tracks'])} tracks -> {Path(args.out) / 'report.html'}")
    return EXIT_OK
