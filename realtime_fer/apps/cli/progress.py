"""Progress on stderr: a rich bar on a terminal, plain lines (one every ``LINE_PERIOD_S``) anywhere else.

Into a file or a pipe (CI logs, ``2> log``) a live bar would be redrawn as control codes and cut to 80
columns; there each update is a line of its own, e.g.
``realtime-fer: annotating 480/1200 frames (40 %), 96 fps, 5 s elapsed, ETA 8 s``.
"""

from __future__ import annotations

import sys
import time

from ..console import PROG, is_terminal, rich_console

LINE_PERIOD_S = 5.0


class VideoProgress:
    """``update(done, total_or_None)`` callback for one video; ``close()`` ends the display (use as a context)."""

    def __init__(self, title: str = "annotating", live: bool | None = None):
        self.title = title
        self.live = is_terminal(sys.stderr) if live is None else live
        self.start = self.last = time.perf_counter()
        self.done, self.total = 0, None
        self._bar = None

    def __enter__(self) -> "VideoProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __call__(self, done: int, total: int | None) -> None:
        self.done, self.total = done, total
        now = time.perf_counter()
        if self.live:
            if self._bar is None:
                self._open_bar(total)
            if now - self.last >= 0.1:
                self.last = now
                self._bar[0].update(self._bar[1], completed=done, fps=f"{self.rate(now):.0f} fps")
        elif now - self.last >= LINE_PERIOD_S:
            self.last = now
            print(self.line(now), file=sys.stderr, flush=True)

    def rate(self, now: float) -> float:
        return self.done / max(now - self.start, 1e-9)

    def line(self, now: float) -> str:
        """One plain progress line."""
        elapsed, rate = now - self.start, self.rate(now)
        if self.total:
            share = f"{self.done}/{self.total} frames ({100 * self.done / self.total:.0f} %)"
            eta = f", ETA {max(self.total - self.done, 0) / rate:.0f} s" if rate > 0 else ""
        else:
            share, eta = f"{self.done} frames", ""
        return f"{PROG}: {self.title} {share}, {rate:.0f} fps, {elapsed:.0f} s elapsed{eta}"

    def _open_bar(self, total: int | None) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        progress = Progress(TextColumn(f"[bold]{self.title}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                            TextColumn("{task.fields[fps]}"), TimeElapsedColumn(), TextColumn("ETA"),
                            TimeRemainingColumn(), console=rich_console(stderr=True), transient=False)
        self._bar = (progress, progress.add_task(self.title, total=total, fps=""))
        progress.start()

    def close(self) -> None:
        if self._bar is not None:
            progress, task = self._bar
            progress.update(task, completed=self.done, total=max(self.done, 1) if self.total is None else self.total)
            progress.stop()
            self._bar = None


class BatchProgress:
    """``on_event`` callback for ``run_batch``: the corpus and one line per worker (use as a context manager).

    Corpus line: videos finished of total (done / failed / skipped), frames/s over the corpus, elapsed and
    ETA. Worker lines: the video each worker is on, its frames. On a terminal a rich live display; elsewhere
    the corpus line as plain text every ``LINE_PERIOD_S`` and a line per finished video.
    """

    def __init__(self, console=None, live: bool | None = None):
        self.live = is_terminal(sys.stderr) if live is None else live
        self.progress = None
        self.workers: dict[str, int] = {}
        self.counts = {"done": 0, "failed": 0, "skipped": 0, "interrupted": 0}
        self.total = None
        self.frames_finished = 0
        self.frames_running: dict[str, int] = {}
        self.started = self.last_line = time.perf_counter()
        if self.live:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                                     console=console or rich_console(stderr=True))
            self.corpus = self.progress.add_task("[bold]corpus", total=None, info="")

    def __enter__(self) -> "BatchProgress":
        if self.progress is not None:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def __call__(self, kind: str, *details) -> None:
        if kind == "plan":
            self.total, self.counts["skipped"] = details
            if self.progress is not None:
                self.progress.update(self.corpus, total=self.total, completed=self.counts["skipped"])
        elif kind in ("start", "progress"):
            self._worker(kind, *details)
        elif kind == "record":
            self._record(*details)
        self._update_corpus()

    def _worker(self, kind: str, worker: str, key: str, done: int, total: int | None) -> None:
        self.frames_running[worker] = done
        if self.progress is None:
            return
        task = self.workers.get(worker)
        if task is None:
            task = self.workers[worker] = self.progress.add_task(f"  {worker}", total=None, info="")
        if kind == "start":
            self.progress.reset(task, total=total, completed=0, info=key)
        else:
            self.progress.update(task, total=total, completed=done, info=key)

    def _record(self, record: dict) -> None:
        self.counts[record["status"]] = self.counts.get(record["status"], 0) + 1
        self.frames_finished += record.get("frames") or 0
        self.frames_running.pop(record.get("worker", ""), None)
        if self.progress is None:
            print(f"{PROG} batch: {record['key']} {record['status']}"
                  + (f" ({record['frames']} frames)" if record.get("frames") else ""), file=sys.stderr, flush=True)
            return
        task = self.workers.get(record.get("worker", ""))
        if task is not None and record.get("frames"):
            self.progress.update(task, total=record["frames"], completed=record["frames"],
                                 info=f"{record['key']} {record['status']}")

    def _update_corpus(self) -> None:
        counts = self.counts
        frames = self.frames_finished + sum(self.frames_running.values())
        now = time.perf_counter()
        fps = frames / max(now - self.started, 1e-9)
        info = (f"done {counts['done']} failed {counts['failed']} skipped {counts['skipped']} "
                f"running {len(self.frames_running)} | {fps:.0f} frames/s")
        if self.progress is not None:
            self.progress.update(self.corpus, completed=counts["done"] + counts["failed"] + counts["skipped"],
                                 info=info)
        elif now - self.last_line >= LINE_PERIOD_S:
            self.last_line = now
            finished = counts["done"] + counts["failed"] + counts["skipped"]
            print(f"{PROG} batch: {finished}/{self.total or '?'} videos, {info}, {now - self.started:.0f} s elapsed",
                  file=sys.stderr, flush=True)
