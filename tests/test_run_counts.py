"""The counts a run reports match what it wrote: a face the file modes drop as a flicker (found in fewer frames in a
row than ``--min-frames``) is not counted, as ``no_face.mp4`` showed ("2 faces" beside an empty CSV)."""

from __future__ import annotations

import csv

import pytest

from realtime_fer.apps.engine.options import OutputOptions, RecognizerOptions, RunOptions
from realtime_fer.apps.engine.video_job import run_video_job


def write_flicker_video(path, present: set[int], frames: int = 24):
    """A 640x360, 12 fps mp4v clip of a plain background with the astronaut's face only in the frames ``present``."""
    import cv2

    from tests.conftest import face_frame

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 12.0, (640, 360))
    for index in range(frames):
        frame = face_frame(index)
        if index not in present:
            frame[:] = (96, 80, 64)
        writer.write(frame)
    writer.release()
    return path


@pytest.mark.parametrize("present, shown", [({10}, 0), ({10, 11}, 0), (set(range(8, 14)), 6)])
def test_the_summary_counts_the_faces_the_csv_holds(tmp_path, tiny_model, present, shown):
    clip = write_flicker_video(tmp_path / "clip.mp4", present)
    table = tmp_path / "faces.csv"
    options = RunOptions(RecognizerOptions(model=tiny_model, detect_every=1, min_hits=3), outputs=OutputOptions(csv=table))
    summary = run_video_job(clip, options)
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary.frames == 24
    assert summary.faces == len(rows) == summary.rows == shown
    assert summary.tracks == (1 if shown else 0)
