"""train.prepare on the real FER2013 / FER+ data in ../shared/data/fer2013 (skips when it is absent).

Expected numbers are the measured ones in ../shared/data/README.md: 28558 Training and 3579
PublicTest images; 1224 extra copies inside train, 26 inside val, 269 images in both.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from train.prepare import Config, prepare

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FER = DATA / "fer2013"
README_TRAIN = {"angry": 3969, "disgust": 435, "fear": 4079, "happy": 7186, "sad": 4796, "surprise": 3161, "neutral": 4932}
README_VAL = {"angry": 466, "disgust": 56, "fear": 496, "happy": 891, "sad": 652, "surprise": 414, "neutral": 604}

pytestmark = [pytest.mark.data, pytest.mark.skipif(not (FER / "labels.csv").is_file(),
                                                    reason=f"FER2013 data not found at {FER} (../shared/data is absent)")]


@pytest.fixture(scope="module")
def fer7(tmp_path_factory):
    out = tmp_path_factory.mktemp("fer7")
    start = time.perf_counter()
    result = prepare(Config(data=FER, out=out, labels="fer2013", classes="seven", align="none", size=48, color="gray",
                            augment="none", figures=True))
    return result, out, time.perf_counter() - start


def test_fer2013_counts_dedup_and_leakage(fer7):
    result, _, _ = fer7
    rep = result.report
    for name in README_TRAIN:
        assert rep["per_class"][name]["counts"]["original"] == README_TRAIN[name] + README_VAL[name]
    assert rep["dedup"]["within_split"] == {"train": 1224, "val": 26}
    assert rep["dedup"]["train_also_in_val_removed"] == 269
    assert rep["totals"]["train"] == 28558 - 1224 - 269
    assert rep["totals"]["val"] == 3579 - 26
    assert rep["skipped"] == []


def test_fer2013_output_contract(fer7):
    result, out, _ = fer7
    meta = json.loads((out / "meta.json").read_text())
    assert meta["classes"] == ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    assert meta["size"] == [48, 48] and meta["channels"] == 1 and meta["color"] == "gray"
    assert meta["label_source"] == "fer2013" and meta["split"]["method"] == "usage"
    x = np.load(out / "train_x.npy", mmap_mode="r")
    y = np.load(out / "val_y.npy", mmap_mode="r")
    assert x.shape == (27065, 48, 48, 1) and x.dtype == np.float32 and y.shape == (3553, 7)
    assert (out / "class_distribution.png").stat().st_size > 1000


def test_fer2013_val_counts_per_class_after_dedup(fer7):
    result, _, _ = fer7
    pc = result.report["per_class"]
    assert sum(pc[n]["counts"]["val"] for n in pc) == 3553
    for name in README_VAL:
        assert README_VAL[name] - 26 <= pc[name]["counts"]["val"] <= README_VAL[name]


def test_ferplus_six_classes_drop_ties_and_non_classes(tmp_path):
    result = prepare(Config(data=FER, out=tmp_path, labels="ferplus", classes="six", align="none", size=48,
                            color="gray", augment="none", figures=False))
    dropped = result.report["dropped"]
    assert dropped["FER+ vote tie"] == 1449 + 157  # README: ties in train + val
    assert dropped["FER+ majority contempt"] == 162 + 24 and dropped["FER+ majority NF"] == 2 + 1
    assert dropped["class neutral (not in --classes six)"] == 9364 + 1242
    assert result.report["per_class"]["happy"]["counts"]["original"] == 7410 + 880
