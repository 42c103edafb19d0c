"""PersistStage: in files a track's faces are shown from its first frame once it was present ``min_frames`` frames
in a row; a flicker is dropped; frames keep their order and wait at most ``min_frames`` frames."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_fer.core.faces import Faces, FrameResult
from realtime_fer.core.persist import PersistStage
from realtime_fer.core.temporal import OFF, OFFLINE_DEFAULT, open_stage

LABELS = ("a", "b", "c")


def frame(index: int, ids) -> FrameResult:
    n = len(ids)
    boxes = np.array([[10 + 60 * k, 10, 50 + 60 * k, 50] for k in range(n)], np.float32).reshape(-1, 4)
    faces = Faces(boxes, np.ones(n), np.zeros((n, 2, 2)), np.array(ids, np.int64),
                  np.full((n, 3), 1 / 3, np.float32))
    return FrameResult(index, index * 100.0, faces, LABELS)


def run(stage, presence) -> list[list[int]]:
    out = []
    for i, ids in enumerate(presence):
        out += stage.push(frame(i, ids), {t for f in presence[: i + 1] for t in f})
    out += stage.flush()
    assert [r.index for r in out] == list(range(len(presence)))  # every frame once, in order
    return [r.faces.track_ids.tolist() for r in out]


def test_a_persistent_face_shows_from_its_first_frame_and_a_flicker_never():
    presence = [[1], [1, 2], [1, 2], [1], [1, 3], [1, 3], [1, 3], [1]]  # 2: two frames; 3: three
    shown = run(PersistStage(open_stage(OFF), 3), presence)
    assert shown == [[1], [1], [1], [1], [1, 3], [1, 3], [1, 3], [1]]


def test_frames_wait_at_most_min_frames():
    stage = PersistStage(open_stage(OFF), 3)
    released = [len(stage.push(frame(i, [1]))) for i in range(5)]
    assert released == [0, 0, 3, 1, 1]


def test_a_run_cut_short_by_the_end_of_the_stream_is_kept():
    assert run(PersistStage(open_stage(OFF), 3), [[1], [1]]) == [[1], [1]]
    assert run(PersistStage(open_stage(OFF), 3), [[1], [], [2], [2]]) == [[], [], [2], [2]]


def test_wraps_the_offline_stage_and_passes_its_attributes():
    stage = PersistStage(open_stage(OFFLINE_DEFAULT, fps=10.0), 2)
    assert stage.name == "offline_filter" and stage.max_pending == open_stage(OFFLINE_DEFAULT, fps=10.0).max_pending
    shown = run(stage, [[1], [1], [2], [1], [1]])
    assert shown == [[1], [1], [], [1], [1]]
    with pytest.raises(ValueError, match="min_frames"):
        PersistStage(open_stage(OFF), 0)
