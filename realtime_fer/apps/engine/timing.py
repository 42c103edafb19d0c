"""Timing of a run: per-stage wall times (``StageTimer``) and a smoothed rate (``RateMeter``)."""

from __future__ import annotations

import threading
import time

import numpy as np

STAGE_ORDER = ("decode", "detect", "track", "align", "classify", "smooth", "offline_filter", "draw", "encode")
"""Stages in pipeline order (``smooth``: the live temporal stage; ``offline_filter``: the lagged one)."""


class StageTimer:
    """Per-stage wall times in ms, each kept in a fixed-size ring (memory stays flat).

    Thread-safe: the writer thread adds "encode" while the loop adds the rest.
    Statistics cover the last ``capacity`` samples of each stage.
    """

    def __init__(self, capacity: int = 8192):
        self.capacity = int(capacity)
        self._rings: dict[str, np.ndarray] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            ring = self._rings.get(stage)
            if ring is None:
                ring = self._rings[stage] = np.zeros(self.capacity, np.float64)
                self._counts[stage] = 0
            ring[self._counts[stage] % self.capacity] = ms
            self._counts[stage] += 1

    def add_many(self, timings: dict[str, float]) -> None:
        for stage, ms in timings.items():
            self.add(stage, ms)

    def samples(self, stage: str) -> np.ndarray:
        """The retained samples of ``stage`` (unordered copy; empty if never recorded)."""
        with self._lock:
            if stage not in self._rings:
                return np.zeros(0)
            return self._rings[stage][:min(self._counts[stage], self.capacity)].copy()

    def count(self, stage: str) -> int:
        return self._counts.get(stage, 0)

    def stages(self) -> list[str]:
        """Recorded stages, STAGE_ORDER first, then any others in insertion order."""
        known = [s for s in STAGE_ORDER if s in self._rings]
        return known + [s for s in self._rings if s not in STAGE_ORDER]

    def summary(self) -> dict[str, dict[str, float]]:
        """``{stage: {"median_ms", "p95_ms", "count"}}`` over the retained samples."""
        out = {}
        for stage in self.stages():
            values = self.samples(stage)
            out[stage] = {"median_ms": round(float(np.median(values)), 4),
                          "p95_ms": round(float(np.percentile(values, 95)), 4), "count": self.count(stage)}
        return out


class RateMeter:
    """Exponentially smoothed events per second (for the fps readout)."""

    def __init__(self, alpha: float = 0.1):
        self.alpha, self.rate, self._last = alpha, None, None

    def tick(self, now: float | None = None) -> float | None:
        now = time.perf_counter() if now is None else now
        if self._last is not None and now > self._last:
            instant = 1.0 / (now - self._last)
            self.rate = instant if self.rate is None else self.rate + self.alpha * (instant - self.rate)
        self._last = now
        return self.rate

