"""``realtime-fer eval`` and the report on the real Pexels clip and its per-frame annotation (skips without data).

Uses the shipped model (models/): the annotation is by eye, sad 0-139 and happy 248-471.
"""

from __future__ import annotations

import json

import pytest

from realtime_fer.apps.cli import main
from tests.data_tier.samples import SAMPLES, require

pytestmark = pytest.mark.data


def test_eval_reads_the_real_annotation_and_the_default_follows_the_change(capsys):
    video = require(SAMPLES / "videos" / "WolfgangLanger_Pexels.mp4")
    annotation = require(SAMPLES / "annotations" / "WolfgangLanger_Pexels.txt")
    code = main(["eval", str(video), str(annotation), "--compare", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    main_row = report["results"][0]
    assert main_row["frames"] == 140 + 224 and main_row["coverage"] == 1.0  # one face in every frame
    assert main_row["accuracy_known"] >= 0.95
    raw = next(r for r in report["results"] if r["setting"] == "off")
    assert main_row["switches_per_min"] < raw["switches_per_min"]


def test_report_of_the_real_clip(tmp_path, capsys):
    video = require(SAMPLES / "videos" / "WolfgangLanger_Pexels.mp4")
    code = main(["--video", str(video), "--report", str(tmp_path / "report")])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert len(summary["tracks"]) == 1 and summary["tracks"][0]["frames"] == 472
    shares = summary["tracks"][0]["shares"]
    assert shares["happy"] > 0.4 and shares["sad"] > 0.25  # happy 224 and sad 140 of 472 frames by eye
