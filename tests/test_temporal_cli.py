"""The temporal options of the CLI and the one-pass offline --video job (the lagged filter), on real generated
videos."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from realtime_fer.core.temporal import OFFLINE_DEFAULT, filter_track_offline, filter_track_whole
from tests.conftest import FACE_VIDEO_FRAMES
from tests.test_cli import read_csv, run_cli
from tests.tiny_model import LABELS7


def labels_and_raw(rows):
    return [r["label"] for r in rows], np.array([[float(r[f"raw_{n}"]) for n in LABELS7] for r in rows])


def test_offline_video_keeps_raw_columns_and_filters_whole_tracks(capsys, tmp_path, face_video, tiny_model):
    runs = {}
    for mode in ("off", "offline", "live"):
        out, table = tmp_path / f"{mode}.mp4", tmp_path / f"{mode}.csv"
        lag = ["--lag", "4"] if mode == "offline" else []  # longer than the 2 s clip: whole tracks at once
        code, _, err = run_cli(capsys, "--video", face_video, "--output", out, "--csv", table, "--model", tiny_model,
                               "--temporal", mode, *lag)
        assert code == 0, err
        assert int(cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT)) == FACE_VIDEO_FRAMES
        runs[mode] = read_csv(table)[1]
    off_labels, off_raw = labels_and_raw(runs["off"])
    for mode in ("offline", "live"):
        labels, raw = labels_and_raw(runs[mode])
        assert len(labels) == FACE_VIDEO_FRAMES and raw == pytest.approx(off_raw, abs=1e-4)  # raw is raw in every mode
    assert off_labels == [LABELS7[k] for k in off_raw.argmax(axis=1)]
    # what the one-pass offline job wrote, with a lag longer than the clip, is the whole-track filter of the raw columns
    times = np.array([float(r["time_ms"]) for r in runs["offline"]])
    probs, expected = filter_track_whole(times, off_raw, OFFLINE_DEFAULT)
    assert labels_and_raw(runs["offline"])[0] == [LABELS7[k] for k in expected]
    written = np.array([[float(r[f"prob_{n}"]) for n in LABELS7] for r in runs["offline"]])
    assert written == pytest.approx(probs, abs=2e-4)


def test_offline_tables_without_video_and_the_end_of_run_summary(capsys, tmp_path, face_video, tiny_model):
    table = tmp_path / "faces.csv"
    code, _, err = run_cli(capsys, "--video", face_video, "--csv", table, "--model", tiny_model)
    assert code == 0, err
    rows = read_csv(table)[1]
    assert len(rows) == FACE_VIDEO_FRAMES
    assert "expressions per track" in err and "24" in err  # the rich summary table: one track, 24 frames


def test_smoothing_zero_is_temporal_off(capsys, tmp_path, face_video, tiny_model):
    table = tmp_path / "s0.csv"
    assert run_cli(capsys, "--video", face_video, "--csv", table, "--model", tiny_model, "--smoothing", "0")[0] == 0
    rows = read_csv(table)[1]
    for r in rows:
        assert [r[f"prob_{n}"] for n in LABELS7] == [r[f"raw_{n}"] for n in LABELS7]


@pytest.mark.parametrize("args, fragment", [
    (["--video", "x.mp4", "--tau", "-1"], "--tau"),
    (["--video", "x.mp4", "--switch-margin", "11"], "--switch-margin"),
    (["--video", "x.mp4", "--evidence", "prob", "--switch-margin", "1.5"], "--switch-margin"),
    (["--video", "x.mp4", "--evidence", "nats"], "invalid choice"),
    (["--video", "x.mp4", "--min-hold", "nan"], "--min-hold"),
    (["--video", "x.mp4", "--temporal", "causal"], "invalid choice"),
    (["--camera", "0", "--temporal", "offline"], "--temporal offline"),
    (["--video", "x.mp4", "--lag", "5"], "--lag"),
    (["--video", "x.mp4", "--temporal", "live", "--lag", "1"], "--lag"),
    (["--image", "x.jpg", "--report", "r"], "--report"),
])
def test_temporal_usage_errors_exit_2(capsys, tmp_path, tiny_model, args, fragment):
    code, _, err = run_cli(capsys, *args, "--csv", tmp_path / "o.csv", "--model", tiny_model)
    assert code == 2 and fragment in err.strip().splitlines()[-1]


def test_video_defaults_to_the_offline_filter_and_its_labels_are_filter_track_offline_of_raw(capsys, tmp_path,
                                                                                              face_video, tiny_model):
    table = tmp_path / "default.csv"
    code, _, err = run_cli(capsys, "--video", face_video, "--csv", table, "--model", tiny_model, "--lag", "0.5",
                           "--switch-margin", "0.05", "--min-hold", "0.2", "--tau", "0.3")
    assert code == 0, err
    rows = read_csv(table)[1]
    labels, raw = labels_and_raw(rows)
    times = np.array([float(r["time_ms"]) for r in rows])
    settings = OFFLINE_DEFAULT.with_(lag_s=0.5, margin=0.05, min_hold_s=0.2, tau_s=0.3)
    probs, expected = filter_track_offline(times, raw, settings)
    assert labels == [LABELS7[k] for k in expected]
    written = np.array([[float(r[f"prob_{n}"]) for n in LABELS7] for r in rows])
    assert written == pytest.approx(probs, abs=2e-4)
    assert not np.allclose(written, raw, atol=1e-3)  # smoothed (--tau 0.3), not raw


def test_sigterm_mid_video_leaves_a_playable_video_with_every_recognized_frame(tmp_path, tiny_model):
    import os
    import signal
    import subprocess
    import sys
    import time

    import av

    from tests.conftest import REPO, write_face_video

    long_video = write_face_video(tmp_path / "long.avi", frames=3000, fps=25, size=(320, 240))
    out, table = tmp_path / "out.mp4", tmp_path / "out.csv"
    process = subprocess.Popen([sys.executable, "-m", "realtime_fer.apps.cli", "--video", str(long_video), "--output",
                                str(out), "--csv", str(table), "--model", str(tiny_model)],  # default: offline
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None and not (table.exists() and table.stat().st_size
                                                                             > 20000):
        time.sleep(0.05)  # rows arrive lag_s after their frames
    assert process.poll() is None, "finished before it could be interrupted: " + process.stderr.read().decode()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    err = err.decode()
    assert process.returncode == 143, err
    assert "Traceback" not in err and "interrupted" in err
    rows = read_csv(table)[1]
    assert 25 < len(rows) < 3000
    assert [int(r["frame"]) for r in rows] == list(range(len(rows)))
    with av.open(str(out)) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded == len(rows)  # the frames still waiting for their lag were written too
