import numpy as np
import pytest

from realtime_fer.core.faces import Faces
from realtime_fer.core.track import IouTracker, iou_matrix


def faces_at(*xs, size=50.0):
    boxes = np.array([[x, 10, x + size, 10 + size] for x in xs], np.float32).reshape(-1, 4)
    eyes = np.stack([boxes[:, :2] + 10, boxes[:, :2] + [40, 10]], axis=1)
    return Faces(boxes, np.full(len(boxes), 0.9), eyes)


def test_iou_matrix_known_values():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    assert iou_matrix(a, b) == pytest.approx(np.array([[1.0, 50 / 150, 0.0]]))


def test_ids_follow_moving_faces_and_new_faces_get_new_ids():
    tracker = IouTracker()
    first = tracker.update(faces_at(0, 200))
    second = tracker.update(faces_at(210, 8))  # both moved a little, listed in the other order
    third = tracker.update(faces_at(16, 220, 400))
    assert list(first.track_ids) == [1, 2]
    assert list(second.track_ids) == [2, 1]
    assert list(third.track_ids) == [1, 2, 3]


def test_track_survives_missed_frames_then_expires():
    tracker = IouTracker(max_missed=2)
    tracker.update(faces_at(0))
    tracker.update(faces_at())
    tracker.update(faces_at())
    assert list(tracker.update(faces_at(2)).track_ids) == [1]  # missed 2 frames: still track 1
    for _ in range(3):
        tracker.update(faces_at())
    assert list(tracker.update(faces_at(2)).track_ids) == [2]  # missed 3 > 2: a new id
    assert tracker.active_ids == {2}


def test_coast_predicts_with_velocity():
    tracker = IouTracker()
    tracker.update(faces_at(0))
    tracker.update(faces_at(10))
    coasted = tracker.coast()
    assert list(coasted.track_ids) == [1]
    assert coasted.boxes[0, 0] == pytest.approx(15.0)  # velocity 0.5 * 10 px/frame after one update


def test_tracker_memory_is_bounded():
    tracker = IouTracker(max_missed=1)
    for i in range(500):
        tracker.update(faces_at(float(i * 100 % 5000)))  # jumps: a new track every frame
    assert len(tracker.active_ids) <= 2


def test_faces_validation_names_the_field():
    with pytest.raises(ValueError, match="Faces.scores"):
        Faces(np.zeros((2, 4)), np.zeros(3), np.zeros((2, 2, 2)))
    assert len(Faces.empty()) == 0
    two = faces_at(0, 100)
    assert len(two.select(np.array([False, True]))) == 1


def test_a_new_track_is_shown_after_min_hits_rounds_in_a_row():
    tracker = IouTracker(min_hits=3)
    shown = [len(tracker.shown(tracker.update(faces_at(100)))) for _ in range(4)]
    assert shown == [0, 0, 1, 1]


def test_a_flickering_false_face_never_reaches_min_hits():
    tracker = IouTracker(min_hits=3)
    seen = []
    for found in (True, True, False, True, True, False, True):  # two rounds in a row at most
        faces = tracker.update(faces_at(100) if found else faces_at())
        seen.append(len(tracker.shown(faces)))
    assert seen == [0] * 7
    assert len(tracker.shown(tracker.coast())) == 0


def test_a_confirmed_track_stays_shown_through_a_missed_round():
    tracker = IouTracker(min_hits=2)
    for _ in range(2):
        tracker.update(faces_at(100))
    tracker.update(faces_at())
    assert len(tracker.shown(tracker.update(faces_at(102)))) == 1
    with pytest.raises(ValueError, match="min_hits"):
        IouTracker(min_hits=0)
