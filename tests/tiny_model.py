"""Tiny, real ONNX expression models built in tests (no TensorFlow needed).

The graph is NHWC float input -> Flatten -> Gemm (fixed weights) -> Softmax, so its
outputs depend on the pixels and a test can tell inputs apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from realtime_fer.core.model_card import InputSpec, ModelCard, file_sha256

LABELS7 = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def build_tiny_onnx(path: Path, labels=LABELS7, size: int = 48, channels: int = 1, seed: int = 0,
                    input_name: str = "input", output_name: str = "probs", weights: np.ndarray | None = None,
                    bias: np.ndarray | None = None) -> Path:
    """Write a Flatten->Gemm->Softmax model taking (N, size, size, channels) float32."""
    n_in = size * size * channels
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.05, (n_in, len(labels))).astype(np.float32) if weights is None else weights.astype(np.float32)
    b = np.zeros(len(labels), np.float32) if bias is None else np.asarray(bias, np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", [input_name], ["flat"], axis=1),
         helper.make_node("Gemm", ["flat", "W", "B"], ["logits"]),
         helper.make_node("Softmax", ["logits"], [output_name], axis=1)],
        "tiny_fer",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", size, size, channels])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", len(labels)])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    return path


def write_tiny_model(directory: Path, labels=LABELS7, size: int = 48, channels: int = 1, **kwargs) -> Path:
    """Write ``tiny.onnx`` and its sidecar ``tiny.json`` into ``directory``; return the ONNX path."""
    path = build_tiny_onnx(Path(directory) / "tiny.onnx", labels, size, channels, **kwargs)
    color = "gray" if channels == 1 else "bgr"
    card = ModelCard(labels=tuple(labels), input=InputSpec(height=size, width=size, channels=channels, color=color,
                                                         mean=(0.0,), std=(1.0,)),
                     sha256=file_sha256(path), model_file=path.name, training={"data": "synthetic test model"})
    path.with_suffix(".json").write_text(card.to_json())
    return path


BRIGHTNESS_THRESHOLD = 0.42


def write_brightness_model(directory: Path) -> Path:
    """A real ONNX model whose answer is known: "happy" for a face crop brighter than 0.42 on average, else "sad".

    logit_happy = 40 * mean pixel (0..1 grey, 48x48), logit_sad = 40 * 0.42, the others 0.
    """
    weights = np.zeros((48 * 48, len(LABELS7)), np.float32)
    weights[:, LABELS7.index("happy")] = 40.0 / (48 * 48)
    bias = np.zeros(len(LABELS7), np.float32)
    bias[LABELS7.index("sad")] = 40.0 * BRIGHTNESS_THRESHOLD
    return write_tiny_model(directory, weights=weights, bias=bias)
