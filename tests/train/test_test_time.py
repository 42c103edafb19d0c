"""train.test_time: mirror averaging and log-prior offsets baked into a real ONNX graph."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from realtime_fer.core.classify import ExpressionClassifier
from realtime_fer.core.model_card import file_sha256, load_card
from tests.tiny_model import LABELS7, write_tiny_model
from train.test_time import WrapError, main, parse_offsets, wrap_model


def _probs(path, x):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]


def _crops(n=5, seed=1):
    return (np.random.default_rng(seed).integers(0, 256, (n, 48, 48, 1)) / 255.0).astype(np.float32)


@pytest.mark.parametrize("opset", [17, 18])
def test_mirror_and_offsets_are_what_the_graph_computes(tmp_path, opset):
    tiny = write_tiny_model(tmp_path, seed=3)
    if opset != 17:  # the same graph declared at opset 18, where ReduceMean takes its axes as an input
        model = onnx.load(str(tiny))
        model.opset_import[0].version = opset
        onnx.save(model, str(tiny))
        card = json.loads(tiny.with_suffix(".json").read_text())
        card["sha256"] = file_sha256(tiny)
        tiny.with_suffix(".json").write_text(json.dumps(card))
    x = _crops()
    before = _probs(tiny, x)
    out = tmp_path / "wrapped.onnx"
    record = wrap_model(tiny, out, mirror=True, offsets={"disgust": 1.5}, chosen_on="a test")
    after = _probs(out, x)
    expected = 0.5 * (before + _probs(tiny, np.ascontiguousarray(x[:, :, ::-1]))) * np.exp([0, 1.5, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(after, expected / expected.sum(1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(after.sum(1), 1.0, atol=1e-6)
    # mirrored inputs now give the same answer (the tiny net itself is not symmetric)
    assert np.abs(before - _probs(tiny, np.ascontiguousarray(x[:, :, ::-1]))).max() > 1e-3
    np.testing.assert_allclose(after, _probs(out, np.ascontiguousarray(x[:, :, ::-1])), atol=1e-6)
    card = load_card(out)  # the sidecar was rewritten: new sha256, the record under training.test_time
    assert card.sha256 == record["sha256"] == file_sha256(out) and card.model_file == "wrapped.onnx"
    assert card.training["test_time"]["log_prior_offsets"] == {"disgust": 1.5}
    assert card.training["test_time"]["source_sha256"] == file_sha256(tiny) and card.training["test_time_flip"]


def test_the_runtime_classifier_runs_the_wrapped_graph_at_any_batch_size(tmp_path):
    tiny = write_tiny_model(tmp_path)
    out = tmp_path / "wrapped.onnx"
    wrap_model(tiny, out, mirror=True, offsets={})
    classifier = ExpressionClassifier(out)
    crops = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1), dtype=np.uint8)
    for n in (1, 5):
        probs = classifier.predict(crops[:n])
        assert probs.shape == (n, 7)
        np.testing.assert_allclose(probs, classifier.predict(np.ascontiguousarray(crops[:n, :, ::-1])), atol=1e-6)


def test_an_offset_alone_moves_only_that_class(tmp_path):
    tiny = write_tiny_model(tmp_path)
    out = tmp_path / "offset.onnx"
    wrap_model(tiny, out, mirror=False, offsets={"surprise": -2.0})
    x = _crops()
    before, after = _probs(tiny, x), _probs(out, x)
    ratio = (after[:, 6] / after[:, 0]) / (before[:, 6] / before[:, 0])
    np.testing.assert_allclose(ratio, np.exp(-2.0), rtol=1e-4)
    np.testing.assert_allclose(after[:, 1] / after[:, 0], before[:, 1] / before[:, 0], rtol=1e-4)


def test_bad_requests_are_one_line_errors(tmp_path, capsys):
    tiny = write_tiny_model(tmp_path)
    with pytest.raises(WrapError, match="expected LABEL=NUMBER with LABEL one of angry"):
        parse_offsets(["contempt=1"], LABELS7)
    with pytest.raises(WrapError, match="expected a number after"):
        parse_offsets(["disgust=lots"], LABELS7)
    with pytest.raises(WrapError, match="got neither"):
        wrap_model(tiny, tmp_path / "x.onnx", mirror=False, offsets={})
    wrapped = tmp_path / "once.onnx"
    wrap_model(tiny, wrapped, mirror=True)
    with pytest.raises(WrapError, match="already wrapped"):
        wrap_model(wrapped, tmp_path / "twice.onnx", mirror=True)
    assert main(["--model", str(tiny), "--offset", "joy=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error: --offset joy=1" in err and "Traceback" not in err
    assert load_card(tiny).sha256 == file_sha256(tiny)  # a refused wrap leaves the model alone
