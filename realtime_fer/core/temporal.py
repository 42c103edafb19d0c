"""The temporal stage: per-track smoothing of class probabilities and a steady shown label.

Two knobs shape the *probabilities* and two the *shown label*, and they mean the same in
both modes, in seconds of source time (frame time stamps), so a 15 fps and a 60 fps
source behave alike:

* ``tau_s``: time constant of the probability smoothing. Live: a causal exponential
  moving average with ``alpha = 1 - exp(-dt / tau_s)`` per frame (``dt`` from the time
  stamps). Offline: the same average run forwards and then backwards (zero phase: no delay),
  over the frames known ``lag_s`` later (below).
* ``margin`` and ``min_hold_s``: hysteresis on the shown label. Live: a new label is shown
  once its smoothed probability has led the shown one by at least ``margin`` for
  ``min_hold_s`` seconds. Offline: the label sequence maximising
  ``sum_t dt_t * p_t[label_t] - margin * min_hold_s * (number of switches)`` (Viterbi), i.e.
  a switch is made where the new label's lead, integrated over time, pays for
  ``margin * min_hold_s`` probability-seconds.
* ``lag_s`` (offline only): how many seconds of source time a frame waits for its future
  before it is filtered and released (``lagged.LaggedFilter``; ``filter_track_offline`` runs
  the same code). A lag longer than the track gives the whole-track result above.

``raw_probs`` are never changed. ``probs`` are the smoothed probabilities and
``label_ids`` the shown label per face (what the CSV's ``label``/``confidence`` report).

Modes: ``live`` (causal, for cameras and streams; ``LiveFilter`` inside ``Recognizer``),
``offline`` (non-causal with ``lag_s`` of look-ahead: ``lagged.LaggedFilter`` in the video loop,
``filter_track_offline`` on one track; for files),
``off`` (probs = raw, label = argmax of raw).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .faces import Faces

MODES = ("live", "offline", "off")
DEFAULT_FPS = 30.0
MAX_VIDEO_LAG_S = 4.0
"""The longest ``lag_s`` the video loop accepts (it holds ``lag_s * fps`` decoded frames: 1 s of 1080p at 30 fps
is ~190 MB)."""
MAX_GAP_S = 0.25
"""A gap between frames counts at most this long in the label decoder's frame durations (a lost stretch)."""


@dataclass(frozen=True)
class TemporalSettings:
    """Settings of the temporal stage (see the module docstring).

    Attributes:
        mode: "live", "offline" or "off".
        tau_s: probability smoothing time constant in seconds (0 = no smoothing of probs).
        margin: lead in probability (0..1) a new label needs over the shown one.
        min_hold_s: seconds that lead must last (live) / the switch cost in seconds of
            ``margin`` lead (offline). 0 with margin 0 shows the argmax of ``probs``.
        lag_s: offline only: seconds of source time each frame waits for its future (0..60;
            ``--video`` holds that many seconds of decoded frames, at most ``MAX_VIDEO_LAG_S``).
    """

    mode: str = "live"
    tau_s: float = 0.3
    margin: float = 0.15
    min_hold_s: float = 0.4
    lag_s: float = 1.0

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"temporal mode: expected one of {', '.join(MODES)}, got {self.mode!r}")
        for name, low, high in (("tau_s", 0.0, 60.0), ("margin", 0.0, 1.0), ("min_hold_s", 0.0, 60.0),
                                ("lag_s", 0.0, 60.0)):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
                raise ValueError(f"temporal {name}: expected a number in [{low:g}, {high:g}], got {value!r}")

    @staticmethod
    def tau_from_ema_weight(weight: float, fps: float = DEFAULT_FPS) -> float:
        """The time constant (s) of a per-frame EMA ``p = weight * p + (1 - weight) * raw`` at ``fps``.

        0.6 at 30 fps -> 0.065 s. ``weight`` 0 -> 0 (no smoothing).
        """
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"smoothing: expected an EMA weight in [0, 1), got {weight}")
        return 0.0 if weight == 0.0 else (1.0 / fps) / -math.log(weight)

    def with_(self, **changes) -> "TemporalSettings":
        return replace(self, **changes)

    def describe(self) -> str:
        if self.mode == "off":
            return "off"
        lag = f" lag={self.lag_s:g}s" if self.mode == "offline" else ""
        return f"{self.mode} tau={self.tau_s:g}s margin={self.margin:g} hold={self.min_hold_s:g}s{lag}"


LIVE_DEFAULT = TemporalSettings("live", tau_s=0.3, margin=0.15, min_hold_s=0.4)
OFFLINE_DEFAULT = TemporalSettings("offline", tau_s=0.5, margin=0.3, min_hold_s=0.8, lag_s=1.0)
"""Chosen on woman2.mp4 and the Pexels clip with benchmarks/bench_temporal.py --grid, the clips it is measured on
(see README "Steady labels")."""


def default_settings(mode: str) -> TemporalSettings:
    """The default settings of ``mode`` ("live", "offline" or "off")."""
    return {"live": LIVE_DEFAULT, "offline": OFFLINE_DEFAULT}.get(mode, OFF) if mode in MODES else \
        TemporalSettings(mode)
OFF = TemporalSettings("off")


class _LiveTrack:
    """Causal state of one track: smoothed probs, shown label, the challenger and since when it leads."""

    __slots__ = ("probs", "shown", "last_ms", "challenger", "since_ms")

    def __init__(self):
        self.probs: np.ndarray | None = None
        self.shown = -1
        self.last_ms = 0.0
        self.challenger = -1
        self.since_ms = 0.0

    def start(self, time_ms: float, raw: np.ndarray) -> int:
        """First frame of the track: probs = raw, shown = its argmax."""
        self.probs = raw.astype(np.float32, copy=True)
        self.shown = int(np.argmax(self.probs))
        self.last_ms, self.challenger = time_ms, -1
        return self.shown

    def decide(self, time_ms: float, best: int, lead: float, settings: TemporalSettings) -> int:
        """Hysteresis: ``best`` = argmax of the smoothed probs, ``lead`` = probs[best] - probs[shown]."""
        if best == self.shown or lead < settings.margin:
            self.challenger = -1
        else:
            if best != self.challenger:
                self.challenger, self.since_ms = best, time_ms
            if (time_ms - self.since_ms) / 1000.0 >= settings.min_hold_s - 1e-9:
                self.shown, self.challenger = best, -1
        self.last_ms = time_ms
        return self.shown

    def step(self, time_ms: float, raw: np.ndarray, settings: TemporalSettings) -> tuple[np.ndarray, int]:
        """Feed one frame's (C,) raw probabilities at ``time_ms``; returns (smoothed (C,) float32, shown label)."""
        if self.probs is None or self.probs.shape != raw.shape:
            self.start(time_ms, raw)
            return self.probs, self.shown
        dt_s = (time_ms - self.last_ms) / 1000.0 if time_ms > self.last_ms else 1.0 / DEFAULT_FPS
        alpha = 1.0 if settings.tau_s <= 0.0 else -math.expm1(-dt_s / settings.tau_s)  # _alphas, for one gap
        self.probs = self.probs + np.float32(alpha) * (raw - self.probs)  # stays float32
        best = int(self.probs.argmax())
        return self.probs, self.decide(time_ms, best, float(self.probs[best] - self.probs[self.shown]), settings)


def _alphas(gaps_ms: np.ndarray, tau_s: float) -> np.ndarray:
    """EMA weights of new values, ``1 - exp(-dt / tau)`` per (k,) gap in ms (repeated or missing stamps: one
    frame at DEFAULT_FPS; tau 0: 1)."""
    dt = np.asarray(gaps_ms, np.float64) / 1000.0
    dt = np.where(dt > 0.0, dt, 1.0 / DEFAULT_FPS)
    return np.ones_like(dt) if tau_s <= 0.0 else -np.expm1(-dt / tau_s)


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


def frame_durations(times_ms: np.ndarray) -> np.ndarray:
    """(T,) seconds each frame stands for: half the gap to each neighbour (the gap itself at either end; one
    frame at DEFAULT_FPS for a lone frame or a repeated stamp), gaps capped at ``MAX_GAP_S``.

    Each value needs only the frame's neighbours, so the lagged filter computes the same as the whole track.
    """
    times = np.asarray(times_ms, np.float64) / 1000.0
    if len(times) < 2:
        return np.full(len(times), 1.0 / DEFAULT_FPS)
    gaps = np.diff(times)
    gaps = np.minimum(np.where(gaps > 0, gaps, 1.0 / DEFAULT_FPS), MAX_GAP_S)
    return 0.5 * (np.concatenate([gaps[:1], gaps]) + np.concatenate([gaps, gaps[-1:]]))


def smooth_probs_offline(times_ms: np.ndarray, raw: np.ndarray, tau_s: float) -> np.ndarray:
    """Zero-phase smoothing of one track: the live EMA run forwards, then backwards over the result.

    Args:
        times_ms: (T,) frame time stamps in ms, increasing.
        raw: (T, C) probabilities.
    Returns:
        (T, C) float32, rows still summing to 1.
    """
    raw = np.asarray(raw, np.float64)
    if tau_s <= 0.0 or len(raw) < 2:
        return raw.astype(np.float32)
    alphas = _alphas(np.diff(np.asarray(times_ms, np.float64)), tau_s)
    out = raw.copy()
    for t in range(1, len(out)):
        out[t] = out[t - 1] + alphas[t - 1] * (raw[t] - out[t - 1])
    for t in range(len(out) - 2, -1, -1):
        out[t] = out[t + 1] + alphas[t] * (out[t] - out[t + 1])
    return out.astype(np.float32)


def sticky_labels(times_ms: np.ndarray, probs: np.ndarray, switch_cost: float) -> np.ndarray:
    """The label sequence maximising ``sum_t dt_t * probs[t, label_t] - switch_cost * switches`` (Viterbi).

    Args:
        times_ms: (T,) ms; probs: (T, C); switch_cost: probability-seconds one switch costs.
    Returns:
        (T,) int64 class indices. Memory: (T, C) int8 back-pointers.
    """
    probs = np.asarray(probs, np.float64)
    count, classes = probs.shape
    if count == 0:
        return np.zeros(0, np.int64)
    if switch_cost <= 0.0:
        return probs.argmax(axis=1).astype(np.int64)
    gains = probs * frame_durations(times_ms)[:, None]
    back = np.empty((count, classes), np.int8)
    score = gains[0].copy()
    back[0] = np.arange(classes)
    for t in range(1, count):
        best = int(score.argmax())
        switched = score[best] - switch_cost
        stay = score >= switched
        back[t] = np.where(stay, np.arange(classes), best)
        score = np.where(stay, score, switched) + gains[t]
    labels = np.empty(count, np.int64)
    labels[-1] = int(score.argmax())
    for t in range(count - 1, 0, -1):
        labels[t - 1] = back[t, labels[t]]
    return labels


def filter_track_whole(times_ms: np.ndarray, raw: np.ndarray,
                       settings: TemporalSettings = OFFLINE_DEFAULT) -> tuple[np.ndarray, np.ndarray]:
    """The offline filter over one whole track at once (the reference ``filter_track_offline`` equals when
    ``lag_s`` is longer than the track): (T,) ms, (T, C) raw -> ((T, C) float32 probs, (T,) int64 labels)."""
    raw = np.asarray(raw, np.float32)
    if settings.mode == "off":
        return raw.copy(), raw.argmax(axis=1).astype(np.int64)
    probs = smooth_probs_offline(times_ms, raw, settings.tau_s)
    return probs, sticky_labels(times_ms, probs, settings.margin * settings.min_hold_s)


def filter_track_offline(times_ms: np.ndarray, raw: np.ndarray, settings: TemporalSettings = OFFLINE_DEFAULT,
                         clock_ms: np.ndarray | None = None, viterbi_on: str | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """The offline filter of one track as ``--video`` runs it (``lagged.LaggedTrack``, ``settings.lag_s`` of
    look-ahead): (T,) ms, (T, C) raw -> ((T, C) float32 probs, (T,) int64 labels).

    ``clock_ms``: the time stamps of every frame of the video (the frames this track is missing from
    included; NaN ignored), so releases happen when they do in the video; None: the track's own stamps.
    ``viterbi_on``: which probabilities the label decoder scores (``lagged.VITERBI_SOURCES``; None: the default).
    """
    raw = np.asarray(raw, np.float32)
    if settings.mode == "off":
        return raw.copy(), raw.argmax(axis=1).astype(np.int64)
    from .lagged import filter_track_lagged

    return filter_track_lagged(times_ms, raw, settings, clock_ms, viterbi_on)


def filter_track(times_ms: np.ndarray, raw: np.ndarray, settings: TemporalSettings,
                 clock_ms: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``filter_track_live`` or ``filter_track_offline`` by ``settings.mode`` (off: raw and its argmax);
    ``clock_ms``: see ``filter_track_offline`` (the live filter ignores it)."""
    if settings.mode == "offline":
        return filter_track_offline(times_ms, raw, settings, clock_ms)
    return filter_track_live(times_ms, raw, settings)


def label_switches(labels: np.ndarray) -> int:
    """How often consecutive entries of a (T,) label sequence differ."""
    labels = np.asarray(labels)
    return int(np.count_nonzero(labels[1:] != labels[:-1])) if len(labels) > 1 else 0
