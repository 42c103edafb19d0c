"""Eye-level face alignment, shared by the runtime and by ``train/``.

The seed paper (Sections 4-5 of ``Facial Expression Recognition in the Wild``)
levels the eyes with an affine rotation computed from the two eye keypoints.
Here that rotation, the crop and the resize are one similarity transform applied
with a single ``cv2.warpAffine`` per face, so a face is resampled once and the
rest of the frame is never touched.

Conventions:
    * Images are (H, W) or (H, W, C) uint8 arrays; colour order is whatever the
      caller uses (BGR in the runtime) and is preserved.
    * Points are (x, y) pixel coordinates of the input image, x right, y down.
    * ``left_eye`` is the eye on the left *of the image* (the person's right eye
      when they face the camera), ``right_eye`` the other one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CropSpec:
    """Where the square crop sits relative to a face box, and how large it is.

    The crop is centred on the box centre shifted by ``(shift_x, shift_y)`` box
    sizes, and its side is ``scale`` times the box's longer side.  ``scale=1.0``
    and zero shifts crop exactly the (squared) detector box.
    """

    scale: float = 1.25
    shift_x: float = 0.0
    shift_y: float = 0.0

    def to_dict(self) -> dict:
        return {"scale": self.scale, "shift_x": self.shift_x, "shift_y": self.shift_y}

    @classmethod
    def from_dict(cls, data: dict) -> "CropSpec":
        return cls(float(data.get("scale", 1.25)), float(data.get("shift_x", 0.0)), float(data.get("shift_y", 0.0)))


def eye_angle_degrees(left_eye, right_eye) -> float:
    """Angle of the line from ``left_eye`` to ``right_eye`` in degrees (0 = level, positive = clockwise on screen)."""
    dx, dy = np.asarray(right_eye, np.float64) - np.asarray(left_eye, np.float64)
    return float(np.degrees(np.arctan2(dy, dx)))


def alignment_matrix(left_eye, right_eye, center, side: float, out_size: tuple[int, int]) -> np.ndarray:
    """2x3 float64 affine matrix taking input pixels to output pixels.

    It rotates about ``center`` so the eye line becomes horizontal, maps a square of
    side ``side`` (input pixels) centred on ``center`` onto the whole output, and
    ``out_size`` is (width, height) of the output.
    """
    out_w, out_h = out_size
    angle = eye_angle_degrees(left_eye, right_eye)
    scale = min(out_w, out_h) / max(float(side), 1e-6)
    matrix = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), angle, scale)
    matrix[0, 2] += out_w / 2.0 - center[0]
    matrix[1, 2] += out_h / 2.0 - center[1]
    return matrix


def crop_square(box, spec: CropSpec) -> tuple[np.ndarray, float]:
    """(centre (2,) float64, side) of the crop square for one xyxy ``box`` under ``spec``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    size = max(x2 - x1, y2 - y1)
    center = np.array([(x1 + x2) / 2 + spec.shift_x * size, (y1 + y2) / 2 + spec.shift_y * size])
    return center, size * spec.scale


def align_face(image: np.ndarray, left_eye, right_eye, box=None, out_size: tuple[int, int] = (96, 96),
               spec: CropSpec = CropSpec(), border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """Rotate so the eyes are level, crop and resize, in one resampling.

    Args:
        image: (H, W) or (H, W, C) uint8, any colour order (kept).
        left_eye, right_eye: (x, y) input pixels, image-left eye first.
        box: xyxy face box in input pixels; None uses the whole image as the box with
            ``spec`` ignored, which is the paper's case: a face crop rotated in place.
        out_size: (width, height) of the result.
        spec: crop placement relative to ``box``.

    Returns:
        (out_h, out_w[, C]) uint8 array with the same channels as ``image``.
    """
    h, w = image.shape[:2]
    if box is None:
        center, side = np.array([w / 2.0, h / 2.0]), float(max(w, h))
    else:
        center, side = crop_square(box, spec)
    matrix = alignment_matrix(left_eye, right_eye, center, side, out_size)
    return cv2.warpAffine(image, matrix, out_size, flags=cv2.INTER_LINEAR, borderMode=border)


def align_faces(image: np.ndarray, boxes: np.ndarray, left_eyes: np.ndarray, right_eyes: np.ndarray,
                out_size: tuple[int, int], spec: CropSpec = CropSpec(), grayscale: bool = False) -> np.ndarray:
    """Align every face of a frame into one batch.

    Args:
        image: (H, W, 3) uint8 BGR frame (or (H, W) grey).
        boxes: (n, 4) xyxy pixels; left_eyes, right_eyes: (n, 2) pixels.
        out_size: (width, height) of each crop.
        grayscale: convert each crop to grey (BT.601 luma, as ``cv2.COLOR_BGR2GRAY``).

    Returns:
        (n, out_h, out_w, C) uint8 where C is 1 when ``grayscale`` or the input is grey, else 3 (BGR).
    """
    out_w, out_h = out_size
    grey_input = image.ndim == 2
    channels = 1 if (grayscale or grey_input) else 3
    batch = np.empty((len(boxes), out_h, out_w, channels), np.uint8)
    for i, box in enumerate(boxes):
        crop = align_face(image, left_eyes[i], right_eyes[i], box, out_size, spec)
        if channels == 1:
            crop = crop if grey_input else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
            batch[i, :, :, 0] = crop
        else:
            batch[i] = crop
    return batch


def transform_points(matrix: np.ndarray, points) -> np.ndarray:
    """Apply a 2x3 affine ``matrix`` to (n, 2) points; returns (n, 2) float64."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    return points @ matrix[:, :2].T + matrix[:, 2]
