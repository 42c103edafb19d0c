"""What a ``--video`` run adds at its end: the per-track summary, and ``--report DIR``.

``VideoReport.prepare(report_dir, csv, ...)`` checks the report folder before anything runs; ``tables(labels,
stack)`` gives the extra table sinks the run must feed (a ``render.report.LabelTally``, and ``DIR/faces.csv``
when there is no ``--csv``); ``finish()`` writes the report from the CSV (the report is a function of the
CSV alone, the table the run wrote) and returns the summary of what was shown, for the CLI to print.
"""

from __future__ import annotations

from pathlib import Path


class VideoReport:
    """The end-of-run summary of one video and its optional report folder (``report_dir``)."""

    def __init__(self, report_dir: Path | None, csv_path: Path | None, write_csv: bool, overwrite: bool):
        self.report_dir, self.csv_path, self.write_csv, self.overwrite = report_dir, csv_path, write_csv, overwrite
        self.tally = None
        self.labels: tuple[str, ...] = ()

    @classmethod
    def prepare(cls, report_dir, csv=None, *, overwrite: bool = False, inputs: tuple = ()) -> "VideoReport":
        """Validate ``report_dir`` (a folder, or None; its faces.csv obeys ``overwrite``) and return the hook."""
        if not report_dir:
            return cls(None, Path(csv) if csv else None, False, overwrite)
        from ...io.sinks import check_output

        folder = check_output(report_dir, overwrite, folder=True, label="--report")
        if csv:
            return cls(folder, Path(csv), False, overwrite)
        check_output(folder / "faces.csv", overwrite, inputs=inputs)
        return cls(folder, folder / "faces.csv", True, overwrite)

    def tables(self, labels, stack) -> list:
        from ...io.sinks import CsvSink
        from ..render.report import LabelTally

        self.tally, self.labels = LabelTally(), tuple(labels)
        extra = [self.tally]
        if self.write_csv:
            extra.append(stack.enter_context(CsvSink(self.csv_path, labels, False, overwrite=self.overwrite)))
        return extra

    def finish(self) -> tuple[dict | None, dict | None]:
        """(summary of the shown labels per track or None without faces, the written report's summary or None)."""
        from ..render.report import write_report

        shown = self.tally.summary(self.labels) if self.tally is not None and self.tally.counts else None
        written = None
        if self.report_dir is not None and self.csv_path is not None and self.csv_path.is_file():
            written = write_report(self.csv_path, self.report_dir)
        return shown, written
