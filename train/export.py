"""Export a trained run to ONNX plus its sidecar: ``python -m train.export --run runs/default``.

Writes ``--out`` (default ``models/expression-faceres.onnx``) and the sidecar next to it
(``models/expression-faceres.json``, a ``realtime_fer.core.model_card.ModelCard``):

* The graph takes NHWC float32 ``input`` (n, H, W, C) = uint8 crop / 255 in the
  prepared data's colour order and returns ``probs`` (n, K) probabilities: the
  softmax is baked in, and with ``--flip`` so is test-time horizontal-flip averaging.
* Parity: Keras (TensorFlow backend) and onnxruntime run the same real images
  (the prepared val set); the export fails unless max |diff| <= ``--tolerance`` (1e-4).
* ``--int8``: also writes a statically quantised (QDQ, per-channel) variant
  ``<out>.int8.onnx`` with its own sidecar, kept only if its val accuracy is within
  ``--int8-max-drop`` of the float model's; the measurement is printed either way.

The export always runs on the TensorFlow backend (Keras 3 exports ONNX through tf2onnx);
a model trained on the PyTorch backend is re-loaded from its ``.keras`` file.
Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from train.fit import FitError

INPUT_NAME, OUTPUT_NAME = "input", "probs"


class ExportError(Exception):
    """Bad input to the export or a failed check; the message is one line."""


def _keras_tf():
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != "tensorflow":
            raise ExportError(f"keras backend: expected 'tensorflow' for ONNX export, got {keras.backend.backend()!r} "
                              "already imported; run the export in its own process")
        return keras
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def load_checkpoint(path: str | Path):
    """Load a ``.keras`` logits model on the TensorFlow backend; ExportError if missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"checkpoint: expected a .keras file at {path}, got none; train first (python -m train.fit)")
    keras = _keras_tf()
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # keras raises many types for a corrupt zip
        raise ExportError(f"checkpoint {path}: expected a Keras 3 model file, got a load error "
                          f"({str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__}); re-train or pick another") from None
    return as_float32(model, keras)


def _float32_config(node):
    """``node`` (a Keras config) with every layer's dtype policy replaced by "float32"."""
    if isinstance(node, dict):
        return {key: "float32" if key == "dtype" and isinstance(value, (dict, str)) else _float32_config(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_float32_config(item) for item in node]
    return node


def as_float32(model, keras):
    """``model`` itself when it computes in float32, else a float32 copy (same weights).

    A checkpoint trained with ``precision = "mixed_bfloat16"`` keeps that policy per layer;
    exporting it as is would put bfloat16 casts into the ONNX graph.
    """
    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model
    clean = keras.Model.from_config(_float32_config(model.get_config()))
    clean.set_weights(model.get_weights())
    return clean


def _rename_io(path: Path, batch_dim: str = "N") -> None:
    """Name the graph's single input ``input`` and single output ``probs``; make the batch dimension symbolic."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    initializers = {i.name for i in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in initializers]
    if len(real_inputs) != 1 or len(graph.output) != 1:
        raise ExportError(f"onnx graph: expected 1 input and 1 output, got {len(real_inputs)} and {len(graph.output)}")
    renames = {real_inputs[0].name: INPUT_NAME, graph.output[0].name: OUTPUT_NAME}
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    real_inputs[0].name = INPUT_NAME
    graph.output[0].name = OUTPUT_NAME
    for value in (real_inputs[0], graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = batch_dim
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def export_onnx(model, path: str | Path, flip: bool = False) -> Path:
    """Write ``model`` (logits) as an ONNX graph ``input`` (N,H,W,C) float32 -> ``probs`` (N,K) float32.

    Returns the path. The Keras inference wrapper (softmax, optional flip mean) is built,
    called once on a dummy batch (Keras 3 needs that before ``export``), then exported.
    """
    from train.model import inference_model

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapped = inference_model(model, flip=flip)
    wrapped(np.zeros((1, *model.input_shape[1:]), np.float32))
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        wrapped.export(str(raw), format="onnx", verbose=False)
        _rename_io(raw)
        os.replace(raw, path)
    return path


def keras_probs(model, x: np.ndarray, flip: bool, batch_size: int = 256) -> np.ndarray:
    """(n, K) float32 probabilities from the Keras logits model, computed like the exported graph."""
    from train.fit import predict_probs

    return predict_probs(model, x, flip=flip, batch_size=batch_size)


def ort_probs(path: str | Path, x: np.ndarray, batch_size: int = 256, threads: int = 0) -> np.ndarray:
    """(n, K) float32 outputs of an exported model in onnxruntime (CPU)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    outs = [session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(x[i:i + batch_size], np.float32)})[0]
            for i in range(0, len(x), batch_size)]
    return np.concatenate(outs).astype(np.float32)


def parity(model, path: str | Path, x: np.ndarray, flip: bool) -> float:
    """Max |Keras - onnxruntime| over ``x`` (n, H, W, C) float32 images."""
    return float(np.abs(keras_probs(model, x, flip) - ort_probs(path, x)).max())


def ms_per_face(path: str | Path, x: np.ndarray, batch: int, threads: int = 1, seconds: float = 2.0) -> float:
    """Median-free simple timing: mean ms per face of ``session.run`` on batches of ``batch`` (intra-op ``threads``)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    xb = np.ascontiguousarray(x[:batch], np.float32)
    if len(xb) < batch:
        xb = np.resize(xb, (batch, *x.shape[1:])).astype(np.float32)
    for _ in range(5):
        session.run([OUTPUT_NAME], {INPUT_NAME: xb})
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run([OUTPUT_NAME], {INPUT_NAME: xb})
        runs += 1
    return (time.perf_counter() - start) / runs / batch * 1000.0


def quantization_note(reduce_range: bool = True) -> str:
    """The sidecar's ``training.quantization`` for :func:`quantize_int8` with this ``reduce_range``."""
    weights = "with reduce_range" if reduce_range else "full 8-bit range (no reduce_range)"
    return f"static QDQ: uint8 activations, int8 per-channel weights {weights}; 512 calibration train images"


def quantize_int8(src: str | Path, dst: str | Path, calibration: np.ndarray, reduce_range: bool = True) -> Path:
    """Static QDQ int8 quantisation calibrated on ``calibration`` (n, H, W, C) float32.

    Choices, each measured on the stage-1 default model (PublicTest, 1 thread, batch 5):

    * uint8 activations, int8 per-channel weights (U8S8): ONNX Runtime's x86 integer
      kernels.  With int8 activations (S8S8) it fused only 6 of the 14 convolutions into
      QLinearConv and ran the other 8 in float between Dequantize/Quantize nodes:
      0.83 ms/face against 0.31 for U8S8 (float model: 0.87).
    * ``reduce_range`` (7-bit weights): ONNX Runtime's quantisation guide warns that U8S8
      can saturate on x86 CPUs without VNNI (AVX2 / plain AVX-512, i.e. many laptops);
      7-bit weights avoid it.  This machine has VNNI, so the cost could be measured but
      not the saturation: 66.0 % vs 66.5 % val accuracy, same speed.
    * ``reduce_range=False`` (8-bit weights) is for networks that 7-bit weights hurt: the face-pretrained
      80 px student (``configs/faceres_student80.toml``) keeps its ExpW-dev accuracy with it (0.4513, as
      float32) and loses 1.4 points without (0.4369), at the same speed (0.78 ms/face in ONNX Runtime alone;
      session 8).
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter([{INPUT_NAME: calibration[i:i + 32].astype(np.float32)} for i in range(0, len(calibration), 32)])

        def get_next(self):
            return next(self._it, None)

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        # the softmax stays float: a quantised one returns probabilities in 1/256 steps whose sum is not 1
        softmax = [node.name for node in onnx.load(str(pre)).graph.node if node.op_type == "Softmax"]
        quantize_static(str(pre), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        reduce_range=reduce_range, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=softmax)
    return Path(dst)


def read_crop_spec(path: str | Path | None):
    """The sidecar's CropSpec from ``configs/fer2013_crop.json`` if present, else ``CropSpec()``; (spec, source)."""
    from realtime_fer.core.align import CropSpec

    if path and Path(path).is_file():
        return CropSpec.from_dict(json.loads(Path(path).read_text(encoding="utf-8"))), str(path)
    return CropSpec(), "CropSpec() defaults (no crop file)"


def write_card(onnx_path: Path, meta: dict, training: dict, metrics: dict, crop, alignment: str) -> Path:
    """Write the sidecar ``<onnx_path>.json`` for ``onnx_path``; returns its path."""
    from realtime_fer.core.model_card import InputSpec, ModelCard, file_sha256, sidecar_path

    height, width = (int(v) for v in meta["size"])
    spec = InputSpec(name=INPUT_NAME, height=height, width=width, channels=int(meta["channels"]),
                     color=meta["color"], layout="NHWC", scale=1.0 / 255.0, mean=(0.0,), std=(1.0,))
    card = ModelCard(labels=tuple(meta["classes"]), input=spec, output_name=OUTPUT_NAME, output_kind="probabilities",
                     crop=crop, alignment=alignment, sha256=file_sha256(onnx_path), model_file=onnx_path.name,
                     training=training, metrics=metrics)
    card.validate(str(onnx_path))
    path = sidecar_path(onnx_path)
    path.write_text(card.to_json(), encoding="utf-8")
    return path


def portable_path(path: str | dict | None) -> str | dict | None:
    """``path`` relative to the working directory (the repository root) when it is absolute, so a
    sidecar records ``../shared/data/fer2013`` rather than one machine's absolute path; a dict of
    paths (a mixed-source data set: ``{"fer2013": ..., "expw": ...}``) gets each value made so."""
    if isinstance(path, dict):
        return {key: portable_path(value) for key, value in path.items()}
    if not path or not os.path.isabs(path):
        return path
    return os.path.relpath(path)


def export_run(run: str | Path, out: str | Path, data: str | Path | None = None, checkpoint: str = "best.keras",
               flip: bool = False, tolerance: float = 1e-4, crop_file: str | None = "configs/fer2013_crop.json",
               alignment: str = "eyes-level", parity_images: int = 512, int8: bool = False,
               int8_max_drop: float = 0.005, extra_metrics: dict | None = None, int8_full_range: bool = False) -> dict:
    """Export ``run/checkpoint`` to ``out`` with its sidecar; return a summary dict.

    Raises:
        ExportError: missing run files, or parity above ``tolerance``.
    """
    import dataclasses

    from train.config import config_from_dict
    from train.fit import load_data

    run, out = Path(run), Path(out)
    for name in ("config.json", "meta.json"):
        if not (run / name).is_file():
            raise ExportError(f"run folder {run}: expected {name} (written by train.fit), got none; "
                              "pass the --out folder of a training run")
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    meta = json.loads((run / "meta.json").read_text(encoding="utf-8"))
    run_metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8")) if (run / "metrics.json").is_file() else {}
    state = json.loads((run / "state.json").read_text(encoding="utf-8")) if (run / "state.json").is_file() else {}
    run_cfg = config_from_dict(config, where=f"{run / 'config.json'}")
    prepared = load_data(dataclasses.replace(run_cfg, data=str(data)) if data else run_cfg)
    if prepared.classes != list(meta["classes"]):
        raise ExportError(f"--data: expected classes {meta['classes']} (the run's), got {prepared.classes}")
    model = load_checkpoint(run / checkpoint)
    export_onnx(model, out, flip=flip)
    x = prepared.val_x[:parity_images]
    diff = parity(model, out, x, flip)
    if not diff <= tolerance:
        raise ExportError(f"parity: expected max |keras - onnxruntime| <= {tolerance:g} on {len(x)} val images, "
                          f"got {diff:.3g}; the ONNX graph is not faithful, do not ship it")
    y_val = prepared.val_y.argmax(1)
    float_acc = float((ort_probs(out, prepared.val_x).argmax(1) == y_val).mean())
    timing = {f"batch{b}": round(ms_per_face(out, prepared.val_x, b), 4) for b in (5, 32)}
    history = state.get("history", [])
    training = {"data": portable_path(meta.get("data")), "split": meta.get("split"), "label_source": meta.get("label_source"),
                "alignment": meta.get("alignment"), "prepared_counts": meta.get("counts"),
                "prepare_command": config.get("prepare"), "config": config.get("name"),
                "init_from": config.get("init_from") or None,
                "recipe": {k: config.get(k) for k in ("optimizer", "lr", "weight_decay", "batch_size", "label_smoothing",
                                                      "class_weight_power", "schedule", "max_minutes", "backend")},
                "model": config.get("model"), "augment": config.get("augment"),
                "epochs_trained": len(history), "best_epoch": state.get("best_epoch"),
                "train_images_seen": int(sum(h.get("images", 0) for h in history)),
                "test_time_flip": flip, "checkpoint": checkpoint}
    metrics = {"val_prepared": {k: run_metrics.get(k) for k in ("n", "accuracy", "macro_f1", "per_class")}
               if run_metrics else {},
               "onnx_val_prepared_accuracy": round(float_acc, 6),
               "parity_max_abs_diff": diff, "parity_images": int(len(x)),
               "ms_per_face_onnxruntime_cpu_1thread": timing, **(extra_metrics or {})}
    crop, crop_source = read_crop_spec(crop_file)
    training["crop_source"] = crop_source
    card_path = write_card(out, meta, training, metrics, crop, alignment)
    summary = {"onnx": str(out), "sidecar": str(card_path), "parity_max_abs_diff": diff, "parity_images": len(x),
               "val_accuracy_onnx": float_acc, "ms_per_face": timing, "crop": crop.to_dict(), "crop_source": crop_source}
    if int8:
        q_path = out.with_name(out.stem + ".int8.onnx")
        quantize_int8(out, q_path, prepared.train_x[:: max(1, len(prepared.train_x) // 512)][:512],
                      reduce_range=not int8_full_range)
        q_acc = float((ort_probs(q_path, prepared.val_x).argmax(1) == y_val).mean())
        q_timing = {f"batch{b}": round(ms_per_face(q_path, prepared.val_x, b), 4) for b in (5, 32)}
        kept = float_acc - q_acc <= int8_max_drop
        summary["int8"] = {"val_accuracy": q_acc, "ms_per_face": q_timing, "kept": kept, "max_drop": int8_max_drop}
        if kept:
            write_card(q_path, meta, {**training, "quantization": quantization_note(not int8_full_range)},
                       {"onnx_val_prepared_accuracy": round(q_acc, 6), "ms_per_face_onnxruntime_cpu_1thread": q_timing},
                       crop, alignment)
        else:
            q_path.unlink(missing_ok=True)
    return summary


def add_metrics(onnx_path: str | Path, metrics: dict) -> Path:
    """Merge ``metrics`` into the sidecar of an already exported ``onnx_path`` (the ONNX file is untouched).

    Raises:
        realtime_fer.errors.ModelError: missing/mismatched sidecar.
    """
    from realtime_fer.core.model_card import load_card, sidecar_path

    card = load_card(onnx_path)  # validates the sidecar and the model's sha256
    path = sidecar_path(onnx_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["metrics"] = {**card.metrics, **metrics}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    load_card(onnx_path)
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.export", description=__doc__.splitlines()[0])
    p.add_argument("--run", default="runs/default", help="training run folder (default runs/default)")
    p.add_argument("--checkpoint", default="best.keras", help="checkpoint file inside the run (default best.keras)")
    p.add_argument("--out", default="models/expression-faceres.onnx", help="ONNX path; the sidecar gets .json")
    p.add_argument("--data", help="prepared data for parity/accuracy (default: the run's)")
    p.add_argument("--flip", action="store_true", help="bake test-time flip averaging into the graph (2x cost)")
    p.add_argument("--tolerance", type=float, default=1e-4, help="parity tolerance (default 1e-4)")
    p.add_argument("--crop-file", default="configs/fer2013_crop.json", help="CropSpec JSON for the sidecar")
    p.add_argument("--alignment", default="eyes-level", help="sidecar alignment (default eyes-level)")
    p.add_argument("--int8", action="store_true", help="also write a static int8 variant if it keeps accuracy")
    p.add_argument("--int8-max-drop", type=float, default=0.005, help="max val accuracy drop for the int8 variant")
    p.add_argument("--int8-full-range", action="store_true",
                   help="8-bit int8 weights instead of reduce_range's 7-bit (for nets 7-bit weights hurt)")
    p.add_argument("--metrics", help="JSON file of extra metrics (e.g. train.evaluate --json output) for the sidecar")
    p.add_argument("--metrics-only", action="store_true",
                   help="with --metrics: merge them into the existing sidecar of --out; no re-export")
    args = p.parse_args(argv)
    from realtime_fer.errors import FerError

    if args.metrics_only:
        try:
            if not args.metrics:
                raise ExportError("--metrics-only: expected --metrics FILE too, got none; pass the JSON to merge")
            path = add_metrics(args.out, json.loads(Path(args.metrics).read_text(encoding="utf-8")))
        except (ExportError, FerError, OSError, ValueError) as exc:
            print(f"train.export: {exc}", file=sys.stderr)
            return 2
        print(f"updated {path}")
        return 0
    try:
        extra = json.loads(Path(args.metrics).read_text(encoding="utf-8")) if args.metrics else None
        summary = export_run(args.run, args.out, args.data, args.checkpoint, args.flip, args.tolerance, args.crop_file,
                             args.alignment, int8=args.int8, int8_max_drop=args.int8_max_drop, extra_metrics=extra,
                             int8_full_range=args.int8_full_range)
    except (ExportError, FitError, OSError, ValueError) as exc:
        print(f"train.export: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
