"""benchmarks/eval_video_faces.py: letterboxing and box mapping, the middle-frame matching on known boxes with a
known miss, and a tiny labelled photo set through the real ``--video`` path (the astronaut's face, plus a labelled
box on a blank patch that no detector can find)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import cv2
import numpy as np

from tests.conftest import REPO
from tests.images import astronaut_bgr

spec = importlib.util.spec_from_file_location("eval_video_faces", REPO / "benchmarks" / "eval_video_faces.py")
evf = importlib.util.module_from_spec(spec)
sys.modules["eval_video_faces"] = evf  # dataclasses look their module up there
spec.loader.exec_module(evf)


def test_letterbox_fits_and_centres_and_boxes_follow():
    scale, dx, dy = evf.letterbox(400, 200, 1280, 720)
    assert (scale, dx, dy) == (3.2, 0.0, 40.0)
    assert evf.map_boxes(np.array([[10, 20, 30, 40]]), scale, dx, dy).tolist() == [[32.0, 104.0, 96.0, 168.0]]
    assert evf.letterbox(300, 600, 1280, 720) == (1.2, 460.0, 0.0)


def test_score_matches_on_each_photos_middle_frame_with_a_known_miss():
    truths = [np.array([[100, 100, 200, 200], [400, 100, 500, 200]], np.float32),  # photo 0: 2 faces
              np.array([[50, 50, 90, 90]], np.float32)]  # photo 1: 1 face, never found
    boxes = {2: np.array([[105, 95, 205, 190], [700, 700, 760, 760]], np.float32),  # one hit, one stray box
             3: np.array([[400, 100, 500, 200]], np.float32),  # photo 0's second face, but not on the middle frame
             7: np.zeros((0, 4), np.float32)}
    result = evf.score(truths, boxes, frames_per_photo=5)
    assert (result.images, result.faces, result.found, result.unmatched) == (2, 3, 1, 1)
    assert result.recall == 1 / 3 and result.unmatched_per_image == 0.5
    assert [evf.middle_frame(i, 5) for i in range(3)] == [2, 7, 12]


def test_a_tiny_photo_set_through_the_video_path(tmp_path):
    folder = tmp_path / "data" / "group_photos"
    (folder / "images").mkdir(parents=True)
    photo = np.full((360, 640, 3), 128, np.uint8)
    photo[40:296, 40:296] = cv2.resize(astronaut_bgr(), (256, 256))
    cv2.imwrite(str(folder / "images" / "a.jpg"), photo)
    face = [40 + v * 0.5 for v in (177, 82, 272, 177)]  # the astronaut's face, scaled 0.5 into the photo
    rows = ["path,x1,y1,x2,y2", "images/a.jpg," + ",".join(f"{v:g}" for v in face),
            "images/a.jpg,500,200,560,260"]  # a blank patch: the known miss
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    done = subprocess.run([sys.executable, "benchmarks/eval_video_faces.py", "--data", str(tmp_path / "data"),
                           "--sets", "groups", "--size", "640x360", "--seconds", "1", "--fps", "8",
                           "--work", str(tmp_path / "work"), "--json", str(tmp_path / "out.jsonl")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "out.jsonl").read_text())
    assert (result["photos"], result["faces"], result["found"], result["unmatched"]) == (1, 2, 1, 0)
    assert "| group_photos | 1 | 0.500 (1/2) | 0.00 |" in done.stdout
    assert list((tmp_path / "work").glob("*.mp4"))  # the video is kept for the next run
