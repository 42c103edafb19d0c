"""The detection presets of the command line's modes and of ``Recognizer.for_photos()`` / ``for_video()``.

Plain values with no heavy import (``apps.engine.modes`` builds every mode's defaults from them at import time, so
``realtime-fer --help`` does not load scipy or OpenCV through them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DiscoverySettings:
    """How discovery runs.

    Attributes:
        detector: the slow detector ("centerface"); size: its input's longest side (None: ``discovery_size``).
        every: frames between discovery passes when frames come from a file (the pass runs on frames 0, every,
            2 * every, ... of the run).
        period_s: a live stream's pass runs on a thread beside the frame loop, at most this often (seconds).
        keep: passes a discovered face not found again survives in the cache (1: until the next pass).
    """

    detector: str = "centerface"
    size: int | None = None
    every: int = 10
    period_s: float = 0.25
    keep: int = 1

    def __post_init__(self):
        if self.every < 1:
            raise ValueError(f"discovery every: expected an integer >= 1, got {self.every}")
        if self.period_s < 0:
            raise ValueError(f"discovery period_s: expected seconds >= 0, got {self.period_s}")


PHOTO_SETTINGS = {"detector": "centerface", "detector_range": "both", "min_size": 10.0, "min_hits": 1,
                  "media": "photo"}
"""What ``realtime-fer --image`` runs (``apps.engine.modes.MODE_DEFAULTS["image"]`` is built from it): CenterFace,
which finds small, turned and partly covered faces (docs/detection.md), faces from 10 px wide, the photo model."""
VIDEO_SETTINGS = {"detector": "blazeface", "detector_range": "short", "min_size": 20.0, "min_hits": 3,
                  "discovery": DiscoverySettings(period_s=0.25), "classify_limit": 8, "media": "video"}
"""What ``realtime-fer --camera`` runs (``MODE_DEFAULTS["camera"]`` and the file modes are built from it): BlazeFace
short range on every frame, plus CenterFace beside the frame loop at most every 0.25 s for small faces
(``core.discovery``), faces from 20 px wide, a new face shown once it was found 3 frames in a row, at most 8 faces
classified per frame, the video model."""
