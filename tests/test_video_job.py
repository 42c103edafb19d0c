"""run_video_job: the library form of --video (summary dict, errors raised, outputs finalized)."""

from __future__ import annotations

import csv
import threading

import pytest

from realtime_fer.apps.video_job import run_video_job
from realtime_fer.errors import InputError
from tests.conftest import FACE_VIDEO_FRAMES


def test_run_video_job_returns_a_summary_matching_its_outputs(tmp_path, face_video, tiny_model):
    table = tmp_path / "out.csv"
    summary = run_video_job(face_video, csv=table, model=tiny_model)
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary["frames"] == FACE_VIDEO_FRAMES == len(rows) == summary["rows"]
    assert summary["faces"] == FACE_VIDEO_FRAMES and summary["tracks"] == 1
    assert summary["csv"] == str(table) and summary["output"] is None
    assert summary["end_reason"] == "eof" and not summary["interrupted"] and not summary["truncated"]
    assert summary["fps"] > 0 and summary["seconds"] > 0


def test_run_video_job_raises_instead_of_exiting(tmp_path, face_video, tiny_model):
    with pytest.raises(InputError, match="at least one of --output"):
        run_video_job(face_video, model=tiny_model)
    with pytest.raises(InputError, match="expected an existing file"):
        run_video_job(tmp_path / "missing.mp4", csv=tmp_path / "x.csv", model=tiny_model)
    assert not (tmp_path / "x.csv").exists()


def test_run_video_job_stop_event_finalizes_outputs(tmp_path, face_video, tiny_model):
    stop = threading.Event()
    table = tmp_path / "out.csv"

    def progress(done, total):
        assert total == FACE_VIDEO_FRAMES
        if done == 5:
            stop.set()

    summary = run_video_job(face_video, csv=table, model=tiny_model, stop=stop, progress=progress, workers=0)
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary["interrupted"] and summary["frames"] == 5 == len(rows)
