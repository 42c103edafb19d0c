"""Faces in a recorded video with the --video defaults (data tier): the 36 group photos shown 1 s each in a
1280x720, 25 fps video (benchmarks/eval_video_faces.py) through the real --video path; recall on each photo's
middle frame. Measured 0.975 (116/119) on 2026-12-07 (docs/detection.md); the floor sits a little under it."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import REPO
from tests.data_tier.samples import DATA, require

spec = importlib.util.spec_from_file_location("eval_video_faces", REPO / "benchmarks" / "eval_video_faces.py")
evf = importlib.util.module_from_spec(spec)
sys.modules["eval_video_faces"] = evf
spec.loader.exec_module(evf)


@pytest.mark.data
def test_video_default_finds_the_group_photo_faces(tmp_path):
    require(DATA / "group_photos" / "labels.csv")
    photos = evf.photo_set(DATA, "groups", 1)
    truths = evf.build_video(photos, tmp_path / "groups.mp4", (1280, 720), 25, 25)
    fps, _ = evf.run_cli(tmp_path / "groups.mp4", tmp_path / "groups.jsonl", [])
    result = evf.score(truths, evf.read_jsonl(tmp_path / "groups.jsonl"), 25)
    assert result.faces == 119
    assert result.recall >= 0.95, result
    assert fps > 0
