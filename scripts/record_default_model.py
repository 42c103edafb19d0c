"""Score the shipped default models and write their record into models/.

    python scripts/record_default_model.py --runs runs/default runs/default2 [--export-summary export.json]

For ``models/expression.onnx`` and its int8 twin ``models/expression.int8.onnx`` it
runs ``train.evaluate`` on FER2013 PublicTest with the original and the FER+ majority
labels, merges those figures into each sidecar (keys ``val_publictest_fer2013`` and
``val_publictest_ferplus``), and writes:

* ``models/expression-metrics.json``: the four evaluations, the export summary (the JSON
  that ``python -m train.export`` prints, if given) and the best checkpoint's report from
  the last run's ``metrics.json``;
* ``models/expression-metrics-confusion.png``: the float model's confusion matrix on the
  original labels;
* ``models/expression-training-log.json`` / ``.png``: the epoch history of every training
  stage in order (a warm restart continues the epoch count of the stage before it).

``models/expression-training-log.md`` (the narrative) is written by hand from these files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


SIDECAR_KEYS = ("n", "accuracy", "macro_f1", "per_class", "excluded")
"""The part of an evaluation that goes into a sidecar (the rest is in expression-metrics.json)."""


def evaluate_models(models: dict[str, Path], val: Path) -> dict:
    """{"<model path>:<label set>": train.evaluate result} for every model and label set."""
    from train.evaluate import evaluate

    results = {}
    for path in models.values():
        for labels in ("fer2013", "ferplus"):
            results[f"{path.relative_to(REPO)}:{labels}"] = evaluate(path.relative_to(REPO), val, labels=labels,
                                                                       batch_size=256, skip_unknown=labels == "ferplus")
    return results


def stage_histories(runs: list[Path]) -> list[dict]:
    """Per run: its config name, init_from, best epoch, minutes and history with a global epoch count."""
    stages, offset = [], 0
    for run in runs:
        state = json.loads((run / "state.json").read_text(encoding="utf-8"))
        config = json.loads((run / "config.json").read_text(encoding="utf-8"))
        history = [{**h, "stage_epoch": h["epoch"], "epoch": h["epoch"] + offset} for h in state["history"]]
        stages.append({"run": run.name, "config": config, "init_from": config.get("init_from") or None,
                       "best_epoch": state["best_epoch"] + offset, "elapsed_s": state["elapsed_s"],
                       "history": history})
        offset += len(state["history"])
    return stages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", type=Path, required=True, help="training runs, first stage first")
    parser.add_argument("--model", type=Path, default=REPO / "models" / "expression.onnx")
    parser.add_argument("--val", type=Path, default=REPO.parent / "shared" / "data" / "fer2013" / "val")
    parser.add_argument("--export-summary", type=Path, help="JSON printed by python -m train.export")
    args = parser.parse_args()

    from train.export import add_metrics
    from train.fit import save_plots

    model = args.model.resolve()
    models = {"float32": model, "int8": model.with_name(model.stem + ".int8.onnx")}
    os.chdir(REPO)  # the record names files relative to the repository, never by one machine's absolute path
    results = evaluate_models({k: v for k, v in models.items() if v.is_file()}, Path(os.path.relpath(args.val.resolve())))
    for path in models.values():
        if path.is_file():
            add_metrics(path, {f"val_publictest_{labels}": {key: results[f"{path.relative_to(REPO)}:{labels}"][key]
                                                            for key in SIDECAR_KEYS}
                               for labels in ("fer2013", "ferplus")})
    prefix = model.with_suffix("")
    export = json.loads(args.export_summary.read_text(encoding="utf-8")) if args.export_summary else None
    if export:  # it names the folder it was exported to; the files now live in models/
        export.update(onnx=str(model.relative_to(REPO)), sidecar=str(model.with_suffix(".json").relative_to(REPO)))
    last_metrics = args.runs[-1] / "metrics.json"
    record = {"evaluations": results, "export": export,
              "training_best_checkpoint_on_prepared_val":
                  json.loads(last_metrics.read_text(encoding="utf-8")) if last_metrics.is_file() else None}
    Path(f"{prefix}-metrics.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    stages = stage_histories(args.runs)
    Path(f"{prefix}-training-log.json").write_text(json.dumps({"stages": stages}, indent=1) + "\n", encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        save_plots([h for stage in stages for h in stage["history"]],
                   results[f"{model.relative_to(REPO)}:fer2013"], Path(tmp))
        shutil.copy(Path(tmp) / "curves.png", f"{prefix}-training-log.png")
        shutil.copy(Path(tmp) / "confusion.png", f"{prefix}-metrics-confusion.png")
    for key, result in results.items():
        print(f"{key}: n {result['n']}, accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}, "
              f"{result['ms_per_face']} ms/face")
    return 0


if __name__ == "__main__":
    sys.exit(main())
