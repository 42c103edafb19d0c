"""Time arithmetic the temporal filters share: EMA weights from time stamps, and frame durations."""

from __future__ import annotations

import numpy as np

from ..faces import DEFAULT_FPS
MAX_GAP_S = 0.25
"""A gap between frames counts at most this long in the label decoder's frame durations (a lost stretch)."""


def ema_weights(gaps_ms: np.ndarray, tau_s: float) -> np.ndarray:
    """EMA weights of new values, ``1 - exp(-dt / tau)`` per (k,) gap in ms (repeated or missing stamps: one
    frame at DEFAULT_FPS; tau 0: 1)."""
    dt = np.asarray(gaps_ms, np.float64) / 1000.0
    dt = np.where(dt > 0.0, dt, 1.0 / DEFAULT_FPS)
    return np.ones_like(dt) if tau_s <= 0.0 else -np.expm1(-dt / tau_s)


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


LOG_FLOOR = 0.1
"""Probabilities below this count as this in ``log_evidence``: a lead is at most ln(1 / 0.1) = 2.3 nats per second,
so a switch cost C (``margin * min_hold_s``) is never paid in less than C / 2.3 s: with the defaults (0.36) the live
filter never shows anything shorter than 0.16 s and the offline one (two switches) nothing shorter than 0.31 s,
however confident. 1e-3 (6.9 nats) showed 0.1 s blips live; see docs/temporal.md."""


def log_evidence(probs: np.ndarray) -> np.ndarray:
    """``ln(max(p, LOG_FLOOR))`` of any-shape probabilities, float64: the label decoders' per-second evidence for
    a class with settings evidence "log"."""
    return np.log(np.maximum(np.asarray(probs, np.float64), LOG_FLOOR))


def evidence_of(probs: np.ndarray, evidence: str) -> np.ndarray:
    """The decoder's per-second score of each class: ``log_evidence(probs)`` ("log") or ``probs`` ("prob")."""
    return log_evidence(probs) if evidence == "log" else np.asarray(probs, np.float64)
