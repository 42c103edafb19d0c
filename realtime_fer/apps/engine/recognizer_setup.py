"""Build the recognizer and the look-ahead detector the way every mode does (no printing).

Shared by the CLI and library jobs (``video_job.run_video_job``, ``batch``): per-mode defaults for
the detector range, the detection cadence and the classifier's thread count, and the
``DetectAhead`` used by file modes.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ...core.temporal import OFF, TemporalSettings
from .options import RecognizerOptions

DEFAULT_RANGE = {"camera": "short", "video": "short", "image": "both", "bench": "short", "eval": "short"}
"""Why these defaults (measured on this 2-core CPU, first 200 frames of each sample clip):

* Pexels clip (640x360, one face): short 2.4 ms median per frame, face in 200/200 frames;
  full 5.8 ms (2.4x), face in 192/200; auto 2.4 ms, 200/200.
* no_face.mp4 (cartoon): short 2.5 ms, 4/95 false detections; full 6.6 ms, 22/95; auto
  8.0 ms median (short + full on every empty frame), 22/95.

Full range costs ~2.4x and, for faces that fill a webcam or video frame, finds no more and
fires more on non-faces; auto keeps short's speed only where faces are present.  So
--camera and --video default to short; stills default to "both" (short + full, union)
because speed hardly matters there and group photos have small faces.  Use --range
full/auto/both for small or distant faces in video."""

DEFAULT_DETECT_EVERY = {"camera": 1, "video": 2, "image": 1, "bench": 2, "eval": 2}
"""Measured on the Pexels clip (2-core CPU, int8 model): ``bench`` ran at 259 fps with detection
on every frame (ratio 0.42 to one-thread decode+encode) and 445 fps every 2nd frame (0.65),
with 99.6 % of labels and a median box IoU of 1.0 (5th percentile 0.93) equal to the
every-frame run.  Live mode detects every frame: its latency target is met either way."""


def classifier_threads(mode: str, cores: int | None = None) -> int:
    """Default ONNX Runtime intra-op threads of the classifier for a CLI mode.

    --camera and --image detect on the main thread, so the classifier may borrow a second
    core while it runs: on this 2-core CPU the int8 model's batch of 5 faces took 1.0 ms
    with 2 threads against 1.8 ms with 1, which brings the live latency of 5 faces from
    1.74x to ~1.5x that of one.  --video and bench keep 1: their look-ahead detection
    uses that core.
    """
    cores = (os.cpu_count() or 1) if cores is None else cores
    return 2 if mode in ("camera", "image") and cores >= 2 else 1


def resolved(options: RecognizerOptions, mode: str) -> RecognizerOptions:
    """``options`` with ``mode``'s defaults for the detector range, the detection cadence and the classifier
    threads filled in (what a manifest record compares)."""
    return replace(options, detector_range=options.detector_range or DEFAULT_RANGE[mode],
                   detect_every=options.detect_every if options.detect_every is not None else DEFAULT_DETECT_EVERY[mode],
                   threads=options.threads if options.threads is not None else classifier_threads(mode))


def open_recognizer(options: RecognizerOptions, mode: str, temporal: TemporalSettings = OFF):
    """A ``Recognizer`` of ``options`` with ``mode``'s defaults for whatever is None.

    ``temporal``: the recognizer's own (causal) stage; the CLI's loop runs its stage after the recognizer
    (``core.temporal.open_stage``), so it keeps ``OFF`` here.

    Raises:
        ModelError / ProviderError / MissingDependencyError: bad model, provider or dependency.
    """
    from ...core.pipeline import Recognizer

    options = resolved(options, mode)
    return Recognizer(Path(options.model) if options.model else None, provider=options.provider,
                      detector=options.detector, detector_range=options.detector_range,
                      min_confidence=options.min_confidence, detect_every=options.detect_every,
                      intra_op_threads=options.threads, temporal=temporal)


def make_detect_ahead(recognizer, options: RecognizerOptions, mode: str):
    """A ``DetectAhead`` for file modes when it can help (several cores), else None.

    ``options.lookahead`` detection threads (default: 1 on 2 cores, 2 on more, 0 on one core);
    detection runs on the ``detect_every`` cadence (default: ``mode``'s).
    """
    from ...core.detect import create_detector
    from .detect_ahead import DetectAhead

    cores = os.cpu_count() or 1
    workers = options.lookahead if options.lookahead is not None else (0 if cores < 2 else 1 if cores == 2 else 2)
    if workers < 1 or options.detector != "blazeface" or not hasattr(recognizer, "detector"):
        return None  # MTCNN (TensorFlow) is slow to instantiate and not meant for parallel use
    options = resolved(options, mode)
    extra = [create_detector(options.detector, range=options.detector_range, min_confidence=options.min_confidence)
             for _ in range(workers - 1)]
    return DetectAhead(recognizer.detector, extra, every=options.detect_every)
