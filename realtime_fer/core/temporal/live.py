"""The live (causal) temporal filter: per-track EMA of the probabilities and change detection on the shown label."""

from __future__ import annotations

import math

import numpy as np

from ..faces import Faces
from .settings import LIVE_DEFAULT, WARM_UP_FLOOR, WARM_UP_S, TemporalSettings
from .timing import DEFAULT_FPS, MAX_GAP_S, log_evidence


class _LiveTrack:
    """Causal state of one track: smoothed probs, shown label, and the challengers' evidence.

    Evidence "log" (an online change detector, the live twin of the offline decoder): each class keeps the
    evidence it has gathered against the shown label, ``S_c = max(0, S_c + dt * (ln p_c - ln p_shown))``
    (``p`` the smoothed probabilities, floored at ``timing.LOG_FLOOR``); the class with the most evidence is
    shown once it reaches the switch cost ``margin * min_hold_s`` (growing from a quarter of it over the track's
    first ``WARM_UP_S``), and every ``S`` starts again from 0. A strong lead pays the cost fast, a weak one slowly,
    a lead that comes and goes not at all. A label once shown stays at least ``min_shown_s`` (the evidence keeps
    gathering meanwhile). Evidence "prob": hysteresis, a new label is shown once it has been the argmax and led the
    shown one by ``margin`` for ``min_hold_s`` without a break.
    """

    __slots__ = ("probs", "shown", "last_ms", "challenger", "since_ms", "first_ms", "gathered", "shown_ms")

    def __init__(self):
        self.probs: np.ndarray | None = None
        self.shown = -1
        self.last_ms = self.first_ms = self.shown_ms = 0.0
        self.challenger = -1
        self.since_ms = 0.0
        self.gathered: np.ndarray | None = None  # (C,) float64 evidence per class against the shown one

    def start(self, time_ms: float, raw: np.ndarray) -> int:
        """First frame of the track: probs = raw, shown = its argmax."""
        self.probs = raw.astype(np.float32, copy=True)
        self.shown = int(np.argmax(self.probs))
        self.last_ms = self.first_ms = self.shown_ms = time_ms
        self.challenger = -1
        self.gathered = np.zeros(len(self.probs), np.float64)
        return self.shown

    def decide(self, time_ms: float, best: int, lead: float, settings: TemporalSettings) -> int:
        """Hysteresis (evidence "prob"): ``best`` = argmax of the smoothed probs, ``lead`` = probs[best] -
        probs[shown]."""
        if best == self.shown or lead < settings.margin:
            self.challenger = -1
        else:
            if best != self.challenger:
                self.challenger, self.since_ms = best, time_ms
            if (time_ms - self.since_ms) / 1000.0 >= settings.min_hold_s - 1e-9:
                self.shown, self.challenger = best, -1
        self.last_ms = time_ms
        return self.shown

    def gather(self, time_ms: float, dt_s: float, settings: TemporalSettings) -> int:
        """Change detection on log-probability leads (evidence "log"); see the class docstring."""
        scores = log_evidence(self.probs)
        gathered = np.maximum(self.gathered + dt_s * (scores - scores[self.shown]), 0.0)
        gathered[self.shown] = 0.0
        age_s = (time_ms - self.first_ms) / 1000.0
        cost = settings.switch_cost * min(1.0, max(WARM_UP_FLOOR, age_s / WARM_UP_S))
        best = int(gathered.argmax())
        held = cost > 0.0 and time_ms - self.shown_ms < settings.min_shown_s * 1000.0 - 1e-6  # cost 0: the argmax
        if gathered[best] > 0.0 and gathered[best] >= cost and not held:
            self.shown, self.shown_ms = best, time_ms
            gathered[:] = 0.0
        self.gathered, self.last_ms = gathered, time_ms
        return self.shown

    def step(self, time_ms: float, raw: np.ndarray, settings: TemporalSettings) -> tuple[np.ndarray, int]:
        """Feed one frame's (C,) raw probabilities at ``time_ms``; returns (smoothed (C,) float32, shown label)."""
        if self.probs is None or self.probs.shape != raw.shape:
            self.start(time_ms, raw)
            return self.probs, self.shown
        dt_s = (time_ms - self.last_ms) / 1000.0 if time_ms > self.last_ms else 1.0 / DEFAULT_FPS
        alpha = 1.0 if settings.tau_s <= 0.0 else -math.expm1(-dt_s / settings.tau_s)  # timing.ema_weights, for one gap
        self.probs = self.probs + np.float32(alpha) * (raw - self.probs)  # stays float32
        if settings.evidence == "log":
            return self.probs, self.gather(time_ms, min(dt_s, MAX_GAP_S), settings)
        best = int(self.probs.argmax())
        return self.probs, self.decide(time_ms, best, float(self.probs[best] - self.probs[self.shown]), settings)


class LiveFilter:
    """Causal temporal stage for a stream of frames, one state per track id.

    ``filter(faces, time_ms)`` returns ``faces`` with ``probs`` (C smoothed probabilities,
    float32) and ``label_ids`` (shown class index, int64) set from ``raw_probs``. Faces
    without a track id (-1) get their raw probabilities and argmax. ``prune`` frees the
    state of tracks the tracker dropped, so memory stays flat. Mode "offline" behaves like
    "live" here (a stream has no future); files use ``lagged.LaggedFilter`` / ``filter_track_offline``.
    """

    def __init__(self, settings: TemporalSettings = LIVE_DEFAULT):
        self.settings = settings
        self._tracks: dict[int, _LiveTrack] = {}

    def filter(self, faces: Faces, time_ms: float) -> Faces:
        raw = faces.raw_probs
        if raw is None:
            raise ValueError("Faces.raw_probs: expected class probabilities, got None; classify before smoothing")
        if self.settings.mode == "off" or len(faces) == 0:
            return faces.replace(probs=raw.copy(), label_ids=raw.argmax(axis=1) if len(faces) else None)
        probs = raw.copy()
        labels = np.empty(len(faces), np.int64)
        time_ms = float(time_ms)
        for i, track_id in enumerate(faces.track_ids.tolist()):  # per face: a few numpy ops on (C,) vectors
            if track_id < 0:
                labels[i] = int(raw[i].argmax())
                continue
            state = self._tracks.get(track_id)
            if state is None:
                state = self._tracks[track_id] = _LiveTrack()
            probs[i], labels[i] = state.step(time_ms, raw[i], self.settings)
        return faces.replace(probs=probs, label_ids=labels)

    __call__ = filter

    def prune(self, live_ids: set[int]) -> None:
        """Forget every track not in ``live_ids``."""
        for track_id in [k for k in self._tracks if k not in live_ids]:
            del self._tracks[track_id]

    def reset(self) -> None:
        self._tracks.clear()


def filter_track_live(times_ms: np.ndarray, raw: np.ndarray,
                      settings: TemporalSettings = LIVE_DEFAULT) -> tuple[np.ndarray, np.ndarray]:
    """What ``LiveFilter`` shows for one track: (T,) ms time stamps, (T, C) raw -> ((T, C) float32, (T,) int64)."""
    raw = np.asarray(raw, np.float32)
    if settings.mode == "off":
        return raw.copy(), raw.argmax(axis=1).astype(np.int64)
    state, probs, labels = _LiveTrack(), np.empty_like(raw), np.empty(len(raw), np.int64)
    for t in range(len(raw)):
        probs[t], labels[t] = state.step(float(times_ms[t]), raw[t], settings)
    return probs, labels

