"""The terminal display of a batch (rich, on stderr): the corpus and one line per worker.

Corpus line: videos finished of total (done / failed / skipped), frames/s over the corpus,
elapsed and ETA. Worker lines: the video each worker is on, its frames and frames/s.
"""

from __future__ import annotations

import time


class BatchProgress:
    """``on_event`` callback for ``run_batch`` that drives a rich ``Progress`` (use as a context manager)."""

    def __init__(self, console=None):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                                 console=console or Console(stderr=True))
        self.corpus = self.progress.add_task("[bold]corpus", total=None, info="")
        self.workers: dict[str, int] = {}
        self.counts = {"done": 0, "failed": 0, "skipped": 0, "interrupted": 0}
        self.frames_finished = 0
        self.frames_running: dict[str, int] = {}
        self.started = time.perf_counter()

    def __enter__(self) -> "BatchProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, kind: str, *details) -> None:
        if kind == "plan":
            total, skipped = details
            self.counts["skipped"] = skipped
            self.progress.update(self.corpus, total=total, completed=skipped)
        elif kind in ("start", "progress"):
            worker, key, done, total = details
            task = self.workers.get(worker)
            if task is None:
                task = self.workers[worker] = self.progress.add_task(f"  {worker}", total=None, info="")
            if kind == "start":
                self.progress.reset(task, total=total, completed=0, info=key)
            else:
                self.progress.update(task, total=total, completed=done, info=key)
            self.frames_running[worker] = done
        elif kind == "record":
            (record,) = details
            self.counts[record["status"]] = self.counts.get(record["status"], 0) + 1
            self.frames_finished += record.get("frames") or 0
            self.frames_running.pop(record.get("worker", ""), None)
            task = self.workers.get(record.get("worker", ""))
            if task is not None and record.get("frames"):
                self.progress.update(task, total=record["frames"], completed=record["frames"],
                                     info=f"{record['key']} {record['status']}")
        self._update_corpus()

    def _update_corpus(self) -> None:
        counts = self.counts
        frames = self.frames_finished + sum(self.frames_running.values())
        fps = frames / max(time.perf_counter() - self.started, 1e-9)
        self.progress.update(self.corpus, completed=counts["done"] + counts["failed"] + counts["skipped"],
                             info=f"done {counts['done']} failed {counts['failed']} skipped {counts['skipped']} "
                                  f"running {len(self.frames_running)} | {fps:.0f} frames/s")
