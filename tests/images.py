"""Real-face test images built from ``skimage.data.astronaut()`` (no files needed)."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data

ASTRONAUT_FACE_BOX = (177, 82, 272, 177)
"""Approximate xyxy box BlazeFace (short range) finds in the 512x512 astronaut image."""


def astronaut_bgr() -> np.ndarray:
    """(512, 512, 3) uint8 BGR."""
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def face_tile(side: int = 160) -> np.ndarray:
    """(side, side, 3) uint8 BGR crop around the astronaut's face."""
    return cv2.resize(astronaut_bgr()[50:230, 135:315], (side, side), interpolation=cv2.INTER_AREA)


def scene(num_faces: int, width: int = 960, height: int = 540, side: int = 160, shift: int = 0) -> np.ndarray:
    """(height, width, 3) uint8 BGR grey background with ``num_faces`` face tiles in a row.

    The faces are small for the frame: BlazeFace's full-range model finds them, the
    short-range (webcam) model does not.

    ``shift`` moves every tile right by that many pixels (to simulate motion).
    """
    frame = np.full((height, width, 3), 90, np.uint8)
    tile = face_tile(side)
    gap = (width - num_faces * side) // (num_faces + 1)
    for i in range(num_faces):
        x = gap + i * (side + gap) + shift
        y = (height - side) // 2
        frame[y:y + side, x:x + side] = tile
    return frame
