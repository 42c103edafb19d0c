"""Keep short-lived false faces off the screen in files: a stage wrapper that shows a track's faces only once the
track has been in ``min_frames`` frames in a row, from its first frame on.

Streams do this causally (``IouTracker(min_hits=...)``: a face shows up ``min_hits`` detection rounds late). A file
can wait: ``PersistStage`` holds a frame until each of its tracks is either *confirmed* (``min_frames`` frames in a
row) or *broken* (gone before that: its faces are dropped), then passes it to the wrapped temporal stage. So a real
face is shown from the frame it was first found, a detection that flickers for a frame or two never is. A run still
going when the stream ends is kept (a clip shorter than ``min_frames`` still shows its face). Frames wait at most
``min_frames`` frames. Presence counts frames, coasted ones included (``detect_every`` 2: one detection = 2 frames).
"""

from __future__ import annotations

import collections
from collections.abc import Collection
from dataclasses import replace

import numpy as np

from .faces import FrameResult


class PersistStage:
    """A ``temporal.TemporalStage`` in front of ``inner`` (same ``push``/``flush``/``reset``, in push order).

    Args:
        inner: the temporal stage the kept faces go through.
        min_frames: frames in a row a track must be present in before its faces are shown (1: pass through).
    """

    def __init__(self, inner, min_frames: int):
        if min_frames < 1:
            raise ValueError(f"min_frames: expected an integer >= 1, got {min_frames}")
        self.inner, self.min_frames = inner, int(min_frames)
        self.name, self.settings = inner.name, inner.settings
        self._run: dict[int, int] = {}  # track id -> frames in a row so far, for tracks present in the last frame
        self._confirmed: set[int] = set()
        self._waiting: collections.deque = collections.deque()  # (FrameResult, live_ids)

    def __getattr__(self, name):  # max_pending, early_releases, ... of the wrapped stage
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def push(self, result: FrameResult, live_ids: Collection[int] | None = None) -> list[FrameResult]:
        present = {t for t in result.faces.track_ids.tolist() if t >= 0}
        self._run = {t: self._run.get(t, 0) + 1 for t in present}
        self._confirmed |= {t for t, frames in self._run.items() if frames >= self.min_frames}
        self._waiting.append((result, live_ids))
        released = self._release(final=False)
        if live_ids is not None and not self._waiting:
            self._confirmed &= set(live_ids) | present  # forget tracks the tracker dropped
        return released

    def flush(self) -> list[FrameResult]:
        return self._release(final=True) + self.inner.flush()

    def reset(self) -> None:
        self._run.clear()
        self._confirmed.clear()
        self._waiting.clear()
        self.inner.reset()

    def _release(self, final: bool) -> list[FrameResult]:
        out = []
        while self._waiting:
            result, live_ids = self._waiting[0]
            ids = result.faces.track_ids.tolist()
            if not final and any(t >= 0 and t not in self._confirmed and t in self._run for t in ids):
                break  # a track of this frame is still undecided
            self._waiting.popleft()
            keep = np.array([t < 0 or t in self._confirmed or (final and t in self._run) for t in ids], bool)
            faces = result.faces if keep.all() else result.faces.select(keep)
            out += self.inner.push(replace(result, faces=faces), live_ids)
        return out
