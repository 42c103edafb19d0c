"""``run_batch``: the corpus, the manifest and the lock, with local or Ray workers.

Order of work: expand the inputs and refuse colliding names (before anything is
written), resolve the model and its sha256, take the output folder's lock, delete
temporary outputs an interrupted run left, skip inputs the manifest already records as
done with the same model and settings, run the rest, append each record as it finishes,
and rewrite the manifest compactly at the end (also on a stop, an error or Ctrl-C).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from ...errors import InputError
from .inputs import collect_inputs
from .job import JobSettings
from .manifest import ManifestWriter, OutputLock, is_reusable, remove_partials

EventCallback = Callable[..., None]
"""``on_event(kind, *details)``: ("plan", total, skipped), ("start", worker, key, 0, None),
("progress", worker, key, frames_done, total_or_None), ("record", record)."""


def expected_model(settings: JobSettings, on_ray: bool = False) -> tuple[str, str]:
    """(path, sha256) of the expression model the workers will load (ModelError if it is missing).

    Without ``--model``, the shipped video model (``classify.VIDEO_MODEL``: the same file on every provider). A
    provider this driver does not have is refused here unless the workers run on Ray (their nodes may have it).
    """
    from ...core.classify import VIDEO_MODEL
    from ...core.model_card import file_sha256, load_card
    from ...core.onnx_session import resolve_provider

    if settings.recognizer.model:
        path = Path(settings.recognizer.model)
        load_card(path)  # ModelError: missing file, bad sidecar, hash mismatch
        return str(path.resolve()), file_sha256(path)
    if not on_ray:
        resolve_provider(settings.recognizer.provider)  # ProviderError
    return str(VIDEO_MODEL), file_sha256(VIDEO_MODEL)


def check_workers(workers: int, cpus_per_task: float = 1.0, gpus_per_task: float = 0.0) -> None:
    """InputError unless ``workers`` >= 1, 0 < ``cpus_per_task`` <= 1024 and 0 <= ``gpus_per_task`` <= 64 (the
    settings check themselves: ``JobSettings``)."""
    if workers < 1:
        raise InputError(f"--workers: expected an integer >= 1, got {workers}; use 1 for one worker process")
    if not 0 < cpus_per_task <= 1024:
        raise InputError(f"--cpus-per-task: expected a number in (0, 1024], got {cpus_per_task:g}; e.g. 1")
    if not 0 <= gpus_per_task <= 64:
        raise InputError(f"--gpus-per-task: expected a number in [0, 64], got {gpus_per_task:g}; e.g. 0.25 "
                         "(four workers share a GPU)")


def check_out_dir(out_dir: str | Path) -> Path:
    """``out_dir`` made absolute; InputError unless it is a folder (existing or to be made) it can write into."""
    from ...io.sinks import check_output

    return check_output(Path(out_dir).absolute(), False, folder=True, label="--out")


def run_batch(inputs, out_dir: str | Path, settings: JobSettings | None = None, *, workers: int = 1,
              ray: str | None = None, cpus_per_task: float = 1.0, gpus_per_task: float = 0.0, max_retries: int = 3,
              stop: threading.Event | None = None, on_event: EventCallback | None = None) -> list[dict]:
    """Annotate every video ``inputs`` names into ``out_dir``; returns this run's records in input order.

    Args:
        inputs: video files, folders (searched recursively), globs, ``.txt`` lists (see ``inputs.py``).
        out_dir: where outputs mirror the inputs' sub-folders, with ``manifest.jsonl``.
        settings: the outputs (``<key>.csv``, ``<key>.jsonl``, ``<key>.annotated.mp4``), recognizer, temporal stage,
            max_frames and hud of every video (``JobSettings``; None: CSV only, ``--video``'s defaults).
        workers: local worker processes (ignored with ``ray``: the cluster's CPUs/GPUs decide).
        ray: None (local processes), "auto" (join the running cluster, else start one here) or an
            address ("ray://host:10001", "host:6379").
        cpus_per_task, gpus_per_task: Ray resources each worker actor holds (0.25 GPU: four share one).
        max_retries: how often a video is retried after the worker process (local) or actor (Ray)
            running it died.
        stop: set it (e.g. from a signal handler) to stop: queued videos are not started, running
            ones end after their current frame and are discarded; the manifest stays consistent.
        on_event: progress callback, see ``EventCallback``.

    Returns:
        One record per input: the manifest's fields; status "done", "failed", "skipped" (done
        before with the same model and settings) or "interrupted" (stopped; not in the manifest).

    Raises:
        InputError (colliding names, bad numbers, a locked output folder, nothing to do),
        ModelError / ProviderError, MissingDependencyError (``ray`` without Ray installed).
    """
    settings = JobSettings() if settings is None else settings
    check_workers(workers, cpus_per_task, gpus_per_task)
    out_dir = check_out_dir(out_dir)
    items = collect_inputs(inputs, out_dir)
    model, sha = expected_model(settings, on_ray=ray is not None)
    wanted = settings.result_settings()
    emit = on_event or (lambda *event: None)
    results: dict[str, dict] = {}
    with OutputLock(out_dir):
        remove_partials(out_dir)
        writer = ManifestWriter(out_dir)
        try:
            todo = _not_done(items, writer, out_dir, sha, wanted, results)
            emit("plan", len(items), len(items) - len(todo))
            if todo:
                for record in _backend(todo, out_dir, settings, workers, ray, cpus_per_task, gpus_per_task,
                                       max_retries, stop, emit):
                    results[record["key"]] = record
                    if record["status"] != "interrupted":
                        writer.append(record)
                    emit("record", record)
        finally:
            writer.close()
            remove_partials(out_dir)
    return [results.get(item.key) or {"key": item.key, "input": str(item.path), "status": "interrupted",
                                      "error": "not started before the run was stopped"} for item in items]


def _not_done(items, writer: ManifestWriter, out_dir: Path, sha: str, wanted: dict, results: dict) -> list:
    """The items the manifest does not record as done with this model and these settings; the others go into
    ``results`` (and the manifest) as "skipped"."""
    todo = []
    for item in items:
        previous = writer.records.get(item.key)
        if is_reusable(previous, out_dir, sha, wanted) and previous.get("input") == str(item.path):
            results[item.key] = writer.records[item.key] = {**previous, "status": "skipped"}
        else:
            todo.append(item)
    return todo


def largest_first(items: list) -> list:
    """``items`` ordered by file size, largest first (missing files last), so the longest videos
    start early and no worker is left with one long video at the end while the others idle."""
    def size(item) -> int:
        try:
            return item.path.stat().st_size
        except OSError:
            return -1
    return sorted(items, key=size, reverse=True)


def _backend(todo, out_dir, settings, workers, ray, cpus_per_task, gpus_per_task, max_retries, stop, emit):
    todo = largest_first(todo)
    if ray is None:
        from .local import run_local

        return run_local(todo, out_dir, settings, min(workers, len(todo)), stop, emit, max_retries)
    from .ray_backend import run_ray

    return run_ray(todo, out_dir, settings, ray, cpus_per_task, gpus_per_task, max_retries, stop, emit)
