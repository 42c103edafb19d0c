"""A model whose answers are known, on a clip whose answer changes mid-clip: the shown label end to end.

The brightness model (``tests.tiny_model.write_brightness_model``) says "sad" for a dim face crop and "happy"
for a bright one. The clip (10 fps, 5 s, H.264) shows the astronaut's face dimmed to half for its first 3 s and
at full brightness for the last 2 s, with a 0.1 s bright blip (frame 24) in the dim half (the temporal stage
shows nothing shorter than 0.16 s live and 0.31 s offline once a face is 2 s old, docs/temporal.md). The raw argmax
therefore switches three times (sad, happy blip, sad, happy); the temporal filter must switch once and ignore
the blip, and what the CSV says must be what the overlay shows, what the report counts and what ``eval`` scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.av_clips import write_clip
from tests.test_cli import read_csv, run_cli
from tests.tiny_model import LABELS7

FPS, FRAMES, SWITCH, BLIP = 10, 50, 30, (24,)
SIZE, SIDE = (640, 360), 160
RAW = ["happy" if i >= SWITCH or i in BLIP else "sad" for i in range(FRAMES)]
"""The raw argmax per frame, known from the model and the clip."""
ABAW = {"happy": 4, "sad": 5}  # Happiness, Sadness in eval's annotation classes


def frame(index: int) -> np.ndarray:
    from tests.conftest import _face_tile

    image = np.full((SIZE[1], SIZE[0], 3), (96, 80, 64), np.uint8)
    tile = _face_tile(SIDE)
    y = (SIZE[1] - SIDE) // 2
    image[y:y + SIDE, 240:240 + SIDE] = tile if RAW[index] == "happy" else (tile * 0.5).astype(np.uint8)
    return image


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("known") / "dim_then_bright.mp4", frames=FRAMES, fps=FPS, size=SIZE,
                      image=frame)


@pytest.fixture(scope="module")
def brightness_model(tmp_path_factory) -> Path:
    from tests.tiny_model import write_brightness_model

    return write_brightness_model(tmp_path_factory.mktemp("brightness"))


def raw_argmax(rows) -> list[str]:
    return [LABELS7[int(np.argmax([float(r[f"raw_{n}"]) for n in LABELS7]))] for r in rows]


def overlay_labels(video: Path, rows) -> list[tuple[str | None, str | None]]:
    """Per decoded frame of ``video``: (the class whose bar the overlay drew in the track's colour, the class whose
    name makes the tag as wide as it is), read from the pixels where ``Overlay.rects`` puts the panel and the tag
    of the face box of ``rows``."""
    import av

    from realtime_fer.apps.render.overlay import Overlay, color_for
    from realtime_fer.core.faces import Faces, FrameResult

    overlay = Overlay(LABELS7)
    metrics = overlay.metrics(*SIZE)
    colour = np.array(color_for(int(rows[0]["track_id"])))
    out = []
    with av.open(str(video)) as container:
        for image, row in zip((f.to_ndarray(format="bgr24") for f in container.decode(video=0)), rows):
            box = np.array([[float(row[k]) for k in ("x1", "y1", "x2", "y2")]], np.float32)
            probs = np.array([[float(row[f"prob_{n}"]) for n in LABELS7]], np.float32)
            faces = Faces(box, np.ones(1), np.zeros((1, 2, 2)), np.array([int(row["track_id"])]), probs, probs,
                          np.array([LABELS7.index(row["label"])]))
            rects = overlay.rects(*SIZE, FrameResult(0, 0.0, faces, LABELS7))
            in_colour = np.abs(image.astype(int) - colour).max(axis=2) < 60
            # the bar panel: one row of metrics.row_h pixels per class, the shown class's bar in the track colour
            px1, py1, px2, py2 = rects["panels"][0]
            ys = np.nonzero(in_colour[py1:py2, px1 + metrics.abbrev_w:px2])[0]
            bar = LABELS7[int((np.median(ys) - metrics.pad) // metrics.row_h)] if len(ys) > 20 else None
            # the tag "#<id> <label> <confidence>[ held]": a filled rectangle as wide as its text
            tx1, ty1, _, ty2 = rects["tags"][0]
            width = int(in_colour[ty1:ty2, max(tx1 - 4, 0):tx1 + 250].sum(axis=1).max())

            def tag_width(text: str) -> int:
                return overlay._tag_size(text, metrics)[0]

            texts = {f"#{row['track_id']} {name} {float(row['confidence']):.2f}{held}": name
                     for name in ("happy", "sad") for held in ("", " held")}
            tag = texts[min(texts, key=lambda text: abs(tag_width(text) - width))] if width > 20 else None
            out.append((bar, tag))
    return out


@pytest.mark.parametrize("mode, first_happy", [("offline", range(SWITCH - 2, SWITCH + 3)),
                                               ("live", range(SWITCH + 1, SWITCH + 10))])
def test_the_shown_label_switches_once_ignores_the_blip_and_is_what_the_overlay_and_report_show(
        capsys, tmp_path, clip, brightness_model, mode, first_happy):
    out, table, report = tmp_path / "out.mp4", tmp_path / "faces.csv", tmp_path / "report"
    temporal = [] if mode == "offline" else ["--temporal", mode]  # offline is --video's default
    code, _, err = run_cli(capsys, "--video", clip, "--output", out, "--csv", table, "--report", report,
                           "--model", brightness_model, *temporal)
    assert code == 0, err
    rows = read_csv(table)[1]
    assert [int(r["frame"]) for r in rows] == list(range(FRAMES)) and {r["track_id"] for r in rows} == {"1"}
    assert raw_argmax(rows) == RAW  # the model's known answers: three raw switches
    labels = [r["label"] for r in rows]
    switch = labels.index("happy") if "happy" in labels else None
    assert switch in first_happy and labels == ["sad"] * switch + ["happy"] * (FRAMES - switch), labels
    assert all(labels[i] != RAW[i] for i in BLIP)  # the filter, not the raw argmax, is what is written
    # the tag always names the shown label; its bar is drawn in the track's colour unless the label is held on
    # other frames' evidence with too little probability in this frame for a readable bar (then " held" says so)
    shown = [float(r[f"prob_{r['label']}"]) for r in rows]
    expected = [(label if p >= 0.2 else None, label) for label, p in zip(labels, shown)]
    assert overlay_labels(out, rows) == expected
    faint = [i for i, (bar, _) in enumerate(expected) if bar is None]
    assert all(i in BLIP or SWITCH <= i < switch for i in faint), faint  # only at the blip and before the switch
    summary = json.loads((report / "summary.json").read_text())
    assert summary["tracks"][0]["shares"]["happy"] == pytest.approx((FRAMES - switch) / FRAMES)
    assert summary["tracks"][0]["frames"] == FRAMES


def write_annotation(path: Path, labels) -> Path:
    from realtime_fer.apps.engine.evaluate import ABAW_CLASSES

    path.write_text(",".join(ABAW_CLASSES) + "\n" + "\n".join(str(ABAW[label]) for label in labels) + "\n")
    return path


@pytest.mark.parametrize("mode", ["offline", "live"])
def test_eval_scores_exactly_what_video_writes(capsys, tmp_path, clip, brightness_model, mode):
    """Annotate the clip with the labels ``--video`` wrote: ``eval`` with the same settings must score every frame
    right (and the raw argmax, three frames away from them, must not)."""
    table = tmp_path / "faces.csv"
    temporal = [] if mode == "offline" else ["--temporal", mode]
    assert run_cli(capsys, "--video", clip, "--csv", table, "--model", brightness_model, *temporal)[0] == 0
    rows = read_csv(table)[1]
    labels = [r["label"] for r in rows]
    assert len(labels) == FRAMES
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / clip.name).symlink_to(clip)
    for annotation, expected in ((labels, 1.0), (RAW, 1.0 - sum(a != b for a, b in zip(labels, RAW)) / FRAMES)):
        folder = tmp_path / ("written" if expected == 1.0 else "raw")
        folder.mkdir()
        write_annotation(folder / f"{clip.stem}.txt", annotation)
        code, out, err = run_cli(capsys, "eval", videos, folder, "--model", brightness_model, *temporal, "--json")
        assert code == 0, err
        result = json.loads(out)["results"][0]
        assert result["mode"] == mode and result["frames"] == FRAMES and result["no_face"] == 0
        assert result["accuracy_known"] == pytest.approx(expected)
    assert expected < 1.0  # the raw argmax differs from the written labels, so a mismatch would show
