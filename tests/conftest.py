"""Shared fixtures: the tiny test model, a short generated video with a real face, the data folder.

Heavy imports (cv2, onnx) happen inside fixtures so collecting unrelated tests stays fast.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO.parent / "shared" / "data"
FACE_VIDEO_FRAMES = 24
FACE_VIDEO_FPS = 12.0
FACE_VIDEO_SIZE = (640, 360)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Path of a tiny real ONNX expression model (7 FER classes) with its sidecar."""
    from tests.tiny_model import write_tiny_model

    return write_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def astronaut():
    """``skimage.data.astronaut()`` as (512, 512, 3) uint8 BGR (the face is near (177, 82)-(272, 177))."""
    from tests.images import astronaut_bgr

    return astronaut_bgr()


@functools.lru_cache(maxsize=8)
def _face_tile(side: int):
    from tests.images import face_tile

    return face_tile(side)


def face_frame(index: int, size=FACE_VIDEO_SIZE, side: int | None = None):
    """(H, W, 3) uint8 BGR frame: plain background, the astronaut's face tile drifting right.

    ``side`` defaults to 170 px at 640x360 (about 0.47 of the height, as big for smaller frames);
    the tile starts at x = 0.31 * width and moves 3 px per frame, wrapping before the right edge.
    """
    import numpy as np

    width, height = size
    side = side or min(170, int(height * 0.47))
    frame = np.full((height, width, 3), (96, 80, 64), np.uint8)
    start = int(width * 0.3125)
    x = start + (3 * index) % max(1, width - side - start)
    y = (height - side) // 2
    frame[y:y + side, x:x + side] = _face_tile(side)
    return frame


def write_face_video(path: Path, frames: int = FACE_VIDEO_FRAMES, fps: float = FACE_VIDEO_FPS,
                     size=FACE_VIDEO_SIZE) -> Path:
    """Write an mp4v .mp4 (or MJPG .avi) of ``face_frame``s and return its path."""
    import cv2

    fourcc = "MJPG" if Path(path).suffix == ".avi" else "mp4v"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"cannot write {path}"
    for index in range(frames):
        writer.write(face_frame(index, size))
    writer.release()
    return Path(path)


@pytest.fixture(scope="session")
def face_video(tmp_path_factory) -> Path:
    """A 640x360, 12 fps, 24-frame mp4 with one real (astronaut) face in every frame."""
    return write_face_video(tmp_path_factory.mktemp("video") / "face.mp4")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``<repo>/../shared/data``; skips the test when it is absent."""
    if not (DATA_DIR / "samples").is_dir():
        pytest.skip(f"data tier: {DATA_DIR / 'samples'} is absent (real sample videos/photos are not shipped)")
    return DATA_DIR
