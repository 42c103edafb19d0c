"""train.soup: weight averaging, the greedy rule, and a soup of two tiny faceres fine-tunes that exports."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.train.test_backbone import CLASSES, SIZE, write_faceres_prepared, write_tfjs_fixture
from train.soup import SoupError, average, greedy_soup


def test_average_is_the_elementwise_mean_and_refuses_other_shapes():
    a = [np.full((2, 3), 1.0, np.float32), np.array([0.0, 4.0], np.float32)]
    b = [np.full((2, 3), 3.0, np.float32), np.array([2.0, 0.0], np.float32)]
    mean = average([a, b])
    np.testing.assert_array_equal(mean[0], np.full((2, 3), 2.0))
    np.testing.assert_array_equal(mean[1], [1.0, 2.0])
    assert mean[0].dtype == np.float32
    with pytest.raises(SoupError, match="ingredient 1: expected the weight shapes of ingredient 0"):
        average([a, [np.zeros((3, 2), np.float32), b[1]]])


def test_greedy_soup_adds_in_order_of_solo_score_and_keeps_only_what_does_not_lower_it():
    table = {("a",): 0.50, ("b",): 0.60, ("c",): 0.40, ("d",): 0.55,
             ("b", "d"): 0.58, ("b", "a"): 0.61, ("b", "a", "c"): 0.61}

    def score(names):
        return table[tuple(names)]

    kept, steps = greedy_soup(["a", "b", "c", "d"], score)
    assert kept == ["b", "a", "c"]  # d lowered the soup (0.58 < 0.60); c kept at an equal score
    assert [s["tried"] for s in steps] == ["b", "d", "a", "c"]
    assert [s["kept"] for s in steps] == [True, False, True, True]


def test_a_soup_of_two_finetunes_is_their_mean_and_exports(tmp_path):
    from train import fit as fit_mod
    from train.config import config_from_dict
    from train.export import export_run, load_checkpoint
    from train.soup import make_soup

    backbone = write_tfjs_fixture(tmp_path / "tfjs")
    prepared = write_faceres_prepared(tmp_path / "prep")
    cfg = config_from_dict({
        "name": "soup_smoke", "data": str(prepared), "out": str(tmp_path / "run_a"), "epochs": 1, "batch_size": 16,
        "lr": 1e-3, "expw_repeat": 1, "warmup_frac": 0.0,
        "model": {"arch": "faceres", "backbone": str(backbone), "input_size": SIZE, "freeze": 20, "dropout": 0.0}})
    fit_mod.fit(cfg)
    # a second "fine-tune": the same run with every head weight moved by 0.5, so the two differ but every logit of a
    # face moves by the same amount: the same predictions, the same dev score, so the greedy soup keeps both
    shutil.copytree(tmp_path / "run_a", tmp_path / "run_b")
    model_b = load_checkpoint(tmp_path / "run_b" / "best.keras")
    head = model_b.get_layer("logits")
    head.set_weights([w + 0.5 for w in head.get_weights()])
    model_b.save(tmp_path / "run_b" / "best.keras")

    record = make_soup([tmp_path / "run_a", tmp_path / "run_b"], ["best.keras"], tmp_path / "soup")
    assert set(record["ingredients"]) == {"run_a/best.keras", "run_b/best.keras"}
    assert record["kept"] == ["run_a/best.keras", "run_b/best.keras"] and record["greedy"] == record["uniform"]
    members = [load_checkpoint(tmp_path / name).get_weights() for name in record["kept"]]
    soup = load_checkpoint(tmp_path / "soup" / "best.keras").get_weights()
    for got, *parts in zip(soup, *members):
        np.testing.assert_allclose(got, np.mean(parts, axis=0), atol=1e-6)
    np.testing.assert_allclose(soup[-1], members[0][-1] + 0.25, atol=1e-6)  # halfway between the two heads
    saved = json.loads((tmp_path / "soup" / "soup.json").read_text())
    assert saved["kept"] == record["kept"]
    summary = export_run(tmp_path / "soup", tmp_path / "soup.onnx", crop_file=None, parity_images=14)
    assert summary["parity_max_abs_diff"] <= 1e-4
    assert json.loads((tmp_path / "soup.json").read_text())["labels"] == CLASSES


def test_runs_without_a_config_are_a_clear_error(tmp_path):
    from train.soup import main

    (tmp_path / "empty").mkdir()
    assert main(["--runs", str(tmp_path / "empty"), "--out", str(tmp_path / "soup")]) == 2
    with pytest.raises(SoupError, match="expected a training run folder with config.json"):
        from train.soup import make_soup

        make_soup([tmp_path / "empty"], ["best.keras"], tmp_path / "soup")
