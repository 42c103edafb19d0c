"""Face detectors. Each one turns a BGR frame into ``Faces`` (boxes, scores, keypoints).

* ``BlazeFaceDetector``: MediaPipe Tasks ``FaceDetector`` with the BlazeFace
  models vendored in ``models/`` (short range: faces within ~2 m, the webcam case;
  full range: smaller faces up to ~5 m, slower).
* ``CenterFaceDetector`` (``centerface.py``): CenterFace in ONNX Runtime (CPU or CUDA), vendored in
  ``models/``; finds small and turned faces BlazeFace misses, ~10x slower on a CPU: the stills default.
* ``MtcnnDetector``: the seed paper's MTCNN (``mtcnn`` package, TensorFlow), slow
  but a reference; needs ``pip install 'realtime-fer[mtcnn]'`` (the mtcnn package and TensorFlow).

Use ``create_detector(name, ...)``; every detector is a context manager.
Keypoints come back image-left eye first, then image-right eye (``faces.KEYPOINT_NAMES``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..resources import MODELS_DIR
from ..errors import MissingDependencyError, ModelError
from .detector_base import Detector
from .faces import Faces
from .native_logs import quiet_native
from .track import iou_matrix

BLAZEFACE_MODELS = {
    "short": MODELS_DIR / "face_detection_short_range.tflite",
    "full": MODELS_DIR / "face_detection_full_range_sparse.tflite",
}
DETECTORS = ("blazeface", "centerface", "mtcnn")
RANGES = ("short", "full", "auto", "both")
"""BlazeFace ranges: one model, ``auto`` (short, falling back to full on frames where short
finds nothing: the speed of short for near faces, full's reach when faces are small), or
``both`` (union of the two, for still images where speed matters less than recall)."""


def import_mediapipe():
    """Import mediapipe's Tasks API without dragging TensorFlow in.

    mediapipe imports ``tensorflow.tools.docs`` only for documentation decorators and
    falls back to a no-op when TensorFlow is missing; with TensorFlow installed (the
    ``train`` extra) that import alone costs ~5 s. So TensorFlow is hidden while
    mediapipe loads, unless it is already imported.

    Returns:
        (mediapipe, BaseOptions, vision) modules/classes.
    """
    import sys

    hide = "tensorflow" not in sys.modules
    if hide:
        sys.modules["tensorflow"] = None  # makes `import tensorflow` raise ModuleNotFoundError
    try:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError:
        raise MissingDependencyError("mediapipe: expected it installed, got ImportError; "
                                     "run pip install 'mediapipe>=1.2'") from None
    finally:
        if hide and sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]
    return mp, BaseOptions, vision


def _clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes


class BlazeFaceDetector(Detector):
    """MediaPipe BlazeFace through the Tasks API.

    Args:
        range: "short" (faces filling >~10% of the frame; fastest) or "full" (small faces).
        min_confidence: detections below this score are dropped.
        video: use the Tasks VIDEO running mode (needs increasing timestamps) instead of IMAGE.

    ``detect(frame)`` takes (H, W, 3) uint8 BGR (or (H, W) grey / (H, W, 4) BGRA) and
    returns Faces in that frame's pixel coordinates, keypoints (n, 6, 2): image-left eye,
    image-right eye, nose tip, mouth, image-left ear, image-right ear.
    """

    def __init__(self, range: str = "short", min_confidence: float = 0.5, model_path: str | Path | None = None):
        if range not in BLAZEFACE_MODELS:
            raise ValueError(f"detector range: expected one of {sorted(BLAZEFACE_MODELS)}, got {range!r}")
        path = Path(model_path) if model_path else BLAZEFACE_MODELS[range]
        if not path.is_file():
            raise ModelError(f"BlazeFace model: expected {path}, got no file; reinstall realtime-fer or run "
                             "scripts/fetch_blazeface.py to restore models/")
        mp, BaseOptions, vision = import_mediapipe()
        self._mp = mp
        options = vision.FaceDetectorOptions(base_options=BaseOptions(model_asset_path=str(path)),
                                             running_mode=vision.RunningMode.IMAGE,
                                             min_detection_confidence=float(min_confidence))
        with quiet_native():  # ~50 INFO/WARNING lines from LiteRT at load
            self._detector = vision.FaceDetector.create_from_options(options)
        self.range = range
        self._first = True

    def detect(self, frame: np.ndarray) -> Faces:
        import cv2

        if frame.ndim == 2:
            rgb = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
        elif frame.shape[2] == 4:
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
        else:
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        height, width = rgb.shape[:2]
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        if self._first:  # the first inference logs the XNNPACK delegate's creation
            with quiet_native():
                result = self._detector.detect(image)
            self._first = False
        else:
            result = self._detector.detect(image)
        detections = result.detections
        if not detections:
            return Faces.empty(6)
        boxes = np.array([[d.bounding_box.origin_x, d.bounding_box.origin_y,
                           d.bounding_box.origin_x + d.bounding_box.width,
                           d.bounding_box.origin_y + d.bounding_box.height] for d in detections], np.float32)
        scores = np.array([d.categories[0].score for d in detections], np.float32)
        keypoints = np.array([[(k.x * width, k.y * height) for k in d.keypoints] for d in detections], np.float32)
        return Faces(_clip_boxes(boxes, width, height), scores, keypoints)

    def close(self) -> None:
        if self._detector is not None:
            with quiet_native():
                self._detector.close()
            self._detector = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: mediapipe's C handles may already be gone
            pass


class MtcnnDetector(Detector):
    """The seed paper's detector (MTCNN, ``mtcnn`` package), for reference and training.

    ``detect(frame)`` takes (H, W, 3) uint8 BGR and returns Faces with keypoints (n, 5, 2):
    image-left eye, image-right eye, nose, image-left mouth corner, image-right mouth corner.
    """

    def __init__(self, min_confidence: float = 0.5):
        try:
            from mtcnn import MTCNN
        except ImportError as exc:
            raise MissingDependencyError(f"mtcnn detector: expected the mtcnn package and TensorFlow installed, got "
                                         f"{type(exc).__name__} ({exc}); run pip install 'realtime-fer[mtcnn]'") from None
        self._mtcnn = MTCNN()
        self.min_confidence = float(min_confidence)

    def detect(self, frame: np.ndarray) -> Faces:
        import cv2

        rgb = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB if frame.ndim == 2 else cv2.COLOR_BGR2RGB)
        found = [f for f in self._mtcnn.detect_faces(rgb) if f["confidence"] >= self.min_confidence]
        if not found:
            return Faces.empty(5)
        boxes = np.array([[f["box"][0], f["box"][1], f["box"][0] + f["box"][2], f["box"][1] + f["box"][3]]
                          for f in found], np.float32)
        names = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
        keypoints = np.array([[f["keypoints"][n] for n in names] for f in found], np.float32)
        height, width = rgb.shape[:2]
        return Faces(_clip_boxes(boxes, width, height), np.array([f["confidence"] for f in found], np.float32), keypoints)


def _merge(first: Faces, second: Faces, iou_threshold: float = 0.3) -> Faces:
    """``first`` plus the faces of ``second`` that overlap none of ``first`` (keypoint counts must agree)."""
    if len(first) == 0:
        return second
    if len(second) == 0:
        return first
    overlap = iou_matrix(second.boxes, first.boxes).max(axis=1)
    extra = second.select(overlap < iou_threshold)
    return Faces(np.concatenate([first.boxes, extra.boxes]), np.concatenate([first.scores, extra.scores]),
                 np.concatenate([first.keypoints, extra.keypoints]))


class MultiRangeDetector(Detector):
    """BlazeFace short + full range (see ``RANGES``): ``auto`` falls back, ``both`` unites."""

    def __init__(self, strategy: str = "auto", min_confidence: float = 0.5):
        self.strategy = strategy
        self.range = strategy
        self._short = BlazeFaceDetector("short", min_confidence)
        self._full = BlazeFaceDetector("full", min_confidence)

    def detect(self, frame: np.ndarray) -> Faces:
        """(H, W, 3) uint8 BGR -> Faces, as ``BlazeFaceDetector.detect``."""
        near = self._short.detect(frame)
        if self.strategy == "auto" and len(near):
            return near
        return _merge(near, self._full.detect(frame))

    def close(self) -> None:
        self._short.close()
        self._full.close()


def create_detector(name: str = "blazeface", range: str = "auto", min_confidence: float = 0.5, *,
                    size: int | None = None, provider: str = "auto", min_size: float = 0.0):
    """Build a detector by name: "blazeface" (``range`` one of RANGES), "centerface" (``size``: longest side of
    its input, default the frame's own in [640, 1280]: ``centerface.input_side``; ``provider`` as ``onnx_session``) or "mtcnn".

    ``min_size``: faces whose box is narrower than this many pixels are dropped (0: keep all).
    """
    if name == "blazeface":
        if range not in RANGES:
            raise ValueError(f"detector range: expected one of {', '.join(RANGES)}, got {range!r}")
        if range in ("auto", "both"):
            detector = MultiRangeDetector(range, min_confidence)
        else:
            detector = BlazeFaceDetector(range=range, min_confidence=min_confidence)
    elif name == "centerface":
        from .centerface import CenterFaceDetector

        detector = CenterFaceDetector(size, min_confidence, provider)
    elif name == "mtcnn":
        detector = MtcnnDetector(min_confidence=min_confidence)
    else:
        raise ValueError(f"detector: expected one of {', '.join(DETECTORS)}, got {name!r}")
    return MinSizeFilter(detector, min_size) if min_size > 0 else detector


class MinSizeFilter(Detector):
    """Wraps a detector: faces whose box is narrower than ``min_size`` pixels are dropped (tiny boxes are mostly
    false faces, and too small to classify: the classifier sees 48-64 px crops)."""

    def __init__(self, detector, min_size: float):
        self.detector, self.min_size = detector, float(min_size)
        self.range = getattr(detector, "range", None)

    def detect(self, frame: np.ndarray) -> Faces:
        """As the wrapped detector's ``detect``, without the small faces."""
        faces = self.detector.detect(frame)
        if len(faces) == 0:
            return faces
        return faces.select((faces.boxes[:, 2] - faces.boxes[:, 0]) >= self.min_size)

    def close(self) -> None:
        self.detector.close()
