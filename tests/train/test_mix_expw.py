"""ExpW-layout evaluation, runtime-detector crops, and the mixed-source (FER+ soft + ExpW) training data.

The ExpW-style fixtures hold real faces (``skimage``'s astronaut, see ``tests/images.py``) so the
runtime's BlazeFace really runs; the FER2013-style fixture is generated 48x48 PNGs with FER+ votes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.images import face_tile
from tests.tiny_model import write_tiny_model
from train import evaluate as ev
from train import mix

TILE_FACE_BOX = (37, 28, 122, 113)  # the astronaut's face inside face_tile(160), xyxy pixels
EXPW_COLUMNS = ["path", "label", "split", "photo", "face_id", "box_x1", "box_y1", "box_x2", "box_y2"]


def _photo(faces: int = 1, dim_right: bool = False) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """(240, 240*faces, 3) BGR photo with ``faces`` face tiles; returns it and each face's box."""
    photo = np.full((240, 240 * faces, 3), 100, np.uint8)
    boxes = []
    for i in range(faces):
        tile = face_tile(160)
        if dim_right and i == faces - 1:
            tile = (tile * 0.55).astype(np.uint8)
        photo[40:200, 240 * i + 40:240 * i + 200] = tile
        x0, y0 = 240 * i + 40, 40
        boxes.append((x0 + TILE_FACE_BOX[0], y0 + TILE_FACE_BOX[1], x0 + TILE_FACE_BOX[2], y0 + TILE_FACE_BOX[3]))
    return photo, boxes


def write_expw(root: Path, rows: list[tuple[str, str, str, np.ndarray, tuple]]) -> Path:
    """An ExpW-style folder: faces/<name>.jpg and labels.csv (path, label, split, ..., box)."""
    (root / "faces").mkdir(parents=True)
    with open(root / "labels.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPW_COLUMNS)
        for name, label, split, image, box in rows:
            cv2.imwrite(str(root / "faces" / f"{name}.jpg"), image)
            writer.writerow([f"faces/{name}.jpg", label, split, name, 0, *box])
    return root


# ----------------------------------------------------------------- ExpW layout in train.evaluate

def _half_model(tmp_path: Path) -> Path:
    """4x4 grey model: left half bright -> a, right half bright -> b, all bright -> c."""
    w = np.zeros((16, 3), np.float32)
    cols = np.arange(16) % 4
    w[cols < 2, 0], w[cols >= 2, 1], w[:, 2] = 1.0, 1.0, 0.6
    return write_tiny_model(tmp_path, labels=("a", "b", "c"), size=4, weights=w)


def _write_split_set(root: Path, extra_label: str | None = None) -> None:
    left, right, full = (np.zeros((4, 4), np.uint8) for _ in range(3))
    left[:, :2], right[:, 2:], full[:] = 255, 255, 255
    # val: a<-left, a<-right (wrong), b<-right, c<-full; train: b<-left (would be wrong, must be ignored)
    layout = [("a", "val", left), ("a", "val", right), ("b", "val", right), ("c", "val", full), ("b", "train", left)]
    if extra_label:
        layout.append((extra_label, "val", full))
    root.mkdir(parents=True)
    lines = ["path,label,split"]
    for i, (label, split, img) in enumerate(layout):
        cv2.imwrite(str(root / f"{i}.png"), img)
        lines.append(f"{i}.png,{label},{split}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")


def test_expw_layout_split_selects_rows_and_gives_known_numbers(tmp_path):
    model = _half_model(tmp_path)
    _write_split_set(tmp_path / "expw")
    val = ev.evaluate(model, tmp_path / "expw", split="val", per_image=tmp_path / "rows.csv")
    assert val["n"] == 4 and val["accuracy"] == 0.75
    assert val["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert val["predicted_share"] == {"a": 0.25, "b": 0.5, "c": 0.25}
    everything = ev.evaluate(model, tmp_path / "expw")
    assert everything["n"] == 5 and everything["accuracy"] == 0.6
    rows = list(csv.DictReader(open(tmp_path / "rows.csv", encoding="utf-8")))
    assert [(r["true"], r["predicted"]) for r in rows] == [("a", "a"), ("a", "b"), ("b", "b"), ("c", "c")]
    assert abs(sum(float(r[f"prob_{c}"]) for c in "abc" for r in rows[:1]) - 1.0) < 1e-3


def test_expw_layout_unknown_label_is_one_clear_line(tmp_path, capsys):
    model = _half_model(tmp_path)
    _write_split_set(tmp_path / "expw", extra_label="contempt")
    assert ev.main(["--model", str(model), "--data", str(tmp_path / "expw"), "--split", "val"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'contempt'" in err and "['a', 'b', 'c']" in err


def test_split_without_a_split_column_is_a_clear_error(tmp_path, capsys):
    model = _half_model(tmp_path)
    (tmp_path / "d").mkdir()
    cv2.imwrite(str(tmp_path / "d" / "0.png"), np.zeros((4, 4), np.uint8))
    (tmp_path / "d" / "labels.csv").write_text("path,label\n0.png,a\n")
    assert ev.main(["--model", str(model), "--data", str(tmp_path / "d"), "--split", "val"]) == 2
    assert "expected a 'split' column" in capsys.readouterr().err


# ----------------------------------------------------------------- crops through the runtime's detector

def test_detect_cropper_takes_the_labelled_face_and_misses_a_face_that_is_not_there(tmp_path):
    from realtime_fer.core.align import CropSpec

    from train.face_crops import DetectCropper

    photo, boxes = _photo(faces=2, dim_right=True)
    cv2.imwrite(str(tmp_path / "two.jpg"), photo)
    with DetectCropper((48, 48), CropSpec(), grayscale=True, range="full") as cropper:
        left = cropper(tmp_path / "two.jpg", boxes[0])
        right = cropper(tmp_path / "two.jpg", boxes[1])
        nowhere = cropper(tmp_path / "two.jpg", (0, 0, 30, 30))
    assert left.shape == right.shape == (48, 48, 1) and left.dtype == np.uint8
    assert right.mean() < 0.75 * left.mean()  # the dimmed face on the right, not the most confident one
    assert nowhere is None


# ----------------------------------------------------------------- train.mix

def write_fer2013(root: Path) -> dict[str, np.ndarray]:
    """A FER2013-style folder (labels.csv with original labels + FER+ votes); returns path -> expected target."""
    rng = np.random.default_rng(3)
    votes_cols = mix.FERPLUS_ALL
    (root / "train").mkdir(parents=True)
    (root / "val").mkdir(parents=True)
    header = ["path", "usage", "fer2013_emotion", *votes_cols]
    rows, expected = [], {}
    #            votes: neutral happiness surprise sadness anger disgust fear contempt unknown NF
    specs = [("train/0.png", "Training", "sad", [6, 0, 0, 4, 0, 0, 0, 0, 0, 0]),
             ("train/1.png", "Training", "happy", [0, 10, 0, 0, 0, 0, 0, 0, 0, 0]),
             ("train/2.png", "Training", "angry", [0, 0, 0, 0, 2, 0, 0, 0, 3, 5]),   # mostly unknown/NF: left out
             ("train/3.png", "Training", "fear", [1, 0, 5, 0, 0, 0, 3, 1, 0, 0]),
             ("train/dup.png", "Training", "sad", [6, 0, 0, 4, 0, 0, 0, 0, 0, 0]),  # byte copy of 0.png
             ("val/9.png", "PublicTest", "happy", [0, 10, 0, 0, 0, 0, 0, 0, 0, 0])]  # never used
    images = {}
    for path, usage, label, votes in specs:
        if path.endswith("dup.png"):
            (root / path).write_bytes((root / "train/0.png").read_bytes())
        else:
            images[path] = rng.integers(0, 256, (48, 48), dtype=np.uint8)
            cv2.imwrite(str(root / path), images[path])
        rows.append([path, usage, label, *votes])
    with open(root / "labels.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    order = mix.CLASSES
    expected["train/0.png"] = np.array([0, 0, 0, 0, .6, .4, 0], np.float32)           # neutral 6, sad 4
    expected["train/1.png"] = np.eye(7, dtype=np.float32)[order.index("happy")]
    expected["train/3.png"] = np.array([0, 0, 3 / 9, 0, 1 / 9, 0, 5 / 9], np.float32)  # contempt vote dropped
    return expected


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix")
    expected = write_fer2013(root / "fer2013")
    one, box = _photo(1)
    rows = [(f"happy_{i}", "happy", "train", one, box[0]) for i in range(2)]
    rows += [("sad_0", "sad", "train", np.full((240, 240, 3), 100, np.uint8), (60, 60, 180, 180))]  # no face
    rows += [("surprise_v", "surprise", "val", one, box[0]), ("angry_v", "angry", "val", one, box[0])]
    write_expw(root / "expw", rows)
    meta = mix.mix(root / "fer2013", root / "expw", root / "prepared", fer_labels="ferplus", expw_repeat=3,
                   crop_file=Path(__file__).resolve().parents[2] / "configs" / "fer2013_crop.json")
    return root, meta, expected


def test_mix_soft_targets_dedup_and_exclusions(mixed):
    root, meta, expected = mixed
    out = root / "prepared"
    x, y, source = np.load(out / "train_x.npy"), np.load(out / "train_y.npy"), np.load(out / "train_source.npy")
    assert meta["counts"]["fer2013_train"] == 3 and meta["left_out"]["fer2013"]["duplicate"] == 1
    assert meta["left_out"]["fer2013"]["mostly_unknown_or_not_face"] == 1
    assert meta["counts"]["expw_train_faces"] == 2 and meta["left_out"]["expw_train"] == {"labelled_face_not_detected": 1}
    assert len(x) == 3 + 2 * 3 and x.shape[1:] == (48, 48, 1) and x.dtype == np.float32 and x.max() <= 1.0
    assert (source == 1).sum() == 6 and (source == 0).sum() == 3
    np.testing.assert_allclose(y.sum(1), 1.0, atol=1e-6)
    fer_targets = sorted(map(tuple, np.round(y[source == 0], 5)))
    assert fer_targets == sorted(tuple(np.round(t, 5)) for t in expected.values())
    assert (y[source == 1].argmax(1) == mix.CLASSES.index("happy")).all()
    val_y = np.load(out / "val_y.npy")
    assert sorted(mix.CLASSES[k] for k in val_y.argmax(1)) == ["angry", "surprise"]
    assert (out / "val_files.txt").read_text().split() == ["faces/surprise_v.jpg", "faces/angry_v.jpg"]


def test_mix_fer_labels_choices():
    assert mix.parse_fer_labels("ferplus") == 0.0 and mix.parse_fer_labels("fer2013") == 1.0
    assert mix.parse_fer_labels("mix:0.25") == 0.25
    for bad in ("mix:2", "mix:x", "votes"):
        with pytest.raises(mix.MixError, match="expected ferplus, fer2013 or mix:A"):
            mix.parse_fer_labels(bad)


def test_mix_cli_bad_folder_is_one_line(tmp_path, capsys):
    assert mix.main(["--fer2013", str(tmp_path / "nope"), "--expw", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "expected a labels.csv" in err


def test_soft_mixed_smoke_training_exports_with_parity_and_evaluates_through_the_detector(mixed, tmp_path):
    pytest.importorskip("tensorflow", reason="training needs the train extra (tensorflow-cpu, keras)")
    pytest.importorskip("tf2onnx", reason="Keras 3 ONNX export needs tf2onnx")
    from train import export
    from train import fit as fit_mod
    from train.config import config_from_dict

    root, _, _ = mixed
    cfg = config_from_dict({
        "name": "mixsmoke", "data": str(root / "prepared"), "out": str(tmp_path / "run"), "epochs": 1,
        "batch_size": 4, "model": {"widths": [4, 8, 8], "blocks": [1, 1]}, "label_smoothing": 0.05,
        "augment": {"flip": 0.5, "rotate": 5.0, "blur": 0.5, "jpeg": 0.5, "noise": 0.5, "light": 0.5}})
    result = fit_mod.fit(cfg)
    assert result["best_epoch"] == 1 and (tmp_path / "run" / "best.keras").is_file()
    summary = export.export_run(tmp_path / "run", tmp_path / "m.onnx", parity_images=8,
                                crop_file=str(Path(__file__).resolve().parents[2] / "configs" / "fer2013_crop.json"))
    assert summary["parity_max_abs_diff"] <= 1e-4
    card = json.loads((tmp_path / "m.json").read_text())
    assert "ExpW" in card["training"]["label_source"] and card["crop"]["scale"] == pytest.approx(1.185)
    report = ev.evaluate(tmp_path / "m.onnx", root / "expw", split="val", detect=True)
    assert report["n"] == 2 and report["no_face"] == 0 and sum(map(sum, report["confusion"])) == 2
