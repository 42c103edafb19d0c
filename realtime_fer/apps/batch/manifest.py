"""The batch manifest (``OUT/manifest.jsonl``) and the output folder's lock.

The manifest holds one JSON record per input (the latest one wins when it is read): ``key``,
``input``, ``status`` (``done`` / ``failed`` / ``skipped``: done by an earlier run with the same
model and settings), ``error``, ``frames``, ``faces``, ``tracks``, ``fps``, ``seconds``,
``outputs`` (paths relative to OUT), ``model``, ``model_sha256``, ``settings``, ``worker``,
``finished`` (UTC ISO time). During a run each finished video appends one line (written
and fsynced in one call, after its outputs were renamed to their final names), so a crash or
kill leaves a valid file; at the start and end of every run it is rewritten (to a temporary
file, then renamed) with one line per input.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from ...errors import InputError

MANIFEST_NAME = "manifest.jsonl"
LOCK_NAME = ".batch.lock"
PARTIAL_TAG = ".partial-"
DONE_STATES = ("done", "skipped")


class BatchLockedError(InputError):
    """Another ``batch`` run holds the output folder's lock."""


def read_manifest(out_dir: str | Path) -> dict[str, dict]:
    """``{key: latest record}`` from ``OUT/manifest.jsonl`` ({} when there is none).

    A last line cut short by a crash is ignored; any other unreadable line raises InputError.
    """
    path = Path(out_dir) / MANIFEST_NAME
    if not path.is_file():
        return {}
    records: dict[str, dict] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            records[record["key"]] = record
        except (ValueError, KeyError, TypeError):
            if number == len(lines):
                continue  # the one line a killed run may have cut short
            raise InputError(f"manifest {path}, line {number}: expected a JSON record with a 'key', got "
                             f"{line[:60]!r}; fix or delete that line") from None
    return records


class ManifestWriter:
    """Appends records to ``OUT/manifest.jsonl`` (one ``write`` + fsync each) and rewrites it compactly."""

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / MANIFEST_NAME
        self.records = read_manifest(out_dir)
        self.compact()
        self._file = open(self.path, "a", encoding="utf-8")

    def append(self, record: dict) -> None:
        self.records[record["key"]] = record
        self._file.write(json.dumps(record, sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def compact(self) -> None:
        """Rewrite the file with one line per key (temporary file + rename: never half-written)."""
        tmp = self.path.with_name(f".{self.path.name}{PARTIAL_TAG}{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as handle:
            for record in self.records.values():
                handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self.compact()


class OutputLock:
    """An exclusive, non-blocking ``flock`` on ``OUT/.batch.lock`` for the whole run.

    The kernel releases it when the process exits, however it exits, so a killed run never
    leaves a stale lock.  (On network file systems ``flock`` may be local to each node: run one
    driver per output folder.)

    Raises:
        BatchLockedError: another process holds it.
    """

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / LOCK_NAME
        self._file = None

    def __enter__(self) -> "OutputLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise BatchLockedError(f"batch output {self.path.parent}: expected a folder no other batch run is "
                                   f"writing to, got one locked by {holder}; wait for that run to finish or "
                                   "choose another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.truncate(0)
            self._file.close()  # closing releases the flock
            self._file = None


def remove_partials(out_dir: str | Path) -> int:
    """Delete temporary outputs (``.<name>.partial-*``) that an interrupted run left; returns how many."""
    removed = 0
    for path in Path(out_dir).rglob(f".*{PARTIAL_TAG}*"):
        if path.is_file():
            path.unlink()
            removed += 1
    return removed


def is_reusable(record: dict | None, out_dir: str | Path, model_sha256: str, settings: dict) -> bool:
    """True when ``record`` says done with this model and settings and its outputs are all there."""
    if not record or record.get("status") not in DONE_STATES:
        return False
    if record.get("model_sha256") != model_sha256 or record.get("settings") != settings:
        return False
    outputs = record.get("outputs") or {}
    return bool(outputs) and all((Path(out_dir) / rel).is_file() for rel in outputs.values())
