"""train.faceres_distil: train.distil's shuffled targets put back on their faces, in the faceres layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from train.distil import save_arrays
from train.faceres_distil import DistilLayoutError, main, prepare, unshuffle

K = 7


def _faceres_folder(root: Path, n_fer: int, n_expw: int, n_dev: int) -> Path:
    rng = np.random.default_rng(1)
    root.mkdir(parents=True)
    np.save(root / "fer_x.npy", rng.integers(0, 255, (n_fer, 48, 48, 1), dtype=np.uint8))
    np.save(root / "fer_y.npy", np.eye(K, dtype=np.float32)[np.arange(n_fer) % K])
    # each ExpW face is one flat colour whose blue value is its row number: easy to follow through a resize
    expw = np.zeros((n_expw, 160, 160, 3), np.uint8)
    expw[:, :, :, 0] = np.arange(n_expw, dtype=np.uint8)[:, None, None]
    np.save(root / "expw_160.npy", expw)
    np.save(root / "expw_y.npy", np.eye(K, dtype=np.float32)[np.arange(n_expw) % K])
    np.save(root / "dev_160.npy", np.full((n_dev, 160, 160, 3), 9, np.uint8))
    np.save(root / "dev_y.npy", np.eye(K, dtype=np.float32)[np.arange(n_dev) % K])
    (root / "meta.json").write_text(json.dumps({"format": "faceres-prepared/1", "classes": list("abcdefg"),
                                                "sizes": [160], "color": "bgr"}))
    return root


def _distil_folder(root: Path, n_fer: int, n_expw: int, repeat: int = 2, n_group: int = 3):
    """train.distil's layout: row r's target puts its mass on class r % K, so every row is identifiable."""
    n = n_fer + n_expw * repeat + n_group
    targets = np.full((n, K), 0.01, np.float32)
    targets[np.arange(n), np.arange(n) % K] = 0.94
    targets[:, -1] += np.arange(n, dtype=np.float32) * 1e-4  # a unique fingerprint per row
    source = np.concatenate([np.zeros(n_fer), np.ones(n_expw * repeat), np.full(n_group, 2)]).astype(np.int8)
    save_arrays(root, {"train_x": np.zeros((n, 4, 4, 1), np.uint8), "train_y": targets, "train_source": source},
                {"val_x": np.zeros((2, 4, 4, 1), np.uint8), "val_y": np.zeros((2, K), np.float32)})
    meta = {"counts": {"fer2013_train": n_fer, "expw_train": n_expw}, "label_source": "teacher + human",
            "teacher": {"model": "t.onnx"}, "targets": "0.5 x human label + 0.50 x teacher where a human label "
                                                       "exists; teacher alone for group-photo faces"}
    (root / "meta.json").write_text(json.dumps(meta))
    return root, targets


def test_unshuffle_inverts_the_order_train_distil_saves_rows_in(tmp_path):
    rows = np.arange(50, dtype=np.int8)
    save_arrays(tmp_path, {"train_x": np.zeros((50, 1, 1, 1), np.uint8), "train_source": rows}, {})
    saved = np.load(tmp_path / "train_source.npy")
    assert not np.array_equal(saved, rows)
    np.testing.assert_array_equal(unshuffle(saved), rows)


def test_targets_land_on_their_faces_at_the_new_side(tmp_path):
    faceres = _faceres_folder(tmp_path / "faceres", n_fer=10, n_expw=6, n_dev=4)
    distil, targets = _distil_folder(tmp_path / "distil", n_fer=10, n_expw=6)
    meta = prepare(faceres, distil, 80, tmp_path / "out")
    out = tmp_path / "out"
    np.testing.assert_array_equal(np.load(out / "fer_y.npy"), targets[:10])
    np.testing.assert_array_equal(np.load(out / "expw_y.npy"), targets[10:16])  # the first ExpW copy
    expw = np.load(out / "expw_80.npy")
    assert expw.shape == (6, 80, 80, 3) and expw.dtype == np.uint8
    np.testing.assert_array_equal(expw[:, 40, 40, 0], np.arange(6))  # row i is still ExpW face i
    assert np.load(out / "dev_80.npy").shape == (4, 80, 80, 3)
    np.testing.assert_array_equal(np.load(out / "dev_y.npy"), np.load(faceres / "dev_y.npy"))  # human labels
    np.testing.assert_array_equal(np.load(out / "fer_x.npy"), np.load(faceres / "fer_x.npy"))
    assert meta["sizes"] == [80] and meta["group_photo_faces"].startswith("left out")


def test_folders_that_do_not_belong_together_are_clear_errors(tmp_path, capsys):
    faceres = _faceres_folder(tmp_path / "faceres", n_fer=10, n_expw=6, n_dev=4)
    distil, _ = _distil_folder(tmp_path / "distil", n_fer=9, n_expw=6)
    with pytest.raises(DistilLayoutError, match="expected targets for 10 FER2013 and 6 ExpW faces"):
        prepare(faceres, distil, 80, tmp_path / "out")
    assert main(["--faceres-data", str(faceres), "--distil-data", str(distil), "--out", str(tmp_path / "o")]) == 2
    assert main(["--faceres-data", str(faceres), "--distil-data", str(distil), "--size", "300",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "expected targets for 10 FER2013" in err and "--size: expected 32..160, got 300" in err
