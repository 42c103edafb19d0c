"""``realtime-fer eval`` says what its headline means: per-class F1, which classes the clip holds, and one line on
why a clip of one expression scores ABAW F1 0.125 at accuracy 1.000."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import run_cli
from tests.test_evaluate_video import (ABAW_CLASSES, brightness_model, one_face, predicted,  # noqa: F401 - fixture
                                       write_annotation, write_video)


def test_a_perfect_single_expression_clip_explains_its_low_abaw_f1(capsys, tmp_path, brightness_model):  # noqa: F811
    p = predicted["one"]
    video = write_video(tmp_path / "clip.avi", [one_face()] * 12)
    annotation = write_annotation(tmp_path / "clip.txt", [p] * 12)
    args = ["eval", video, annotation, "--model", brightness_model, "--temporal", "off", "--detect-every", "1"]
    code, out, err = run_cli(capsys, *args, "--json")
    assert code == 0, err
    main = json.loads(out)["results"][0]
    assert main["accuracy_known"] == 1.0 and main["abaw_f1"] == pytest.approx(1 / 8)
    assert main["present"] == [ABAW_CLASSES[p]] and main["inputs"][0]["present"] == [ABAW_CLASSES[p]]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    text = " ".join(out.split())
    assert "per class" in text and "1 of 8" in text
    assert "ABAW F1 = mean F1 over all 8 classes, a class neither labelled nor shown counting 0 (1 of 8 present " \
           "here, so at most 0.125)" in text
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]
    per_class = {row[0]: row[1:] for row in cells if len(row) == 5}  # class, labelled, shown, F1, present
    assert per_class[ABAW_CLASSES[p]] == ["12", "12", "1.000", "yes"]
    assert all(per_class[name] == ["0", "0", "0.000", "no (scores 0)"] for name in ABAW_CLASSES if name != ABAW_CLASSES[p])
