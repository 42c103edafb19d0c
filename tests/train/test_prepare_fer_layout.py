"""The FER2013 / FER+ layout on a generated labels.csv: label sources, class sets, usage split, leakage."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests.train.conftest import unique_png
from train.datasets import FERPLUS_VOTES, list_fer2013
from train.prepare import Config, prepare

FIELDS = ["path", "usage", "fer2013_label", "fer2013_label_ambiguous"] + [f"ferplus_{v}" for v in FERPLUS_VOTES]


def votes(**counts) -> dict:
    return {f"ferplus_{v}": counts.get(v, 0) for v in FERPLUS_VOTES}


def make_fer(root: Path) -> Path:
    """10 train + 5 val images per original label 0..6; FER+ votes: majority = 'anger' everywhere except a few rows."""
    rows, index = [], 0
    for usage, folder, per in (("Training", "train", 10), ("PublicTest", "val", 5)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for label in range(7):
            for i in range(per):
                name = f"{folder}/fer{index:07d}.png"
                (root / name).write_bytes(unique_png(index))
                rows.append({"path": name, "usage": usage, "fer2013_label": label, "fer2013_label_ambiguous": 0,
                             **votes(**{("happiness", "neutral", "surprise", "sadness", "anger", "disgust", "fear")[label]: 6,
                                        "contempt": 1})})
                index += 1
    rows[0].update(votes(contempt=7, neutral=3))          # contempt majority: dropped
    rows[1].update(votes(anger=4, fear=4, neutral=2))     # tie: dropped
    rows[2]["fer2013_label_ambiguous"] = 1
    # duplicates: two copies inside train, and one train image that also occurs in val
    (root / rows[3]["path"]).write_bytes((root / rows[4]["path"]).read_bytes())
    val_first = next(r for r in rows if r["usage"] == "PublicTest")
    (root / rows[20]["path"]).write_bytes((root / val_first["path"]).read_bytes())
    with open(root / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return root


@pytest.fixture()
def fer(tmp_path) -> Path:
    return make_fer(tmp_path / "fer")


def test_original_labels_six_and_seven(fer):
    six = list_fer2013(fer, "fer2013", "six")
    seven = list_fer2013(fer, "fer2013", "seven")
    assert sorted(set(six.labels)) == ["angry", "disgust", "fear", "happy", "sad", "surprise"]
    assert len(six) == 6 * 15 and len(seven) == 7 * 15
    assert six.dropped == {"class neutral (not in --classes six)": 15}
    assert seven.ambiguous == 1 and "ambiguous" in seven.notes[0]


def test_ferplus_majority_maps_names_and_drops_ties_and_contempt(fer):
    inv = list_fer2013(fer, "ferplus", "seven")
    assert inv.label_source == "ferplus"
    assert inv.dropped == {"FER+ majority contempt": 1, "FER+ vote tie": 1}
    # row label 0 (angry) was voted 'happiness' in make_fer -> class 'happy'
    assert inv.labels[0] == "happy" and set(inv.labels) == {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"}


def test_usage_split_dedups_within_splits_and_removes_train_val_leakage(fer, tmp_path):
    result = prepare(Config(data=fer, out=tmp_path / "out", align="none", size=8, color="gray", classes="seven",
                            augment="none", figures=False))
    rep = result.report
    assert rep["dedup"]["within_split"] == {"train": 1, "val": 0}
    assert rep["dedup"]["train_also_in_val_removed"] == 1
    assert rep["totals"]["train"] == 70 - 2 and rep["totals"]["val"] == 35  # val stays complete
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["split"]["method"] == "usage" and meta["label_source"] == "fer2013" and meta["channels"] == 1
    assert meta["classes"] == ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    files = (tmp_path / "out" / "val_files.txt").read_text().split()
    assert all(f.startswith("val/") for f in files) and len(files) == 35


def test_stratified_split_on_fer_layout_and_paper_policy_aliases(fer, tmp_path):
    result = prepare(Config(data=fer, out=tmp_path / "out", align="none", size=8, classes="six", split="stratified",
                            figures=False))
    rep = result.report
    assert rep["split"]["method"] == "stratified"
    assert rep["totals"]["train"] + rep["totals"]["val"] == rep["totals"]["deduplicated"]
    # disgust and fear are quadrupled by the paper policy (through its FER2013 aliases)
    pc = rep["per_class"]
    assert pc["disgust"]["counts"]["augmented_train"] == 4 * pc["disgust"]["counts"]["train"]
    assert rep["augmentation"]["classes_without_rule"] == []
    y = np.load(tmp_path / "out" / "train_y.npy")
    assert y.shape == (rep["totals"]["augmented_train"], 6)
