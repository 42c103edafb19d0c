"""The recognizer: detect -> track -> align -> classify -> temporal stage, one frame at a time.

It does no I/O: sources, sinks, windows and the CLI live in other modules. One
``Recognizer`` owns one detector and one ONNX Runtime session and is meant to be
used from one thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from .align import align_faces
from .classify import ExpressionClassifier
from .detect import create_detector
from .discovery import BackgroundDiscovery, InlineDiscovery, open_discovery_detector
from .faces import DEFAULT_FPS, Faces, FrameResult
from .presets import PHOTO_SETTINGS, VIDEO_SETTINGS, DiscoverySettings  # noqa: F401  (re-exported)
from ..errors import InputError
from .temporal import LIVE_DEFAULT, OFF, LiveStage, TemporalSettings
from .track import IouTracker

STAGES = ("detect", "track", "align", "classify", "smooth")


def as_bgr(frame: np.ndarray) -> np.ndarray:
    """(H, W) grey, (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA uint8 -> (H, W, 3) uint8 BGR.

    Raises:
        InputError: not a uint8 array of one of those shapes (e.g. None, what ``cv2.imread`` returns for a file it
            cannot read).
    """
    if not isinstance(frame, np.ndarray):
        hint = ("; cv2.imread returns None for a file it cannot read: check the path" if frame is None
                else "; pass the image as a numpy array")
        raise InputError(f"frame: expected an (H, W, 3) uint8 BGR numpy array, got {type(frame).__name__}{hint}")
    if frame.dtype != np.uint8:
        raise InputError(f"frame: expected a uint8 array (0-255), got dtype {frame.dtype}; convert it with "
                         "np.clip(frame, 0, 255).astype(np.uint8)")
    if frame.size == 0:
        raise InputError(f"frame: expected an image with pixels, got shape {frame.shape}; pass a non-empty image")
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise InputError(f"frame: expected (H, W), (H, W, 3) or (H, W, 4) uint8, got shape {frame.shape}; pass a grey, "
                     "BGR or BGRA image")


class Recognizer:
    """Facial expression recognition for a stream of frames, or for photos.

    The command line's presets: ``Recognizer.for_video()`` (what ``--camera`` runs: the video model, BlazeFace
    short range with CenterFace discovery passes beside it) and ``Recognizer.for_photos()`` (what ``--image`` runs:
    the photo model, CenterFace, every call a photo on its own). ``Recognizer(...)`` itself takes every option; its own defaults are those of a stream.

    Args:
        model_path: ONNX expression model with its ``.json`` sidecar (default: the shipped model
            for ``media`` and the provider, see ``classify.default_model``).
        media: "video" (cameras, streams, video files: the model chosen on talking faces) or "photo" (still
            images: the model chosen on photos); only picks the default model.
        stills: every ``process`` call is an unrelated image (tracks and the temporal stage start afresh).
        provider: ONNX Runtime provider, auto | cpu | cuda | tensorrt.
        detector: "blazeface", "centerface" or "mtcnn"; detector_range: BlazeFace "short", "full",
            "auto" (short, full where short finds nothing; the default) or "both" (union);
            detector_size: CenterFace's input size (longest side, pixels; None: its default). CenterFace runs on
            ``provider`` too (CUDA when that resolves to CUDA).
        min_confidence: detector score threshold; min_size: faces narrower than this many pixels are dropped.
        min_hits: detection rounds in a row a new track needs before its face is shown (1: at once; more keeps
            false faces that flicker for a frame or two off the screen).
        temporal: the causal temporal stage run on each frame (``temporal.TemporalSettings`` of mode "live"
            or "off"; default ``LIVE_DEFAULT``: a steady shown label that switches once the new label's
            log-probability lead pays a switch cost, in seconds of source time). The offline stage needs later frames: run the recognizer with ``OFF`` and feed its
            results to ``temporal.open_stage(settings, fps)``, as the CLI's loop does.
        detect_every: run the detector on every n-th frame; frames between reuse the
            tracks' predicted boxes (classification still runs on every frame).
        max_missed: frames a track survives without a detection.
        discovery: ``discovery.DiscoverySettings``: a slow detector (CenterFace) finds small faces now and then and
            its faces are carried between its passes (``period_s`` > 0: on a thread beside ``process``, never
            waited for; 0: in ``process``, every ``every`` frames); None: off.
        classify_limit: with more faces than this in a frame, only this many are classified (new tracks first,
            then those read longest ago); the others keep their last reading (0: classify every face).
        intra_op_threads: ONNX Runtime threads for the classifier (1 is fastest for small batches).

    Example::

        with Recognizer.for_photos() as recognizer:
            result = recognizer.process(cv2.imread("photo.jpg"))
            print(result.top())   # [(label, confidence), ...] per face
    """

    def __init__(self, model_path: str | Path | None = None, *, provider: str = "auto", detector: str = "blazeface",
                 detector_range: str = "auto", min_confidence: float = 0.5,
                 temporal: TemporalSettings = LIVE_DEFAULT, detect_every: int = 1, max_missed: int = 5, intra_op_threads: int = 1,
                 detector_size: int | None = None, min_size: float = 0.0, min_hits: int = 1, media: str = "video",
                 stills: bool = False, discovery: DiscoverySettings | None = None, classify_limit: int = 0):
        if detect_every < 1:
            raise ValueError(f"detect_every: expected an integer >= 1, got {detect_every}")
        self.classifier = ExpressionClassifier(model_path, provider=provider, intra_op_threads=intra_op_threads,
                                               media=media)
        self.stills = bool(stills)
        self.detector = create_detector(detector, range=detector_range, min_confidence=min_confidence,
                                        size=detector_size, provider=provider, min_size=min_size)
        self.tracker = IouTracker(max_missed=max_missed, min_hits=min_hits)
        self.discovery, self.discovery_detector = None, None
        if discovery is not None:
            self.discovery_detector = open_discovery_detector(discovery, provider, min_confidence, min_size)
            self.discovery = (BackgroundDiscovery if discovery.period_s > 0 else InlineDiscovery)(
                self.discovery_detector, discovery)
        self.classify_limit = int(classify_limit)
        self._readings: dict[int, tuple[int, np.ndarray]] = {}  # track id -> (frame index, raw probs)
        self.temporal = temporal
        self.stage = LiveStage(temporal)  # ValueError for an offline setting
        self.detect_every = int(detect_every)
        self._frame_count = 0

    @classmethod
    def for_photos(cls, model_path: str | Path | None = None, **options) -> "Recognizer":
        """A recognizer for still photos, as ``realtime-fer --image`` runs: the photo model, ``PHOTO_SETTINGS``,
        no temporal stage, each ``process`` call an image on its own. ``options``: any ``Recognizer`` keyword."""
        threads = 2 if (os.cpu_count() or 1) >= 2 else 1  # detection is not beside it: borrow a second core
        return cls(model_path, **{**PHOTO_SETTINGS, "temporal": OFF, "stills": True, "intra_op_threads": threads,
                                  **options})

    @classmethod
    def for_video(cls, model_path: str | Path | None = None, **options) -> "Recognizer":
        """A recognizer for a camera or a stream of frames, as ``realtime-fer --camera`` runs: the video model,
        ``VIDEO_SETTINGS`` (CenterFace discovery on a thread beside ``process``), the live temporal stage.
        ``options``: any ``Recognizer`` keyword (``discovery=None``: BlazeFace short alone)."""
        return cls(model_path, **{**VIDEO_SETTINGS, **options})

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    @property
    def provider(self) -> str:
        return self.classifier.provider

    def process(self, frame: np.ndarray, index: int | None = None, time_ms: float | None = None,
                detections: Faces | None = None, coast: bool = False) -> FrameResult:
        """Recognize every face in one frame.

        Args:
            frame: (H, W, 3) uint8 BGR; (H, W) grey and (H, W, 4) BGRA are converted.
            index: frame number (default: a running count); time_ms: source time stamp
                (default: ``index`` at 30 fps).
            detections: this frame's detections when they were computed elsewhere (e.g. ahead
                of time on a worker thread, with a detector of the same settings); the
                recognizer's own detector then does not run on this frame.
            coast: skip detection on this frame and move the tracks along (what frames
                between detections do with ``detect_every > 1``); ignored when ``detections``
                are given.

        Returns:
            FrameResult whose faces carry boxes and keypoints in ``frame`` pixels, track
            ids, raw and smoothed probabilities in ``labels`` order, and per-stage timings.
        """
        frame = as_bgr(frame)
        if self.stills:
            self.reset()
        index = self._frame_count if index is None else int(index)
        time_ms = index * 1000.0 / DEFAULT_FPS if time_ms is None else float(time_ms)
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = (now - clock) * 1000.0
            clock = now

        if detections is None and not coast and self._frame_count % self.detect_every == 0:
            detections = self._discover(frame, self.detector.detect(frame))
        self._frame_count += 1
        lap("detect")
        faces = self.tracker.shown(self.tracker.update(detections) if detections is not None else self.tracker.coast())
        lap("track")
        chosen = self._to_classify(faces)
        crops = self._align(frame, faces if len(chosen) == len(faces) else faces.select(chosen))
        lap("align")
        faces = faces.replace(raw_probs=self._read(faces, chosen, self.classifier.predict(crops), index))
        lap("classify")
        (result,) = self.stage.push(FrameResult(index, time_ms, faces, self.labels, timings), self.tracker.active_ids)
        lap("smooth")
        return result

    def stream(self, frames: Iterable) -> Iterator[tuple[np.ndarray, FrameResult]]:
        """Recognize a sequence of frames lazily.

        Args:
            frames: an iterable of (H, W, 3) uint8 BGR arrays, or of objects with ``image``,
                ``index`` and ``time_ms`` attributes (``sources.SourceFrame``, e.g. from
                ``VideoFileSource(path).frames()``).

        Yields:
            (frame, FrameResult) per input frame, in order.
        """
        for item in frames:
            if isinstance(item, np.ndarray):
                yield item, self.process(item)
            else:
                yield item.image, self.process(item.image, item.index, item.time_ms)

    def _discover(self, frame: np.ndarray, fast: Faces) -> Faces:
        """The fast detector's ``fast`` faces of ``frame`` plus what discovery carries (``core.discovery``)."""
        return fast if self.discovery is None else self.discovery.step(frame, fast, self._frame_count)

    def _to_classify(self, faces: Faces) -> np.ndarray:
        """(k,) int indices of the faces classified on this frame: all, or every track never read plus those read
        longest ago, ``classify_limit`` in all (more when more tracks are new)."""
        if not self.classify_limit or len(faces) <= self.classify_limit:
            return np.arange(len(faces))
        last = np.array([self._readings.get(int(t), (-1, None))[0] for t in faces.track_ids], np.int64)
        count = max(self.classify_limit, int((last < 0).sum()))
        return np.sort(np.argsort(last, kind="stable")[:count])

    def _read(self, faces: Faces, chosen: np.ndarray, probs: np.ndarray, index: int) -> np.ndarray:
        """(n, C) raw probabilities of every face: ``probs`` (k, C) for the ``chosen`` ones, each other track's last
        reading; remembers the readings of live tracks (only when ``classify_limit`` is on)."""
        if not self.classify_limit:
            return probs
        out = np.zeros((len(faces), probs.shape[1] if probs.ndim == 2 else len(self.labels)), np.float32)
        out[chosen] = probs
        ids = faces.track_ids
        for k in chosen.tolist():
            self._readings[int(ids[k])] = (index, out[k].copy())
        carried = np.ones(len(faces), bool)
        carried[chosen] = False
        for k in np.flatnonzero(carried).tolist():
            out[k] = self._readings[int(ids[k])][1]
        if len(self._readings) > 4 * max(len(faces), self.classify_limit):
            live = self.tracker.active_ids
            self._readings = {t: v for t, v in self._readings.items() if t in live}
        return out

    def _align(self, frame: np.ndarray, faces: Faces) -> np.ndarray:
        """(n, h, w, c) uint8 crops in the model's colour order."""
        left, right = faces.eyes
        crops = align_faces(frame, faces.boxes, left, right, self.classifier.input_size, self.classifier.crop,
                            grayscale=self.classifier.grayscale)
        if self.classifier.card.input.color == "rgb":
            crops = crops[..., ::-1]
        return crops

    def reset(self) -> None:
        """Forget all tracks (e.g. between unrelated images)."""
        self.tracker.reset()
        self.stage.reset()
        self._frame_count = 0
        self._readings.clear()
        if self.discovery is not None:
            self.discovery.reset()

    def close(self) -> None:
        self.detector.close()
        if self.discovery is not None:
            self.discovery.wait()  # a pass still running uses the detector
            self.discovery_detector.close()

    def __enter__(self) -> "Recognizer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
