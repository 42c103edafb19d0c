"""Build the recognizer and the look-ahead detector the way every mode does (no printing).

Shared by the CLI and library jobs (``video_job.run_video_job``, ``batch``): ``options`` with the mode's
defaults (``modes.MODE_DEFAULTS``) filled in, and the ``DetectAhead`` used by file modes.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ...core.temporal import OFF, TemporalSettings
from .modes import MODE_DEFAULTS, classifier_threads
from .options import RecognizerOptions


def resolved(options: RecognizerOptions, mode: str) -> RecognizerOptions:
    """``options`` with ``mode``'s defaults for the detector, its range, the detection cadence, the face filters and
    the classifier threads filled in (what a manifest record compares)."""
    defaults = MODE_DEFAULTS[mode]
    return replace(options, detector=options.detector or defaults.detector,
                   detector_range=options.detector_range or defaults.detector_range,
                   min_size=options.min_size if options.min_size is not None else defaults.min_face,
                   min_hits=options.min_hits or defaults.min_hits,
                   detect_every=options.detect_every if options.detect_every is not None else defaults.detect_every,
                   threads=options.threads if options.threads is not None else classifier_threads(mode))


def mode_discovery(options: RecognizerOptions, mode: str):
    """``mode``'s discovery passes (``core.presets.DiscoverySettings``), or None: none for the mode, or a
    ``--detector`` named (that detector then runs alone). What the recognizer runs and what a batch manifest
    compares."""
    return MODE_DEFAULTS[mode].discovery if options.detector is None else None


def open_recognizer(options: RecognizerOptions, mode: str, temporal: TemporalSettings = OFF):
    """A ``Recognizer`` of ``options`` with ``mode``'s defaults for whatever is None.

    ``temporal``: the recognizer's own (causal) stage; the CLI's loop runs its stage after the recognizer
    (``core.temporal.open_stage``), so it keeps ``OFF`` here.

    Raises:
        ModelError / ProviderError / MissingDependencyError: bad model, provider or dependency.
    """
    from ...core.pipeline import Recognizer

    discovery = mode_discovery(options, mode)
    options = resolved(options, mode)
    return Recognizer(Path(options.model) if options.model else None, provider=options.provider,
                      detector=options.detector, detector_range=options.detector_range,
                      min_confidence=options.min_confidence, detect_every=options.detect_every,
                      intra_op_threads=options.threads, temporal=temporal, detector_size=options.detector_size,
                      min_size=options.min_size, media=MODE_DEFAULTS[mode].media, discovery=discovery,
                      classify_limit=MODE_DEFAULTS[mode].classify_limit,
                      min_hits=1 if MODE_DEFAULTS[mode].files else options.min_hits)  # files: ``persist_stage``


def persist_stage(stage, options: RecognizerOptions, mode: str):
    """``stage`` behind a ``core.persist.PersistStage`` of ``options.min_hits`` frames (file modes: a face is shown
    from its first frame once it persisted; streams filter in the tracker instead), or ``stage`` itself."""
    from ...core.persist import PersistStage

    min_frames = resolved(options, mode).min_hits
    return PersistStage(stage, min_frames) if MODE_DEFAULTS[mode].files and min_frames > 1 else stage


def make_detect_ahead(recognizer, options: RecognizerOptions, mode: str):
    """A ``DetectAhead`` for file modes when it can help (several cores), else None.

    ``options.lookahead`` detection threads (default: 1 on 2 cores, 2 on more, 0 on one core);
    detection runs on the ``detect_every`` cadence (default: ``mode``'s), and the recognizer's discovery passes
    (``core.discovery``) on those threads too.
    """
    from ...core.detect import create_detector
    from .detect_ahead import DetectAhead

    cores = os.cpu_count() or 1
    workers = options.lookahead if options.lookahead is not None else (0 if cores < 2 else 1 if cores == 2 else 2)
    options = resolved(options, mode)
    if workers < 1 or options.detector == "mtcnn" or not hasattr(recognizer, "detector"):
        return None  # MTCNN (TensorFlow) is slow to instantiate and not meant for parallel use
    extra = [create_detector(options.detector, range=options.detector_range, min_confidence=options.min_confidence,
                             size=options.detector_size, provider=options.provider, min_size=options.min_size)
             for _ in range(workers - 1)]
    return DetectAhead(recognizer.detector, extra, every=options.detect_every,
                       discovery=getattr(recognizer, "discovery", None))
