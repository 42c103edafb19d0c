"""Brief expressions on a generated video (a real face, real detector, a real ONNX model with a known answer):
the default temporal stage shows a 0.5 s expression and not a 0.1 s blip, in ``--video`` (offline) and live, and
``eval`` over a folder of clips scores the defaults above the former ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.av_clips import rows_of, run_cli, write_clip
from tests.test_evaluate_video import HAPPY, SAD, brightness_model, one_face, write_annotation  # noqa: F401

FPS = 30.0
# (seconds, bright?): the brightness model says "happy" for the bright face, "sad" for the darker copy
TIMELINE = ((2.5, False), (0.5, True), (1.0, False), (0.1, True), (1.0, False))
EXPRESSION = (75, 90)  # frames of the 0.5 s expression
BLIP = (120, 123)  # frames of the 0.1 s blip


@pytest.fixture(scope="module")
def brief_clip(tmp_path_factory):
    """(folder, video): 153 frames at 30 fps, H.264, and its ABAW annotation (happy / sad per frame)."""
    bright = one_face()
    dark = (bright.astype(np.float32) * 0.5).astype(np.uint8)
    frames = [bright if is_bright else dark for seconds, is_bright in TIMELINE for _ in range(round(seconds * FPS))]
    folder = tmp_path_factory.mktemp("brief")
    video = write_clip(folder / "brief.mp4", len(frames), FPS, image=lambda i: frames[i])
    write_annotation(folder / "brief.txt", [HAPPY if f is bright else SAD for f in frames])
    return folder, video


def shown_labels(capsys, tmp_path, video, model, *options) -> list[str | None]:
    """The CSV's label per frame (None where no face was written: the tracker confirms a face after a few frames)."""
    table = tmp_path / "out.csv"
    code, err = run_cli(capsys, "--video", video, "--csv", table, "--model", model, "--overwrite", *options)
    assert code == 0, err
    by_frame = {int(r["frame"]): r["label"] for r in rows_of(table)}
    assert set(range(10, 153)) <= set(by_frame)  # one face in every frame after the first few
    return [by_frame.get(k) for k in range(153)]


@pytest.mark.parametrize("mode, least", [("offline", 0.8), ("live", 0.5)])
def test_a_half_second_expression_is_shown_and_a_tenth_of_a_second_blip_is_not(capsys, tmp_path, brief_clip,
                                                                               brightness_model, mode, least):
    _, video = brief_clip
    labels = shown_labels(capsys, tmp_path, video, brightness_model, "--temporal", mode)
    raw = shown_labels(capsys, tmp_path, video, brightness_model, "--temporal", "off")
    assert raw[EXPRESSION[0]:EXPRESSION[1]] == ["happy"] * 15 and raw[BLIP[0]:BLIP[1]] == ["happy"] * 3
    shown = labels[EXPRESSION[0]:EXPRESSION[1]]
    assert shown.count("happy") >= least * len(shown)
    assert "happy" not in labels[:EXPRESSION[0]]  # never before it starts
    assert "happy" not in labels[BLIP[0] - 5:BLIP[1] + 5]
    assert labels[-1] == "sad"
    before = shown_labels(capsys, tmp_path, video, brightness_model, "--temporal", mode, "--evidence", "prob")
    assert before[EXPRESSION[0]:EXPRESSION[1]].count("happy") < least * len(shown)  # the former defaults: less


def test_eval_over_a_folder_scores_the_defaults_above_the_former_ones(capsys, brief_clip, brightness_model):
    from realtime_fer.apps.cli import main

    folder, _ = brief_clip
    assert main(["eval", str(folder), str(folder), "--model", str(brightness_model), "--setting", "offline/prob",
                 "--setting", "live", "--setting", "live/prob", "--json"]) == 0
    f1 = {r["setting"]: r["abaw_f1"] for r in json.loads(capsys.readouterr().out)["results"]}
    new_offline, new_live = [f1[k] for k in f1 if "evidence" not in k]
    old_offline, old_live = [f1[k] for k in f1 if "evidence" in k]
    assert new_offline > old_offline and new_live > old_live
