"""``realtime-fer report`` on the CSV of photos (``--image ... --csv``): each photo's faces, never one "track 1"
that merges different people of different photos."""

from __future__ import annotations

import json

import cv2
import numpy as np

from tests.av_clips import run_cli
from tests.conftest import face_frame


def _two_photos(folder):
    """a.jpg with one face, b.jpg with two (the face tile twice, side by side)."""
    folder.mkdir()
    cv2.imwrite(str(folder / "a.jpg"), face_frame(0))
    pair = np.concatenate([face_frame(0), face_frame(0)], axis=1)
    cv2.imwrite(str(folder / "b.jpg"), pair)
    return folder


def test_a_photos_csv_gets_a_per_photo_report(capsys, tmp_path, tiny_model):
    photos = _two_photos(tmp_path / "photos")
    code, err = run_cli(capsys, "--image", photos, "--csv", tmp_path / "faces.csv", "--model", tiny_model)
    assert code == 0, err
    code, err = run_cli(capsys, "report", tmp_path / "faces.csv", "--out", tmp_path / "report")
    assert code == 0, err
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["kind"] == "photos" and "tracks" not in summary
    assert [(p["file"], len(p["faces"])) for p in summary["photos"]] == [("a.jpg", 1), ("b.jpg", 2)]
    assert summary["faces"] == 3 and sum(summary["labels"].values()) == 3
    assert [face["track_id"] for face in summary["photos"][1]["faces"]] == [1, 2]
    assert not list((tmp_path / "report").glob("track_*.png"))  # no timeline of a "track" across photos
    html = (tmp_path / "report" / "report.html").read_text()
    assert "b.jpg" in html and "a.jpg" in html and "start again at 1 in every photo" in html
    assert "0.0-0.0" not in err and "b.jpg" in err


def test_report_on_a_photo_run_points_to_the_per_photo_report(capsys, tmp_path, tiny_model):
    photos = _two_photos(tmp_path / "photos")
    code, err = run_cli(capsys, "--image", photos, "--report", tmp_path / "report", "--model", tiny_model)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "per-photo" in err, err
    assert not (tmp_path / "report").exists()


def test_a_video_csv_still_gets_timelines(capsys, tmp_path, tiny_model, face_video):
    code, err = run_cli(capsys, "--video", face_video, "--csv", tmp_path / "faces.csv", "--model", tiny_model)
    assert code == 0, err
    code, err = run_cli(capsys, "report", tmp_path / "faces.csv", "--out", tmp_path / "report")
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert code == 0 and "kind" not in summary and summary["tracks"], err
    assert list((tmp_path / "report").glob("track_*.png"))
