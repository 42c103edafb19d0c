"""``realtime-fer eval`` on Aff-Wild2-style fixtures: generated videos of a real face, a two-person video,
a frame folder with gaps, and annotation files in the ABAW EXPR format."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime_fer.apps.engine.evaluate import (ABAW_CLASSES, match_inputs, model_to_abaw, read_annotation,
                                              scores)
from realtime_fer.errors import InputError
from tests.test_cli import run_cli
from tests.tiny_model import LABELS7

SIZE = (640, 360)
SIDE = 160
HEADER = ",".join(ABAW_CLASSES)


def background():
    return np.full((SIZE[1], SIZE[0], 3), (96, 80, 64), np.uint8)


def one_face():
    from tests.conftest import _face_tile

    frame = background()
    x, y = 240, (SIZE[1] - SIDE) // 2
    frame[y:y + SIDE, x:x + SIDE] = _face_tile(SIDE)
    return frame


def two_faces():
    """The astronaut on the left, a darker copy of her on the right (``brightness_model`` tells them apart)."""
    from tests.conftest import _face_tile

    frame = background()
    y = (SIZE[1] - SIDE) // 2
    frame[y:y + SIDE, 60:60 + SIDE] = _face_tile(SIDE)
    frame[y:y + SIDE, 420:420 + SIDE] = (_face_tile(SIDE) * 0.5).astype(np.uint8)
    return frame


def write_video(path: Path, frames) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, SIZE)
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def write_annotation(path: Path, labels) -> Path:
    path.write_text(HEADER + "\n" + "\n".join(str(v) for v in labels) + "\n")
    return path


@pytest.fixture(scope="module")
def brightness_model(tmp_path_factory) -> Path:
    """A real ONNX model whose answer is known: "happy" for a bright face crop, "sad" for a dark one
    (``tests.tiny_model.write_brightness_model``)."""
    from tests.tiny_model import write_brightness_model

    return write_brightness_model(tmp_path_factory.mktemp("brightness"))


HAPPY, SAD = ABAW_CLASSES.index("Happiness"), ABAW_CLASSES.index("Sadness")
predicted = {"one": HAPPY, "left": HAPPY, "right": SAD}


def other_known(c: int) -> int:
    return 0 if c != 0 else 4  # Neutral, or Happiness


def eval_json(capsys, *args) -> dict:
    code, out, err = run_cli(capsys, "eval", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_single_video_counts_missing_faces_as_misses(capsys, tmp_path, brightness_model):
    p, q = predicted["one"], other_known(predicted["one"])
    video = write_video(tmp_path / "clip.avi", [one_face()] * 14 + [background()] * 6)
    labels = [p] * 10 + [q] * 4 + [p] * 6 + [-1] * 3  # 3 unlabelled frames past the end of the video
    annotation = write_annotation(tmp_path / "clip.txt", labels)
    report = eval_json(capsys, video, annotation, "--model", brightness_model, "--temporal", "off",
                       "--detect-every", "1")
    main = report["results"][0]
    assert main["setting"] == "off" and main["frames"] == 20 and main["no_face"] == 6
    assert main["coverage"] == pytest.approx(14 / 20) and main["accuracy_known"] == pytest.approx(10 / 20)
    f1_p = 2 * 10 / (2 * 10 + 4 + 6)  # tp 10, fp 4 (the q frames), fn 6 (no face)
    assert main["abaw_f1"] == pytest.approx(f1_p / 8) and main["f1_known"] == pytest.approx(f1_p / 2)
    confusion = np.array(main["confusion"])
    assert confusion[p, p] == 10 and confusion[q, p] == 4 and confusion[p, 8] == 6 and confusion.sum() == 20


def test_compare_scores_a_grid_and_names_the_best(capsys, tmp_path, brightness_model):
    p = predicted["one"]
    video = write_video(tmp_path / "clip.avi", [one_face()] * 12)
    annotation = write_annotation(tmp_path / "clip.txt", [p] * 12)
    report = eval_json(capsys, video, annotation, "--model", brightness_model, "--compare")
    settings = [r["setting"] for r in report["results"]]
    assert len(settings) > 10 and len(set(settings)) == len(settings) and "off" in settings
    assert report["main"] == settings[0] and settings[0].startswith("offline")  # eval's default mode is offline
    best = next(r for r in report["results"] if r["setting"] == report["best"])
    assert best["abaw_f1"] == max(r["abaw_f1"] for r in report["results"])
    code, out, _ = run_cli(capsys, "eval", video, annotation, "--model", brightness_model, "--compare")
    assert code == 0 and "best by ABAW macro-F1" in out and "confusion" in out
    chosen = eval_json(capsys, video, annotation, "--model", brightness_model, "--setting", "live:0.065:0:0",
                       "--setting", "offline:1", "--setting", "offline:0.5:0.3:0.8:2", "--setting", "offline/prob:0.1")
    assert [r["setting"] for r in chosen["results"]] == [settings[0], "live tau=0.065s margin=0 hold=0s",
                                                          "offline tau=1s margin=0.45 hold=0.8s lag=1s",
                                                          "offline tau=0.5s margin=0.3 hold=0.8s lag=2s",
                                                          "offline tau=0.1s margin=0.3 hold=0.8s lag=1s evidence=prob"]
    assert "offline tau=0.5s margin=0.3 hold=0.8s lag=1s evidence=prob" in settings  # the former default
    code, _, err = run_cli(capsys, "eval", video, annotation, "--model", brightness_model, "--setting", "live:x")
    assert code == 2 and "--setting live:x" in err
    code, _, err = run_cli(capsys, "eval", video, annotation, "--model", brightness_model, "--setting",
                           "live:0.3:0.1:0.4:1")
    assert code == 2 and "offline mode only" in err


def test_two_people_are_scored_by_side_and_folders_match_by_name(capsys, tmp_path, brightness_model):
    videos, annotations = tmp_path / "videos", tmp_path / "annotations"
    videos.mkdir()
    annotations.mkdir()
    write_video(videos / "pair.avi", [two_faces()] * 10)
    write_video(videos / "unlabelled.avi", [one_face()] * 3)
    write_annotation(annotations / "pair_left.txt", [predicted["left"]] * 10)
    write_annotation(annotations / "pair_right.txt", [predicted["right"]] * 10)
    write_annotation(annotations / "orphan.txt", [0] * 5)
    code, out, err = run_cli(capsys, "eval", videos, annotations, "--model", brightness_model, "--temporal", "off",
                             "--json",
                           "--detect-every", "1")
    assert code == 0, err
    assert "unlabelled.avi: no annotation" in err and "orphan.txt: no video" in err
    rows = {r["input"]: r for r in json.loads(out)["results"][0]["inputs"]}
    assert set(rows) == {"pair_left", "pair_right"}
    assert rows["pair_left"]["accuracy_known"] == 1.0 and rows["pair_right"]["accuracy_known"] == 1.0
    # the sides swapped: every frame wrong
    write_annotation(annotations / "pair_left.txt", [predicted["right"]] * 10)
    write_annotation(annotations / "pair_right.txt", [predicted["left"]] * 10)
    swapped = eval_json(capsys, videos, annotations, "--model", brightness_model, "--temporal", "off",
                        "--detect-every", "1")
    assert swapped["results"][0]["accuracy_known"] == 0.0


def test_frame_folder_with_gaps(capsys, tmp_path, brightness_model):
    folder = tmp_path / "frames" / "person"
    folder.mkdir(parents=True)
    for number in range(1, 13):
        if number in (4, 5):
            continue  # frames without a file (Aff-Wild2 leaves out frames without a face)
        cv2.imwrite(str(folder / f"{number:05d}.jpg"), background() if number == 10 else one_face())
    annotation = write_annotation(tmp_path / "person.txt", [predicted["one"]] * 12)
    report = eval_json(capsys, folder, annotation, "--model", brightness_model, "--temporal", "live", "--fps", "30",
                         "--detect-every", "1")
    main = report["results"][0]
    assert main["frames"] == 12 and main["no_face"] == 3 and main["accuracy_known"] == pytest.approx(9 / 12)
    confusion = np.array(main["confusion"])
    assert confusion[predicted["one"], 8] == 3
    code, _, err = run_cli(capsys, "eval", folder, annotation, "--model", brightness_model)
    assert code == 2 and "--fps" in err


def test_annotation_format_and_matching_errors(tmp_path, capsys, brightness_model):
    bad = tmp_path / "bad.txt"
    bad.write_text("neutral,happy\n1\n")
    with pytest.raises(InputError, match="header"):
        read_annotation(bad)
    write_annotation(bad, [1, 9])
    with pytest.raises(InputError, match="-1..7"):
        read_annotation(bad)
    assert read_annotation(write_annotation(tmp_path / "ok.txt", [-1, 0, 7])).tolist() == [-1, 0, 7]
    with pytest.raises(InputError, match="no pair"):
        match_inputs(tmp_path, tmp_path / "ok.txt")  # a folder without videos
    code, _, err = run_cli(capsys, "eval", tmp_path / "missing.mp4", bad, "--model", brightness_model)
    assert code == 2 and "does not exist" in err


def test_scores_by_hand():
    truth = np.array([0, 0, 4, 4, 7, -1])
    predicted = np.array([0, 4, 4, -1, 4, 0])
    result = scores(truth, predicted, known={0, 1, 2, 3, 4, 5, 6})
    # class 0: tp 1, fp 0, fn 1 -> 2/3; class 4: tp 1, fp 2, fn 1 -> 2/5; Other: 0
    assert result["abaw_f1"] == pytest.approx((2 / 3 + 2 / 5) / 8)
    assert result["f1_known"] == pytest.approx((2 / 3 + 2 / 5) / 2)
    assert result["f1_per_class"]["Neutral"] == pytest.approx(2 / 3, abs=1e-4) and result["f1_per_class"]["Other"] == 0
    assert result["accuracy_known"] == pytest.approx(2 / 4) and result["coverage"] == pytest.approx(4 / 5)
    assert model_to_abaw(LABELS7).tolist() == [1, 2, 3, 4, 0, 5, 6]  # angry .. surprise -> ABAW indices
