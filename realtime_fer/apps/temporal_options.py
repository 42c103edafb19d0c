"""CLI options of the temporal stage and how they become ``TemporalSettings``.

``--temporal live|offline|off`` picks the mode (default: ``DEFAULT_MODE`` per CLI mode),
``--tau``, ``--switch-margin``, ``--min-hold`` and ``--lag`` (offline) override that mode's defaults, and the
older ``--smoothing F`` (a per-frame EMA weight) maps to ``--tau`` = that EMA's time
constant at 30 fps (0 = ``--temporal off``).
"""

from __future__ import annotations

import argparse

from ..core.temporal import MAX_VIDEO_LAG_S, MODES, OFF, TemporalSettings, default_settings
from ..errors import InputError

DEFAULT_MODE = {"camera": "live", "image": "live", "bench": "offline", "video": "offline", "batch": "offline",
                "eval": "offline"}
"""Files (``--video``, ``batch``, ``eval``) use the offline filter: with ``lag_s`` of look-ahead it measures better
than the causal one on the sample clips (benchmarks/bench_temporal.py: more frames right, switches no more often,
turns happy earlier) and, written in one pass, keeps the promise that an interrupted run leaves a playable file.
Streams (camera) can only be causal; ``bench`` measures the ``--video`` path, so it runs its default too
(``bench --temporal live`` measures the causal filter)."""
FILE_MODES = ("video", "batch", "eval", "bench")


def add_temporal_arguments(group: argparse._ArgumentGroup) -> None:
    """Add --temporal, --tau, --switch-margin, --min-hold, --lag and --smoothing to ``group``."""
    group.add_argument("--temporal", choices=MODES, default=None,
                       help="temporal stage: live = causal smoothing + label hysteresis, offline = smoothing "
                            "and best label sequence with --lag seconds of look-ahead (files only), off = raw "
                            "(default: offline for --video, batch and eval, live otherwise)")
    group.add_argument("--tau", type=float, default=None, metavar="S",
                       help="probability smoothing time constant in seconds (default: 0.3 live, 0.5 offline)")
    group.add_argument("--switch-margin", type=float, default=None, metavar="F",
                       help="lead in probability a new label needs over the shown one (default: 0.15 live, "
                            "0.3 offline)")
    group.add_argument("--min-hold", type=float, default=None, metavar="S",
                       help="seconds that lead must last before the label switches (default: 0.4 live, 0.8 "
                            "offline)")
    group.add_argument("--lag", type=float, default=None, metavar="S",
                       help=f"offline: seconds each frame waits for its future (default 1; at most "
                            f"{MAX_VIDEO_LAG_S:g}: --video holds lag x fps decoded frames, ~190 MB per second of "
                            "1080p at 30 fps)")
    group.add_argument("--smoothing", type=float, default=None, metavar="F",
                       help="older form of --tau: a per-frame EMA weight in [0, 1) at 30 fps (0.6 = 0.065 s); "
                            "0 = --temporal off")


def temporal_settings(args, mode: str) -> TemporalSettings:
    """The settings the options in ``args`` ask for in CLI ``mode``; InputError naming the bad option."""
    chosen = args.temporal or DEFAULT_MODE.get(mode, "live")
    if chosen == "offline" and mode not in FILE_MODES:
        raise InputError(f"--temporal offline: expected --video, batch or eval (a file's future is needed), got "
                         f"{mode} mode; use --temporal live")
    lag = getattr(args, "lag", None)
    if lag is not None and chosen != "offline":
        raise InputError(f"--lag: expected it with the offline filter, got --temporal {chosen}; drop --lag or use "
                         "--temporal offline")
    if args.smoothing is not None:
        if not 0.0 <= args.smoothing < 1.0:
            raise InputError(f"--smoothing: expected a number in [0, 1), got {args.smoothing}; 0 turns smoothing off")
        if args.smoothing == 0.0 and args.temporal is None:
            return OFF
    settings = default_settings(chosen)
    if chosen == "off":
        return OFF
    checks = (("--tau", args.tau, 0.0, 60.0, "e.g. 0.3"),
              ("--switch-margin", args.switch_margin, 0.0, 1.0, "e.g. 0.15"),
              ("--min-hold", args.min_hold, 0.0, 60.0, "e.g. 0.4"),
              ("--lag", lag, 0.0, 60.0 if mode == "eval" else MAX_VIDEO_LAG_S, "e.g. 1"))
    for option, value, low, high, hint in checks:
        if value is not None and not low <= value <= high:
            raise InputError(f"{option}: expected a number in [{low:g}, {high:g}], got {value}; {hint}")
    if args.smoothing is not None and args.tau is None:
        settings = settings.with_(tau_s=TemporalSettings.tau_from_ema_weight(args.smoothing))
    changes = {k: v for k, v in (("tau_s", args.tau), ("margin", args.switch_margin),
                                 ("min_hold_s", args.min_hold), ("lag_s", lag)) if v is not None}
    return settings.with_(**changes)
