"""Smoke-train on a tiny synthetic prepared set, export to ONNX with parity, evaluate; bad inputs.

The synthetic classes are bright bands at different places of a 16x16 grey image, so the
ONNX graph has real inputs to compare. One epoch is 6 steps: the smoke model is not expected to
have learned them (measured: it answers one class for every image), so its metrics are checked
against its own confusion matrix, not against chance.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.tiny_model import write_tiny_model
from train import evaluate as ev
from train import fit as fit_mod
from train.config import config_from_dict

LABELS = ["angry", "happy", "sad"]
SIZE = 16


def _images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % len(LABELS)
    x = rng.uniform(0, 0.3, (n, SIZE, SIZE, 1)).astype(np.float32)
    for i, k in enumerate(y):
        x[i, 5 * k:5 * k + 5, :, 0] += 0.6
    x = np.round(np.clip(x, 0, 1) * 255) / 255  # exactly representable as uint8 PNGs
    return x.astype(np.float32), np.eye(len(LABELS), dtype=np.float32)[y]


def write_prepared(folder: Path, n_train: int = 96, n_val: int = 30, seed: int = 0) -> Path:
    """A folder in train/prepare.py's output contract."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", n_train), ("val", n_val)):
        x, y = _images(n, rng)
        np.save(folder / f"{part}_x.npy", x)
        np.save(folder / f"{part}_y.npy", y)
    meta = {"classes": LABELS, "label_encoding": {c: i for i, c in enumerate(LABELS)},
            "class_weights": {"angry": 1.0, "happy": 0.8, "sad": 1.3}, "size": [SIZE, SIZE], "channels": 1,
            "color": "gray", "alignment": {"method": "none"}, "label_source": "folders", "data": "synthetic",
            "split": {"method": "synthetic"}}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def tiny_config(data: Path, out: Path, epochs: int = 1):
    return config_from_dict({
        "name": "smoke", "data": str(data), "out": str(out), "backend": "tensorflow", "epochs": epochs,
        "batch_size": 16, "lr": 3e-3, "class_weight_power": 0.5, "model": {"widths": [4, 8, 8], "blocks": [1, 1]},
        "augment": {"flip": 0.5, "rotate": 5.0, "shift": 0.05, "scale": 0.05, "erase": 0.3, "mixup": 0.2}})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pytest.importorskip("tensorflow", reason="training needs the train extra (tensorflow-cpu, keras)")
    root = tmp_path_factory.mktemp("smoke")
    data = write_prepared(root / "prepared")
    cfg = tiny_config(data, root / "run")
    result = fit_mod.fit(cfg)
    return root, data, cfg, result


def test_fit_writes_checkpoints_metrics_and_plots(trained):
    root, _, _, result = trained
    run = root / "run"
    for name in ("best.keras", "last.keras", "state.json", "history.json", "metrics.json", "curves.png",
                 "confusion.png", "config.json", "meta.json"):
        assert (run / name).is_file(), name
    assert result["stopped"] == "epochs" and len(result["history"]) == 1
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n"] == 30 and set(metrics["per_class"]) == set(LABELS)
    confusion = np.array(metrics["confusion"])
    assert confusion.sum(axis=1).tolist() == [10, 10, 10]  # rows: the true classes of the 30 val images
    assert metrics["accuracy"] == pytest.approx(np.trace(confusion) / 30)


def test_resume_continues_and_interrupt_keeps_last_checkpoint(trained, tmp_path):
    root, data, _, _ = trained
    import shutil

    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    cfg = tiny_config(data, run, epochs=3)

    def interrupt(epoch, step, logs):
        if epoch == 3 and step == 2:
            fit_mod._Stop.requested = True

    result = fit_mod.fit(cfg, resume=True, on_step=interrupt)
    assert result["stopped"] == "interrupted"
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 2 and len(state["history"]) == 2  # epoch 2 resumed and finished, 3 interrupted
    assert (run / "last.keras").is_file()


def test_init_from_starts_a_new_run_from_a_checkpoints_weights(trained, tmp_path):
    import dataclasses

    import keras

    root, data, _, _ = trained
    checkpoint = root / "run" / "best.keras"
    cfg = dataclasses.replace(tiny_config(data, tmp_path / "stage2", epochs=1), init_from=str(checkpoint), seed=7)
    model = fit_mod.compile_model(cfg, (SIZE, SIZE, 1), len(LABELS))
    fit_mod.load_initial_weights(model, cfg.init_from, keras)
    for ours, theirs in zip(model.get_weights(), keras.models.load_model(checkpoint, compile=False).get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    result = fit_mod.fit(cfg)
    assert result["history"][0]["epoch"] == 1 and (tmp_path / "stage2" / "best.keras").is_file()
    wider = dataclasses.replace(cfg, out=str(tmp_path / "wider"), model=dataclasses.replace(cfg.model, widths=(8, 8, 8)))
    with pytest.raises(fit_mod.FitError, match="init_from: expected a checkpoint of this config's architecture"):
        fit_mod.fit(wider)
    with pytest.raises(fit_mod.FitError, match="init_from: expected a .keras checkpoint"):
        fit_mod.fit(dataclasses.replace(cfg, init_from=str(tmp_path / "none.keras")))


def test_resume_without_checkpoint_is_a_clear_error(trained, tmp_path):
    _, data, _, _ = trained
    with pytest.raises(fit_mod.FitError, match="--resume: expected"):
        fit_mod.fit(tiny_config(data, tmp_path / "empty"), resume=True)


def test_fit_cli_missing_data_exits_2(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'data = "{tmp_path / "nope"}"\nout = "{tmp_path / "run"}"\n')
    assert fit_mod.main(["--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "expected train_x.npy" in err


def test_config_rejects_unknown_keys(tmp_path):
    from train.config import load_config

    bad = tmp_path / "bad.toml"
    bad.write_text("lerning_rate = 0.1\n")
    with pytest.raises(ValueError, match="unknown key"):
        load_config(bad)


def test_shipped_configs_parse():
    from train.config import load_config

    root = Path(__file__).resolve().parents[2]
    default, paper = load_config(root / "configs/default.toml"), load_config(root / "configs/paper.toml")
    assert default.class_weight_power > 0 and paper.class_weight_power == 1.0
    assert "--classes six" in paper.prepare and "--size 96" in paper.prepare and "--augment paper" in paper.prepare
    stages = [load_config(root / f"configs/default_stage{n}.toml") for n in (2, 3)]
    assert [s.init_from for s in stages] == ["runs/default/best.keras", "runs/default2/best.keras"]
    assert stages[1].precision == "mixed_bfloat16" and default.precision == "float32"
    for other in (root / "configs").glob("*.toml"):
        load_config(other)


@pytest.fixture(scope="module")
def exported(trained):
    pytest.importorskip("tf2onnx", reason="Keras 3 ONNX export needs tf2onnx (pip install tf2onnx)")
    from train import export

    root, data, _, _ = trained
    summary = export.export_run(root / "run", root / "model" / "smoke.onnx", crop_file=None, parity_images=30)
    return root, data, summary


def test_export_parity_and_sidecar(exported):
    from realtime_fer.core.classify import ExpressionClassifier

    root, data, summary = exported
    assert summary["parity_max_abs_diff"] <= 1e-4
    clf = ExpressionClassifier(root / "model" / "smoke.onnx", provider="cpu")
    assert list(clf.labels) == LABELS and clf.input_size == (SIZE, SIZE) and clf.grayscale
    card = json.loads((root / "model" / "smoke.json").read_text())
    assert card["training"]["data"] == "synthetic" and card["metrics"]["parity_max_abs_diff"] <= 1e-4
    x = np.load(data / "val_x.npy")
    probs = clf.predict(np.round(x * 255).astype(np.uint8))
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)


def test_int8_variant_runs_every_convolution_in_integer_kernels(exported, tmp_path):
    """The int8 graph must not fall back to float convolutions (int8 activations did, and cost 2.7x)."""
    import onnx
    import onnxruntime as ort

    from train.export import ort_probs, quantize_int8

    root, data, _ = exported
    x = np.load(data / "train_x.npy")
    q_path = quantize_int8(root / "model" / "smoke.onnx", tmp_path / "smoke.int8.onnx", x[:32])
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(q_path), options, providers=["CPUExecutionProvider"])
    ops = [node.op_type for node in onnx.load(str(tmp_path / "optimized.onnx")).graph.node]
    assert ops.count("QLinearConv") >= 3 and "Conv" not in ops, ops
    val = np.load(data / "val_x.npy")
    float_probs, int8_probs = ort_probs(root / "model" / "smoke.onnx", val), ort_probs(q_path, val)
    assert np.abs(float_probs - int8_probs).max() < 0.1
    np.testing.assert_allclose(int8_probs.sum(1), 1.0, atol=1e-5)  # a float softmax, not 1/256 steps


def _write_class_folders(data: Path, out: Path) -> np.ndarray:
    x, y = np.load(data / "val_x.npy"), np.load(data / "val_y.npy").argmax(1)
    for i, (img, k) in enumerate(zip(x, y)):
        (out / LABELS[k]).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out / LABELS[k] / f"{i:03d}.png"), np.round(img[..., 0] * 255).astype(np.uint8))
    return y


def test_evaluate_exported_model_on_class_folders(exported, tmp_path):
    from train.export import ort_probs

    root, data, _ = exported
    y = _write_class_folders(data, tmp_path / "faces")
    result = ev.evaluate(root / "model" / "smoke.onnx", tmp_path / "faces")
    expected = (ort_probs(root / "model" / "smoke.onnx", np.load(data / "val_x.npy")).argmax(1) == y).mean()
    assert result["n"] == 30 and result["accuracy"] == pytest.approx(expected, abs=1e-6)
    assert set(result) >= {"n", "accuracy", "macro_f1", "per_class", "confusion", "ms_per_face"}


def test_export_rejects_a_corrupt_checkpoint(trained, tmp_path):
    pytest.importorskip("tf2onnx", reason="Keras 3 ONNX export needs tf2onnx")
    from train import export

    root, _, _, _ = trained
    run = tmp_path / "run"
    run.mkdir()
    for name in ("config.json", "meta.json"):
        (run / name).write_text((root / "run" / name).read_text())
    (run / "best.keras").write_bytes(b"not a zip")
    with pytest.raises(export.ExportError, match="expected a Keras 3 model file"):
        export.export_run(run, tmp_path / "m.onnx", crop_file=None)


# ----------------------------------------------------------------- evaluation with a known tiny model

def _known_model(tmp_path: Path) -> Path:
    """4x4 grey Flatten->Gemm->Softmax: left half bright -> a, right half bright -> b, all bright -> c."""
    w = np.zeros((16, 3), np.float32)
    cols = np.arange(16) % 4
    w[cols < 2, 0] = 1.0
    w[cols >= 2, 1] = 1.0
    w[:, 2] = 0.6
    return write_tiny_model(tmp_path, labels=("a", "b", "c"), size=4, weights=w)


def _known_set(root: Path) -> None:
    left, right, full = (np.zeros((4, 4), np.uint8) for _ in range(3))
    left[:, :2], right[:, 2:], full[:] = 255, 255, 255
    # truth -> images: a: left, left, right (1 wrong); b: right; c: full, left (1 wrong)
    layout = {"a": [left, left, right], "b": [right], "c": [full, left]}
    for label, images in layout.items():
        (root / label).mkdir(parents=True)
        for i, img in enumerate(images):
            cv2.imwrite(str(root / label / f"{i}.png"), img)


def test_known_tiny_model_gives_known_numbers(tmp_path):
    model = _known_model(tmp_path)
    _known_set(tmp_path / "set")
    r = ev.evaluate(model, tmp_path / "set")
    # predictions: a-> a,a,b ; b-> b ; c-> c,a  => 4/6 correct
    assert r["n"] == 6 and r["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    assert r["confusion"] == [[2, 1, 0], [0, 1, 0], [1, 0, 1]]
    # a: P 2/3 R 2/3 F 2/3; b: P 1/2 R 1 F 2/3; c: P 1 R 1/2 F 2/3
    assert r["per_class"]["b"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3, abs=1e-6), "support": 1}
    assert r["macro_f1"] == pytest.approx(2 / 3, abs=1e-6)


def test_labels_csv_layout_with_parent_filter_and_ferplus_exclusions(tmp_path):
    model = _known_model(tmp_path)
    img = np.zeros((4, 4), np.uint8)
    img[:, :2] = 255
    (tmp_path / "d" / "val").mkdir(parents=True)
    (tmp_path / "d" / "train").mkdir(parents=True)
    rows = ["path,usage,fer2013_emotion,ferplus_majority"]
    for i, (ferm, plus) in enumerate([("a", "a"), ("a", ""), ("b", "unknown"), ("a", "NF")]):
        cv2.imwrite(str(tmp_path / "d" / "val" / f"{i}.png"), img)
        rows.append(f"val/{i}.png,PublicTest,{ferm},{plus}")
    cv2.imwrite(str(tmp_path / "d" / "train" / "t.png"), img)
    rows.append("train/t.png,Training,c,c")
    (tmp_path / "d" / "labels.csv").write_text("\n".join(rows) + "\n")
    orig = ev.evaluate(model, tmp_path / "d" / "val", labels="fer2013")
    assert orig["n"] == 4 and orig["accuracy"] == 0.75
    plus = ev.evaluate(model, tmp_path / "d" / "val", labels="ferplus")
    assert plus["n"] == 1 and plus["excluded"] == {"tie": 1, "unknown": 1, "nf": 1}


def test_unknown_labels_error_lists_both_sets(tmp_path, capsys):
    model = _known_model(tmp_path)
    _known_set(tmp_path / "set")
    (tmp_path / "set" / "contempt").mkdir()
    cv2.imwrite(str(tmp_path / "set" / "contempt" / "0.png"), np.zeros((4, 4), np.uint8))
    assert ev.main(["--model", str(model), "--data", str(tmp_path / "set")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "['a', 'b', 'c']" in err and "'contempt'" in err
    r = ev.evaluate(model, tmp_path / "set", skip_unknown=True)
    assert r["n"] == 6 and r["excluded"] == {"contempt": 1}


@pytest.mark.parametrize("damage", ["corrupt", "no_sidecar", "wrong_labels"])
def test_bad_model_is_one_clear_line(tmp_path, capsys, damage):
    model = _known_model(tmp_path)
    _known_set(tmp_path / "set")
    card = model.with_suffix(".json")
    if damage == "corrupt":
        model.write_bytes(b"\x00garbage")
        data = json.loads(card.read_text())
        data["sha256"] = ""
        card.write_text(json.dumps(data))
    elif damage == "no_sidecar":
        card.unlink()
    else:
        data = json.loads(card.read_text())
        data["labels"] = ["a", "b", "c", "d"]
        card.write_text(json.dumps(data))
    assert ev.main(["--model", str(model), "--data", str(tmp_path / "set"), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("train.evaluate: ") and err.count("\n") == 0 and "expected" in err


def test_json_output_shape(tmp_path, capsys):
    model = _known_model(tmp_path)
    _known_set(tmp_path / "set")
    assert ev.main(["--model", str(model), "--data", str(tmp_path / "set"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"n", "accuracy", "macro_f1", "per_class", "confusion", "ms_per_face"} <= set(out)
    assert set(out["per_class"]["a"]) == {"precision", "recall", "f1", "support"}


def test_learning_rate_warmup_then_cosine_to_zero():
    cfg = config_from_dict({"lr": 0.1, "warmup_frac": 0.1})
    assert fit_mod.learning_rate(cfg, 0.0) == 0.0
    assert fit_mod.learning_rate(cfg, 0.05) == pytest.approx(0.05)
    assert fit_mod.learning_rate(cfg, 0.1) == pytest.approx(0.1)
    assert fit_mod.learning_rate(cfg, 0.55) == pytest.approx(0.05)
    assert fit_mod.learning_rate(cfg, 1.0) == pytest.approx(0.0, abs=1e-12)


def test_augment_batch_keeps_shapes_and_label_mass():
    from train.config import AugmentConfig

    rng = np.random.default_rng(0)
    x, y = _images(12, rng)
    xa, ya = fit_mod.augment_batch(x, y, AugmentConfig(flip=1.0, rotate=10, shift=0.1, scale=0.1, erase=1.0, mixup=0.4), rng)
    assert xa.shape == x.shape and xa.dtype == np.float32 and ya.shape == y.shape
    assert not np.array_equal(xa, x) and 0.0 <= xa.min() and xa.max() <= 1.0
    np.testing.assert_allclose(ya.sum(1), 1.0, atol=1e-6)
    xf, _ = fit_mod.augment_batch(x, y, AugmentConfig(flip=1.0), rng)
    np.testing.assert_array_equal(xf, x[:, :, ::-1])  # flip alone is an exact mirror


def test_class_weight_power():
    meta = {"classes": ["a", "b"], "class_weights": {"a": 4.0, "b": 0.25}}
    np.testing.assert_allclose(fit_mod.class_weight_vector(meta, 0.5), [2.0, 0.5])
    np.testing.assert_allclose(fit_mod.class_weight_vector(meta, 0.0), [1.0, 1.0])


def test_paper_config_trains_end_to_end_on_its_input_shape(tmp_path):
    """configs/paper.toml (six classes, 96x96 BGR) runs through the same fit code; tiny synthetic data."""
    pytest.importorskip("tensorflow", reason="training needs the train extra (tensorflow-cpu, keras)")
    from train.config import load_config

    classes = ["anger", "disgust", "fear", "happiness", "sadness", "surprise"]
    rng = np.random.default_rng(0)
    data = tmp_path / "paper6"
    data.mkdir()
    for part, n in (("train", 12), ("val", 6)):
        np.save(data / f"{part}_x.npy", rng.random((n, 96, 96, 3), dtype=np.float32))
        np.save(data / f"{part}_y.npy", np.eye(6, dtype=np.float32)[np.arange(n) % 6])
    meta = {"classes": classes, "class_weights": {c: 1.0 + i for i, c in enumerate(classes)}, "size": [96, 96],
            "channels": 3, "color": "bgr", "alignment": {"method": "mtcnn"}, "label_source": "folders",
            "data": "synthetic", "split": {"method": "stratified"}}
    (data / "meta.json").write_text(json.dumps(meta))
    root = Path(__file__).resolve().parents[2]
    cfg = load_config(root / "configs/paper.toml", {"data": str(data), "out": str(tmp_path / "run"), "epochs": 1,
                                                    "batch_size": 6})
    result = fit_mod.fit(cfg)
    assert result["best"]["n"] == 6 and set(result["best"]["per_class"]) == set(classes)


def test_sidecar_paths_are_portable(tmp_path, monkeypatch):
    from train.export import portable_path

    monkeypatch.chdir(tmp_path)
    assert portable_path(str(tmp_path.parent / "shared" / "data")) == "../shared/data"
    assert portable_path("../shared/data") == "../shared/data" and portable_path(None) is None


def test_bfloat16_training_exports_a_float32_graph(trained, tmp_path):
    """precision = "mixed_bfloat16" trains in bf16; the export must still be a pure float32 graph."""
    import dataclasses

    import keras
    import onnx

    from train import export

    _, data, _, _ = trained
    cfg = dataclasses.replace(tiny_config(data, tmp_path / "bf16"), precision="mixed_bfloat16")
    try:
        fit_mod.fit(cfg)
        checkpoint = keras.models.load_model(tmp_path / "bf16" / "best.keras", compile=False)
        assert {layer.dtype_policy.name for layer in checkpoint.layers} >= {"mixed_bfloat16"}
        with pytest.raises(fit_mod.FitError, match="config precision: expected one of"):
            fit_mod.compile_model(dataclasses.replace(cfg, precision="bf16"), (SIZE, SIZE, 1), len(LABELS))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    summary = export.export_run(tmp_path / "bf16", tmp_path / "bf16.onnx", crop_file=None, parity_images=30)
    assert summary["parity_max_abs_diff"] <= 1e-4
    graph = onnx.load(str(tmp_path / "bf16.onnx")).graph
    types = {t.type.tensor_type.elem_type for t in list(graph.input) + list(graph.output) + list(graph.value_info)}
    types |= {t.data_type for t in graph.initializer}
    casts = [a.i for n in graph.node if n.op_type == "Cast" for a in n.attribute if a.name == "to"]
    assert onnx.TensorProto.BFLOAT16 not in types | set(casts)


def test_int8_full_range_uses_8_bit_weights_and_reduce_range_7(exported, tmp_path):
    """``--int8-full-range`` (8-bit weights) against the default ``reduce_range`` (7-bit, for CPUs without VNNI)."""
    import onnx
    from onnx import numpy_helper

    from train.export import quantization_note, quantize_int8

    root, data, _ = exported
    x = np.load(data / "train_x.npy")[:32]
    assert "with reduce_range" in quantization_note() and "full 8-bit range" in quantization_note(False)

    def largest_int8_weight(path) -> int:
        weights = [numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer]
        return max(int(np.abs(w.astype(np.int32)).max()) for w in weights if w.dtype == np.int8 and w.ndim == 4)

    reduced = quantize_int8(root / "model" / "smoke.onnx", tmp_path / "reduced.onnx", x)
    full = quantize_int8(root / "model" / "smoke.onnx", tmp_path / "full.onnx", x, reduce_range=False)
    assert largest_int8_weight(reduced) <= 64
    assert largest_int8_weight(full) == 127
