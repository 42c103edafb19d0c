"""Generated frames for benchmarks and tests: astronaut faces on a plain background."""

from __future__ import annotations

import time

import numpy as np

from .sources import SourceInfo, _QueuedSource


class SyntheticSource(_QueuedSource):
    """Generated frames: ``faces`` copies of the astronaut's face on a grey-blue background.

    Args:
        frames: how many frames to produce.
        faces: number of faces (1..8), laid out on a grid, drifting a few pixels per frame.
        size: (width, height) of each frame; default 640x360.
        fps: nominal fps used for ``time_ms``.

    Faces are about 150x170 px (the astronaut's face plus hair and chin), big enough for
    BlazeFace short range at 640x360.  ``face_boxes(index)`` gives where each pasted
    patch is (xyxy) for tests.
    """

    def __init__(self, frames: int = 300, faces: int = 1, size: tuple[int, int] = (640, 360), fps: float = 30.0,
                 queue_size: int = 8):
        super().__init__(frames, queue_size)
        self.count, self.faces, self.size = int(frames), int(faces), (int(size[0]), int(size[1]))
        self._patch = astronaut_face_patch()
        self._background = np.empty((self.size[1], self.size[0], 3), np.uint8)
        self._background[:] = (96, 80, 64)
        self.info = SourceInfo("synthetic", f"synthetic-{self.faces}face", float(fps), self.size, self.count)
        self._origins = _grid_origins(self.faces, self.size, self._patch.shape[1::-1])
        self._start(self._run, "fer-synthetic-reader")

    def patch_origin(self, face: int, index: int) -> tuple[int, int]:
        """Top-left (x, y) of face ``face`` in frame ``index``."""
        x, y = self._origins[face]
        dx = int(round(6 * np.sin(index / 15.0 + face)))
        dy = int(round(4 * np.cos(index / 20.0 + face)))
        return x + dx, y + dy

    def render(self, index: int) -> np.ndarray:
        """Frame ``index`` as a new (H, W, 3) uint8 BGR array."""
        frame = self._background.copy()
        ph, pw = self._patch.shape[:2]
        for face in range(self.faces):
            x, y = self.patch_origin(face, index)
            x, y = min(max(x, 0), self.size[0] - pw), min(max(y, 0), self.size[1] - ph)
            frame[y:y + ph, x:x + pw] = self._patch
        return frame

    def _produce(self):
        for index in range(self.count):
            if self._stop.is_set():
                return
            start = time.perf_counter()
            frame = self.render(index)
            yield frame, None, (time.perf_counter() - start) * 1e3


def astronaut_face_patch() -> np.ndarray:
    """(170, 150, 3) uint8 BGR crop of ``skimage.data.astronaut()`` around her face.

    In the 512x512 image BlazeFace finds the face at about (177, 82)-(272, 177); the
    patch spans x 150..300, y 40..210 so hair and chin are included.
    """
    import cv2
    from skimage import data

    rgb = data.astronaut()
    return np.ascontiguousarray(cv2.cvtColor(rgb[40:210, 150:300], cv2.COLOR_RGB2BGR))


def _grid_origins(faces: int, size: tuple[int, int], patch: tuple[int, int]) -> list[tuple[int, int]]:
    """Top-left corners spreading ``faces`` patches of (w, h) ``patch`` over a frame of ``size`` (w, h)."""
    if not 1 <= faces <= 8:
        raise ValueError(f"synthetic faces: expected 1..8, got {faces}")
    width, height = size
    pw, ph = patch
    cols = min(faces, max(1, width // pw))
    rows = -(-faces // cols)
    if rows * ph > height or cols * pw > width:
        raise ValueError(f"synthetic frame {width}x{height}: expected room for {faces} faces of {pw}x{ph}, got too "
                         "small a frame; use a larger size or fewer faces")
    gap_x, gap_y = (width - cols * pw) / (cols + 1), (height - rows * ph) / (rows + 1)
    return [(int(gap_x + (i % cols) * (pw + gap_x)), int(gap_y + (i // cols) * (ph + gap_y))) for i in range(faces)]
