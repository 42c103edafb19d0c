"""BlazeFace on the real sample photos and video (data tier)."""

import cv2
import pytest

from realtime_fer.core.detect import create_detector
from tests.data_tier.samples import SAMPLES, require

EXPECTED_FACES = {  # counted by eye in samples/manifest.csv
    "multi_face.jpg": 5, "two_people.jpg": 2, "obama_and_biden.jpg": 2, "no-faces.jpg": 0,
    "single_face.jpg": 1, "justin.jpg": 1, "angry_black.jpg": 1, "happy_black.jpg": 1, "sad_asian.jpg": 1,
    "surprise_white.jpg": 1, "0-f1-su-ph.jpg": 1, "0-f15-hao-ph.jpg": 1, "15-f13-anc-ph.jpg": 1,
    "45-m7-di-ph.jpg": 1, "img1.png": 1,
}


@pytest.fixture(scope="module")
def both():
    with create_detector("blazeface", "both") as detector:
        yield detector


@pytest.mark.data
@pytest.mark.parametrize("name, count", sorted(EXPECTED_FACES.items()))
def test_photo_face_counts_with_both_ranges(both, name, count):
    image = cv2.imread(str(require(SAMPLES / "images" / name)))
    assert len(both.detect(image)) == count


@pytest.mark.data
def test_group_selfie_finds_most_faces(both):
    image = cv2.imread(str(require(SAMPLES / "images" / "selfie-many-people.jpg")))
    assert len(both.detect(image)) >= 4  # about 7, some only partly in the picture


@pytest.mark.data
def test_auto_range_finds_the_face_in_every_pexels_frame():
    capture = cv2.VideoCapture(str(require(SAMPLES / "videos" / "WolfgangLanger_Pexels.mp4")))
    counts = []
    with create_detector("blazeface", "auto") as detector:
        while len(counts) < 120:
            ok, frame = capture.read()
            if not ok:
                break
            counts.append(len(detector.detect(frame)))
    capture.release()
    assert len(counts) == 120 and counts.count(1) == 120
