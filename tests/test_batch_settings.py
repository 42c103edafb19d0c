"""What a batch manifest record compares on resume includes the video modes' small-face discovery passes and the
per-frame classification limit, so a corpus run without them (an explicit --detector, or an older version) is
redone rather than taken as done."""

from __future__ import annotations

from realtime_fer.apps.batch.job import JobSettings
from realtime_fer.apps.engine.options import RecognizerOptions


def test_the_default_detection_records_its_discovery_passes():
    settings = JobSettings().result_settings()
    assert settings["discovery"] is not None and settings["discovery"]["every"] >= 1
    assert settings["classify_limit"] >= 1


def test_an_explicit_detector_records_no_discovery_and_differs_from_the_default():
    default = JobSettings().result_settings()
    blazeface = JobSettings(recognizer=RecognizerOptions(detector="blazeface")).result_settings()
    assert blazeface["discovery"] is None and blazeface != default
