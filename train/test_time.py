"""Bake test-time mirror averaging and per-class log-prior offsets into an exported ONNX classifier.

    python -m train.test_time --model models/expression.onnx --mirror --offset disgust=0.4 \
        --chosen-on "ExpW val: ..." [--out OTHER.onnx]

The wrapped graph keeps the interface of ``train.export``'s graphs: ``input`` (N, H, W, C)
float32 NHWC -> ``probs`` (N, K) float32 rows summing to 1. Inside:

* ``--mirror``: the batch and its left-right mirror image (flipped along W) go through the
  original graph as one (2N, H, W, C) batch, and the two (N, K) probability rows are averaged
  (2x the classifier's cost per face; int8 graphs stay int8 inside);
* ``--offset LABEL=B`` (repeatable): ``probs <- normalize(probs * exp(B))`` per class, i.e. ``B``
  added to that class's log-probability (a logit adjustment: it moves the decision boundary
  in favour of a class the model under-predicts, without retraining).

The sidecar is rewritten with the new sha256 and a ``training.test_time`` record (what was
baked in, the source file's sha256, and ``--chosen-on``: which split chose the offsets).
Parity: the wrapped graph is run on random crops against the same arithmetic done in numpy
around the original graph; the wrap fails unless they agree to 1e-5. A model wrapped once
is refused (wrap the original again instead).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

MARK = "realtime_fer.test_time"
"""ONNX metadata key of a wrapped graph (its value: the JSON of what was baked in)."""


class WrapError(Exception):
    """Bad input to the wrapper; the message is one line (expected / got / what to do)."""


def parse_offsets(specs: list[str], labels: tuple[str, ...]) -> dict[str, float]:
    """``["disgust=0.4", ...]`` -> ``{"disgust": 0.4}``; WrapError for unknown labels or bad numbers."""
    offsets = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or name not in labels:
            raise WrapError(f"--offset {spec}: expected LABEL=NUMBER with LABEL one of {', '.join(labels)}, "
                                f"got {name!r}; e.g. --offset disgust=0.4")
        try:
            offsets[name] = float(value)
        except ValueError:
            raise WrapError(f"--offset {spec}: expected a number after '=', got {value!r}; "
                                "e.g. --offset disgust=0.4") from None
        if not np.isfinite(offsets[name]) or abs(offsets[name]) > 10:
            raise WrapError(f"--offset {spec}: expected a log-prior offset in [-10, 10], got {value}")
    return offsets


def reference_probs(session, x: np.ndarray, mirror: bool, weights: np.ndarray) -> np.ndarray:
    """What the wrapped graph computes, in numpy around the original ``session``: (N, H, W, C) -> (N, K)."""
    name = session.get_inputs()[0].name
    probs = session.run(None, {name: x})[0]
    if mirror:
        probs = 0.5 * (probs + session.run(None, {name: np.ascontiguousarray(x[:, :, ::-1])})[0])
    probs = probs * weights
    return probs / probs.sum(axis=1, keepdims=True)


def _reduce_mean_pairs(model, pairs: str, out: str, const):
    """ReduceMean over axis 0 of ``pairs``: ``axes`` is an attribute up to opset 17 and an input from opset 18."""
    from onnx import helper

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    if opset >= 18:
        const("mean_axes", np.array([0], np.int64))
        return helper.make_node("ReduceMean", [pairs, f"{MARK}.mean_axes"], [out], keepdims=0)
    return helper.make_node("ReduceMean", [pairs], [out], axes=[0], keepdims=0)


def wrap_graph(model, mirror: bool, weights: np.ndarray, record: dict):
    """The ONNX ``model`` (input (N,H,W,C) -> probs (N,K)) with mirroring and class weights around it (in place)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise WrapError(f"onnx graph: expected 1 input and 1 output, got {len(inputs)} and {len(graph.output)}; "
                            "wrap a graph written by python -m train.export")
    if any(p.key == MARK for p in model.metadata_props):
        raise WrapError("onnx graph: expected a graph without test-time wrapping, got one already wrapped; "
                            "wrap the original export again")
    source_in, source_out = inputs[0].name, graph.output[0].name
    inner_in, inner_out = f"{MARK}.batch", f"{MARK}.inner_probs"
    for node in graph.node:  # the original graph now reads the (mirrored) batch and writes its inner output
        node.input[:] = [inner_in if n == source_in else n for n in node.input]
        node.output[:] = [inner_out if n == source_out else n for n in node.output]
    const = lambda name, array: graph.initializer.append(numpy_helper.from_array(np.asarray(array), f"{MARK}.{name}"))
    nodes = []
    if mirror:
        const("flip_starts", np.array([-1], np.int64))
        const("flip_ends", np.array([np.iinfo(np.int64).min], np.int64))
        const("flip_axes", np.array([2], np.int64))  # NHWC: W
        const("flip_steps", np.array([-1], np.int64))
        const("pair_shape", np.array([2, -1, len(weights)], np.int64))
        nodes += [
            helper.make_node("Slice", [source_in, f"{MARK}.flip_starts", f"{MARK}.flip_ends", f"{MARK}.flip_axes",
                                       f"{MARK}.flip_steps"], [f"{MARK}.mirrored"]),
            helper.make_node("Concat", [source_in, f"{MARK}.mirrored"], [inner_in], axis=0),
            helper.make_node("Reshape", [inner_out, f"{MARK}.pair_shape"], [f"{MARK}.pairs"]),
            _reduce_mean_pairs(model, f"{MARK}.pairs", f"{MARK}.mean", const),
        ]
        averaged = f"{MARK}.mean"
    else:
        nodes.append(helper.make_node("Identity", [source_in], [inner_in]))
        averaged = inner_out
    const("weights", weights.astype(np.float32)[None, :])
    const("sum_axes", np.array([1], np.int64))
    nodes += [helper.make_node("Mul", [averaged, f"{MARK}.weights"], [f"{MARK}.weighted"]),
              helper.make_node("ReduceSum", [f"{MARK}.weighted", f"{MARK}.sum_axes"], [f"{MARK}.total"], keepdims=1),
              helper.make_node("Div", [f"{MARK}.weighted", f"{MARK}.total"], [source_out])]
    first = nodes[:2] if mirror else nodes[:1]
    original_nodes = [type(node)() for node in graph.node]
    for copy, node in zip(original_nodes, graph.node):
        copy.CopyFrom(node)
    ordered = [*first, *original_nodes, *nodes[len(first):]]  # topological order: mirror, original graph, weights
    del graph.node[:]
    graph.node.extend(ordered)
    entry = model.metadata_props.add()
    entry.key, entry.value = MARK, json.dumps(record, sort_keys=True)
    return model


def wrap_model(model_path: str | Path, out: str | Path | None = None, mirror: bool = True,
               offsets: dict[str, float] | None = None, chosen_on: str = "", tolerance: float = 1e-5) -> dict:
    """Wrap ``model_path`` (and rewrite its sidecar) into ``out`` (default: in place); returns the record.

    Raises:
        WrapError: nothing to bake in, a wrapped or malformed graph, failed parity.
        realtime_fer.errors.ModelError: a missing or mismatched sidecar.
    """
    import onnx
    import onnxruntime as ort

    from realtime_fer.core.model_card import file_sha256, load_card, sidecar_path

    model_path, out = Path(model_path), Path(out or model_path)
    card = load_card(model_path)
    offsets = dict(offsets or {})
    if not mirror and not offsets:
        raise WrapError("test-time wrap: expected --mirror and/or --offset LABEL=B, got neither; nothing to do")
    if card.input.layout != "NHWC" or card.output_kind != "probabilities":
        raise WrapError(f"{model_path}: expected an NHWC graph returning probabilities, got {card.input.layout} "
                            f"returning {card.output_kind}; wrap a graph written by python -m train.export")
    weights = np.exp(np.array([offsets.get(label, 0.0) for label in card.labels], np.float64))
    record = {"mirror_average": bool(mirror), "log_prior_offsets": offsets, "chosen_on": chosen_on,
              "source_sha256": file_sha256(model_path)}
    original = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    wrapped = wrap_graph(onnx.load(str(model_path)), mirror, weights, record)
    onnx.checker.check_model(wrapped)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    onnx.save(wrapped, str(tmp))
    rng = np.random.default_rng(0)
    spec = card.input
    x = (rng.integers(0, 256, (9, spec.height, spec.width, spec.channels)) / 255.0).astype(np.float32)
    got = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"]).run(None, {spec.name: x})[0]
    diff = float(np.abs(got - reference_probs(original, x, mirror, weights)).max())
    if not diff <= tolerance:
        tmp.unlink()
        raise WrapError(f"test-time wrap: expected the wrapped graph to match numpy within {tolerance:g}, got "
                            f"{diff:.3g}; do not ship it")
    tmp.replace(out)
    data = json.loads(sidecar_path(model_path).read_text(encoding="utf-8"))
    data["training"] = {**data.get("training", {}), "test_time": {**record, "parity_max_abs_diff": diff}}
    if mirror:
        data["training"]["test_time_flip"] = True
    data.update(sha256=file_sha256(out), model_file=out.name)
    sidecar_path(out).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    load_card(out)  # the new sidecar validates and matches the file
    return {**record, "parity_max_abs_diff": diff, "model": str(out), "sha256": data["sha256"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.test_time", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="ONNX model written by python -m train.export (+ sidecar)")
    parser.add_argument("--out", help="where to write (default: replace --model and its sidecar)")
    parser.add_argument("--mirror", action="store_true", help="average with the mirror image (2x cost per face)")
    parser.add_argument("--offset", action="append", default=[], metavar="LABEL=B",
                        help="add B to LABEL's log-probability (repeatable)")
    parser.add_argument("--chosen-on", default="", help="which split chose the offsets (goes into the sidecar)")
    args = parser.parse_args(argv)
    from realtime_fer.core.model_card import load_card
    from realtime_fer.errors import ModelError

    try:
        labels = load_card(args.model).labels
        result = wrap_model(args.model, args.out, args.mirror, parse_offsets(args.offset, labels), args.chosen_on)
    except (WrapError, ModelError) as exc:
        print(f"python -m train.test_time: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
