"""The paper's Tables 1, 2 and 5 reproduced on a generated set with its Table 1 counts, and the output contract."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from tests.train.conftest import PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE5


def test_table1_sha1_duplicates_removed_per_class(paper_prepared):
    result, _ = paper_prepared
    per_class = result.report["per_class"]
    for name, (before, after) in PAPER_TABLE1.items():
        assert per_class[name]["counts"]["original"] == before, name
        assert per_class[name]["counts"]["deduplicated"] == after, name
    assert result.report["totals"]["deduplicated"] == 43239
    assert result.report["dedup"]["removed"] == 196


def test_table2_label_codes_and_stratified_split(paper_prepared):
    result, _ = paper_prepared
    rep = result.report
    for name, (code, train, val) in PAPER_TABLE2.items():
        assert rep["label_encoding"][name] == code
        assert rep["per_class"][name]["counts"]["train"] == train, name
        assert rep["per_class"][name]["counts"]["val"] == val, name
    assert (rep["totals"]["train"], rep["totals"]["val"]) == (34591, 8648)


def test_table5_augmented_training_counts(paper_prepared):
    result, out = paper_prepared
    for name, (before, after) in PAPER_TABLE5.items():
        assert result.report["per_class"][name]["counts"]["augmented_train"] == after, name
    train_y = np.load(out / "train_y.npy", mmap_mode="r")
    assert train_y.shape == (56356, 6)
    counts = np.asarray(train_y).sum(axis=0).astype(int)
    assert counts.tolist() == [PAPER_TABLE5[n][1] for n in sorted(PAPER_TABLE5)]


def test_report_json_carries_the_required_keys(paper_prepared):
    _, out = paper_prepared
    rep = json.loads((out / "report.json").read_text())
    for name in PAPER_TABLE1:
        entry = rep["per_class"][name]
        assert set(entry["counts"]) >= {"original", "deduplicated", "train", "val", "augmented_train"}
        for side in ("train", "val"):
            assert set(entry["alignment"][side]) == {"aligned", "not_aligned"}
        assert entry["alignment"]["train"]["not_aligned"] == PAPER_TABLE2[name][1]  # --align none
    assert set(rep["class_weights"]) == set(PAPER_TABLE1) and set(rep["label_encoding"]) == set(PAPER_TABLE1)
    finding = rep["augmentation"]["table4_vs_table5"]["finding"]
    assert "for Anger (" in finding and "reproduces Table 5 exactly" in finding
    assert rep["augmentation"]["this_run"] == {"train_counts_equal_table2": True, "augmented_counts_equal_table5": True}
    assert (out / "report.md").read_text().count("## Table") >= 5


def test_output_contract_arrays_and_meta(paper_prepared):
    _, out = paper_prepared
    meta = json.loads((out / "meta.json").read_text())
    assert meta["classes"] == sorted(PAPER_TABLE1)
    assert meta["label_encoding"] == {n: i for i, n in enumerate(sorted(PAPER_TABLE1))}
    assert meta["size"] == [8, 8] and meta["channels"] == 3 and meta["color"] == "bgr"
    assert meta["alignment"]["method"] == "none" and meta["label_source"] == "folders"
    assert meta["split"]["method"] == "stratified"
    for part, n in (("train", 56356), ("val", 8648)):
        x = np.load(out / f"{part}_x.npy", mmap_mode="r")
        y = np.load(out / f"{part}_y.npy", mmap_mode="r")
        assert isinstance(x, np.memmap) and x.dtype == np.float32 and x.shape == (n, 8, 8, 3)
        assert y.dtype == np.float32 and y.shape == (n, 6)
        assert np.all(np.asarray(y).sum(axis=1) == 1)
        sample = np.asarray(x[:2000])
        assert sample.min() >= 0.0 and sample.max() <= 1.0 and sample.max() > 0.9


def test_class_weights_are_balanced_on_the_final_training_labels(paper_prepared):
    _, out = paper_prepared
    meta = json.loads((out / "meta.json").read_text())
    codes = np.asarray(np.load(out / "train_y.npy", mmap_mode="r")).argmax(axis=1)
    expected = compute_class_weight("balanced", classes=np.arange(6), y=codes)
    assert [meta["class_weights"][n] for n in meta["classes"]] == pytest.approx(expected.tolist())


def test_training_set_is_reshuffled(paper_prepared):
    _, out = paper_prepared
    codes = np.asarray(np.load(out / "train_y.npy", mmap_mode="r")).argmax(axis=1)
    # augmented rows were appended per class; after the reshuffle no long same-class runs remain at the end
    assert len(set(codes[-200:].tolist())) == 6
    assert len(set(codes[:200].tolist())) == 6


def test_val_rows_are_their_source_files_scaled_to_unit_range(paper_prepared, paper_set):
    _, out = paper_prepared
    val_x = np.load(out / "val_x.npy", mmap_mode="r")
    val_y = np.load(out / "val_y.npy", mmap_mode="r")
    files = (out / "val_files.txt").read_text().splitlines()
    classes = sorted(PAPER_TABLE1)
    assert len(files) == len(val_x)
    for row in (0, 1, 777, len(files) - 1):
        source = cv2.imread(str(paper_set / files[row]), cv2.IMREAD_COLOR)
        assert np.array_equal(val_x[row], source.astype(np.float32) / 255)
        assert classes[int(np.argmax(val_y[row]))] == files[row].split("/")[0]
