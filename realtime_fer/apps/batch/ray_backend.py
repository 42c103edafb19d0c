"""``batch --ray``: the same per-video job on a Ray cluster, one Recognizer per worker actor.

Each actor (``num_cpus=cpus_per_task``, ``num_gpus=gpus_per_task``) builds one Recognizer
in its constructor and annotates one video per call; the driver keeps every actor busy and
writes the manifest. Fault tolerance is Ray's: an actor whose process dies is restarted
(``max_restarts``) and the video it was on is retried from its start (``max_task_retries``);
the dead attempt's partial files never reach a final name. Actors run two threads
(``max_concurrency=2``) so the driver can ask for progress and ask them to stop while
they annotate.

Requirements on a real cluster: every node runs the same realtime-fer (install the wheel
with the ``ray`` extra on each node, or build the image from it), and the output folder and
the inputs are paths every node reaches (a shared file system mounted at the same path).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from ...errors import InputError, MissingDependencyError
from .inputs import BatchInput
from .job import JobSettings, annotate_one, base_record


def import_ray():
    try:
        import ray
    except ImportError as exc:
        raise MissingDependencyError(f"--ray: expected the 'ray' package, got {exc}; pip install "
                                     "'realtime-fer[ray]' (on every node of the cluster)") from None
    return ray


class BatchActor:
    """Ray actor body: one Recognizer for the actor's lifetime (rebuilt when Ray restarts the actor)."""

    def __init__(self, settings: JobSettings):
        import os

        import cv2

        from .job import open_worker_recognizer, worker_name
        from ..console import quiet_libraries

        # Ray sets OMP_NUM_THREADS to the actor's CPUs; OpenCV's own pool would otherwise use every core of the
        # node and contend with the other actors, as in the local workers (local._init_worker)
        cv2.setNumThreads(max(1, int(os.environ.get("OMP_NUM_THREADS") or 1)))
        quiet_libraries(False)
        self.settings, self.name = settings, worker_name()
        self.recognizer, self.error = None, None
        try:
            self.recognizer = open_worker_recognizer(settings)
        except Exception as exc:  # noqa: BLE001 - reported per video as a failed record
            self.error = str(exc) or type(exc).__name__
        self._stop = threading.Event()
        self._state = (None, 0, None)

    def annotate(self, item: BatchInput, out_dir: str) -> dict:
        self._state = (item.key, 0, None)

        def progress(done, total):
            self._state = (item.key, done, total)

        try:
            return annotate_one(item, out_dir, self.settings, self.recognizer, stop=self._stop, progress=progress,
                                recognizer_error=self.error)
        finally:
            self._state = (None, 0, None)

    def progress(self) -> tuple:
        """(worker name, key or None, frames done, total or None)."""
        return (self.name, *self._state)

    def stop(self) -> None:
        self._stop.set()


def _connect(ray, address: str):
    """Join ``address`` ("auto": RAY_ADDRESS or a running cluster, else start a local one); True if we started it."""
    if ray.is_initialized():
        return False
    options = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    if address == "auto":
        try:
            ray.init(address="auto", **options)
        except ConnectionError:
            ray.init(**options)
        return True
    _check_reachable(address)
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError) as exc:
        raise _unreachable(address, exc) from None
    return True


def _send_auth_token(address: str) -> None:
    """Ray >= 2.59: ``ray start --head`` turns token auth on when a token exists, but
    ``ray.init(address=...)`` sends it only with RAY_AUTH_MODE=token (ray-project/ray#66248);
    clusters without auth accept it too. Ray reads the variable when it is imported."""
    import os

    token_file = Path(os.environ.get("RAY_AUTH_TOKEN_PATH", Path.home() / ".ray" / "auth_token"))
    if address != "auto" and "ray" not in sys.modules and not os.environ.get("RAY_AUTH_MODE") \
            and (os.environ.get("RAY_AUTH_TOKEN") or token_file.is_file()):
        os.environ["RAY_AUTH_MODE"] = "token"


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """InputError unless something listens at ``host:port`` (ray.init would retry for minutes)."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--ray {address}: expected 'auto' or HOST:PORT (e.g. 10.0.0.5:6379, ray://HOST:10001), got "
                         f"{address!r}; pass the head node's address")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise _unreachable(address, exc) from None


def _unreachable(address: str, exc: Exception) -> InputError:
    return InputError(f"--ray {address}: expected a reachable Ray cluster, got {type(exc).__name__}: "
                      f"{str(exc).splitlines()[0][:200]}; start one with 'ray start --head' (then --ray auto on "
                      "that node) or check the address")


def run_ray(todo: list[BatchInput], out_dir: Path, settings: JobSettings, address: str, cpus_per_task: float,
            gpus_per_task: float, max_retries: int, stop, events):
    """Run ``todo`` on Ray worker actors; yields each finished record (any order). See ``run_local``."""
    import dataclasses

    _send_auth_token(address)
    ray = import_ray()
    started = _connect(ray, address)
    recognizer = settings.recognizer
    settings = dataclasses.replace(settings, recognizer=dataclasses.replace(
        recognizer, lookahead=0 if recognizer.lookahead is None else recognizer.lookahead,
        threads=recognizer.threads or 1))
    actor_class = ray.remote(num_cpus=cpus_per_task, num_gpus=gpus_per_task, max_restarts=max_retries,
                             max_task_retries=max_retries, max_concurrency=2)(BatchActor)
    resources = ray.cluster_resources()
    slots = int(resources.get("CPU", 1) // cpus_per_task) if cpus_per_task > 0 else len(todo)
    if gpus_per_task > 0:
        slots = min(slots, int(resources.get("GPU", 0) // gpus_per_task))
    actors = [actor_class.remote(settings) for _ in range(max(1, min(slots, len(todo))))]
    waiting, idle, running = list(todo), list(actors), {}
    last_poll, stopping = 0.0, False
    try:
        while running or (waiting and not stopping):
            if stop is not None and stop.is_set() and not stopping:
                stopping = True
                for actor in actors:
                    actor.stop.remote()
            while idle and waiting and not stopping:
                actor, item = idle.pop(), waiting.pop(0)
                running[actor.annotate.remote(item, str(out_dir))] = (actor, item)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
            for ref in ready:
                actor, item = running.pop(ref)
                idle.append(actor)
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayError as exc:
                    yield base_record(item, "failed", f"Ray worker failed {max_retries + 1} times on this video "
                                      f"({type(exc).__name__}); rerun the same command to retry it")
            if time.monotonic() - last_poll >= 0.3 and events is not None:
                last_poll = time.monotonic()
                _poll_progress(ray, [actor for actor, _ in running.values()], events)
    finally:
        for actor in actors:
            ray.kill(actor, no_restart=True)
        if started:
            ray.shutdown()


def _poll_progress(ray, busy, events) -> None:
    refs = [actor.progress.remote() for actor in busy]
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0.5)
    for ref in ready:
        try:
            name, key, done, total = ray.get(ref)
        except ray.exceptions.RayError:
            continue  # the actor is being restarted
        if key is not None:
            events("progress", name, key, done, total)
