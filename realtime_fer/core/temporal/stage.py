"""The temporal stage as one interface: frame results in, filtered frame results out.

Every consumer (the camera loop, ``--video``, ``batch``, ``eval``) drives a stage the same way::

    stage = open_stage(settings, fps)           # LiveStage or LaggedStage
    for result in results:                       # core.faces.FrameResult, raw_probs set, in time order
        for shown in stage.push(result, live_ids):   # the frames now due, in push order
            ...                                  # shown.faces.probs (n, C) float32, label_ids (n,) int64
    for shown in stage.flush():                  # end of stream: every frame still waiting
        ...

``live_ids`` are the track ids the tracker still follows (``IouTracker.active_ids``): the state of the other
tracks is freed, so memory stays flat. A live stage returns each frame at once; a lagged stage (mode
"offline") returns it once ``lag_s`` seconds of later frames are known, at most ``max_pending`` frames late.
Mode "off": each frame at once, ``probs`` = raw, label = argmax.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Protocol

import numpy as np

from ..faces import FrameResult
from .lagged import LaggedFilter, filter_track_offline, pending_capacity
from .live import LiveFilter, filter_track_live
from .settings import TemporalSettings


class TemporalStage(Protocol):
    """What every temporal stage does (see the module docstring)."""

    settings: TemporalSettings
    name: str  # what a run's timings call it: "smooth" (live) or "offline_filter" (lagged)

    def push(self, result: FrameResult, live_ids: Collection[int] | None = None) -> list[FrameResult]: ...

    def flush(self) -> list[FrameResult]: ...

    def reset(self) -> None: ...


class LiveStage:
    """The causal stage (modes "live" and "off"): ``push`` returns ``[result]`` filtered."""

    name = "smooth"

    def __init__(self, settings: TemporalSettings):
        if settings.mode == "offline":
            raise ValueError("LiveStage: expected a live or off TemporalSettings, got offline; use LaggedStage "
                             "(open_stage picks it)")
        self.settings = settings
        self.filter = LiveFilter(settings)

    def push(self, result: FrameResult, live_ids: Collection[int] | None = None) -> list[FrameResult]:
        faces = self.filter.filter(result.faces, result.time_ms)
        if live_ids is not None:
            self.filter.prune(set(live_ids))
        return [replace(result, faces=faces)]

    def flush(self) -> list[FrameResult]:
        return []

    def reset(self) -> None:
        self.filter.reset()


class LaggedStage:
    """The offline stage with ``settings.lag_s`` of look-ahead (``lagged.LaggedFilter``), in push order."""

    name = "offline_filter"

    def __init__(self, settings: TemporalSettings, max_pending: int | None = None):
        self.settings, self.max_pending = settings, max_pending
        self.filter = LaggedFilter(settings, max_pending=max_pending)

    def __len__(self) -> int:
        return len(self.filter)

    @property
    def early_releases(self) -> int:
        """Frames released before their ``lag_s`` was up because ``max_pending`` frames were waiting."""
        return self.filter.early_releases

    def push(self, result: FrameResult, live_ids: Collection[int] | None = None) -> list[FrameResult]:
        return self._results(self.filter.push(result.time_ms, result.faces, result, live_ids))

    def flush(self) -> list[FrameResult]:
        return self._results(self.filter.flush())

    def reset(self) -> None:
        self.filter = LaggedFilter(self.settings, max_pending=self.max_pending)

    @staticmethod
    def _results(released: list) -> list[FrameResult]:
        return [replace(result, faces=faces) for _, faces, result in released]


def open_stage(settings: TemporalSettings, fps: float | None = None) -> LiveStage | LaggedStage:
    """The stage of ``settings``: ``LaggedStage`` for "offline", holding at most ``pending_capacity(lag_s, fps)``
    frames (``fps``: the source's frame rate; None or unknown: ``DEFAULT_FPS``), else ``LiveStage``."""
    if settings.mode != "offline":
        return LiveStage(settings)
    return LaggedStage(settings, max_pending=pending_capacity(settings.lag_s, fps))


def filter_track(times_ms: np.ndarray, raw: np.ndarray, settings: TemporalSettings,
                 clock_ms: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One track as its stage filters it: ``filter_track_live`` or ``filter_track_offline`` by ``settings.mode``
    (off: raw and its argmax); ``clock_ms``: see ``filter_track_offline`` (the live filter ignores it)."""
    if settings.mode == "offline":
        return filter_track_offline(times_ms, raw, settings, clock_ms)
    return filter_track_live(times_ms, raw, settings)


def label_switches(labels: np.ndarray) -> int:
    """How often consecutive entries of a (T,) label sequence differ."""
    labels = np.asarray(labels)
    return int(np.count_nonzero(labels[1:] != labels[:-1])) if len(labels) > 1 else 0
