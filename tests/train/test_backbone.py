"""The faceres backbone: TF.js weights -> Keras (a fixture the test writes in the real format), clear
errors on mismatches, and a smoke fine-tune -> export -> parity -> runtime classifier on tiny data.

The real backbone's parity with its own TF.js graph is in ``tests/data_tier/test_faceres_backbone.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from train import backbone as bb

tf = pytest.importorskip("tensorflow", reason="the backbone needs the train extra (tensorflow-cpu, keras)")


def _weight_shapes() -> list[tuple[str, tuple]]:
    shapes = [("conv1/convolution/merged_input", (3, 3, 3, 32)), ("conv1_bn/batchnorm_1/sub", (32,))]
    channels = 32
    for i, (filters, _) in enumerate(bb.BLOCKS, start=1):
        shapes += [(f"conv_dw_{i}/depthwise_kernel", (3, 3, channels, 1)),
                   (f"conv_dw_{i}_bn/batchnorm_1/mul", (channels,)), (f"conv_dw_{i}_bn/batchnorm_1/sub", (channels,)),
                   (f"conv_pw_{i}/convolution/merged_input", (1, 1, channels, filters)),
                   (f"conv_pw_{i}_bn/batchnorm_1/sub", (filters,))]
        channels = filters
    return shapes


def write_tfjs_fixture(folder: Path, seed: int = 0, drop: str | None = None, reshape: str | None = None) -> Path:
    """A TF.js graph-model JSON + .bin with faceres' weight names and shapes (random float16-quantised values).

    ``drop`` leaves one weight out; ``reshape`` gives one weight a wrong shape. Returns the JSON path.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    entries, blobs = [], []
    for name, shape in _weight_shapes():
        if name == drop:
            continue
        if name == reshape:
            shape = (*shape[:-1], shape[-1] + 1)
        scale = 1.0 if name.endswith("/mul") else 0.1
        values = (rng.normal(0, scale, shape) + (1.0 if name.endswith("/mul") else 0.0)).astype(np.float16)
        entries.append({"name": name, "shape": list(shape), "dtype": "float32",
                        "quantization": {"dtype": "float16", "original_dtype": "float32"}})
        blobs.append(values.tobytes())
    (folder / "tiny_faceres.bin").write_bytes(b"".join(blobs))
    manifest = {"format": "graph-model", "modelTopology": {"node": []},
                "weightsManifest": [{"paths": ["tiny_faceres.bin"], "weights": entries}]}
    path = folder / "tiny_faceres.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


def _stored(json_path: Path) -> dict[str, np.ndarray]:
    """The fixture's values read back independently of tensorflowjs (float16 in manifest order)."""
    manifest = json.loads(json_path.read_text())["weightsManifest"][0]
    data, out, offset = (json_path.parent / manifest["paths"][0]).read_bytes(), {}, 0
    for entry in manifest["weights"]:
        count = int(np.prod(entry["shape"]))
        out[entry["name"]] = np.frombuffer(data, np.float16, count, offset).astype(np.float32).reshape(entry["shape"])
        offset += 2 * count
    return out


@pytest.fixture(scope="module")
def fixture_json(tmp_path_factory) -> Path:
    return write_tfjs_fixture(tmp_path_factory.mktemp("tfjs"))


def test_loader_puts_every_weight_in_its_layer_with_the_depthwise_scale_folded(fixture_json):
    stored = _stored(fixture_json)
    model = bb.load_backbone(fixture_json, input_size=64)
    assert model.output_shape == (None, bb.FEATURES)
    np.testing.assert_array_equal(model.get_layer("conv1").get_weights()[0], stored["conv1/convolution/merged_input"])
    np.testing.assert_array_equal(model.get_layer("conv_pw_13").get_weights()[1], stored["conv_pw_13_bn/batchnorm_1/sub"])
    kernel, bias = model.get_layer("conv_dw_7").get_weights()
    folded = stored["conv_dw_7/depthwise_kernel"] * stored["conv_dw_7_bn/batchnorm_1/mul"][None, None, :, None]
    np.testing.assert_allclose(kernel, folded, rtol=1e-6)
    np.testing.assert_array_equal(bias, stored["conv_dw_7_bn/batchnorm_1/sub"])


def test_first_layer_does_the_caffe_scaling(fixture_json):
    """BGR [0, 1] in -> 255 x - BGR mean reaches conv1 (checked against a plain numpy SAME conv at one pixel)."""
    model = bb.load_backbone(fixture_json, input_size=32)
    x = np.random.default_rng(1).random((1, 32, 32, 3), np.float32)
    import keras

    conv1 = keras.Model(model.input, model.get_layer("conv1").output)
    out = np.asarray(conv1(x))
    kernel, bias = model.get_layer("conv1").get_weights()
    caffe = x[0] * 255.0 - np.asarray(bb.BGR_MEAN, np.float32)
    # stride 2, SAME on an even side pads (0, 1): output (1, 1) sees input rows/cols 2..4
    expected = np.einsum("hwc,hwcf->f", caffe[2:5, 2:5], kernel) + bias
    np.testing.assert_allclose(out[0, 1, 1], expected, rtol=1e-4, atol=1e-2)


@pytest.mark.parametrize("problem, message", [
    ({"drop": "conv_pw_5_bn/batchnorm_1/sub"}, "expected a weight named 'conv_pw_5_bn/batchnorm_1/sub'"),
    ({"reshape": "conv_dw_3/depthwise_kernel"}, r"expected shape \(3, 3, 128, 1\), got \(3, 3, 128, 2\)"),
])
def test_a_mismatched_file_is_a_clear_error(tmp_path, problem, message):
    path = write_tfjs_fixture(tmp_path, **problem)
    with pytest.raises(bb.BackboneError, match=message):
        bb.load_backbone(path, input_size=32)


def test_missing_or_altered_files_are_clear_errors(fixture_json, tmp_path):
    with pytest.raises(bb.BackboneError, match="expected a TF.js model JSON"):
        bb.check_files(tmp_path / "faceres.json")
    with pytest.raises(bb.BackboneError, match="expected sha256 0000"):
        bb.check_files(fixture_json, {"tiny_faceres.bin": "0000"})
    lonely = tmp_path / "lonely.json"
    lonely.write_text(fixture_json.read_text())
    with pytest.raises(bb.BackboneError, match="expected its weight file tiny_faceres.bin beside it"):
        bb.check_files(lonely, {})


SIZE = 32
CLASSES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


def write_faceres_prepared(folder: Path, seed: int = 0) -> Path:
    """``train.faceres_data``'s layout at side 32: bright bands mark the class (learnable in a few steps)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def images(n, side, channels):
        y = np.arange(n) % len(CLASSES)
        x = rng.integers(0, 60, (n, side, side, channels)).astype(np.uint8)
        band = side // len(CLASSES)
        for i, k in enumerate(y):
            x[i, band * k:band * (k + 1)] = 220
        return x, np.eye(len(CLASSES), dtype=np.float32)[y]

    fer_x, fer_y = images(42, 48, 1)
    expw_x, expw_y = images(21, SIZE, 3)
    dev_x, dev_y = images(14, SIZE, 3)
    for name, value in {"fer_x": fer_x, "fer_y": fer_y, f"expw_{SIZE}": expw_x, "expw_y": expw_y,
                        f"dev_{SIZE}": dev_x, "dev_y": dev_y}.items():
        np.save(folder / f"{name}.npy", value)
    meta = {"format": "faceres-prepared/1", "classes": CLASSES, "sizes": [SIZE], "color": "bgr",
            "alignment": "synthetic", "label_source": "synthetic", "split": {"method": "synthetic"}, "data": "synthetic"}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def test_mixed_images_resize_fer_faces_and_repeat_expw(tmp_path):
    from train.faceres_model import load_prepared

    data = load_prepared(write_faceres_prepared(tmp_path / "prep"), SIZE, expw_repeat=2)
    assert data.train_x.shape == (42 + 2 * 21, SIZE, SIZE, 3) and len(data.train_y) == 84
    batch = data.train_x[np.array([0, 42, 63])]
    assert batch.dtype == np.float32 and batch.shape == (3, SIZE, SIZE, 3) and 0 <= batch.min() and batch.max() <= 1
    np.testing.assert_array_equal(batch[0, :, :, 0], batch[0, :, :, 2])  # a grey face in all three channels
    np.testing.assert_array_equal(batch[1], batch[2])  # ExpW face 0, listed twice
    np.testing.assert_array_equal(data.train_y[42], data.train_y[63])
    assert data.val_x.shape == (14, SIZE, SIZE, 3) and data.meta["channels"] == 3


def test_fer_fraction_keeps_an_evenly_spaced_share_of_fer2013_and_every_expw_face(tmp_path):
    from train.faceres_model import fer_subset, load_prepared

    folder = write_faceres_prepared(tmp_path / "prep")
    data = load_prepared(folder, SIZE, expw_repeat=2, fer_fraction=1 / 3)
    assert len(data.train_x) == 14 + 2 * 21 and len(data.train_y) == 56 and data.meta["fer_fraction"] == 1 / 3
    kept = fer_subset(42, 1 / 3)
    assert len(kept) == 14 and kept[0] == 0 and kept[-1] == 41 and np.all(np.diff(kept) >= 3)
    fer_y = np.load(folder / "fer_y.npy")
    np.testing.assert_array_equal(data.train_y[:14], fer_y[kept])
    # the labels follow their faces: the class band of FER2013 face kept[5] is where its label says
    face = data.train_x[np.array([5])][0, :, :, 0]
    band = SIZE // len(CLASSES)
    row_means = [face[band * k:band * (k + 1)].mean() for k in range(len(CLASSES))]
    assert int(np.argmax(row_means)) == int(fer_y[kept[5]].argmax())
    np.testing.assert_array_equal(fer_subset(42, 1.0), np.arange(42))
    for bad in (0.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="fer_fraction: expected a share of FER2013 faces in \\(0, 1\\]"):
            fer_subset(42, bad)


def test_smoke_finetune_export_parity_and_runtime(fixture_json, tmp_path):
    from realtime_fer.core.classify import ExpressionClassifier

    from train import fit as fit_mod
    from train.config import config_from_dict
    from train.export import export_run

    prepared = write_faceres_prepared(tmp_path / "prep")
    cfg = config_from_dict({
        "name": "faceres_smoke", "data": str(prepared), "out": str(tmp_path / "run"), "epochs": 1, "batch_size": 16,
        "lr": 1e-3, "expw_repeat": 2, "warmup_frac": 0.0,
        "model": {"arch": "faceres", "backbone": str(fixture_json), "input_size": SIZE, "freeze": 5, "dropout": 0.1},
        "augment": {"flip": 0.5, "rotate": 5.0, "gray": 0.5}})
    before = fit_mod.compile_model(cfg, (SIZE, SIZE, 3), len(CLASSES))
    frozen = before.get_layer("faceres").get_layer("conv_dw_2").get_weights()[0]
    result = fit_mod.fit(cfg)
    assert result["stopped"] == "epochs" and (tmp_path / "run" / "best.keras").is_file()
    import keras

    trained = keras.models.load_model(tmp_path / "run" / "last.keras")
    backbone = trained.get_layer("faceres")
    np.testing.assert_array_equal(backbone.get_layer("conv_dw_2").get_weights()[0], frozen)  # frozen (freeze=5)
    assert not np.array_equal(backbone.get_layer("conv_pw_13").get_weights()[0],
                              before.get_layer("faceres").get_layer("conv_pw_13").get_weights()[0])
    summary = export_run(tmp_path / "run", tmp_path / "faceres.onnx", crop_file=None, parity_images=14)
    assert summary["parity_max_abs_diff"] <= 1e-4
    clf = ExpressionClassifier(tmp_path / "faceres.onnx")
    assert clf.input_size == (SIZE, SIZE) and not clf.grayscale and clf.labels == tuple(CLASSES)
    crops = np.load(prepared / f"dev_{SIZE}.npy")
    probs = clf.predict(crops)
    expected = fit_mod.predict_probs(keras.models.load_model(tmp_path / "run" / "best.keras"), crops / np.float32(255))
    np.testing.assert_allclose(probs, expected, atol=1e-4)
