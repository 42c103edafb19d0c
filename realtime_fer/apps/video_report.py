"""What a ``--video`` run adds at its end: the per-track summary table, and ``--report DIR``.

``prepare(args)`` checks the report folder before anything runs; ``tables(labels,
stack)`` gives the extra table sinks the run must feed (a ``report.LabelTally``, and
``DIR/faces.csv`` when there is no ``--csv``); ``finish(warn)`` prints the table and writes
the report from the CSV (the report is a function of the CSV alone).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError


class VideoReport:
    def __init__(self, args, csv_path: Path | None):
        self.args = args
        self.csv_path = csv_path
        self.tally = None
        self.labels: tuple[str, ...] = ()

    def tables(self, labels, stack) -> list:
        from .report import LabelTally
        from ..io.sinks import CsvSink

        self.tally, self.labels = LabelTally(), tuple(labels)
        extra = [self.tally]
        if self.args.report and not self.args.csv:
            extra.append(stack.enter_context(CsvSink(self.csv_path, labels, False, overwrite=self.args.overwrite)))
        return extra

    def finish(self, warn) -> None:
        from .report import print_summary, write_report

        if self.tally is not None and self.tally.counts:
            print_summary(self.tally.summary(self.labels))
        if self.args.report and self.csv_path is not None and self.csv_path.is_file():
            summary = write_report(self.csv_path, self.args.report)
            if not summary["tracks"]:
                warn(f"--report {self.args.report}: no face was found, so the report has no tracks")


def prepare(args) -> VideoReport:
    """Validate ``--report`` (a folder; its faces.csv obeys --overwrite) and return the run's hook."""
    if not getattr(args, "report", None):
        return VideoReport(args, Path(args.csv) if args.csv else None)
    folder = Path(args.report)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--report: expected a folder, got the existing file {folder}; pass a folder path")
    csv_path = Path(args.csv) if args.csv else folder / "faces.csv"
    if not args.csv:
        from ..io.sinks import check_output

        check_output(csv_path, args.overwrite, inputs=(args.video,))
    return VideoReport(args, csv_path)
