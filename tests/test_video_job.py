"""run_video_job: the library form of --video (a result value, errors raised, outputs finalized)."""

from __future__ import annotations

import csv
import threading

import pytest

from realtime_fer.apps.engine.options import OutputOptions, RecognizerOptions, RunOptions
from realtime_fer.apps.engine.video_job import JobHooks, run_video_job
from realtime_fer.core.temporal import OFFLINE_DEFAULT
from realtime_fer.errors import InputError
from tests.conftest import FACE_VIDEO_FRAMES


def test_run_video_job_returns_a_summary_matching_its_outputs(tmp_path, face_video, tiny_model):
    table = tmp_path / "out.csv"
    summary = run_video_job(face_video, RunOptions(RecognizerOptions(model=tiny_model), outputs=OutputOptions(csv=table)))
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary.frames == FACE_VIDEO_FRAMES == len(rows) == summary.rows
    assert summary.faces == FACE_VIDEO_FRAMES and summary.tracks == 1
    assert summary.csv == str(table) and summary.output is None
    assert summary.end_reason == "eof" and not summary.interrupted and not summary.truncated
    assert summary.fps > 0 and summary.seconds > 0


def test_run_video_job_raises_instead_of_exiting(tmp_path, face_video, tiny_model):
    with pytest.raises(InputError, match="at least one of --output"):
        run_video_job(face_video, RunOptions(RecognizerOptions(model=tiny_model)))
    with pytest.raises(InputError, match="expected an existing file"):
        run_video_job(tmp_path / "missing.mp4", RunOptions(RecognizerOptions(model=tiny_model),
                                                           outputs=OutputOptions(csv=tmp_path / "x.csv")))
    assert not (tmp_path / "x.csv").exists()


def test_run_video_job_stop_event_finalizes_outputs(tmp_path, face_video, tiny_model):
    from realtime_fer.core.temporal import LIVE_DEFAULT

    stop = threading.Event()
    table = tmp_path / "out.csv"

    def progress(done, total):
        assert total == FACE_VIDEO_FRAMES
        if done == 5:
            stop.set()

    options = RunOptions(RecognizerOptions(model=tiny_model, lookahead=0), LIVE_DEFAULT, outputs=OutputOptions(csv=table))
    summary = run_video_job(face_video, options, hooks=JobHooks(stop=stop, progress=progress))
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary.interrupted and summary.frames == 5 == len(rows)


def test_a_stopped_offline_job_writes_every_recognized_frame_to_a_playable_video(tmp_path, tiny_model):
    import av

    from tests.conftest import write_face_video

    clip = write_face_video(tmp_path / "clip.mp4", frames=120, fps=25, size=(320, 240))
    stop = threading.Event()
    out, table = tmp_path / "out.mp4", tmp_path / "out.csv"
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 10:  # frame 10 is written once frame 10 + 1 s (25 frames) is recognized
            stop.set()

    options = RunOptions(RecognizerOptions(model=tiny_model, lookahead=0), outputs=OutputOptions(output=out, csv=table))
    summary = run_video_job(clip, options, hooks=JobHooks(stop=stop, progress=progress))
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary.interrupted and summary.temporal.startswith("offline")
    assert summary.frames == len(rows) == seen[-1] and 30 <= len(rows) < 120  # the delayed frames were flushed
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == len(rows)
    assert summary.delay_frames >= 25


def test_the_delay_refuses_a_lag_that_does_not_fit(tmp_path, face_video, tiny_model):
    options = RunOptions(RecognizerOptions(model=tiny_model), OFFLINE_DEFAULT.with_(lag_s=5),
                         outputs=OutputOptions(csv=tmp_path / "x.csv"))
    with pytest.raises(InputError, match="--lag"):
        run_video_job(face_video, options)
    assert not (tmp_path / "x.csv").exists()


def test_the_delay_is_sized_from_the_lag_and_the_frame_rate_and_capped_in_bytes():
    from types import SimpleNamespace

    from realtime_fer.apps.engine.video_job import open_video_stage
    from realtime_fer.core.temporal import LIVE_DEFAULT, LiveStage

    assert isinstance(open_video_stage(LIVE_DEFAULT, SimpleNamespace(fps=30.0, size=(1920, 1080))), LiveStage)
    assert open_video_stage(OFFLINE_DEFAULT, SimpleNamespace(fps=30.0, size=(1920, 1080))).max_pending == 40
    with pytest.raises(InputError, match="3072 MB"):
        open_video_stage(OFFLINE_DEFAULT.with_(lag_s=4.0), SimpleNamespace(fps=60.0, size=(3840, 2160)))
