"""Log-prior offsets chosen on talking faces, baked into a copy of an expression model.

    python benchmarks/bench_talking.py --model models/expression-compact.onnx --keep out/talking/compact
    python -m train.talking_prior --base models/expression-compact.onnx --runs compact=out/talking/compact \
        --out models/expression-compact-talking.onnx

A model trained on still photos reads calm talking (open mouth, moving brows) as disgust, surprise or sad. The
lever here is the cheapest one: one offset per class added to the model's log-probabilities, fitted on the frames
of a clip-labelled talking-face set (``../shared/data/talking``; each frame takes its clip's label; ``mixed``
clips are left out):

* weighted cross-entropy: each clip weighs the same, and each label's clips together weigh ``clips ** (1 -
  balance)`` (``balance`` 0.5 sits between "every clip alike", where 33 neutral clips swamp 4 sad ones, and "every
  label alike", where one fear clip would weigh as much as 33 neutral ones);
* an L2 pull of ``l2`` towards no offset.

Before the offsets are fitted on every clip, the same fit is scored by leaving one person out at a time (the
person's clips scored with offsets fitted on everyone else's; ``scripts/study_talking.py`` prints the other
levers): the figures recorded in the sidecar's ``metrics.talking_cv`` are those held-out figures, through the
offline (``--video``) and live (``--camera``) temporal stages.

The written graph is the base graph followed by ``logits = ln(max(probs, 1e-6)) + offsets``
(``output_kind`` "logits": the runtime's softmax gives the new probabilities); the sidecar copies the base's input
contract and crop and records the offsets, the data and the held-out figures. Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
FLOOR = 1e-6
TALKING = Path("../shared/data/talking")


def load_runs(data: Path, runs: dict) -> list[dict]:
    """Per scored clip of ``data``: {"name", "label", "person", "times" (T,) ms, "logp": {run: (T, 7) float64
    log-probabilities}} on the frames that every run's main track has (the CSVs ``bench_talking.py --keep`` wrote,
    ``<run folder>/<clip stem>.csv``)."""
    from realtime_fer.apps.engine.clip_eval import load_clip_set, main_track, read_table

    clips = []
    for clip in load_clip_set(data, LABELS):
        if not clip.scored:
            continue
        tracks = {name: {int(row["frame"]): row for row in
                         main_track(read_table(Path(folder) / f"{clip.path.stem}.csv"))}
                  for name, folder in runs.items()}
        frames = sorted(set.intersection(*(set(track) for track in tracks.values())))
        first = tracks[next(iter(runs))]
        logp = {name: np.log(np.maximum(np.array([[float(track[f][f"raw_{c}"]) for c in LABELS] for f in frames],
                                                 np.float64).reshape(-1, 7), FLOOR))
                for name, track in tracks.items()}
        clips.append({"name": clip.path.name, "label": clip.label, "person": clip.person,
                      "times": np.array([float(first[f]["time_ms"]) for f in frames], np.float64), "logp": logp})
    return clips


def combine(params: np.ndarray, stack: np.ndarray, fit_weights: bool) -> np.ndarray:
    """(T, 7) logits from (M, T, 7) log-probabilities of M models: a weighted sum (weights ``params[:M]`` when
    ``fit_weights``, else 1/M each) plus the offsets (the last 7 of ``params``)."""
    models = stack.shape[0]
    weights = params[:models] if fit_weights else np.full(models, 1.0 / models)
    return np.tensordot(weights, stack, axes=1) + params[-7:]


def frame_weights(clips: list[dict], balance: float) -> np.ndarray:
    """(sum T,) weights summing to 1: each clip alike, each label's clips scaled by ``clips ** -balance``."""
    per_label = defaultdict(int)
    for clip in clips:
        per_label[clip["label"]] += 1
    weight = np.concatenate([np.full(len(c["times"]), per_label[c["label"]] ** -balance / max(len(c["times"]), 1))
                             for c in clips])
    return weight / weight.sum()


def fit(clips: list[dict], names: list[str], balance: float, l2: float, fit_weights: bool = False) -> np.ndarray:
    """The fitted parameters (7 offsets; with ``fit_weights`` M model weights first) on ``clips``."""
    from scipy.optimize import minimize

    stack = np.concatenate([np.stack([clip["logp"][n] for n in names]) for clip in clips], axis=1)
    target = np.concatenate([np.full(len(c["times"]), LABELS.index(c["label"])) for c in clips])
    weight = frame_weights(clips, balance)
    models = len(names)
    start = np.concatenate([np.full(models, 1.0 / models), np.zeros(7)]) if fit_weights else np.zeros(7)

    def loss(params):
        logits = combine(params, stack, fit_weights)
        logits = logits - logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1))
        return -(weight * (logits[np.arange(len(target)), target] - log_norm)).sum() + l2 * ((params - start) ** 2).sum()

    return minimize(loss, start, method="L-BFGS-B").x


def shown_labels(clip: dict, names: list[str], params, settings, fit_weights: bool = False):
    """((T,) raw labels, (T,) shown labels) of ``clip`` under ``params`` (None: the models' mean log-probability)
    and the temporal ``settings``."""
    from realtime_fer.core.temporal import filter_track

    stack = np.stack([clip["logp"][n] for n in names])
    logits = combine(params, stack, fit_weights) if params is not None else stack.mean(axis=0)
    if len(logits) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
    return probs.argmax(axis=1), filter_track(clip["times"], probs, settings)[1]


def score(clips: list[dict], labels_of: dict) -> dict:
    """``apps.engine.clip_eval.summarize`` of the set from {clip name: ((T,) raw label ids, (T,) shown label ids)}."""
    from realtime_fer.apps.engine.clip_eval import Clip, score_labels, summarize

    scores = []
    for clip in clips:
        raw, shown = labels_of[clip["name"]]
        scores.append(score_labels(Clip(Path(clip["name"]), clip["label"], clip["person"]),
                                   [LABELS[i] for i in shown], [LABELS[i] for i in raw], LABELS))
    return summarize(scores, LABELS)


def leave_one_person_out(clips: list[dict], names: list[str], mode: str, balance: float, l2: float,
                         settings) -> dict:
    """``score`` of a lever when each person's clips are scored with parameters fitted on everyone else's.

    mode: "as is" (no parameters), "prior" (offsets) or "weights+prior" (model weights and offsets)."""
    labels_of = {}
    for person in sorted({clip["person"] for clip in clips}):
        train = [clip for clip in clips if clip["person"] != person]
        params = None if mode == "as is" else fit(train, names, balance, l2, mode == "weights+prior")
        for clip in (c for c in clips if c["person"] == person):
            labels_of[clip["name"]] = shown_labels(clip, names, params, settings, mode == "weights+prior")
    return score(clips, labels_of)


def write_model(base: Path, offsets: np.ndarray, out: Path) -> Path:
    """Write ``out``: ``base``'s graph with ``logits = ln(max(probs, FLOOR)) + offsets`` appended (no sidecar)."""
    import onnx
    from onnx import helper, numpy_helper

    from realtime_fer.core.model_card import load_card

    card = load_card(base)
    model = onnx.load(str(base))
    graph = model.graph
    if card.output_kind != "probabilities":
        raise ValueError(f"{base}: expected a model whose output is probabilities, got {card.output_kind}")
    graph.initializer.extend([numpy_helper.from_array(np.array(FLOOR, np.float32), "talking_floor"),
                              numpy_helper.from_array(np.asarray(offsets, np.float32).reshape(1, 7),
                                                      "talking_offsets")])
    graph.node.extend([helper.make_node("Max", [card.output_name, "talking_floor"], ["talking_clipped"]),
                       helper.make_node("Log", ["talking_clipped"], ["talking_logp"]),
                       helper.make_node("Add", ["talking_logp", "talking_offsets"], ["logits"])])
    old = next(o for o in graph.output if o.name == card.output_name)
    new = helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, None)
    new.type.tensor_type.shape.CopyFrom(old.type.tensor_type.shape)
    graph.output.remove(old)
    graph.output.append(new)
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    return out


def write_card(base: Path, out: Path, training: dict, metrics: dict) -> Path:
    """The sidecar of ``out``: ``base``'s input contract, crop and alignment; output "logits"; ``training`` and
    ``metrics`` as given (the base's own training record kept under ``training.base_training``)."""
    from realtime_fer.core.model_card import file_sha256, load_card, sidecar_path

    base_card = json.loads(sidecar_path(base).read_text(encoding="utf-8"))
    data = {**base_card, "output_name": "logits", "output_kind": "logits", "sha256": file_sha256(out),
            "model_file": out.name, "training": {**training, "base_training": base_card.get("training")},
            "metrics": metrics}
    path = sidecar_path(out)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    load_card(out)  # validates the sidecar against the file
    return path


def main(argv=None) -> int:
    from realtime_fer.core.model_card import file_sha256
    from realtime_fer.core.temporal import LIVE_DEFAULT, OFFLINE_DEFAULT

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the expression model to calibrate (probabilities)")
    parser.add_argument("--runs", required=True, help="NAME=FOLDER: bench_talking.py --keep CSVs of --base")
    parser.add_argument("--data", type=Path, default=TALKING, help="the clip set (labels.csv with person ids)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--balance", type=float, default=0.5)
    parser.add_argument("--l2", type=float, default=0.03)
    args = parser.parse_args(argv)
    name, folder = args.runs.split("=", 1)
    clips = load_runs(args.data, {name: folder})
    held_out = {stage: leave_one_person_out(clips, [name], "prior", args.balance, args.l2, settings)
                for stage, settings in (("offline", OFFLINE_DEFAULT), ("live", LIVE_DEFAULT))}
    offsets = fit(clips, [name], args.balance, args.l2)
    write_model(args.base, offsets, args.out)
    people = len({clip["person"] for clip in clips})
    training = {"base_model": args.base.name, "base_sha256": file_sha256(args.base),
                "method": "log-prior offsets added to the base's log-probabilities (train.talking_prior)",
                "offsets": {label: round(float(v), 4) for label, v in zip(LABELS, offsets)},
                "fitted_on": f"every scored clip of {args.data} ({len(clips)} clips, {people} people; frames take "
                             "their clip's label)", "balance": args.balance, "l2": args.l2,
                "command": "python -m train.talking_prior " + " ".join(argv if argv is not None else sys.argv[1:])}
    metrics = {"talking_cv": {"set": f"{args.data}: leave one person out (each person's clips scored with offsets "
                                     "fitted on the other people's clips)", **held_out}}
    write_card(args.base, args.out, training, metrics)
    print(json.dumps({"offsets": training["offsets"], "held_out": held_out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
