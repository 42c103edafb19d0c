"""The realtime-fer CLI end to end (in-process ``main`` unless a real process is needed).

Exit codes under test: 0 ok, 1 runtime failure (camera stopped), 2 bad usage/input/model,
143 SIGTERM (outputs finalized).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import random
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime_fer.apps.cli import main
from realtime_fer.io.sinks import table_columns
from tests.conftest import FACE_VIDEO_FPS, FACE_VIDEO_FRAMES, REPO, face_frame, write_face_video
from tests.tiny_model import LABELS7, write_tiny_model


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def video_props(path: Path) -> tuple[int, tuple[int, int], float]:
    """(decoded frame count, (width, height), fps) of a video file."""
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"{path} does not open"
    count = 0
    while cap.read()[0]:
        count += 1
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    return count, size, cap.get(cv2.CAP_PROP_FPS)


# ----------------------------------------------------------------------------- --video

def test_video_annotation_keeps_frames_size_fps_and_writes_tables(capsys, tmp_path, face_video, tiny_model):
    out, table, lines = tmp_path / "out.mp4", tmp_path / "out.csv", tmp_path / "out.jsonl"
    code, _, err = run_cli(capsys, "--video", face_video, "--output", out, "--csv", table, "--jsonl", lines,
                           "--model", tiny_model)
    assert code == 0, err
    count, size, fps = video_props(out)
    assert (count, size) == (FACE_VIDEO_FRAMES, (640, 360)) and fps == pytest.approx(FACE_VIDEO_FPS, rel=1e-3)
    header, rows = read_csv(table)
    assert header == table_columns(LABELS7)
    assert [int(r["frame"]) for r in rows] == list(range(FACE_VIDEO_FRAMES))  # one face per frame
    assert {r["track_id"] for r in rows} == {"1"}
    assert float(rows[5]["time_ms"]) == pytest.approx(5 * 1000 / FACE_VIDEO_FPS, abs=0.01)
    for r in rows:
        x1, y1, x2, y2 = (float(r[k]) for k in ("x1", "y1", "x2", "y2"))
        assert 180 < x1 < x2 < 460 and 80 < y1 < y2 < 280  # the drifting astronaut face
        assert r["label"] in LABELS7
        assert sum(float(r[f"prob_{name}"]) for name in LABELS7) == pytest.approx(1, abs=1e-3)
        assert sum(float(r[f"raw_{name}"]) for name in LABELS7) == pytest.approx(1, abs=1e-3)
    objects = [json.loads(line) for line in lines.read_text().splitlines()]
    assert len(objects) == FACE_VIDEO_FRAMES and list(objects[0]) == header
    assert objects[3]["x1"] == pytest.approx(float(rows[3]["x1"]))
    # the overlay was burnt in: the annotated frame differs from the input around the face
    annotated = cv2.VideoCapture(str(out)).read()[1]
    original = cv2.VideoCapture(str(face_video)).read()[1]
    assert np.abs(annotated.astype(int) - original).max() > 100


def test_existing_outputs_need_overwrite(capsys, tmp_path, face_video, tiny_model):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    code, _, err = run_cli(capsys, "--video", face_video, "--output", out, "--model", tiny_model)
    assert code == 2 and "realtime-fer: error: output" in err and "--overwrite" in err
    assert out.read_bytes() == b"precious"
    code, _, err = run_cli(capsys, "--video", face_video, "--output", out, "--model", tiny_model, "--overwrite",
                           "--max-frames", "5")
    assert code == 0, err
    assert video_props(out)[0] == 5


def test_csv_only_and_no_face_video(capsys, tmp_path, tiny_model):
    blank = tmp_path / "blank.avi"
    writer = cv2.VideoWriter(str(blank), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for i in range(8):
        writer.write(np.full((240, 320, 3), 40 + i, np.uint8))
    writer.release()
    table = tmp_path / "rows.csv"
    code, _, err = run_cli(capsys, "--video", blank, "--csv", table, "--output", tmp_path / "o.avi",
                           "--model", tiny_model)
    assert code == 0, err
    header, rows = read_csv(table)
    assert header == table_columns(LABELS7) and rows == []
    assert video_props(tmp_path / "o.avi")[:2] == (8, (320, 240))


def test_tiny_face_yields_no_rows_and_no_crash(capsys, tmp_path, tiny_model):
    path = tmp_path / "tiny.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 360))
    for i in range(5):
        frame = np.full((360, 640, 3), 90, np.uint8)
        frame[100:116, 100:116] = cv2.resize(face_frame(0)[95:265, 235:405], (16, 16))
        writer.write(frame)
    writer.release()
    code, _, err = run_cli(capsys, "--video", path, "--csv", tmp_path / "t.csv", "--model", tiny_model)
    assert code == 0, err
    assert read_csv(tmp_path / "t.csv")[1] == []


def test_video_requires_an_output(capsys, face_video, tiny_model):
    code, _, err = run_cli(capsys, "--video", face_video, "--model", tiny_model)
    assert code == 2 and "--output" in err


@pytest.mark.parametrize("every", ["1", "2", "3"])
def test_detection_look_ahead_gives_identical_results(capsys, tmp_path, face_video, tiny_model, every):
    tables = {}
    for workers in ("0", "1", "3"):
        tables[workers] = tmp_path / f"w{workers}.csv"
        code, _, err = run_cli(capsys, "--video", face_video, "--csv", tables[workers], "--model", tiny_model,
                               "--workers", workers, "--detect-every", every)
        assert code == 0, err
    plain = tables["0"].read_text()
    assert plain.count("\n") == FACE_VIDEO_FRAMES + 1
    assert tables["1"].read_text() == plain and tables["3"].read_text() == plain


def test_detect_ahead_falls_back_for_frames_it_did_not_see(tiny_model):
    from realtime_fer.apps.engine.detect_ahead import DetectAhead
    from realtime_fer.core.pipeline import Recognizer

    frames = [face_frame(i) for i in range(3)]
    with Recognizer(tiny_model, detector_range="short") as recognizer:
        expected = [recognizer.detector.detect(f).boxes for f in frames]
        ahead = DetectAhead(recognizer.detector)
        ahead.submit(frames[0])
        ahead.submit(frames[2])
        first = recognizer.process(frames[0], detections=ahead.detections_for(frames[0]))
        unseen_frame = frames[1].copy()  # not submitted: detected directly
        unseen = recognizer.process(unseen_frame, detections=ahead.detections_for(unseen_frame))
        last = recognizer.process(frames[2], detections=ahead.detections_for(frames[2]))
        ahead.close()
    assert ahead.misses == 1
    for result, boxes in zip((first, unseen, last), expected):
        np.testing.assert_allclose(result.faces.boxes, boxes)


def test_4k_video_keeps_its_size(capsys, tmp_path, astronaut, tiny_model):
    path = tmp_path / "uhd.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (3840, 2160))
    frame = np.full((2160, 3840, 3), 90, np.uint8)
    frame[300:1836, 1000:2536] = cv2.resize(astronaut, (1536, 1536))
    for _ in range(3):
        writer.write(frame)
    writer.release()
    out, table = tmp_path / "uhd_out.mp4", tmp_path / "uhd.csv"
    code, _, err = run_cli(capsys, "--video", path, "--output", out, "--csv", table, "--model", tiny_model,
                           "--range", "full")
    assert code == 0, err
    assert video_props(out)[:2] == (3, (3840, 2160))
    rows = read_csv(table)[1]
    assert len(rows) == 3 and all(1480 < float(r["x1"]) < 1580 for r in rows)


def test_folder_given_as_video(capsys, tmp_path, tiny_model):
    # a folder is read as numbered frames: it needs --fps, and numbered images in it
    code, _, err = run_cli(capsys, "--video", tmp_path, "--csv", tmp_path / "o.csv", "--model", tiny_model)
    assert code == 2 and "expected --fps" in err and err.count("\n") == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, "--video", empty, "--fps", 30, "--csv", tmp_path / "o.csv", "--model", tiny_model)
    assert code == 2 and "with a number in their name" in err and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.mp4", "no file"),
    (lambda d: (d / "random.mp4").write_bytes(random.Random(7).randbytes(40_000)) and d / "random.mp4", "no decodable frame"),
])
def test_bad_video_inputs_are_one_line_errors(capsys, tmp_path, tiny_model, make, message):
    code, out, err = run_cli(capsys, "--video", make(tmp_path), "--output", tmp_path / "o.mp4", "--model", tiny_model)
    assert code == 2
    assert err.startswith("realtime-fer: error: video") and message in err and err.count("\n") == 1
    assert not (tmp_path / "o.mp4").exists()


def test_special_file_as_video(capsys, tmp_path, tiny_model):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)  # opening it for reading would block forever: must be refused up front
    code, _, err = run_cli(capsys, "--video", fifo, "--csv", tmp_path / "o.csv", "--model", tiny_model)
    assert code == 2 and "special file" in err


def test_unreadable_video_file(capsys, tmp_path, face_video, tiny_model):
    """A file without read permission. Root reads such files anyway, so as root (every CI machine here) the CLI
    runs in a process whose capabilities no longer override file permissions (``setpriv`` drops
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from its bounding set)."""
    locked = tmp_path / "locked.mp4"
    locked.write_bytes(face_video.read_bytes())
    locked.chmod(0)
    args = ["--video", str(locked), "--csv", str(tmp_path / "o.csv"), "--model", str(tiny_model)]
    if os.geteuid() != 0:
        code, _, err = run_cli(capsys, *args)
    else:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to take root's permission override away"
        done = subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--", sys.executable,
                               "-m", "realtime_fer", *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        code, err = done.returncode, done.stderr
    assert code == 2 and "no read permission" in err and "Traceback" not in err, err
    assert not (tmp_path / "o.csv").exists()


def test_truncated_video_processes_what_decodes_and_warns(capsys, tmp_path, tiny_model):
    full = write_face_video(tmp_path / "full.avi", frames=24)
    half = tmp_path / "half.avi"
    half.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    out, table = tmp_path / "o.avi", tmp_path / "o.csv"
    code, _, err = run_cli(capsys, "--video", half, "--output", out, "--csv", table, "--model", tiny_model)
    assert code == 0 and "warning" in err and "truncated" in err
    frames = video_props(out)[0]
    assert 0 < frames < 24
    assert len(read_csv(table)[1]) == frames


def test_truncated_mp4_without_index_is_an_error(capsys, tmp_path, tiny_model):
    full = write_face_video(tmp_path / "full.mp4", frames=24)
    half = tmp_path / "half.mp4"
    half.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    code, _, err = run_cli(capsys, "--video", half, "--output", tmp_path / "o.mp4", "--model", tiny_model)
    assert code == 2 and "truncated" in err


# ----------------------------------------------------------------------------- models, providers, dependencies

def test_missing_model(capsys, tmp_path, face_video):
    code, _, err = run_cli(capsys, "--video", face_video, "--csv", tmp_path / "o.csv", "--model", tmp_path / "no.onnx")
    assert code == 2 and "expression model" in err and "--model" in err
    assert not (tmp_path / "o.csv").exists()


def test_corrupt_model(capsys, tmp_path, face_video):
    model = write_tiny_model(tmp_path)
    model.write_bytes(os.urandom(2000))
    card = json.loads(model.with_suffix(".json").read_text())
    card["sha256"] = ""  # so the load itself (not the hash check) meets the corrupt bytes
    model.with_suffix(".json").write_text(json.dumps(card))
    code, _, err = run_cli(capsys, "--video", face_video, "--csv", tmp_path / "o.csv", "--model", model)
    assert code == 2 and "valid ONNX" in err


def test_model_that_does_not_match_its_sidecar(capsys, tmp_path, face_video):
    model = write_tiny_model(tmp_path, size=48)
    card = json.loads(model.with_suffix(".json").read_text())
    card["input"]["height"] = card["input"]["width"] = 64
    model.with_suffix(".json").write_text(json.dumps(card))
    code, _, err = run_cli(capsys, "--video", face_video, "--csv", tmp_path / "o.csv", "--model", model)
    assert code == 2 and "do not belong together" in err


def test_unavailable_provider(capsys, tmp_path, face_video, tiny_model):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    code, _, err = run_cli(capsys, "--video", face_video, "--csv", tmp_path / "o.csv", "--model", tiny_model,
                           "--provider", "cuda")
    assert code == 2 and "--provider cpu" in err


def test_missing_onnxruntime_prints_the_install_command(capsys, monkeypatch, tmp_path, face_video, tiny_model):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    code, _, err = run_cli(capsys, "--video", face_video, "--csv", tmp_path / "o.csv", "--model", tiny_model)
    assert code == 2 and "pip install 'realtime-fer[cpu]'" in err


@pytest.mark.parametrize("args, fragment", [
    ([], "one of the arguments"),
    (["--video", "x.mp4", "--smoothing", "1.5"], "--smoothing"),
    (["--video", "x.mp4", "--detect-every", "0"], "--detect-every"),
    (["--video", "x.mp4", "--range", "medium"], "invalid choice"),
    (["--video", "x.mp4", "--threads", "-1"], "--threads"),
])
def test_usage_errors_exit_2(capsys, tmp_path, tiny_model, args, fragment):
    extra = ["--csv", str(tmp_path / "o.csv"), "--model", str(tiny_model)] if args else []
    code, _, err = run_cli(capsys, *args, *extra)
    assert code == 2 and fragment in err


def test_classifier_threads_per_mode():
    from realtime_fer.apps.engine.modes import classifier_threads

    assert classifier_threads("camera", cores=2) == classifier_threads("image", cores=8) == 2
    assert classifier_threads("camera", cores=1) == 1
    assert classifier_threads("video", cores=8) == classifier_threads("bench", cores=8) == 1


def test_help_exits_0(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "--camera" in out and "Exit codes" in out


# ----------------------------------------------------------------------------- --image

def test_image_folder_with_grey_rgba_4k_and_a_non_image(capsys, tmp_path, astronaut, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "1_colour.jpg"), astronaut)
    cv2.imwrite(str(folder / "2_grey.png"), cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "3_rgba.png"), cv2.cvtColor(astronaut, cv2.COLOR_BGR2BGRA))
    big = np.full((2160, 3840, 3), 90, np.uint8)
    big[300:1836, 1000:2536] = cv2.resize(astronaut, (1536, 1536))  # face near (1531, 546)-(1816, 831)
    cv2.imwrite(str(folder / "4_uhd.png"), big)
    (folder / "5_readme.txt").write_text("not an image")
    out, table = tmp_path / "out", tmp_path / "faces.csv"
    code, _, err = run_cli(capsys, "--image", folder, "--output", out, "--csv", table, "--model", tiny_model)
    assert code == 0, err
    assert "warning: skipping" in err and "5_readme.txt" in err
    assert sorted(p.name for p in out.iterdir()) == ["1_colour.jpg", "2_grey.png", "3_rgba.png", "4_uhd.png"]
    assert cv2.imread(str(out / "4_uhd.png")).shape == (2160, 3840, 3)
    header, rows = read_csv(table)
    assert header[-1] == "file"
    by_file = {r["file"]: r for r in rows}
    assert sorted(by_file) == ["1_colour.jpg", "2_grey.png", "3_rgba.png", "4_uhd.png"]
    assert [int(r["frame"]) for r in rows] == [0, 1, 2, 3]
    assert all(r["track_id"] == "1" for r in rows)  # tracks reset between unrelated images
    x1, y1 = float(by_file["4_uhd.png"]["x1"]), float(by_file["4_uhd.png"]["y1"])
    assert 1480 < x1 < 1580 and 440 < y1 < 600  # the face found in the 4K frame, in 4K pixels (CenterFace box)


def test_single_image_prints_results_without_outputs(capsys, tmp_path, astronaut, tiny_model):
    path = tmp_path / "astronaut.jpg"
    cv2.imwrite(str(path), astronaut)
    code, out, err = run_cli(capsys, "--image", path, "--model", tiny_model)
    assert code == 0, err
    assert "astronaut.jpg" in out and any(label in out for label in LABELS7)
    code, _, err = run_cli(capsys, "--image", path, "--output", tmp_path / "annotated.jpg", "--model", tiny_model)
    assert code == 0 and cv2.imread(str(tmp_path / "annotated.jpg")).shape == (512, 512, 3)


def test_image_folder_output_refuses_existing_names(capsys, tmp_path, astronaut, tiny_model):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    cv2.imwrite(str(folder / "a.jpg"), astronaut)
    (out / "a.jpg").write_bytes(b"keep")
    code, _, err = run_cli(capsys, "--image", folder, "--output", out, "--model", tiny_model)
    assert code == 2 and "--overwrite" in err and (out / "a.jpg").read_bytes() == b"keep"


# ----------------------------------------------------------------------------- --camera

def test_camera_that_does_not_exist(capsys, tiny_model):
    code, _, err = run_cli(capsys, "--camera", "97", "--no-window", "--model", tiny_model)
    assert code == 2 and "camera 97" in err and err.count("\n") == 1


def test_camera_stand_in_file_with_terminal_table(capsys, tmp_path, face_video, tiny_model):
    table = tmp_path / "live.csv"
    code, out, err = run_cli(capsys, "--camera", face_video, "--no-window", "--csv", table, "--model", tiny_model)
    assert code == 0, err
    assert "#1" in out and "fps" in out and any(label in out for label in LABELS7)
    rows = read_csv(table)[1]
    assert 0 < len(rows) <= FACE_VIDEO_FRAMES and {r["track_id"] for r in rows} == {"1"}
    assert "median latency" in err


def test_no_display_falls_back_to_the_table(capsys, monkeypatch, face_video, tiny_model):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, out, err = run_cli(capsys, "--camera", face_video, "--model", tiny_model, "--max-frames", "3")
    assert code == 0 and "no display" in err and "#1" in out


def test_camera_that_stops_delivering_finalizes_outputs(capsys, monkeypatch, tmp_path, tiny_model):
    from tests.test_sources import _FakeCapture

    frames = [face_frame(i) for i in range(4)]

    class FaceCapture(_FakeCapture):
        def read(self):
            ok, _ = super().read()
            return (True, frames[self.reads - 1].copy()) if ok else (False, None)

    fake = FaceCapture(good=4, hang=False)
    monkeypatch.setattr("realtime_fer.io.sources._open_capture", lambda target, what: fake)
    out, table = tmp_path / "cam.mp4", tmp_path / "cam.csv"
    code, _, err = run_cli(capsys, "--camera", "5", "--no-window", "--output", out, "--csv", table,
                           "--model", tiny_model, "--min-frames", "1")  # a face row in every frame written
    assert code == 1 and "stopped delivering" in err and "outputs finalized" in err
    written = video_props(out)[0]
    rows = read_csv(table)[1]
    assert written >= 1 and len(rows) == written


# ----------------------------------------------------------------------------- bench

def test_bench_synthetic_json(capsys, tiny_model):
    code, out, err = run_cli(capsys, "bench", "--synthetic", "--frames", "20", "--json", "--model", tiny_model)
    assert code == 0, err
    report = json.loads(out)
    assert {"provider", "frames", "fps", "io_only_fps", "ratio", "stages"} <= set(report)
    assert report["provider"] == "CPUExecutionProvider" and report["frames"] == 20
    assert report["faces_per_frame"] == 1.0
    assert report["ratio"] == pytest.approx(report["fps"] / report["io_only_fps"], rel=0.01)
    for stage in ("decode", "detect", "track", "align", "classify", "smooth", "offline_filter", "draw", "encode"):
        values = report["stages"][stage]
        assert 0 < values["median_ms"] <= values["p95_ms"], (stage, values)  # timed on every frame, not left at 0
    stages = report["stages"]  # each timer measures its own stage: BlazeFace costs more than IoU matching
    assert stages["detect"]["p95_ms"] > stages["track"]["p95_ms"] and stages["encode"]["p95_ms"] > stages["smooth"]["p95_ms"]
    assert report["temporal"].startswith("offline")  # bench measures what --video runs by default


def test_bench_measures_the_live_filter_when_asked(capsys, tiny_model):
    code, out, err = run_cli(capsys, "bench", "--synthetic", "--frames", "12", "--json", "--model", tiny_model,
                             "--temporal", "live")
    assert code == 0, err
    report = json.loads(out)
    assert report["temporal"].startswith("live") and "offline_filter" not in report["stages"]


def test_bench_table_on_a_video(capsys, face_video, tiny_model):
    code, out, err = run_cli(capsys, "bench", "--video", face_video, "--model", tiny_model, "--workers", "0")
    assert code == 0, err
    assert "detect" in out and "ratio" in out and "CPUExecutionProvider" in out


# ----------------------------------------------------------------------------- signals (real process)

@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_video_leaves_playable_video_and_complete_csv(tmp_path, tiny_model, signum, code):
    long_video = write_face_video(tmp_path / "long.avi", frames=600, fps=25, size=(320, 240))
    out, table = tmp_path / "out.mp4", tmp_path / "out.csv"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "realtime_fer.apps.cli", "--video", str(long_video), "--output",
                                str(out), "--csv", str(table), "--model", str(tiny_model), "--temporal", "live"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        if table.exists() and table.read_text().count("\n") > 40:
            break
        time.sleep(0.05)
    assert process.poll() is None, "finished before it could be interrupted: " + process.stderr.read().decode()
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    err = err.decode()
    assert process.returncode == code, err
    assert "Traceback" not in err and "interrupted" in err
    frames, size, _ = video_props(out)
    text = table.read_text()
    assert text.endswith("\n")
    header, rows = read_csv(table)
    assert all(len(r) == len(header) and None not in r.values() for r in rows)
    assert 40 <= frames < 600 and size == (320, 240)  # the CSV had 40 rows when the signal was sent
    assert [int(r["frame"]) for r in rows] == list(range(frames))  # the CSV and the video agree
