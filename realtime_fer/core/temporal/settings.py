"""``TemporalSettings``: the temporal stage's settings value, and the defaults of each mode."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .timing import DEFAULT_FPS

MODES = ("live", "offline", "off")
MAX_VIDEO_LAG_S = 4.0
"""The longest ``lag_s`` the video loop accepts (it holds ``lag_s * fps`` decoded frames: 1 s of 1080p at 30 fps
is ~190 MB)."""


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
(see docs/temporal.md)."""
OFF = TemporalSettings("off")


def default_settings(mode: str) -> TemporalSettings:
    """The default settings of ``mode`` ("live", "offline" or "off")."""
    return {"live": LIVE_DEFAULT, "offline": OFFLINE_DEFAULT}.get(mode, OFF) if mode in MODES else \
        TemporalSettings(mode)
