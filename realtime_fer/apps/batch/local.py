"""Local worker processes for ``batch --workers N`` (``concurrent.futures`` with the spawn start method).

Each worker process builds ONE Recognizer in its initializer and keeps it for its
lifetime, so the start-up (imports, MediaPipe and ONNX Runtime sessions, ~1 s) is paid
once per worker, not per video. Workers ignore SIGINT (the driver decides: it sets a shared
stop event, and each worker ends its current video after the current frame, discarding
its partial outputs) and report progress on a shared queue.

Threads: every worker runs the per-video pipeline of ``--video`` (decode thread,
``lookahead`` detection threads, classifier with ``threads`` ONNX Runtime threads, CSV on the
main thread); with as many workers as cores the driver sets ``lookahead=0`` (detect inline)
and one classifier thread, so each worker is about one busy core (see ``split_threads``).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .inputs import BatchInput
from .job import JobSettings, annotate_one, base_record, worker_name

_WORKER: dict = {}


def split_threads(workers: int, cores: int | None = None) -> tuple[int, int]:
    """(look-ahead detection threads, classifier threads) per worker for ``workers`` on ``cores``.

    One worker per core or more: detection inline (0) and 1 classifier thread: the processes
    themselves fill the cores. Fewer workers than cores: ``--video``'s own split (1 look-ahead
    thread on 2 spare cores, 2 on more), classifier 1 thread.
    """
    cores = cores or os.cpu_count() or 1
    spare = cores // max(workers, 1)
    return (0 if spare < 2 else 1 if spare == 2 else 2), 1


def _init_worker(settings: JobSettings, progress_queue, stop_event, env: dict) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(env)
    _WORKER.update(queue=progress_queue, stop=stop_event, recognizer=None, error=None)
    try:
        import cv2

        if "OMP_NUM_THREADS" in env:  # one core per worker: OpenCV's own thread pool would only contend
            cv2.setNumThreads(int(env["OMP_NUM_THREADS"]))
        from ..console import quiet_libraries
        from .job import open_worker_recognizer

        quiet_libraries(False)
        _WORKER["recognizer"] = open_worker_recognizer(settings)
    except Exception as exc:  # noqa: BLE001 - reported per video as a failed record
        _WORKER["error"] = f"worker could not start: {type(exc).__name__}: {exc}" if not str(exc) else str(exc)


def _run_job(item: BatchInput, out_dir: str, settings: JobSettings) -> dict:
    progress_queue, name = _WORKER["queue"], worker_name()
    progress_queue.put(("start", name, item.key, 0, None))
    last = [0.0]

    def progress(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2:
            last[0] = now
            progress_queue.put(("progress", name, item.key, done, total))

    return annotate_one(item, out_dir, settings, _WORKER["recognizer"], stop=_WORKER["stop"], progress=progress,
                        recognizer_error=_WORKER["error"])


def run_local(items: list[BatchInput], out_dir: Path, settings: JobSettings, workers: int, stop, events,
              max_retries: int = 3):
    """Run ``items`` on ``workers`` spawned processes; yields each finished record (any order).

    ``events(kind, worker, key, done, total)`` receives progress; ``stop`` (``is_set()``) ends
    the run: queued videos are cancelled, running ones end after their current frame.  A worker
    process that dies (killed, out of memory, a crash in native code) breaks the pool: the videos
    that were running are retried, up to ``max_retries`` times each, and the ones not started yet
    are requeued, on a fresh pool.
    """
    import dataclasses

    context = multiprocessing.get_context("spawn")
    lookahead, threads = split_threads(workers)
    recognizer = settings.recognizer
    settings = dataclasses.replace(settings, recognizer=dataclasses.replace(
        recognizer, lookahead=recognizer.lookahead if recognizer.lookahead is not None else lookahead,
        threads=recognizer.threads or threads))
    env = {"OMP_NUM_THREADS": "1"} if lookahead == 0 else {}
    remaining, attempts = list(items), {}
    while remaining and not (stop is not None and stop.is_set()):
        batch, remaining = remaining, []
        yield from _one_pool(batch, out_dir, settings, workers, env, context, stop, events, attempts, max_retries,
                             remaining)


def _one_pool(items, out_dir, settings, workers, env, context, stop, events, attempts, max_retries, requeue):
    """Run ``items`` on one pool until done or broken; appends what must run again to ``requeue``."""
    progress_queue, stop_event = context.Queue(), context.Event()
    started: set[str] = set()

    def forward(kind, worker, key, done, total):
        if kind == "start":
            started.add(key)
        if events is not None:
            events(kind, worker, key, done, total)

    pool = ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=context, initializer=_init_worker,
                               initargs=(settings, progress_queue, stop_event, env))
    futures = {pool.submit(_run_job, item, str(out_dir), settings): item for item in items}
    try:
        pending = set(futures)
        while pending:
            if stop is not None and stop.is_set() and not stop_event.is_set():
                stop_event.set()
                for future in pending:
                    future.cancel()
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            _drain(progress_queue, forward)
            for future in done:
                if future.cancelled():
                    continue
                item = futures[future]
                try:
                    yield future.result()
                except BrokenProcessPool as exc:
                    if item.key not in started:
                        requeue.append(item)
                        continue
                    attempts[item.key] = attempts.get(item.key, 0) + 1
                    if attempts[item.key] <= max_retries:
                        requeue.append(item)
                    else:
                        yield base_record(item, "failed", f"worker process died {attempts[item.key]} times on this "
                                          f"video ({exc}); rerun the same command to retry it")
        _drain(progress_queue, forward)
    finally:
        stop_event.set()
        pool.shutdown(wait=True, cancel_futures=True)


def _drain(progress_queue, events) -> None:
    while True:
        try:
            event = progress_queue.get_nowait()
        except queue.Empty:
            return
        if events is not None:
            events(*event)
