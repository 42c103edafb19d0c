"""The detection matching rule of benchmarks/eval_detect.py: IoU >= 0.3, or centre inside at 0.2-2.5x the area;
one detection per face."""

from __future__ import annotations

import numpy as np

from realtime_fer.apps.engine.detect_eval import count_matches, load_boxes


def test_iou_or_centre_inside_at_a_sane_area_matches():
    truth = np.array([[0, 0, 100, 140]], np.float32)  # a tall FDDB-like box
    assert count_matches(truth, [[10, 30, 90, 110]]) == 1  # IoU 0.46
    assert count_matches(truth, [[25, 40, 75, 100]]) == 1  # centred, 0.21x the area (IoU 0.21)
    assert count_matches(truth, [[40, 60, 60, 80]]) == 0  # centred but 0.03x the area
    assert count_matches(truth, [[150, 0, 250, 140]]) == 0  # beside it


def test_one_detection_finds_one_face_and_the_assignment_is_optimal():
    truth = np.array([[0, 0, 100, 100], [90, 0, 190, 100]], np.float32)
    assert count_matches(truth, [[45, 0, 145, 100]]) == 1
    assert count_matches(truth, [[0, 0, 100, 100], [95, 0, 195, 100]]) == 2
    assert count_matches(truth, []) == 0 and count_matches(np.zeros((0, 4)), [[0, 0, 5, 5]]) == 0


def test_load_boxes_groups_faces_by_image(tmp_path):
    (tmp_path / "labels.csv").write_text("path,x1,y1,x2,y2\na.jpg,0,0,10,10\nb.jpg,1,1,5,5\na.jpg,20,20,30,30\n")
    boxes = load_boxes(tmp_path / "labels.csv")
    assert list(boxes) == [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    assert boxes[tmp_path / "a.jpg"].shape == (2, 4)
