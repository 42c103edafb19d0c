"""Writers: video (threaded, finalized on close), CSV/JSONL tables, images, output checks."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

from realtime_fer.errors import InputError
from realtime_fer.core.faces import Faces, FrameResult
from realtime_fer.io.sinks import (CsvSink, ImageSink, JsonlSink, VideoSink, check_output, fourcc_for, table_columns,
                                table_rows)

LABELS = ("angry", "happy", "neutral")


def _result(index: int, n_faces: int, smoothed: bool = True) -> FrameResult:
    boxes = np.array([[10 + 100 * k, 20, 60 + 100 * k, 80.25] for k in range(n_faces)], np.float32)
    raw = np.tile(np.array([0.1, 0.7, 0.2], np.float32), (n_faces, 1))
    probs = np.tile(np.array([0.2, 0.5, 0.3], np.float32), (n_faces, 1)) if smoothed else None
    faces = Faces(boxes, np.full(n_faces, 0.9, np.float32), np.zeros((n_faces, 2, 2), np.float32),
                  np.arange(1, n_faces + 1), raw, probs)
    return FrameResult(index, index * 40.0, faces, LABELS, {})


def test_table_columns_order():
    assert table_columns(LABELS) == ["frame", "time_ms", "track_id", "x1", "y1", "x2", "y2", "det_score", "label",
                                     "confidence", "prob_angry", "prob_happy", "prob_neutral", "raw_angry",
                                     "raw_happy", "raw_neutral"]
    assert table_columns(LABELS, with_file=True)[-1] == "file"


def test_table_rows_use_smoothed_label_and_keep_raw():
    rows = table_rows(_result(3, 2))
    assert len(rows) == 2
    row = dict(zip(table_columns(LABELS), rows[1]))
    assert row["frame"] == 3 and row["time_ms"] == 120.0 and row["track_id"] == 2
    assert (row["x1"], row["y1"], row["x2"], row["y2"]) == (110.0, 20.0, 160.0, 80.2)
    assert row["label"] == "happy" and row["confidence"] == 0.5
    assert (row["prob_angry"], row["raw_happy"]) == (0.2, 0.7)
    unsmoothed = dict(zip(table_columns(LABELS), table_rows(_result(0, 1, smoothed=False))[0]))
    assert unsmoothed["confidence"] == 0.7 and unsmoothed["prob_happy"] == 0.7
    assert table_rows(_result(0, 0)) == []


def test_csv_rows_per_face_flushed_per_frame(tmp_path):
    path = tmp_path / "out.csv"
    sink = CsvSink(path, LABELS)
    sink.write(_result(0, 2))
    sink.write(_result(1, 0))  # no face: no row
    with open(path, newline="") as handle:  # readable while the sink is still open
        rows = list(csv.DictReader(handle))
    assert [r["frame"] for r in rows] == ["0", "0"] and [r["track_id"] for r in rows] == ["1", "2"]
    sink.write(_result(2, 1))
    sink.close()
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert header == table_columns(LABELS)
    assert len(rows) == 3 and all(len(r) == len(header) for r in rows)
    assert rows[-1][0] == "2" and sink.rows_written == 3


def test_csv_quotes_file_names_and_jsonl_has_the_same_keys(tmp_path):
    csv_sink = CsvSink(tmp_path / "t.csv", LABELS, with_file=True)
    jsonl_sink = JsonlSink(tmp_path / "t.jsonl", LABELS, with_file=True)
    for sink in (csv_sink, jsonl_sink):
        sink.write(_result(0, 1), "odd, name.jpg")
        sink.close()
    with open(tmp_path / "t.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["file"] == "odd, name.jpg"
    objects = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert len(objects) == 1 and list(objects[0]) == table_columns(LABELS, with_file=True)
    assert objects[0]["file"] == "odd, name.jpg" and objects[0]["prob_neutral"] == 0.3


def test_jsonl_null_for_missing_probabilities(tmp_path):
    result = _result(0, 1)
    bare = FrameResult(0, 0.0, result.faces.replace(raw_probs=None, probs=None), LABELS)
    with JsonlSink(tmp_path / "t.jsonl", LABELS) as sink:
        sink.write(bare)
    obj = json.loads((tmp_path / "t.jsonl").read_text())
    assert obj["label"] is None and obj["prob_happy"] is None and obj["raw_angry"] is None


def test_check_output_refuses_existing_files_and_the_input(tmp_path):
    existing = tmp_path / "out.csv"
    existing.write_text("keep me")
    with pytest.raises(InputError, match="--overwrite"):
        check_output(existing, overwrite=False)
    assert check_output(existing, overwrite=True) == existing
    with pytest.raises(InputError, match="different from the input"):
        check_output(existing, overwrite=True, inputs=(existing,))
    assert check_output(tmp_path / "new" / "out.csv", overwrite=False).parent.is_dir()  # like mkdir -p
    with pytest.raises(InputError, match="is not a folder"):
        check_output(existing / "sub" / "out.csv", overwrite=False)  # a file stands where the folder should be
    with pytest.raises(InputError, match="--overwrite"):
        CsvSink(existing, LABELS)
    assert existing.read_text() == "keep me"


def test_fourcc_by_suffix():
    assert fourcc_for("a.mp4") == "avc1" and fourcc_for("a.mkv") == "avc1" and fourcc_for("a.AVI") == "MJPG"
    with pytest.raises(InputError, match=".mp4"):
        fourcc_for("a.gif")


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_video_sink_writes_every_frame_with_size_and_fps(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with VideoSink(path, 15.0, (64, 48)) as sink:
        for i in range(10):
            sink.write(np.full((48, 64, 3), i * 20, np.uint8))
        sink.write(np.zeros((96, 128, 3), np.uint8))  # another size is resized, not dropped
    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    assert count == 11 and sink.frames_written == 11
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (64, 48)
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(15.0)


def test_video_sink_refuses_existing_output(tmp_path):
    path = tmp_path / "out.mp4"
    path.write_bytes(b"old")
    with pytest.raises(InputError, match="--overwrite"):
        VideoSink(path, 10, (32, 32))
    VideoSink(path, 10, (32, 32), overwrite=True).close()
    assert path.read_bytes() != b"old"


def test_image_sink_folder_keeps_names_and_checks_existing(tmp_path):
    out = tmp_path / "annotated"
    sink = ImageSink(out, folder=True)
    image = np.full((20, 30, 3), 77, np.uint8)
    sink.write(image, "a.jpg")
    sink.write(image, "b.png")
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "b.png"]
    assert np.array_equal(cv2.imread(str(out / "b.png")), image)
    with pytest.raises(InputError, match="a.jpg"):
        ImageSink(out, folder=True).check_names(["a.jpg"])
    ImageSink(out, folder=True, overwrite=True).check_names(["a.jpg"])
    with pytest.raises(InputError, match="expected a folder"):
        ImageSink(out / "a.jpg", folder=True)
