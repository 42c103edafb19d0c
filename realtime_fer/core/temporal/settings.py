"""``TemporalSettings``: the temporal stage's settings value, and the defaults of each mode."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .timing import DEFAULT_FPS

MODES = ("live", "offline", "off")
EVIDENCE = ("log", "prob")
"""What a label's lead is measured in: "log" = log-probability (nats, ``timing.log_evidence``), "prob" = probability
(the former design, the default until 2026-12-05)."""
WARM_UP_S = 2.0
WARM_UP_FLOOR = 0.25
"""Live, evidence "log": a new track's switch cost grows from ``WARM_UP_FLOOR`` times ``margin * min_hold_s`` to
all of it over its first ``WARM_UP_S`` seconds (its first label is one frame's argmax, not yet worth holding;
the floor keeps frame-to-frame flicker from switching it)."""
MIN_SHOWN_S = 0.2
"""Live, evidence "log": the default ``min_shown_s``, the least time a shown label stays (without it, during the
warm-up the reduced cost let weak leads show 0.13-0.17 s blips on a new face; with the hold, none on the clip set)."""
MAX_LOG_MARGIN = 10.0
MAX_VIDEO_LAG_S = 4.0
"""The longest ``lag_s`` the video loop accepts (it holds ``lag_s * fps`` decoded frames: 1 s of 1080p at 30 fps
is ~190 MB)."""


@dataclass(frozen=True)
class TemporalSettings:
    """Settings of the temporal stage (see the module docstring).

    Attributes:
        mode: "live", "offline" or "off".
        tau_s: probability smoothing time constant in seconds (0 = no smoothing of probs).
        margin: lead a new label needs over the shown one: in nats (0..10; ``ln p_new - ln p_shown``) with
            evidence "log", in probability (0..1) with evidence "prob".
        min_hold_s: seconds of ``margin`` lead a switch costs: ``margin * min_hold_s`` is the switch cost (nats-
            or probability-seconds) in both modes; evidence "prob", live: the lead must be >= ``margin`` for
            ``min_hold_s`` without a break. 0 with margin 0 shows the argmax of ``probs``.
        lag_s: offline only: seconds of source time each frame waits for its future (0..60;
            ``--video`` holds that many seconds of decoded frames, at most ``MAX_VIDEO_LAG_S``).
        evidence: "log" (default) or "prob" (``EVIDENCE``): how a lead is measured. With "log" a confident
            brief expression (0.9 against 0.05: 2.9 nats) pays the switch cost in a fraction of the time a
            wavering one (0.55 against 0.45: 0.2 nats) needs.
        min_shown_s: live, evidence "log": a label once shown stays at least this long (0..10 s; the evidence
            for the others keeps gathering meanwhile), so no face shows a label for less (default ``MIN_SHOWN_S``;
            0 = no hold; none either with a switch cost of 0, which shows the argmax). Offline, a brief run costs
            two switches, which bounds runs the same way.
    """

    mode: str = "live"
    tau_s: float = 0.0
    margin: float = 0.45
    min_hold_s: float = 0.8
    lag_s: float = 1.0
    evidence: str = "log"
    min_shown_s: float = MIN_SHOWN_S

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"temporal mode: expected one of {', '.join(MODES)}, got {self.mode!r}")
        if self.evidence not in EVIDENCE:
            raise ValueError(f"temporal evidence: expected one of {', '.join(EVIDENCE)}, got {self.evidence!r}")
        margin_high = MAX_LOG_MARGIN if self.evidence == "log" else 1.0
        for name, low, high in (("tau_s", 0.0, 60.0), ("margin", 0.0, margin_high), ("min_hold_s", 0.0, 60.0),
                                ("lag_s", 0.0, 60.0), ("min_shown_s", 0.0, 10.0)):
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
        evidence = " evidence=prob" if self.evidence == "prob" else ""
        shown = f" min_shown={self.min_shown_s:g}s" if self.mode == "live" and self.evidence == "log" and \
            self.min_shown_s != MIN_SHOWN_S else ""
        return f"{self.mode} tau={self.tau_s:g}s margin={self.margin:g} hold={self.min_hold_s:g}s{lag}{evidence}{shown}"

    @property
    def switch_cost(self) -> float:
        """What one label switch costs: ``margin * min_hold_s`` (nats-seconds, or probability-seconds with
        evidence "prob")."""
        return self.margin * self.min_hold_s


LIVE_DEFAULT = TemporalSettings("live", tau_s=0.0, margin=0.45, min_hold_s=0.8)
OFFLINE_DEFAULT = TemporalSettings("offline", tau_s=0.0, margin=0.45, min_hold_s=0.8, lag_s=1.0)
"""Chosen by per-frame ABAW F1 over the brief-expression clip set (benchmarks/make_brief_clips.py: spliced from
woman2.mp4 and the Pexels clip, plus both whole clips) with ``realtime-fer eval --compare`` and
benchmarks/bench_temporal.py --clips: the figures on that set are the figures of the clips that chose them
(see docs/temporal.md)."""
LIVE_BEFORE = TemporalSettings("live", tau_s=0.3, margin=0.15, min_hold_s=0.4, evidence="prob")
OFFLINE_BEFORE = TemporalSettings("offline", tau_s=0.5, margin=0.3, min_hold_s=0.8, lag_s=1.0, evidence="prob")
"""The former defaults (probability leads, until 2026-12-05), kept for comparison (``eval --compare``, bench_temporal)."""
OFF = TemporalSettings("off")


def default_settings(mode: str) -> TemporalSettings:
    """The default settings of ``mode`` ("live", "offline" or "off")."""
    return {"live": LIVE_DEFAULT, "offline": OFFLINE_DEFAULT}.get(mode, OFF) if mode in MODES else \
        TemporalSettings(mode)
