"""What the user sees with the default settings on the real samples (data tier): every face found, no overlay
element on another face, no false face shown in the no-face clip; group_photos recall of the --image default."""

from __future__ import annotations

import csv
import subprocess
import sys

import cv2
import pytest

from realtime_fer.apps.engine.detect_eval import load_boxes, measure_recall
from realtime_fer.apps.engine.options import RecognizerOptions
from realtime_fer.apps.engine.recognizer_setup import open_recognizer, resolved
from realtime_fer.apps.render.layout import overlap
from realtime_fer.apps.render.overlay import Overlay, hud_lines
from realtime_fer.core.detect import create_detector
from tests.data_tier.samples import DATA, SAMPLES, require

PHOTOS = sorted(p.name for p in SAMPLES.glob("images/*")) if SAMPLES.exists() else ["(absent)"]


@pytest.fixture(scope="module")
def image_recognizer():
    require(SAMPLES)
    with open_recognizer(RecognizerOptions(), "image") as recognizer:
        yield recognizer


def image_detector():
    options = resolved(RecognizerOptions(), "image")
    return create_detector(options.detector, options.detector_range, options.min_confidence,
                           size=options.detector_size, provider="cpu", min_size=options.min_size)


@pytest.mark.data
@pytest.mark.parametrize("name", PHOTOS)
def test_no_label_panel_or_hud_covers_another_face_in_a_sample_photo(image_recognizer, name):
    image = cv2.imread(str(require(SAMPLES / "images" / name)))
    image_recognizer.reset()
    result = image_recognizer.process(image)
    height, width = image.shape[:2]
    rects = Overlay(image_recognizer.labels).rects(width, height, result, hud_lines(30.0, 7.0, len(result.faces)))
    boxes = result.faces.boxes.round().astype(int).tolist()
    for panel in rects["panels"] + rects["hud"]:
        assert all(overlap(panel, box) == 0 for box in boxes), (name, panel, boxes)
        assert 0 <= panel[0] and 0 <= panel[1] and panel[2] <= width and panel[3] <= height
    for k, tag in enumerate(rects["tags"]):
        assert tag is not None, (name, k, "a sample photo leaves room for every tag")
        assert all(overlap(tag, box) == 0 for j, box in enumerate(boxes) if j != k), (name, tag, boxes)


@pytest.mark.data
@pytest.mark.parametrize("name", ["angry_manager_507.jpg", "fierce_soldier_572.jpg", "angry_people_721.jpg"])
def test_crowded_group_photos_get_tags_that_never_overlap_and_panels_beside_their_faces(image_recognizer, name):
    from realtime_fer.apps.render.layout import inside
    from tests.test_layout import _next_to

    image = cv2.imread(str(require(DATA / "group_photos" / "images" / name)))
    image_recognizer.reset()
    result = image_recognizer.process(image)
    assert len(result.faces) >= 12, (name, len(result.faces))  # 13 to 20 faces with the --image default
    height, width = image.shape[:2]
    rects = Overlay(image_recognizer.labels).rects(width, height, result)
    boxes = result.faces.boxes.round().astype(int).tolist()
    drawn = [t for t in rects["tags"] if t is not None] + rects["panels"]
    assert sum(t is not None for t in rects["tags"]) >= len(boxes) * 3 // 4, name  # shrinking keeps most tags
    for i, rect in enumerate(drawn):
        assert inside(rect, width, height), (name, rect)
        assert all(overlap(rect, other) == 0 for other in drawn[i + 1:]), (name, rect)
    for panel in rects["panels"]:
        assert any(_next_to(panel, b, t, width, height) for b, t in zip(boxes, rects["tags"])), (name, panel)


@pytest.mark.data
def test_image_default_finds_six_of_the_seven_selfie_faces():
    image = cv2.imread(str(require(SAMPLES / "images" / "selfie-many-people.jpg")))
    with image_detector() as detector:
        assert len(detector.detect(image)) >= 6


@pytest.mark.data
def test_image_default_finds_no_face_in_the_cartoon():
    image = cv2.imread(str(require(SAMPLES / "images" / "no-faces.jpg")))
    with image_detector() as detector:
        assert len(detector.detect(image)) == 0


@pytest.mark.data
def test_image_default_group_photos_recall_at_least_0_90():
    labels = require(DATA / "group_photos" / "labels.csv")
    with image_detector() as detector:
        result = measure_recall(detector, load_boxes(labels))
    assert result.faces == 119 and result.recall >= 0.90, result


@pytest.mark.data
def test_video_default_shows_no_face_in_the_no_face_clip(tmp_path):
    clip = require(SAMPLES / "videos" / "no_face.mp4")
    out = tmp_path / "faces.csv"
    done = subprocess.run([sys.executable, "-m", "realtime_fer", "--video", str(clip), "--csv", str(out), "--report",
                           str(tmp_path / "report")], check=True, capture_output=True, text=True)
    assert list(csv.DictReader(open(out))) == []
    summary = [line for line in done.stderr.splitlines() if line.startswith("realtime-fer: ") and " frames, " in line]
    assert summary and " frames, 0 faces, " in summary[-1], summary  # the count of what the CSV holds
