"""The recognizers a server shares among its connections, and one worker thread that runs them all.

* ``stream``: a ``Recognizer`` with ``--camera``'s defaults (``engine.recognizer_setup.open_recognizer(..,
  "camera")``). It never sees a frame itself: each WebSocket gets a ``StreamState`` holding a twin of it
  (``stream_twin``) that shares its classifier, detector and discovery detector (the ONNX Runtime sessions and
  the MediaPipe graph, loaded once) but has its own tracker, frame count and live temporal stage.
* ``still``: a ``Recognizer`` with ``--image``'s defaults, run for /v1/analyze through the same loop
  ``--image`` runs (``engine.loop.run``, tracks forgotten before each image), so a photo gets the same
  result either way.

Every recognition runs on one worker thread (``Recognizers.pool``): at most one job per open stream or analyze
request waits for it (never an unbounded queue), and the event loop stays free for I/O. The shared detectors and
sessions are called from that thread, and the discovery detector also from each twin's own discovery thread
(``core.discovery`` runs its CenterFace passes beside the frames), as in ``--camera``; ONNX Runtime sessions may
be run from several threads at once. On a 2-core CPU a second worker would only compete with
the classifier's second thread (``--camera``'s default on 2 cores).
"""

from __future__ import annotations

import copy
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ... import __version__
from ...core.faces import FrameResult
from ...io.sinks import table_columns, table_rows
from ..engine.options import RunOptions
from ..engine.recognizer_setup import open_recognizer, resolved


def mode_options(mode: str) -> RunOptions:
    """``RunOptions`` with every value left to ``mode``'s defaults, its default temporal stage included."""
    from ...core.temporal import default_settings
    from ..engine.modes import MODE_DEFAULTS

    return RunOptions(temporal=default_settings(MODE_DEFAULTS[mode].temporal))


def face_rows(result: FrameResult) -> list[dict]:
    """One dict per face of ``result`` with the fields of a JSONL row (``io.sinks.table_columns``; no ``file``)."""
    columns = table_columns(result.labels)
    return [dict(zip(columns, row)) for row in table_rows(result)]


def stream_twin(base):
    """A ``Recognizer`` sharing ``base``'s classifier, detector and discovery detector (when it has one) and owning
    a fresh copy of everything else (tracker, frame count, its own temporal stage). Never ``close()`` a twin: that
    would close the shared detectors; ``base`` is closed once, by its owner."""
    shared = {id(base.classifier): base.classifier, id(base.detector): base.detector}
    discovery = getattr(base, "discovery_detector", None)
    if discovery is not None:
        shared[id(discovery)] = discovery
    twin = copy.deepcopy(base, memo=shared)
    twin.reset()
    return twin


@dataclass
class StreamState:
    """What one WebSocket stream remembers between frames: its recognizer twin and live temporal stage.

    Call ``step`` and ``reset`` only on ``Recognizers.pool``'s thread (one frame of a stream at a time).
    """

    recognizer: object
    stage: object

    def step(self, image: np.ndarray, index: int, time_ms: float) -> FrameResult:
        """Recognize one (H, W, 3) uint8 BGR frame and filter it in the stream's live stage (what ``--camera``'s
        loop does per frame); the shown ``FrameResult``."""
        result = self.recognizer.process(image, index=index, time_ms=time_ms)
        (shown,) = self.stage.push(result, self.recognizer.tracker.active_ids)
        return shown

    def reset(self) -> None:
        """Forget the stream's tracks (e.g. the client switched cameras)."""
        self.recognizer.reset()
        self.stage.reset()


class _OneImage:
    """A source of one already decoded image (the ``engine.loop.run`` interface: ``frames``, ``close``,
    ``end_reason``), at index 0 and time 0 like an ``io.sources.ImageSource`` of one file."""

    end_reason = ""

    def __init__(self, image: np.ndarray):
        self.image = image

    def frames(self, stop=None):
        from ...io.sources import SourceFrame

        yield SourceFrame(0, 0.0, self.image, None, time.perf_counter())

    def close(self) -> None:
        self.image = None


def _sha256(path: Path) -> str | None:
    from ...core.model_card import file_sha256

    return file_sha256(path) if path.is_file() else None


def detector_files(detector: str, detector_range: str) -> list[Path]:
    """The model files a detector of these (resolved) options loads."""
    from ...core.centerface import CENTERFACE_MODEL
    from ...core.detect import BLAZEFACE_MODELS

    if detector == "centerface":
        return [CENTERFACE_MODEL]
    if detector == "blazeface":
        ranges = ("short", "full") if detector_range in ("auto", "both") else (detector_range,)
        return [BLAZEFACE_MODELS[r] for r in ranges]
    return []  # mtcnn: the mtcnn package's own weights


@dataclass
class Recognizers:
    """The stream and still recognizers of a server, their worker thread and what /v1/info says about them.

    Build with ``Recognizers.open(stream_options, still_options)`` (it computes ``info``, the models' sha256
    included, once: before the server runs, not on its event loop); ``close()`` when the server stops.
    """

    stream: object
    still: object
    stream_options: RunOptions
    still_options: RunOptions
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="fer-recognize"))
    info: dict = field(default_factory=dict)
    """Version, provider and, per role, the models with their sha256 (what /v1/info shows)."""

    @classmethod
    def open(cls, stream_options: RunOptions | None = None, still_options: RunOptions | None = None) -> "Recognizers":
        """Load the models (ModelError / ProviderError / MissingDependencyError on a bad model or provider).

        Options left None: the defaults of ``--camera`` (streams) and ``--image`` (photos), the live stage.
        """
        from ...errors import InputError

        stream_options = stream_options or mode_options("camera")
        still_options = still_options or mode_options("image")

        if stream_options.temporal.mode == "offline":
            raise InputError("--temporal offline: expected live or off for a stream (the offline filter needs "
                             "frames that have not arrived yet), got offline; use --temporal live")
        stream = open_recognizer(stream_options.recognizer, "camera")
        try:
            still = open_recognizer(still_options.recognizer, "image")
        except BaseException:
            stream.close()
            raise
        models = cls(stream, still, stream_options, still_options)
        models.info = models._describe()
        return models

    @property
    def labels(self) -> tuple[str, ...]:
        return self.stream.labels

    def new_stream(self) -> StreamState:
        from ...core.temporal import open_stage

        return StreamState(stream_twin(self.stream), open_stage(self.stream_options.temporal))

    def analyze(self, image: np.ndarray) -> FrameResult:
        """Recognize one still (H, W, 3) uint8 BGR image as ``--image`` does; run on ``pool``'s thread."""
        from ...core.temporal import open_stage
        from ..engine.loop import Hooks, Sinks, run

        shown: list[FrameResult] = []
        run(_OneImage(image), self.still, open_stage(self.still_options.temporal), Sinks(),
            hooks=Hooks(on_frame=lambda _frame, result, _stats: shown.append(result)), reset_each_frame=True)
        return shown[0]

    def _describe(self) -> dict:
        return {"version": __version__, "provider": self.stream.provider, "labels": list(self.labels),
                "stream": self._role(self.stream, self.stream_options, "camera"),
                "still": self._role(self.still, self.still_options, "image")}

    def _role(self, recognizer, options: RunOptions, mode: str) -> dict:
        settings = resolved(options.recognizer, mode)
        model = Path(recognizer.classifier.model_path)
        files = [model, model.with_suffix(".json"), *detector_files(settings.detector, settings.detector_range)]
        discovery = getattr(recognizer, "discovery_detector", None) is not None
        if discovery:  # the small-face passes beside the fast detector (core.discovery) load CenterFace
            files += [f for f in detector_files("centerface", "") if f not in files]
        return {"detector": settings.detector, "detector_range": settings.detector_range, "discovery": discovery,
                "min_face": settings.min_size, "min_frames": settings.min_hits, "temporal": options.temporal.mode,
                "provider": recognizer.provider,
                "models": [{"file": p.name, "sha256": _sha256(p)} for p in files]}

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        for recognizer in (self.stream, self.still):
            recognizer.close()
