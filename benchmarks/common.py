"""Helpers shared by the benchmark scripts (model choice, sample paths, recognizer setup)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEXELS = REPO.parent / "shared" / "data" / "samples" / "videos" / "WolfgangLanger_Pexels.mp4"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def model_path(requested: str | None, media: str = "video") -> tuple[Path, str]:
    """(model, description): ``requested``, else the shipped CPU model for ``media``, else a tiny test model.

    The shipped CPU model is what the CLI runs on CPU (``classify.default_model``: the video model for the camera
    and video paths these benchmarks measure).  The tiny model (Flatten -> Gemm -> Softmax on 48x48 grey) costs ~0.1 ms per
    face, so figures measured with it are pipeline figures without a realistic classifier.
    """
    from realtime_fer.core.classify import default_model

    if requested:
        return Path(requested), requested
    shipped = default_model("CPUExecutionProvider", media)
    if shipped.is_file():
        return shipped, f"{shipped.name} (shipped model)"
    from tests.tiny_model import write_tiny_model

    folder = Path(tempfile.mkdtemp(prefix="fer-bench-model-"))
    return write_tiny_model(folder), "tiny test model (no shipped model yet)"


def recognizer(model: Path, detector_range: str = "short", **kwargs):
    from realtime_fer.core.pipeline import Recognizer

    return Recognizer(model, detector_range=detector_range, **kwargs)


def detect_ahead_factory(rec, workers: int, detector_range: str = "short"):
    """What the CLI's ``--workers N`` builds (None when ``workers`` < 1)."""
    if workers < 1:
        return None
    from realtime_fer.apps.engine.detect_ahead import DetectAhead
    from realtime_fer.core.detect import create_detector

    def factory():
        return DetectAhead(rec.detector, [create_detector("blazeface", range=detector_range) for _ in range(workers - 1)])

    return factory
