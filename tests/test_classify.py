import json

import numpy as np
import pytest

from realtime_fer.core.classify import ExpressionClassifier, softmax
from realtime_fer.errors import ModelError, ProviderError
from realtime_fer.core.model_card import load_card
from realtime_fer.core.onnx_session import resolve_provider
from tests.tiny_model import LABELS7, build_tiny_onnx, write_tiny_model


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_model(tmp_path)


def test_predict_returns_probabilities_that_depend_on_pixels(tiny):
    classifier = ExpressionClassifier(tiny, provider="cpu")
    crops = np.stack([np.zeros((48, 48, 1), np.uint8), np.full((48, 48, 1), 255, np.uint8)])
    probs = classifier.predict(crops)
    assert probs.shape == (2, 7) and probs.dtype == np.float32
    assert probs.sum(axis=1) == pytest.approx(np.ones(2), abs=1e-5)
    assert not np.allclose(probs[0], probs[1])
    assert classifier.predict(crops[:0]).shape == (0, 7)
    assert classifier.labels == LABELS7 and classifier.provider == "CPUExecutionProvider"


def test_preprocessing_follows_the_sidecar(tmp_path):
    """A model that sums its input pixels (one class weight 1): (x*scale - mean)/std shows up in its logits."""
    weights = np.zeros((48 * 48, 2), np.float32)
    weights[:, 0] = 1.0 / (48 * 48)
    path = write_tiny_model(tmp_path, labels=("a", "b"), weights=weights)
    card = json.loads(path.with_suffix(".json").read_text())
    card["input"].update(mean=[0.5], std=[0.25])
    card["output_kind"] = "probabilities"
    path.with_suffix(".json").write_text(json.dumps(card))
    classifier = ExpressionClassifier(path)
    x = classifier.preprocess(np.full((1, 48, 48, 1), 255, np.uint8))
    assert x.dtype == np.float32 and x[0, 0, 0, 0] == pytest.approx((1.0 - 0.5) / 0.25)
    probs = classifier.predict(np.full((1, 48, 48, 1), 255, np.uint8))
    assert probs[0] == pytest.approx(softmax(np.array([[2.0, 0.0]], np.float32))[0], abs=1e-5)


def test_missing_sidecar_is_a_clear_error(tmp_path):
    path = build_tiny_onnx(tmp_path / "m.onnx")
    with pytest.raises(ModelError, match=r"expected .*m\.json.*got no file"):
        ExpressionClassifier(path)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="expected an ONNX file, got no file"):
        ExpressionClassifier(tmp_path / "absent.onnx")


def test_corrupt_model_is_a_clear_error(tiny):
    tiny.write_bytes(b"this is not an onnx file")
    card = json.loads(tiny.with_suffix(".json").read_text())
    card["sha256"] = ""
    tiny.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="expected a valid ONNX file"):
        ExpressionClassifier(tiny)


def test_sha_mismatch_is_detected(tiny):
    build_tiny_onnx(tiny, seed=1)  # same shapes, other weights: the sidecar's sha256 no longer fits
    with pytest.raises(ModelError, match="sha256"):
        ExpressionClassifier(tiny)


@pytest.mark.parametrize("change, message", [
    ({"input": {"height": 64, "width": 64}}, "input shape"),
    ({"labels": ["a", "b", "c"]}, "output shape"),
    ({"input": {"name": "pixels"}}, "expected input 'pixels'"),
    ({"input": {"color": "purple"}}, "input.color"),
    ({"format": "something-else"}, "format"),
])
def test_sidecar_that_does_not_match_the_graph(tiny, change, message):
    card = json.loads(tiny.with_suffix(".json").read_text())
    for key, value in change.items():
        if isinstance(value, dict):
            card[key].update(value)
        else:
            card[key] = value
    card["sha256"] = ""
    tiny.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match=message):
        ExpressionClassifier(tiny)


def test_malformed_sidecar_json(tiny):
    tiny.with_suffix(".json").write_text("{not json")
    with pytest.raises(ModelError, match="expected JSON"):
        load_card(tiny)


def test_providers():
    assert resolve_provider("cpu") == "CPUExecutionProvider"
    assert resolve_provider("auto") in {"CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider"}
    with pytest.raises(ProviderError, match="expected one of"):
        resolve_provider("tpu")
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        with pytest.raises(ProviderError, match="cuda"):
            resolve_provider("cuda")
