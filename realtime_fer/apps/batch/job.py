"""One video of a batch, as every worker (local process or Ray actor) runs it.

``annotate_one`` calls ``engine.video_job.run_video_job`` with the worker's long-lived
``Recognizer`` (its tracks are reset per video, so results equal a single ``--video``
run), writes every output under a temporary name next to its final one and renames
them only when the video is complete, and returns the manifest record.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ...core.temporal import OFFLINE_DEFAULT, TemporalSettings
from ...errors import FerError, InputError
from ..engine.options import OutputOptions, RecognizerOptions, RunOptions, check_video_lag
from .inputs import BatchInput
from .manifest import PARTIAL_TAG

OUTPUT_SUFFIXES = {"csv": ".csv", "jsonl": ".jsonl", "video": ".annotated.mp4"}


@dataclass(frozen=True)
class JobSettings:
    """What every video of a batch is run with (picklable: it travels to the workers); validated when built.

    ``csv`` / ``jsonl`` / ``save_video`` choose the outputs (at least one); ``recognizer``, ``temporal``,
    ``max_frames`` and ``hud`` mean what ``--video``'s options mean (``RunOptions``). The recognizer's
    ``threads`` (classifier threads) and ``lookahead`` (detection threads per worker) change speed only, so
    they are not part of the settings a manifest record is compared on.
    """

    csv: bool = True
    jsonl: bool = False
    save_video: bool = False
    recognizer: RecognizerOptions = field(default_factory=RecognizerOptions)
    temporal: TemporalSettings = OFFLINE_DEFAULT
    max_frames: int | None = None
    hud: bool = False

    def __post_init__(self):
        RunOptions(self.recognizer, self.temporal, max_frames=self.max_frames)  # InputError for a bad value
        check_video_lag(self.temporal)  # before any worker starts
        if not self.kinds():
            raise InputError("batch: expected at least one of --csv, --jsonl, --save-video, got none")

    def result_settings(self) -> dict:
        """The settings that change results, with ``--video``'s defaults filled in (compared on resume)."""
        from ..engine.modes import MODE_DEFAULTS
        from ..engine.recognizer_setup import mode_discovery, resolved

        recognizer = resolved(self.recognizer, "video")
        discovery = mode_discovery(self.recognizer, "video")
        return {"csv": self.csv, "jsonl": self.jsonl, "save_video": self.save_video,
                "model": str(Path(recognizer.model).resolve()) if recognizer.model else "default",
                "provider": recognizer.provider, "detector": recognizer.detector,
                "detector_range": recognizer.detector_range, "temporal": dataclasses.asdict(self.temporal),
                "detect_every": recognizer.detect_every, "min_confidence": recognizer.min_confidence,
                "detector_size": recognizer.detector_size, "min_size": recognizer.min_size,
                "min_hits": recognizer.min_hits,
                "discovery": dataclasses.asdict(discovery) if discovery is not None else None,
                "classify_limit": MODE_DEFAULTS["video"].classify_limit,
                "max_frames": self.max_frames, "hud": self.hud}

    def kinds(self) -> list[str]:
        return [kind for kind, on in (("csv", self.csv), ("jsonl", self.jsonl), ("video", self.save_video)) if on]

    def run_options(self, partials: dict[str, Path]) -> RunOptions:
        """The ``RunOptions`` of one video whose outputs go to ``partials`` (``{kind: path}``)."""
        outputs = OutputOptions(output=partials.get("video"), csv=partials.get("csv"), jsonl=partials.get("jsonl"),
                                hud=self.hud)
        return RunOptions(self.recognizer, self.temporal, outputs=outputs, max_frames=self.max_frames)


def final_outputs(item: BatchInput, out_dir: Path, settings: JobSettings) -> dict[str, Path]:
    """``{kind: OUT/<key><suffix>}`` for the outputs ``settings`` asks for."""
    return {kind: out_dir / f"{item.key}{OUTPUT_SUFFIXES[kind]}" for kind in settings.kinds()}


def partial_name(final: Path, token: str) -> Path:
    """``.<name>.partial-<token><suffix>`` next to ``final`` (hidden; the suffix still picks the codec)."""
    return final.with_name(f".{final.name}{PARTIAL_TAG}{token}{final.suffix}")


def open_worker_recognizer(settings: JobSettings):
    """The one ``Recognizer`` a worker keeps for its lifetime (FerError on a bad model/provider)."""
    from ..engine.recognizer_setup import open_recognizer

    return open_recognizer(settings.recognizer, "video")


def recognizer_model(recognizer) -> tuple[str, str]:
    """(model file path, its sha256) of what ``recognizer`` classifies with."""
    from ...core.model_card import file_sha256

    path = recognizer.classifier.model_path
    return str(path), file_sha256(path)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def base_record(item: BatchInput, status: str, error: str | None = None, **fields) -> dict:
    return {"key": item.key, "input": str(item.path), "status": status, "error": error, "worker": worker_name(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **fields}


def annotate_one(item: BatchInput, out_dir: str | Path, settings: JobSettings, recognizer, *, stop=None,
                 progress=None, recognizer_error: str | None = None) -> dict:
    """Annotate ``item`` into its outputs under ``out_dir``; returns its manifest record.

    Args:
        recognizer: the worker's open Recognizer (None when it failed to build: then
            ``recognizer_error`` says why and the record is "failed").
        stop: anything with ``is_set()``; when set mid-video the outputs are discarded and the
            record's status is "interrupted" (never written to the manifest).
        progress: ``progress(frames_done, total_or_None)``.

    Never raises for a bad input: missing, corrupt or undecodable files give a "failed" record
    with the error's one-line message.
    """
    out_dir = Path(out_dir)
    settings_record = {"settings": settings.result_settings()}
    if recognizer is None:
        return base_record(item, "failed", recognizer_error, **settings_record)
    from ..engine.video_job import JobHooks, run_video_job

    model, sha = recognizer_model(recognizer)
    finals = final_outputs(item, out_dir, settings)
    token = uuid.uuid4().hex[:8]
    partials = {kind: partial_name(path, token) for kind, path in finals.items()}
    started = time.perf_counter()
    try:
        summary = run_video_job(item.path, settings.run_options(partials), recognizer=recognizer,
                                hooks=JobHooks(stop=stop, progress=progress))
    except FerError as exc:
        _discard(partials)
        return base_record(item, "failed", str(exc), model=model, model_sha256=sha, **settings_record)
    except Exception as exc:  # noqa: BLE001 - one broken video must not end the batch
        _discard(partials)
        return base_record(item, "failed", f"internal error: {type(exc).__name__}: {exc}", model=model,
                           model_sha256=sha, **settings_record)
    except BaseException:  # KeyboardInterrupt in a worker: nothing half-written stays
        _discard(partials)
        raise
    if summary.interrupted:
        _discard(partials)
        return base_record(item, "interrupted", "stopped before the end of the video")
    for kind, partial in partials.items():
        os.replace(partial, finals[kind])
    warning = None
    if summary.truncated:
        warning = (f"decoded {summary.frames} of the ~{summary.expected_frames} frames the file announces; "
                   "it may be truncated or damaged (outputs cover the decodable frames)")
    extra = {k: getattr(summary, k) for k in ("lost_frames", "concealed_frames", "codec", "audio")}
    return base_record(item, "done", None, warning=warning, **extra, frames=summary.frames, faces=summary.faces,
                       tracks=summary.tracks, fps=summary.fps, seconds=round(time.perf_counter() - started, 3),
                       outputs={kind: path.relative_to(out_dir).as_posix() for kind, path in finals.items()},
                       model=model, model_sha256=sha, end_reason=summary.end_reason, **settings_record)


def _discard(partials: dict[str, Path]) -> None:
    for path in partials.values():
        try:
            path.unlink()
        except FileNotFoundError:
            pass
