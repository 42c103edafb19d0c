"""Per-track temporal smoothing of class probabilities (exponential moving average)."""

from __future__ import annotations

import numpy as np

from .faces import Faces


class EmaSmoother:
    """probs_t = weight * probs_{t-1} + (1 - weight) * raw_t, per track id.

    Args:
        weight: memory in [0, 1); 0 turns smoothing off (probs = raw). At 30 fps,
            0.6 gives a time constant of about 2 frames (~65 ms).

    Faces without a track id (-1) are passed through unsmoothed. State of tracks
    that the tracker has dropped is freed by ``prune`` so memory stays flat.
    """

    def __init__(self, weight: float = 0.6):
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"smoothing: expected a weight in [0, 1), got {weight}")
        self.weight = float(weight)
        self._state: dict[int, np.ndarray] = {}

    def __call__(self, faces: Faces) -> Faces:
        """Return ``faces`` with ``probs`` set from ``raw_probs`` (which must be set)."""
        raw = faces.raw_probs
        if raw is None:
            raise ValueError("Faces.raw_probs: expected class probabilities, got None; classify before smoothing")
        if self.weight == 0.0:
            return faces.replace(probs=raw.copy())
        out = raw.copy()
        for i, track_id in enumerate(faces.track_ids.tolist()):
            if track_id < 0:
                continue
            previous = self._state.get(track_id)
            if previous is not None and previous.shape == raw[i].shape:
                out[i] = self.weight * previous + (1.0 - self.weight) * raw[i]
            self._state[track_id] = out[i]
        return faces.replace(probs=out)

    def prune(self, live_ids: set[int]) -> None:
        """Forget every track not in ``live_ids``."""
        for track_id in [k for k in self._state if k not in live_ids]:
            del self._state[track_id]

    def reset(self) -> None:
        self._state.clear()
