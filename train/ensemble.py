"""One ONNX graph that runs two expression models on one crop and adds their log-probabilities.

``python -m train.ensemble --large models/expression-faceres.int8.onnx --small models/expression-compact.onnx
--weight 0.5 --out models/expression-ensemble.int8.onnx --chosen-on "..."``

The runtime feeds the graph the *large* model's crop ((N, S, S, 3) float32 BGR in [0, 1], its sidecar's crop). The
graph turns that crop into the *small* model's input inside itself (BT.601 grey as ``cv2.COLOR_BGR2GRAY``, then a
bilinear resize to the small model's side), runs both, and returns ``softmax(w * ln p_large + (1 - w) * ln
p_small)`` as ``probs``. The sidecar is the large model's, with the sha256, the file name and
``training.ensemble`` (both sources' sha256, the weight, the split that chose it). Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

EPS = 1e-7


class EnsembleError(Exception):
    """Bad input to the ensemble builder; the message is one line."""


def _prefixed(model_path: Path, prefix: str):
    import onnx
    from onnx import compose

    model = onnx.load(str(model_path))
    return compose.add_prefix(model, prefix)


def _grey_and_resize(small_side: int):
    """Nodes and initialisers: ``input`` (N, S, S, 3) BGR -> ``s_input`` (N, side, side, 1) grey, bilinear."""
    from onnx import helper, numpy_helper

    weights = numpy_helper.from_array(np.array([0.114, 0.587, 0.299], np.float32).reshape(1, 1, 1, 3), "ens_bgr_w")
    axes = numpy_helper.from_array(np.array([3], np.int64), "ens_axes")
    sizes = numpy_helper.from_array(np.array([small_side, small_side], np.int64), "ens_sizes")
    to_nchw_axes = [0, 3, 1, 2]
    nodes = [
        helper.make_node("Mul", ["input", "ens_bgr_w"], ["ens_weighted"]),
        helper.make_node("ReduceSum", ["ens_weighted", "ens_axes"], ["ens_grey"], keepdims=1),
        helper.make_node("Transpose", ["ens_grey"], ["ens_grey_nchw"], perm=to_nchw_axes),
        helper.make_node("Shape", ["ens_grey_nchw"], ["ens_shape"]),
        helper.make_node("Slice", ["ens_shape", "ens_zero", "ens_two"], ["ens_nc"]),
        helper.make_node("Concat", ["ens_nc", "ens_sizes"], ["ens_out_shape"], axis=0),
        helper.make_node("Resize", ["ens_grey_nchw", "", "", "ens_out_shape"], ["ens_small_nchw"], mode="linear",
                         coordinate_transformation_mode="half_pixel"),
        helper.make_node("Transpose", ["ens_small_nchw"], ["s_input"], perm=[0, 2, 3, 1]),
    ]
    inits = [weights, axes, sizes, numpy_helper.from_array(np.array([0], np.int64), "ens_zero"),
             numpy_helper.from_array(np.array([2], np.int64), "ens_two")]
    return nodes, inits


def build(large: Path, small: Path, weight: float, out: Path) -> Path:
    """Write the ensemble graph to ``out`` (see the module docstring)."""
    import onnx
    from onnx import helper, numpy_helper

    from realtime_fer.core.model_card import load_card

    large_card, small_card = load_card(large), load_card(small)
    if large_card.labels != small_card.labels:
        raise EnsembleError(f"expected two models with the same labels, got {large_card.labels} and {small_card.labels}")
    if (large_card.input.color, large_card.input.channels) != ("bgr", 3) or small_card.input.color != "gray":
        raise EnsembleError(f"expected a BGR large model and a grey small model, got {large_card.input.color} and "
                            f"{small_card.input.color}")
    a, b = _prefixed(large, "l_"), _prefixed(small, "s_")
    prep_nodes, prep_inits = _grey_and_resize(small_card.input.width)
    nodes = [helper.make_node("Identity", ["input"], ["l_input"]), *prep_nodes, *a.graph.node, *b.graph.node]
    w = numpy_helper.from_array(np.array(weight, np.float32), "ens_w")
    w1 = numpy_helper.from_array(np.array(1.0 - weight, np.float32), "ens_w1")
    eps = numpy_helper.from_array(np.array(EPS, np.float32), "ens_eps")
    nodes += [
        helper.make_node("Max", ["l_probs", "ens_eps"], ["ens_pl"]), helper.make_node("Log", ["ens_pl"], ["ens_ll"]),
        helper.make_node("Max", ["s_probs", "ens_eps"], ["ens_ps"]), helper.make_node("Log", ["ens_ps"], ["ens_ls"]),
        helper.make_node("Mul", ["ens_ll", "ens_w"], ["ens_wl"]), helper.make_node("Mul", ["ens_ls", "ens_w1"], ["ens_ws"]),
        helper.make_node("Add", ["ens_wl", "ens_ws"], ["ens_logits"]),
        helper.make_node("Softmax", ["ens_logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(nodes, "expression_ensemble", [onnx.ValueInfoProto.FromString(
        a.graph.input[0].SerializeToString())], [onnx.ValueInfoProto.FromString(a.graph.output[0].SerializeToString())],
        initializer=[*a.graph.initializer, *b.graph.initializer, *prep_inits, w, w1, eps])
    graph.input[0].name, graph.output[0].name = "input", "probs"
    model = helper.make_model(graph, opset_imports=list(a.opset_import), ir_version=a.ir_version)
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    return out


def write_sidecar(large: Path, small: Path, weight: float, out: Path, chosen_on: str) -> Path:
    """The large model's sidecar with this graph's sha256 and ``training.ensemble``."""
    from realtime_fer.core.model_card import file_sha256, load_card, sidecar_path

    data = json.loads(sidecar_path(large).read_text(encoding="utf-8"))
    data["training"] = {**data.get("training", {}), "ensemble": {
        "large": {"file": large.name, "sha256": file_sha256(large)},
        "small": {"file": small.name, "sha256": file_sha256(small)},
        "weight_large": weight, "combine": "softmax(w ln p_large + (1 - w) ln p_small); the small model's input is "
                                           "the large crop in BT.601 grey, bilinear-resized inside the graph",
        "chosen_on": chosen_on}}
    data.update(sha256=file_sha256(out), model_file=out.name, metrics={})
    path = sidecar_path(out)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    load_card(out)
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.ensemble", description=__doc__.splitlines()[0])
    p.add_argument("--large", required=True, type=Path, help="BGR model whose crop the runtime feeds")
    p.add_argument("--small", required=True, type=Path, help="grey model run on the crop resized inside the graph")
    p.add_argument("--weight", type=float, default=0.5, help="weight of the large model's log-probabilities")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--chosen-on", required=True, help="which split chose the weight (recorded in the sidecar)")
    args = p.parse_args(argv)
    from realtime_fer.errors import FerError

    try:
        if not 0.0 <= args.weight <= 1.0:
            raise EnsembleError(f"--weight: expected a number in [0, 1], got {args.weight}")
        build(args.large, args.small, args.weight, args.out)
        write_sidecar(args.large, args.small, args.weight, args.out, args.chosen_on)
    except (EnsembleError, FerError, OSError) as exc:
        print(f"train.ensemble: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(args.out), "weight": args.weight}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
