"""The report (timelines, shares, summary) against a CSV whose content is known."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

from realtime_fer.apps.render.report import PALETTE, summarize_counts, write_report
from realtime_fer.io.sinks import table_columns
from tests.test_cli import run_cli
from tests.tiny_model import LABELS7


def write_faces_csv(path, tracks: dict[int, list[tuple[int, str]]], fps: float = 10.0):
    """A faces CSV: per track, (frame, shown label) rows; prob_ = 0.8 for the shown label, raw_ the same."""
    columns = table_columns(LABELS7)
    rows = []
    for track_id, items in tracks.items():
        for frame, label in items:
            probs = [0.8 if name == label else 0.2 / 6 for name in LABELS7]
            rows.append([frame, frame * 1000 / fps, track_id, 10, 10, 50, 50, 0.9, label, 0.8, *probs, *probs])
    rows.sort(key=lambda r: (r[0], r[2]))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def colour_pixels(image: np.ndarray, hex_colour: str, tolerance: int = 12) -> int:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int(np.count_nonzero(np.abs(image[..., ::-1].astype(int) - rgb).max(axis=2) <= tolerance))


@pytest.fixture
def known_csv(tmp_path):
    return write_faces_csv(tmp_path / "faces.csv", {
        1: [(f, "happy") for f in range(6)] + [(f, "sad") for f in range(6, 10)],
        2: [(f, "angry") for f in range(3, 6)],
    })


def test_summary_shares_dominant_and_track_count(tmp_path, known_csv):
    summary = write_report(known_csv, tmp_path / "report")
    assert [t["track_id"] for t in summary["tracks"]] == [1, 2]
    one, two = summary["tracks"]
    assert one["frames"] == 10 and one["dominant"] == "happy"
    assert one["shares"]["happy"] == pytest.approx(0.6) and one["shares"]["sad"] == pytest.approx(0.4)
    assert sum(one["shares"].values()) == pytest.approx(1.0) and list(one["shares"]) == list(LABELS7)
    assert (one["start_s"], one["end_s"]) == (0.0, 0.9)
    assert two["frames"] == 3 and two["dominant"] == "angry" and two["shares"]["angry"] == 1.0
    assert summary["faces"] == 13 and summary["dominant"] == "happy"
    assert json.loads((tmp_path / "report" / "summary.json").read_text()) == summary
    page = (tmp_path / "report" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "60.0 %" in page and "40.0 %" in page


def test_timeline_band_shows_the_shown_labels_in_proportion(tmp_path, known_csv):
    write_report(known_csv, tmp_path / "report")
    image = cv2.imread(str(tmp_path / "report" / "track_1.png"))
    happy, sad = colour_pixels(image, PALETTE["happy"]), colour_pixels(image, PALETTE["sad"])
    assert 1.3 < happy / sad < 1.7  # the band: happy for 0.6 s, sad for 0.4 s (lines and legend add a little)
    assert colour_pixels(image, PALETTE["angry"]) < 0.05 * happy  # track 1 never shows angry
    swapped = write_faces_csv(tmp_path / "swapped.csv", {1: [(f, "sad") for f in range(6)] +
                                                         [(f, "happy") for f in range(6, 10)]})
    write_report(swapped, tmp_path / "swapped")
    image = cv2.imread(str(tmp_path / "swapped" / "track_1.png"))
    assert colour_pixels(image, PALETTE["happy"]) < colour_pixels(image, PALETTE["sad"])


def test_ties_go_to_the_first_class_and_empty_tables():
    from collections import Counter

    summary = summarize_counts({5: (Counter({"sad": 2, "angry": 2}), 0.0, 100.0)}, LABELS7)
    assert summary["tracks"][0]["dominant"] == "angry"
    assert summarize_counts({}, LABELS7) == {"tracks": [], "faces": 0, "dominant": None}


def test_report_command_and_bad_inputs(capsys, tmp_path, known_csv):
    code, out, err = run_cli(capsys, "report", known_csv, "--out", tmp_path / "r")
    assert code == 0, err
    assert (tmp_path / "r" / "report.html").is_file() and "happy" in err  # the rich table goes to stderr
    code, _, err = run_cli(capsys, "report", tmp_path / "missing.csv", "--out", tmp_path / "r")
    assert code == 2 and "not a file" in err
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    code, _, err = run_cli(capsys, "report", other, "--out", tmp_path / "r")
    assert code == 2 and "expected the columns" in err


def test_video_with_report_writes_the_csv_and_the_page(capsys, tmp_path, face_video, tiny_model):
    code, _, err = run_cli(capsys, "--video", face_video, "--report", tmp_path / "rep", "--model", tiny_model)
    assert code == 0, err
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert len(summary["tracks"]) == 1 and summary["tracks"][0]["frames"] == 24
    assert (tmp_path / "rep" / "faces.csv").is_file() and (tmp_path / "rep" / "track_1.png").is_file()
    code, _, err = run_cli(capsys, "--video", face_video, "--report", tmp_path / "rep", "--model", tiny_model)
    assert code == 2 and "--overwrite" in err  # its faces.csv is not replaced silently
