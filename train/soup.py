"""A model soup: the weights of several fine-tunes of one backbone averaged into one network.

``python -m train.soup --runs runs/faceres runs/faceres3 runs/faceres224 --out runs/faceres_soup``

Every ingredient is a ``.keras`` checkpoint of the same architecture (``best.keras`` and ``last.keras`` of
each run by default), fine-tuned from the same pretrained weights, so their weights can be averaged
(Wortsman et al., 2022, "Model soups"). The network is fully convolutional up to global pooling, so
checkpoints trained at another input size (224) average with those at 160; the soup runs at the size of
the first run's data. Selection is the greedy soup: ingredients sorted by their accuracy on the first
run's validation set (ExpW *dev* for the faceres runs), each added only if the averaged network does not
score lower there. The uniform soup (every ingredient) is scored and reported too. ExpW ``val`` is never
read. Writes ``out/best.keras`` (float32), the first run's ``config.json`` and ``meta.json``, and
``soup.json`` (every score). Exports like any run (``python -m train.export --run out``). Only
:func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Sequence

import numpy as np


class SoupError(Exception):
    """Ingredients that cannot be averaged, or a missing run file; one line."""


def average(weight_sets: Sequence[list[np.ndarray]]) -> list[np.ndarray]:
    """The element-wise mean of several ``model.get_weights()`` lists (same shapes, in the same order).

    Raises:
        SoupError: the lists differ in length or in any array's shape.
    """
    first = weight_sets[0]
    for index, other in enumerate(weight_sets[1:], start=1):
        shapes = [w.shape for w in other]
        if shapes != [w.shape for w in first]:
            raise SoupError(f"ingredient {index}: expected the weight shapes of ingredient 0 (same architecture), "
                            f"got {len(shapes)} arrays with other shapes; soup only fine-tunes of one network")
    return [np.mean([ws[i] for ws in weight_sets], axis=0).astype(first[i].dtype) for i in range(len(first))]


def greedy_soup(names: Sequence[str], score: Callable[[list[str]], float]) -> tuple[list[str], list[dict]]:
    """Wortsman's greedy soup: ``names`` sorted by their own score, each kept if the soup scores no lower.

    Args:
        names: ingredient names.  score: the validation score of the soup of a list of names.
    Returns:
        (the kept names, one record per step: {"tried", "score", "kept"}).
    """
    alone = {name: score([name]) for name in names}
    order = sorted(names, key=lambda n: alone[n], reverse=True)
    kept, best = [order[0]], alone[order[0]]
    steps = [{"tried": order[0], "score": best, "kept": True}]
    for name in order[1:]:
        value = score(kept + [name])
        steps.append({"tried": name, "score": value, "kept": value >= best})
        if value >= best:
            kept, best = kept + [name], value
    return kept, steps


def _dev_report(model, x: np.ndarray, y: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, macro-F1 and mean cross-entropy of a logits model on (x, y), as ``train.fit`` scores val."""
    from train.fit import predict_probs
    from train.metrics import classification_report

    probs = predict_probs(model, x)
    rep = classification_report(y, probs.argmax(1), classes)
    loss = float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean())
    return {"accuracy": round(rep["accuracy"], 4), "macro_f1": round(rep["macro_f1"], 4), "loss": round(loss, 4)}


def make_soup(runs: Sequence[Path], checkpoints: Sequence[str], out: Path) -> dict:
    """Score every ingredient, choose the greedy soup on the first run's validation set and save it in ``out``.

    Raises:
        SoupError: a run lacks its config or a checkpoint, or the weights do not match.
    """
    from train.config import config_from_dict
    from train.export import load_checkpoint
    from train.fit import load_data

    for run in runs:
        if not (run / "config.json").is_file():
            raise SoupError(f"--runs: expected a training run folder with config.json, got {run}; "
                            "pass train.fit --out folders")
    paths = {f"{run.name}/{c}": run / c for run in runs for c in checkpoints if (run / c).is_file()}
    if not paths:
        raise SoupError(f"--checkpoints: expected {', '.join(checkpoints)} in the runs, found none; train first")
    config = json.loads((runs[0] / "config.json").read_text(encoding="utf-8"))
    data = load_data(config_from_dict(config, where=str(runs[0] / "config.json")))
    model = load_checkpoint(next(iter(paths.values())))
    weights = {name: load_checkpoint(path).get_weights() for name, path in paths.items()}
    y = data.val_y.argmax(1)
    reports: dict[tuple, dict] = {}

    def report(names: list[str]) -> dict:
        key = tuple(sorted(names))
        if key not in reports:
            model.set_weights(average([weights[n] for n in names]))
            reports[key] = _dev_report(model, data.val_x, y, data.classes)
        return reports[key]

    kept, steps = greedy_soup(list(paths), lambda names: report(names)["accuracy"])
    record = {"ingredients": {n: report([n]) for n in paths}, "greedy_steps": steps, "kept": kept,
              "greedy": report(kept), "uniform": report(list(paths)), "selected_on": "the first run's val set",
              "runs": [str(r) for r in runs]}
    model.set_weights(average([weights[n] for n in kept]))
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "best.keras")
    for name in ("config.json", "meta.json"):
        shutil.copyfile(runs[0] / name, out / name)
    (out / "soup.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.soup", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=Path, nargs="+", required=True,
                   help="training run folders; the first sets the data and the input size")
    p.add_argument("--checkpoints", nargs="+", default=["best.keras", "last.keras"])
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from train.export import ExportError
    from train.fit import FitError

    try:
        record = make_soup(args.runs, args.checkpoints, args.out)
    except (SoupError, ExportError, FitError, ValueError) as exc:
        print(f"train.soup: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
