"""Bad input: corrupt and non-image files, empty or tiny classes, mixed images, broken labels.csv, CLI errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.train.conftest import make_class_folders, unique_png
from train.datasets import DatasetError
from train.prepare import Config, main, prepare

ROOT = Path(__file__).resolve().parents[2]


def small_set(root: Path, per_class: int = 10, classes=("a", "b")) -> Path:
    return make_class_folders(root, {c: (per_class, per_class) for c in classes})


def run(data: Path, out: Path, **options):
    options = {"align": "none", "size": 8, "figures": False, "augment": "none", **options}
    return prepare(Config(data=data, out=out, **options))


def test_corrupt_and_non_image_files_are_skipped_and_listed(tmp_path):
    data = small_set(tmp_path / "data")
    (data / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (data / "a" / "empty.png").write_bytes(b"")
    (data / "b" / "notes.txt").write_text("hello")
    (data / "b" / ".DS_Store").write_bytes(b"\0\0")
    (data / "stray.png").write_bytes(unique_png(99))
    (data / "b" / "nested").mkdir()
    result = run(data, tmp_path / "out")
    skipped = {Path(s["path"]).name: s["reason"] for s in result.report["skipped"]}
    assert set(skipped) == {"broken.jpg", "empty.png", "notes.txt", "stray.png", "nested"}
    assert "decodable" in skipped["broken.jpg"] and "not an image" in skipped["notes.txt"]
    assert result.report["totals"]["read"] == 20
    assert "broken.jpg" in (tmp_path / "out" / "report.md").read_text()


def test_unreadable_files_are_skipped(tmp_path):
    data = small_set(tmp_path / "data")
    (data / "a" / "dangling.png").symlink_to(tmp_path / "gone.png")  # listed, but reading fails (also as root)
    names = ["dangling.png"]
    if os.geteuid() != 0:  # root reads chmod 000 files anyway
        locked = data / "a" / "locked.png"
        locked.write_bytes(unique_png(1234))
        locked.chmod(0)
        names.append("locked.png")
    result = run(data, tmp_path / "out")
    reasons = {Path(s["path"]).name: s["reason"] for s in result.report["skipped"]}
    assert all("unreadable" in reasons[name] for name in names)
    assert result.report["totals"]["read"] == 20


def test_empty_class_folder_is_an_error_naming_the_class(tmp_path):
    data = small_set(tmp_path / "data")
    (data / "Contempt").mkdir()
    with pytest.raises(DatasetError, match="'Contempt'"):
        run(data, tmp_path / "out")


def test_class_with_only_corrupt_files_is_an_error_naming_the_class(tmp_path):
    data = small_set(tmp_path / "data")
    (data / "c").mkdir()
    (data / "c" / "x.png").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="'c'"):
        run(data, tmp_path / "out")


def test_class_too_small_for_a_stratified_split_names_the_class(tmp_path):
    data = make_class_folders(tmp_path / "data", {"big": (40, 40), "tiny": (3, 3)})
    with pytest.raises(DatasetError, match=r"'tiny' \(3\)"):
        run(data, tmp_path / "out")


@pytest.mark.parametrize("color, channels", [("bgr", 3), ("gray", 1)])
def test_mixed_sizes_channels_and_depths(tmp_path, color, channels):
    data = small_set(tmp_path / "data", per_class=6)
    rng = np.random.default_rng(0)
    extras = {
        "grey.png": rng.integers(0, 256, (10, 10), dtype=np.uint8),
        "bgra.png": rng.integers(0, 256, (12, 20, 4), dtype=np.uint8),
        "deep.png": rng.integers(0, 65536, (16, 16, 3), dtype=np.uint16),
        "big.jpg": rng.integers(0, 256, (64, 40, 3), dtype=np.uint8),
    }
    for name, pixels in extras.items():
        assert cv2.imwrite(str(data / "a" / name), pixels)
    result = run(data, tmp_path / "out", color=color, size=12)
    assert result.report["totals"]["read"] == 16 and not result.report["skipped"]
    x = np.load(tmp_path / "out" / "train_x.npy", mmap_mode="r")
    assert x.shape[1:] == (12, 12, channels) and x.dtype == np.float32
    shapes = result.report["input_shapes"]
    assert "12x20x3" in shapes or "12x20x1" in shapes


def write_labels(root: Path, rows: list[dict]) -> Path:
    fields = ["path", "usage", "fer2013_label", "fer2013_label_ambiguous"]
    with open(root / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(rows)
    return root


def fer_rows(root: Path, n: int = 12) -> list[dict]:
    (root / "train").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        (root / "train" / f"f{i}.png").write_bytes(unique_png(i))
        rows.append({"path": f"train/f{i}.png", "usage": "Training", "fer2013_label": i % 3, "fer2013_label_ambiguous": 0})
    return rows


def test_labels_csv_with_unknown_labels_names_the_rows(tmp_path):
    rows = fer_rows(tmp_path)
    rows[2]["fer2013_label"] = 9
    rows[5]["fer2013_label"] = "happy"
    with pytest.raises(DatasetError, match="lines 4, 7"):
        run(write_labels(tmp_path, rows), tmp_path / "out")


def test_labels_csv_with_missing_files_names_the_rows(tmp_path):
    rows = fer_rows(tmp_path)
    (tmp_path / "train" / "f3.png").unlink()
    rows.append({"path": "val/nothere.png", "usage": "PublicTest", "fer2013_label": 0, "fer2013_label_ambiguous": 0})
    with pytest.raises(DatasetError, match=r"2 are missing \(lines 5, 14\)"):
        run(write_labels(tmp_path, rows), tmp_path / "out")


def test_labels_csv_with_unknown_usage_names_the_rows(tmp_path):
    rows = fer_rows(tmp_path)
    rows[0]["usage"] = "Testing"
    with pytest.raises(DatasetError, match="line 2"):
        run(write_labels(tmp_path, rows), tmp_path / "out")


def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys):
    data = small_set(tmp_path / "data")
    (data / "Empty").mkdir()
    assert main(["--data", str(data), "--out", str(tmp_path / "out"), "--align", "none", "--no-figures"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: class 'Empty'") and "Traceback" not in "\n".join(err)
    assert main(["--data", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "expected an existing folder" in capsys.readouterr().err
    assert main(["--data", str(data), "--out", str(tmp_path / "o"), "--size", "0"]) == 2
    assert main(["--data", str(data), "--out", str(tmp_path / "o"), "--augment", "nope.json"]) == 2
    assert "nope.json" in capsys.readouterr().err


def test_fer2013_options_on_class_folders_are_a_warning_not_silence(tmp_path, capsys):
    data = small_set(tmp_path / "data")
    common = ["--data", str(data), "--align", "none", "--size", "8", "--augment", "none", "--no-figures"]
    assert main([*common, "--out", str(tmp_path / "o1"), "--labels", "ferplus", "--classes", "seven"]) == 0
    err = capsys.readouterr().err
    assert "warning: --labels/--classes apply to the FER2013 layout" in err
    assert main([*common, "--out", str(tmp_path / "o2")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_cli_bad_choice_exits_2_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "train.prepare", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                           "--align", "dlib"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "dlib" in lines[0] and "Traceback" not in proc.stderr


def test_missing_detector_is_one_clear_line(tmp_path, capsys, monkeypatch):
    import importlib.util

    data = small_set(tmp_path / "data")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mtcnn" else real(name, *a))
    assert main(["--data", str(data), "--out", str(tmp_path / "out"), "--align", "mtcnn"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --align mtcnn: expected mtcnn installed") and "\n" not in err
