"""CenterFace: a one-stage, anchor-free face detector (ONNX, runs on CPU or CUDA through ``onnx_session``).

The network sees the whole frame, scaled so that its longest side is ``size`` pixels (by default the frame's own
longest side, kept between ``DEFAULT_SIZE`` and ``MAX_SIZE``) and padded (bottom, right) to a multiple of 32, as RGB
float 0..255. It answers on a grid with stride 4:

* heatmap (1, 1, h, w): the probability that a face centre lies in that cell;
* scale (1, 2, h, w): log of the face's height and width, in cells;
* offset (1, 2, h, w): the centre's sub-cell shift (y, x), in cells;
* landmarks (1, 10, h, w): five points as (y, x) pairs, in units of the box's height and width, from the box's
  top-left corner: image-left eye, image-right eye, nose, image-left and image-right mouth corner.

``decode`` turns those maps into boxes, scores and keypoints in frame pixels; non-maximum suppression
(``cv2.dnn.NMSBoxes``) then keeps one box per face.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..resources import MODELS_DIR
from .detector_base import Detector
from .faces import Faces
from .onnx_session import create_session, free_dimensions

CENTERFACE_MODEL = MODELS_DIR / "centerface.onnx"
STRIDE = 4
DEFAULT_SIZE = 640
"""Smallest longest side of the network input by default (FDDB's photos, at most 450 px, run at 640: ``docs/detection.md``)."""
MAX_SIZE = 1280
"""Largest longest side of the network input by default: a 2048 px crowd photo run at 640 showed 51 faces, at 1280
153 (0.2-0.4 s on a 2-core CPU); larger photos are scaled down to it."""


def input_side(width: int, height: int, size: int | None) -> int:
    """The longest side the network sees: ``size``, or (None) the frame's own, kept in [DEFAULT_SIZE, MAX_SIZE]."""
    return size if size is not None else min(max(width, height, DEFAULT_SIZE), MAX_SIZE)


def network_size(width: int, height: int, size: int) -> tuple[float, int, int]:
    """(scale, padded width, padded height): the frame is resized by ``scale`` (longest side ``size``, never more
    than 2x up) and padded to multiples of 32."""
    scale = min(size / max(width, height), 2.0)
    new_w, new_h = max(round(width * scale), 1), max(round(height * scale), 1)
    return scale, int(np.ceil(new_w / 32) * 32), int(np.ceil(new_h / 32) * 32)


def decode(heatmap: np.ndarray, scale: np.ndarray, offset: np.ndarray, landmarks: np.ndarray,
           threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network's maps (batch 1, as in the module docstring) -> candidates before NMS, in network-input pixels.

    Returns:
        boxes (n, 4) float32 xyxy, scores (n,) float32, keypoints (n, 5, 2) float32 (x, y).
    """
    heat = heatmap[0, 0]
    ys, xs = np.nonzero(heat > threshold)
    scores = heat[ys, xs].astype(np.float32)
    height = np.exp(scale[0, 0, ys, xs]) * STRIDE
    width = np.exp(scale[0, 1, ys, xs]) * STRIDE
    centre_y = (ys + offset[0, 0, ys, xs] + 0.5) * STRIDE
    centre_x = (xs + offset[0, 1, ys, xs] + 0.5) * STRIDE
    top, left = centre_y - height / 2, centre_x - width / 2
    boxes = np.stack([left, top, left + width, top + height], axis=1).astype(np.float32)
    points = landmarks[0][:, ys, xs].T.reshape(-1, 5, 2)  # (n, 5, (y, x)) in box units
    keypoints = np.stack([left[:, None] + points[..., 1] * width[:, None],
                          top[:, None] + points[..., 0] * height[:, None]], axis=2).astype(np.float32)
    return boxes, scores, keypoints


def suppress(boxes: np.ndarray, scores: np.ndarray, threshold: float, iou: float) -> np.ndarray:
    """Indices of the boxes that survive non-maximum suppression (``cv2.dnn.NMSBoxes`` on xywh), best first."""
    import cv2

    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    keep = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), float(threshold), float(iou))
    return np.asarray(keep, np.int64).reshape(-1)


class CenterFaceDetector(Detector):
    """CenterFace through ONNX Runtime.

    Args:
        size: longest side of the network input in pixels (larger finds smaller faces, costs ~size^2); None: the
            frame's own longest side, kept in [DEFAULT_SIZE, MAX_SIZE].
        min_confidence: heatmap score threshold.
        provider: ONNX Runtime provider (``onnx_session``: auto picks CUDA/TensorRT when present).
        nms_iou: boxes overlapping a better one by more than this IoU are dropped.
        threads: ONNX Runtime intra-op threads (0: ONNX Runtime chooses).

    ``detect(frame)`` takes (H, W, 3) uint8 BGR and returns Faces in that frame's pixels with keypoints
    (n, 5, 2): image-left eye, image-right eye, nose, image-left and image-right mouth corner.
    """

    range = "centerface"

    def __init__(self, size: int | None = None, min_confidence: float = 0.5, provider: str = "auto",
                 nms_iou: float = 0.3, threads: int = 0, model_path=None):
        if size is not None and size < 32:
            raise ValueError(f"CenterFace size: expected at least 32 pixels, got {size}")
        path = model_path or CENTERFACE_MODEL
        if not path.is_file():
            raise ModelError(f"CenterFace model: expected {path}, got no file; reinstall realtime-fer to restore "
                             "models/")
        self._session = create_session(path, provider, threads, model_bytes=free_dimensions(path))
        self._input = self._session.inputs()[0].name
        self.provider = self._session.provider
        self.size = None if size is None else int(size)
        self.min_confidence, self.nms_iou = float(min_confidence), float(nms_iou)

    def detect(self, frame: np.ndarray) -> Faces:
        import cv2

        rgb = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB if frame.ndim == 2 else cv2.COLOR_BGR2RGB)
        height, width = rgb.shape[:2]
        scale, net_w, net_h = network_size(width, height, input_side(width, height, self.size))
        resized = cv2.resize(rgb, (max(round(width * scale), 1), max(round(height * scale), 1)),
                             interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        blob = np.zeros((1, 3, net_h, net_w), np.float32)
        blob[0, :, :resized.shape[0], :resized.shape[1]] = resized.transpose(2, 0, 1)
        heatmap, sizes, offset, landmarks = self._session.run(None, {self._input: blob})
        boxes, scores, keypoints = decode(heatmap, sizes, offset, landmarks, self.min_confidence)
        keep = suppress(boxes, scores, self.min_confidence, self.nms_iou)
        if len(keep) == 0:
            return Faces.empty(5)
        boxes, keypoints = boxes[keep] / scale, keypoints[keep] / scale
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        return Faces(boxes, scores[keep], keypoints)

    def close(self) -> None:
        self._session = None
