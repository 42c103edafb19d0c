"""benchmarks/bench_talking.py on a tiny clip set it is given: real clips (the astronaut's smiling face, and an
empty scene) through the real ``--video`` path and the video model; known labels, a known miss, a clip with no
face, an unscored ``mixed`` clip, and the per-person summary."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from realtime_fer.apps.engine.clip_eval import Clip, score_clip, summarize
from tests.av_clips import write_clip
from tests.conftest import REPO

LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def row(frame, track, label, top):
    return {"frame": str(frame), "track_id": str(track), "label": label,
            **{f"raw_{name}": "0.9" if name == top else "0.01" for name in LABELS}}


def test_the_main_track_is_scored_and_shown_and_raw_labels_are_counted_apart(tmp_path):
    rows = [row(0, 1, "happy", "happy"), row(1, 1, "happy", "sad"), row(2, 1, "sad", "sad"),
            row(0, 2, "angry", "angry")]  # track 2 is a brief second face: not the clip's person
    score = score_clip(Clip(tmp_path / "a.mp4", "happy", "p1"), rows, LABELS)
    assert (score.frames, score.most_shown, score.right) == (3, "happy", True)
    assert score.shown_right == pytest.approx(2 / 3) and score.raw_right == pytest.approx(1 / 3)
    empty = score_clip(Clip(tmp_path / "b.mp4", "neutral", "p2"), [], LABELS)
    assert (empty.frames, empty.right, empty.most_shown) == (0, False, "")


def test_the_summary_weighs_clips_and_people(tmp_path):
    scores = [score_clip(Clip(tmp_path / f"{i}.mp4", label, person), [row(0, 1, shown, shown)], LABELS)
              for i, (label, person, shown) in enumerate([("neutral", "a", "neutral"), ("neutral", "a", "neutral"),
                                                          ("neutral", "a", "neutral"), ("happy", "b", "sad"),
                                                          ("happy", "b", "happy"), ("mixed", "c", "sad")])]
    summary = summarize(scores, LABELS)
    assert summary["clips"] == 5 and summary["people"] == 2  # the mixed clip is not scored
    assert summary["clip_accuracy"] == pytest.approx(4 / 5)
    assert summary["by_person"]["clip_accuracy"] == pytest.approx((1.0 + 0.5) / 2)  # a person's clips first
    assert summary["neutral_shown_neutral"] == 1.0
    assert summary["per_label"]["happy"] == {"clips": 2, "clip_accuracy": 0.5, "frames_right": 0.5,
                                             "raw_frames_right": 0.5}


@pytest.mark.slow
def test_bench_talking_scores_a_tiny_clip_set_through_the_video_path(tmp_path):
    clips = tmp_path / "set" / "clips"
    clips.mkdir(parents=True)
    write_clip(clips / "smile.mp4", frames=16)
    write_clip(clips / "smile_again.mp4", frames=16)
    write_clip(clips / "empty.mp4", frames=8, image=lambda i: np.full((360, 640, 3), 90, np.uint8))
    write_clip(clips / "unsure.mp4", frames=8)
    (tmp_path / "set" / "labels.csv").write_text(
        "path,label,person\nclips/smile.mp4,happy,astronaut\nclips/smile_again.mp4,angry,astronaut\n"
        "clips/empty.mp4,neutral,nobody\nclips/unsure.mp4,mixed,astronaut\n")
    done = subprocess.run([sys.executable, "benchmarks/bench_talking.py", "--data", str(tmp_path / "set"), "--json",
                           "--keep", str(tmp_path / "kept")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    by_name = {clip["name"]: clip for clip in report["clips"]}
    assert by_name["smile.mp4"]["most_shown"] == "happy" and by_name["smile.mp4"]["right"]
    assert by_name["smile_again.mp4"]["most_shown"] == "happy" and not by_name["smile_again.mp4"]["right"]  # the miss
    assert by_name["empty.mp4"]["frames"] == 0 and not by_name["empty.mp4"]["right"]
    assert by_name["smile.mp4"]["frames"] == 16
    summary = report["summary"]
    assert (summary["clips"], summary["people"]) == (3, 2)
    assert summary["clip_accuracy"] == pytest.approx(1 / 3)
    assert summary["by_person"]["clip_accuracy"] == pytest.approx((0.5 + 0.0) / 2)
    assert sorted(summary["per_label"]) == ["angry", "happy", "neutral"]
    assert (tmp_path / "kept" / "smile.csv").is_file()


def test_bench_talking_refuses_a_folder_without_labels(tmp_path):
    done = subprocess.run([sys.executable, "benchmarks/bench_talking.py", "--data", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "labels.csv" in done.stderr and "Traceback" not in done.stderr
