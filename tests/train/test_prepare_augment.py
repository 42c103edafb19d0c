"""Noise-augmentation policy: parsing, counting, randomness, and the paper's Table 4 vs Table 5 check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from train import augment
from train.augment import PolicyError
from train.report import PAPER_TABLE2_TRAIN, PAPER_TABLE5_AFTER, table4_vs_table5

CLASSES = sorted(PAPER_TABLE2_TRAIN)


def paper_codes() -> np.ndarray:
    return np.repeat(np.arange(6), [PAPER_TABLE2_TRAIN[n] for n in CLASSES])


def test_paper_policy_file_is_table4_with_anger_at_15_percent():
    policy = augment.load_policy("paper")
    expected = {"Anger": (0.15, "add"), "Disgust": (1.0, "add"), "Fear": (1.0, "add"),
                "Happiness": (0.1, "add"), "Sadness": (0.1, "replace"), "Surprise": (0.2, "add")}
    assert {k: (r.fraction, r.mode) for k, r in policy.rules.items()} == expected
    assert list(policy.noises) == ["poisson", "gaussian", "speckle"] and policy.seed == 0
    assert policy.rule_for("angry") == policy.rules["Anger"]  # FER2013 names map through the aliases
    assert policy.rule_for("neutral") is None


def test_plan_gives_table5_from_table2_counts():
    plan = augment.plan_augmentation(paper_codes(), CLASSES, augment.load_policy("paper"))
    after = np.bincount(plan.codes, minlength=6)
    assert dict(zip(CLASSES, after.tolist())) == PAPER_TABLE5_AFTER
    assert len(plan) == 56356
    sad = plan.per_class["Sadness"]
    assert sad["replaced"] == 3 * 1043 and sad["added"] == 0


def test_table4_as_printed_disagrees_with_table5_only_for_anger():
    check = table4_vs_table5(augment.load_policy("paper"))
    bad = [k for k, v in check["per_class"].items() if not v["consistent"]]
    assert bad == ["Anger"]
    anger = check["per_class"]["Anger"]
    assert anger["table4_gives"] == 6582 + 3 * 1316 == 10530
    lo, hi = anger["fraction_range_for_table5"]
    assert lo <= 0.15 < hi and not lo <= 0.20 < hi
    assert all(v["policy_gives"] == v["table5"] for v in check["per_class"].values())


def test_noise_count_floors_with_float_slack():
    assert augment.noise_count(0.1, 7290) == 729
    assert augment.noise_count(0.2, 5934) == 1186
    assert augment.noise_count(0.15, 6582) == 987
    assert augment.noise_count(0.29, 100) == 29  # 0.29 * 100 = 28.999999999999996 in floats


def test_replace_subsets_are_disjoint_and_add_subsets_independent():
    codes = np.zeros(100, np.int64)
    policy = augment.parse_policy({"classes": {"a": {"fraction": 0.3, "mode": "replace"}}})
    plan = augment.plan_augmentation(codes, ["a"], policy)
    assert len(plan) == 100 and np.bincount(plan.noise[plan.noise >= 0]).tolist() == [30, 30, 30]
    policy = augment.parse_policy({"classes": {"a": {"fraction": 0.5, "mode": "add"}}})
    plan = augment.plan_augmentation(codes, ["a"], policy)
    added = [set(plan.source[100:][plan.noise[100:] == j].tolist()) for j in range(3)]
    assert len(plan) == 250 and all(len(s) == 50 for s in added) and added[0] != added[1]


def test_plan_and_noise_are_reproducible_with_seed_0():
    policy = augment.load_policy("paper")
    first = augment.plan_augmentation(paper_codes(), CLASSES, policy)
    second = augment.plan_augmentation(paper_codes(), CLASSES, policy)
    assert np.array_equal(first.source, second.source) and np.array_equal(first.seed, second.seed)
    image = np.full((8, 8, 3), 0.5, np.float32)
    for mode in ("poisson", "gaussian", "speckle"):
        a = augment.apply_noise(image, mode, 7)
        assert np.array_equal(a, augment.apply_noise(image, mode, 7))
        assert not np.array_equal(a, augment.apply_noise(image, mode, 8))
        assert a.dtype == np.float32 and a.shape == image.shape and 0 <= a.min() and a.max() <= 1
        assert not np.array_equal(a, image)


def test_render_rows_applies_the_planned_noise_only_where_planned():
    images = np.random.default_rng(0).integers(0, 256, (10, 4, 4, 1), dtype=np.uint8)
    policy = augment.parse_policy({"classes": {"a": {"fraction": 0.2, "mode": "add"}}})
    plan = augment.plan_augmentation(np.zeros(10, np.int64), ["a"], policy)
    rows = augment.render_rows(plan, slice(0, len(plan)), images, np.arange(10))
    assert rows.shape == (16, 4, 4, 1)
    assert np.array_equal(rows[:10], images.astype(np.float32) / 255)
    assert not np.allclose(rows[10:], images[plan.source[10:]].astype(np.float32) / 255)


@pytest.mark.parametrize("policy, words", [
    ({"classes": {"a": {"fraction": 1.5}}}, "fraction"),
    ({"classes": {"a": {"fraction": 0.5, "mode": "replace"}}}, "replace"),
    ({"classes": {"a": {"fraction": 0.1, "mode": "swap"}}}, "mode"),
    ({"classes": {"a": {"mode": "add"}}}, "fraction"),
    ({"noises": ["blur"], "classes": {}}, "noises"),
])
def test_bad_policies_name_the_field(policy, words):
    with pytest.raises(PolicyError, match=words):
        augment.parse_policy(policy, "x.json")


def test_policy_from_path_and_none(tmp_path):
    assert augment.load_policy("none") is None
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"name": "mine", "classes": {"a": {"fraction": 0.5}}}))
    assert augment.load_policy(str(path)).rules["a"].mode == "add"
    path.write_text("{not json")
    with pytest.raises(PolicyError, match="JSON"):
        augment.load_policy(str(path))
    with pytest.raises(PolicyError, match="no such file"):
        augment.load_policy(str(tmp_path / "missing.json"))
