"""The temporal options of the CLI and the two-pass offline --video job, on real generated videos."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from realtime_fer.apps.offline_video import TrackBuffer
from realtime_fer.core.faces import Faces, FrameResult
from realtime_fer.core.temporal import OFFLINE_DEFAULT, filter_track_offline
from tests.conftest import FACE_VIDEO_FRAMES
from tests.test_cli import read_csv, run_cli
from tests.tiny_model import LABELS7


def labels_and_raw(rows):
    return [r["label"] for r in rows], np.array([[float(r[f"raw_{n}"]) for n in LABELS7] for r in rows])


def test_offline_video_keeps_raw_columns_and_filters_whole_tracks(capsys, tmp_path, face_video, tiny_model):
    runs = {}
    for mode in ("off", "offline", "live"):
        out, table = tmp_path / f"{mode}.mp4", tmp_path / f"{mode}.csv"
        code, _, err = run_cli(capsys, "--video", face_video, "--output", out, "--csv", table, "--model", tiny_model,
                               "--temporal", mode)
        assert code == 0, err
        assert int(cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT)) == FACE_VIDEO_FRAMES
        runs[mode] = read_csv(table)[1]
    off_labels, off_raw = labels_and_raw(runs["off"])
    for mode in ("offline", "live"):
        labels, raw = labels_and_raw(runs[mode])
        assert len(labels) == FACE_VIDEO_FRAMES and raw == pytest.approx(off_raw, abs=1e-4)  # raw is raw in every mode
    assert off_labels == [LABELS7[k] for k in off_raw.argmax(axis=1)]
    # what the offline job wrote is the whole-track filter of the raw probabilities
    times = np.array([float(r["time_ms"]) for r in runs["offline"]])
    probs, expected = filter_track_offline(times, off_raw, OFFLINE_DEFAULT)
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
    (["--video", "x.mp4", "--switch-margin", "1.5"], "--switch-margin"),
    (["--video", "x.mp4", "--min-hold", "nan"], "--min-hold"),
    (["--video", "x.mp4", "--temporal", "causal"], "invalid choice"),
    (["--camera", "0", "--temporal", "offline"], "--temporal offline"),
    (["--image", "x.jpg", "--report", "r"], "--report"),
])
def test_temporal_usage_errors_exit_2(capsys, tmp_path, tiny_model, args, fragment):
    code, _, err = run_cli(capsys, *args, "--csv", tmp_path / "o.csv", "--model", tiny_model)
    assert code == 2 and fragment in err.strip().splitlines()[-1]


def test_track_buffer_replays_every_face_with_its_filtered_label():
    buffer = TrackBuffer(("a", "b"))
    raw = np.array([[0.9, 0.1]] * 10 + [[0.3, 0.7]] + [[0.9, 0.1]] * 10, np.float32)  # one-frame blip on track 1
    for t in range(len(raw)):
        boxes = np.array([[t, 0, t + 10, 10], [50, 0, 60, 10]], np.float32)
        faces = Faces(boxes, [0.9, 0.8], np.zeros((2, 6, 2)) + t, [1, 2],
                      raw_probs=np.stack([raw[t], [0.2, 0.8]]))
        buffer.write(FrameResult(t, t * 40.0, faces if t != 5 else Faces.empty(6), ("a", "b")))
    replay = buffer.finish(OFFLINE_DEFAULT)
    results = list(replay.results())
    assert len(results) == 21 and len(results[5].faces) == 0 and len(results[6].faces) == 2
    seven = replay.process(None, index=7)
    assert seven.faces.boxes[0].tolist() == [7, 0, 17, 10] and seven.faces.keypoints[0, 3].tolist() == [7, 7]
    assert seven.faces.raw_probs[0].tolist() == pytest.approx([0.9, 0.1])
    assert [r.top()[0][0] for r in results if len(r.faces)] == ["a"] * 20  # the blip at frame 10 is gone
    assert {r.top()[1][0] for r in results if len(r.faces)} == {"b"}
    assert len(replay.process(None, index=99).faces) == 0


def test_sigterm_during_the_offline_first_pass_writes_the_recognized_rows(tmp_path, tiny_model):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO, write_face_video

    long_video = write_face_video(tmp_path / "long.avi", frames=3000, fps=25, size=(320, 240))
    out, table = tmp_path / "out.mp4", tmp_path / "out.csv"
    process = subprocess.Popen([sys.executable, "-m", "realtime_fer.apps.cli", "--video", str(long_video), "--output",
                                str(out), "--csv", str(table), "--model", str(tiny_model), "--temporal", "offline"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None and not table.exists():
        time.sleep(0.05)  # the header is written just before pass 1 starts
    time.sleep(1.0)
    assert process.poll() is None, "finished before it could be interrupted: " + process.stderr.read().decode()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    err = err.decode()
    assert process.returncode == 143, err
    assert "Traceback" not in err and "was not written" in err
    rows = read_csv(table)[1]
    assert 0 < len(rows) < 3000
    assert [int(r["frame"]) for r in rows] == list(range(len(rows)))
