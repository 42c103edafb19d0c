"""train.ensemble: one ONNX graph running a BGR model and a grey model on one crop (real ONNX Runtime sessions)."""

import cv2
import numpy as np
import pytest

from realtime_fer.core.classify import ExpressionClassifier
from tests.tiny_model import write_tiny_model
from train.ensemble import EnsembleError, build, main, write_sidecar


@pytest.fixture
def pair(tmp_path):
    (tmp_path / "large").mkdir()
    (tmp_path / "small").mkdir()
    large = write_tiny_model(tmp_path / "large", size=40, channels=3, seed=1)
    small = write_tiny_model(tmp_path / "small", size=16, channels=1, seed=2)
    return large, small


def reference(large, small, crops, weight):
    """numpy: the large model on the crop, the small one on its grey, bilinear-resized copy, log-probs mixed."""
    a = ExpressionClassifier(large, provider="cpu").predict(crops)
    grey = np.stack([cv2.resize(cv2.cvtColor(c, cv2.COLOR_BGR2GRAY), (16, 16), interpolation=cv2.INTER_LINEAR)
                     for c in crops])[..., None]
    b = ExpressionClassifier(small, provider="cpu").predict(grey)
    logits = weight * np.log(np.maximum(a, 1e-7)) + (1 - weight) * np.log(np.maximum(b, 1e-7))
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), a, b


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_the_graph_equals_the_two_models_combined_in_numpy(tmp_path, pair, weight):
    large, small = pair
    out = build(large, small, weight, tmp_path / "ens.onnx")
    write_sidecar(large, small, weight, out, "a test")
    ensemble = ExpressionClassifier(out, provider="cpu")
    assert ensemble.input_size == (40, 40) and not ensemble.grayscale
    assert ensemble.card.training["ensemble"]["weight_large"] == weight
    crops = np.random.default_rng(0).integers(0, 256, (6, 40, 40, 3), dtype=np.uint8)
    expected, a, b = reference(large, small, crops, weight)
    got = ensemble.predict(crops)
    # the graph resizes the float grey image; the numpy path rounds it to uint8 first (<= 0.5/255 per pixel)
    np.testing.assert_allclose(got, expected, atol=2e-3)
    if weight == 1.0:
        np.testing.assert_allclose(got, a, atol=1e-5)
    if weight == 0.0:
        assert np.abs(got - a).max() > 1e-3


def test_mismatched_models_are_one_line_errors(tmp_path, pair, capsys):
    large, small = pair
    with pytest.raises(EnsembleError, match="BGR large model"):
        build(small, large, 0.5, tmp_path / "x.onnx")
    code = main(["--large", str(large), "--small", str(small), "--weight", "2", "--out", str(tmp_path / "y.onnx"),
                 "--chosen-on", "x"])
    assert code == 2 and "expected a number in [0, 1], got 2.0" in capsys.readouterr().err
