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
    raw = next(r for r in report["results"] if r["setting"] == "off")
    # floors a little under the measured figures of eval's default, the video model (2026-12-07: 0.948 with the
    # offline default, 0.904 raw; it shows the first 0.6 s neutral where the label says sad). The offline default's
    # settings were chosen on this clip and woman2.mp4 (docs/temporal.md), so its figure is optimistic; the raw
    # labels ("off": model, detector and alignment alone) were not chosen on this clip
    assert main_row["accuracy_known"] >= 0.93 and raw["accuracy_known"] >= 0.89, (main_row, raw)
    assert main_row["switches_per_min"] < raw["switches_per_min"]


def test_report_of_the_real_clip_and_eval_score_what_video_writes(tmp_path, capsys):
    """The report counts the labels ``--video`` wrote; ``eval`` (same default settings) scores those very labels:
    annotated with the CSV's own labels, every frame is right."""
    import csv

    from realtime_fer.apps.engine.evaluate import ABAW_CLASSES, SYNONYMS

    video = require(SAMPLES / "videos" / "WolfgangLanger_Pexels.mp4")
    code = main(["--video", str(video), "--report", str(tmp_path / "report")])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert len(summary["tracks"]) == 1 and summary["tracks"][0]["frames"] == 472
    shares = summary["tracks"][0]["shares"]
    assert shares["happy"] > 0.4 and shares["sad"] > 0.25  # happy 224 and sad 140 of 472 frames by eye
    with open(tmp_path / "report" / "faces.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["frame"]) for r in rows] == list(range(472))
    labels = [r["label"] for r in rows]
    assert {name: round(labels.count(name) / 472, 4) for name in shares} == shares
    annotations = tmp_path / "annotations"
    annotations.mkdir()
    (annotations / f"{video.stem}.txt").write_text(
        ",".join(ABAW_CLASSES) + "\n" + "\n".join(str(SYNONYMS[label]) for label in labels) + "\n")
    capsys.readouterr()
    assert main(["eval", str(video), str(annotations), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["frames"] == 472 and result["no_face"] == 0
    assert result["accuracy_known"] == 1.0, "eval scored other labels than --video wrote"
