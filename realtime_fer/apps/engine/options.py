"""Options as values: what a run needs, frozen and validated when built (InputError naming the option).

``apps.cli.arguments`` builds them once from the command line (for ``realtime-fer`` and ``realtime-fer
batch`` alike); library callers build them directly::

    RunOptions(recognizer=RecognizerOptions(model="m.onnx"), outputs=OutputOptions(csv="faces.csv"))

Fields left None take the mode's defaults (``recognizer_setup``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...core.temporal import MAX_VIDEO_LAG_S, OFFLINE_DEFAULT, TemporalSettings
from ...errors import InputError

PROVIDERS = ("auto", "cpu", "cuda", "tensorrt")
DETECTORS = ("blazeface", "centerface", "mtcnn")
RANGES = ("short", "full", "auto", "both")
MAX_THREADS = 256
"""The most --threads / --detect-threads a run takes (more threads than any machine here has cores)."""


def _choice(option: str, value, choices) -> None:
    if value not in choices:
        raise InputError(f"{option}: expected one of {', '.join(choices)}, got {value!r}")


@dataclass(frozen=True)
class RecognizerOptions:
    """How frames are recognized (the ``--model`` .. ``--detect-threads`` options).

    Attributes:
        model: ONNX expression model with its ``.json`` sidecar (None: the shipped one for the provider).
        provider: ONNX Runtime provider (``PROVIDERS``); detector: ``DETECTORS`` (None: the mode's default).
        detector_range: BlazeFace range (``RANGES``; None: the mode's default).
        detector_size: CenterFace's input size, longest side in pixels (None: the frame's own in [640, 1280]).
        detect_every: run the detector every N frames (None: the mode's default).
        min_confidence: detector score threshold in [0, 1]; min_size: minimum face width in pixels (None: the
            mode's default).
        min_hits: frames in a row a new face must be found in before it is shown (None: the mode's default).
        threads: classifier threads (None: the mode's default; 0: ONNX Runtime chooses).
        lookahead: detection threads running ahead of the frame being drawn, file modes (None: by cores; 0: off).
    """

    model: str | Path | None = None
    provider: str = "auto"
    detector: str | None = None
    detector_range: str | None = None
    detect_every: int | None = None
    min_confidence: float = 0.5
    detector_size: int | None = None
    min_size: float | None = None
    min_hits: int | None = None
    threads: int | None = None
    lookahead: int | None = None

    def __post_init__(self):
        _choice("--provider", self.provider, PROVIDERS)
        if self.detector is not None:
            _choice("--detector", self.detector, DETECTORS)
        if self.detector_size is not None and not 32 <= self.detector_size <= 4096:
            raise InputError(f"--detector-size: expected an integer in [32, 4096], got {self.detector_size}; try 640")
        if self.min_size is not None and not 0 <= self.min_size <= 10000:
            raise InputError(f"--min-face: expected a width in pixels in [0, 10000], got {self.min_size}; 0 keeps "
                             "every face")
        if self.min_hits is not None and self.min_hits < 1:
            raise InputError(f"--min-frames: expected an integer >= 1, got {self.min_hits}; 1 shows a face at once")
        if self.detector_range is not None:
            _choice("--range", self.detector_range, RANGES)
        if self.detect_every is not None and self.detect_every < 1:
            raise InputError(f"--detect-every: expected an integer >= 1, got {self.detect_every}; use 1 to detect "
                             "on every frame")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"--min-confidence: expected a number in [0, 1], got {self.min_confidence}; try 0.5")
        if self.threads is not None and not 0 <= self.threads <= MAX_THREADS:
            raise InputError(f"--threads: expected an integer in [0, {MAX_THREADS}], got {self.threads}; 0 lets ONNX "
                             "Runtime choose")
        if self.lookahead is not None and not 0 <= self.lookahead <= MAX_THREADS:
            raise InputError(f"--detect-threads: expected an integer in [0, {MAX_THREADS}], got {self.lookahead}; 0 "
                             "turns look-ahead off")


@dataclass(frozen=True)
class EncoderOptions:
    """How an annotated video is encoded: ``codec`` (None: libx264, MJPEG for .avi; "auto": NVENC when the
    provider is CUDA/TensorRT and it opens), ``preset``, ``crf`` (quality, lower = better), ``audio`` (carry the
    input's audio over)."""

    codec: str | None = None
    preset: str | None = None
    crf: float | None = None
    audio: bool = True

    def __post_init__(self):
        from ...io.av_writer import check_quality

        # without a codec name, the loosest range (the path decides the codec); ``check_for(path)`` checks exactly
        check_quality(None if self.codec in (None, "auto") else self.codec, self.crf)

    def check_for(self, path: str | Path) -> str:
        """The encoder an output video ``path`` gets (``auto``: as on the CPU; NVENC takes the same range),
        after checking ``crf`` against it (InputError)."""
        from ...io.av_writer import check_quality, resolve_codec

        codec = resolve_codec(None if self.codec == "auto" else self.codec, path)
        check_quality(codec, self.crf)
        return codec

    def sink_options(self) -> dict:
        """The ``VideoSink`` keywords (codec, preset, crf)."""
        return {"codec": self.codec, "preset": self.preset, "crf": self.crf}


@dataclass(frozen=True)
class OutputOptions:
    """Where a run writes: ``output`` (annotated video, image or folder), ``csv`` / ``jsonl`` tables; ``overwrite``
    replaces existing files; ``hud`` draws the fps/latency readout."""

    output: str | Path | None = None
    csv: str | Path | None = None
    jsonl: str | Path | None = None
    overwrite: bool = False
    hud: bool = False

    @property
    def any(self) -> bool:
        return bool(self.output or self.csv or self.jsonl)


def check_video_lag(temporal: TemporalSettings) -> None:
    """InputError when an offline ``temporal`` looks further ahead than ``MAX_VIDEO_LAG_S`` (its frames wait in
    memory)."""
    if temporal.mode == "offline" and temporal.lag_s > MAX_VIDEO_LAG_S:
        raise InputError(f"--lag: expected at most {MAX_VIDEO_LAG_S:g} s for a video (its frames wait in memory), "
                         f"got {temporal.lag_s:g}; use a shorter --lag")


@dataclass(frozen=True)
class RunOptions:
    """Everything a ``--video`` run (or one video of a batch) is run with.

    Attributes:
        recognizer, temporal (``core.temporal.TemporalSettings``; default the offline filter), encoder, outputs.
        max_frames: stop after this many frames (None: all).
    """

    recognizer: RecognizerOptions = field(default_factory=RecognizerOptions)
    temporal: TemporalSettings = OFFLINE_DEFAULT
    encoder: EncoderOptions = field(default_factory=EncoderOptions)
    outputs: OutputOptions = field(default_factory=OutputOptions)
    max_frames: int | None = None

    def __post_init__(self):
        if not isinstance(self.temporal, TemporalSettings):
            raise InputError(f"temporal: expected a core.temporal.TemporalSettings, got "
                             f"{type(self.temporal).__name__}; build one with TemporalSettings(...)")
        if self.max_frames is not None and self.max_frames < 1:
            raise InputError(f"--max-frames: expected an integer >= 1, got {self.max_frames}; omit it to process all")
