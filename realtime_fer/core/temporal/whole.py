"""The offline temporal filter of one whole track: zero-phase smoothing and the best label sequence."""

from __future__ import annotations

import numpy as np

from .settings import OFFLINE_DEFAULT, TemporalSettings
from .timing import ema_weights, evidence_of, frame_durations


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
    alphas = ema_weights(np.diff(np.asarray(times_ms, np.float64)), tau_s)
    out = raw.copy()
    for t in range(1, len(out)):
        out[t] = out[t - 1] + alphas[t - 1] * (raw[t] - out[t - 1])
    for t in range(len(out) - 2, -1, -1):
        out[t] = out[t + 1] + alphas[t] * (out[t] - out[t + 1])
    return out.astype(np.float32)


def sticky_labels(times_ms: np.ndarray, probs: np.ndarray, switch_cost: float) -> np.ndarray:
    """The label sequence maximising ``sum_t dt_t * probs[t, label_t] - switch_cost * switches`` (Viterbi).

    Args:
        times_ms: (T,) ms; probs: (T, C) per-second scores (probabilities, or their logs: ``timing.evidence_of``);
            switch_cost: score-seconds one switch costs.
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
    return probs, sticky_labels(times_ms, evidence_of(probs, settings.evidence), settings.switch_cost)

