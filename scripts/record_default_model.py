"""Score the shipped default models and write their record into models/.

    python scripts/record_default_model.py --runs runs/realfaces [--model models/expression-faceres.onnx] [--export-summary export.json]
    python scripts/record_default_model.py            # re-score: keep the recorded training stages and export

Without ``--runs`` (the run folders are git-ignored and gone in a fresh checkout) the recorded
stage histories, export summary and best-checkpoint report are kept from the existing
``PREFIX-training-log.json`` / ``PREFIX-metrics.json`` and only the evaluations are redone (e.g.
after ``python -m train.test_time`` wrapped the shipped graphs).

For a model (default ``models/expression-faceres.onnx``) and its int8 twin (``*.int8.onnx``) it runs
``train.evaluate`` on FER2013 PublicTest with the original and the FER+ majority labels and on
ExpW val through the runtime's detector (``--detect``: the crops a user's faces get), scores
the labelled sample photos (``scripts/score_sample_photos.py``, the int8 model, or the float one without it), merges the figures
into each sidecar (keys ``val_publictest_fer2013``, ``val_publictest_ferplus``,
``expw_val_detect``), and writes, with PREFIX the model path without ``.onnx``:

* ``PREFIX-metrics.json``: every evaluation, the sample photos, the export summary (the JSON
  that ``python -m train.export`` prints, if given) and the best checkpoint's report from the
  last run's ``metrics.json``;
* ``PREFIX-metrics-confusion.png``: the float model's confusion matrix on ExpW val (detect);
* ``PREFIX-training-log.json`` / ``.png``: the epoch history of every training stage in order
  (a warm restart continues the epoch count of the stage before it).

``PREFIX-training-log.md`` (the narrative) is written by hand from these files.
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


SIDECAR_KEYS = ("n", "accuracy", "macro_f1", "per_class", "excluded", "no_face", "predicted_share")
"""The part of an evaluation that goes into a sidecar (the rest is in PREFIX-metrics.json)."""
SETS = {"val_publictest_fer2013": "FER2013 PublicTest, original labels (chose nothing)",
        "val_publictest_ferplus": "FER2013 PublicTest, FER+ majority labels (chose nothing)",
        "expw_val_detect": "ExpW val through the runtime's detector and alignment (chose the checkpoint: "
                           "a figure on the split that chose it)"}


#: ``--selected-on expw-dev`` (the face-pretrained model's rule): ExpW dev, carved out of ExpW train, chose the
#: checkpoint, and ExpW val chose nothing.
SETS_DEV_RULE = {**SETS, "val_publictest_fer2013": "FER2013 PublicTest, original labels (chose nothing)",
                 "val_publictest_ferplus": "FER2013 PublicTest, FER+ majority labels (scored while choosing the recipe)",
                 "expw_val_detect": "ExpW val through the runtime's detector and alignment (chose nothing: ExpW dev, "
                                    "15 % of ExpW train photos, chose the checkpoint)"}


def evaluate_models(models: dict[str, Path], fer_val: Path, expw: Path) -> dict:
    """{"<model path>:<set key>": train.evaluate result} for every model and set of SETS."""
    from train.evaluate import evaluate

    results = {}
    for path in models.values():
        model = path.relative_to(REPO)
        for labels in ("fer2013", "ferplus"):
            results[f"{model}:val_publictest_{labels}"] = evaluate(model, fer_val, labels=labels, batch_size=256,
                                                                   skip_unknown=labels == "ferplus")
        if expw.is_dir():
            results[f"{model}:expw_val_detect"] = evaluate(model, expw, split="val", detect=True, batch_size=256)
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
    parser.add_argument("--runs", nargs="+", type=Path, help="training runs, first stage first (default: keep the "
                        "recorded stages)")
    parser.add_argument("--model", type=Path, default=REPO / "models" / "expression-faceres.onnx")
    parser.add_argument("--val", type=Path, default=REPO.parent / "shared" / "data" / "fer2013" / "val")
    parser.add_argument("--expw", type=Path, default=REPO.parent / "shared" / "data" / "expw")
    parser.add_argument("--export-summary", type=Path, help="JSON printed by python -m train.export")
    parser.add_argument("--selected-on", choices=["expw-val", "expw-dev"], default="expw-val",
                        help="the split that chose the checkpoint (the default model: ExpW val; faceres: ExpW dev)")
    args = parser.parse_args()
    sets = SETS_DEV_RULE if args.selected_on == "expw-dev" else SETS

    from train.export import add_metrics
    from train.fit import save_plots

    model = args.model.resolve()
    models = {"float32": model, "int8": model.with_name(model.stem + ".int8.onnx")}
    os.chdir(REPO)  # the record names files relative to the repository, never by one machine's absolute path
    results = evaluate_models({k: v for k, v in models.items() if v.is_file()}, Path(os.path.relpath(args.val.resolve())),
                              Path(os.path.relpath(args.expw.resolve())))
    for path in models.values():
        if path.is_file():
            add_metrics(path, {key: {"set": sets[key], **{k: results[f"{path.relative_to(REPO)}:{key}"].get(k)
                                                          for k in SIDECAR_KEYS}}
                               for key in sets if f"{path.relative_to(REPO)}:{key}" in results})
    from scripts.score_sample_photos import IMAGES, score

    cpu_model = models["int8"] if models["int8"].is_file() else models["float32"]  # what a CPU runs
    photos = score(cpu_model) if IMAGES.is_dir() else None
    prefix = model.with_suffix("")
    previous = json.loads(Path(f"{prefix}-metrics.json").read_text(encoding="utf-8")) \
        if Path(f"{prefix}-metrics.json").is_file() else {}
    export = json.loads(args.export_summary.read_text(encoding="utf-8")) if args.export_summary else \
        previous.get("export")
    if args.export_summary and export:  # it names the folder it was exported to; the files now live in models/
        export.update(onnx=str(model.relative_to(REPO)), sidecar=str(model.with_suffix(".json").relative_to(REPO)))
    if args.runs:
        last_metrics = args.runs[-1] / "metrics.json"
        best = json.loads(last_metrics.read_text(encoding="utf-8")) if last_metrics.is_file() else None
        stages = stage_histories(args.runs)
    else:
        best = previous.get("training_best_checkpoint_on_prepared_val")
        stages = json.loads(Path(f"{prefix}-training-log.json").read_text(encoding="utf-8"))["stages"]
    from realtime_fer.core.model_card import load_card

    test_time = {name: load_card(path).training.get("test_time") for name, path in models.items() if path.is_file()}
    record = {"sets": sets, "evaluations": results, "sample_photos": photos, "export": export,
              "test_time": test_time if any(test_time.values()) else None,
              "training_best_checkpoint_on_prepared_val": best}
    Path(f"{prefix}-metrics.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    Path(f"{prefix}-training-log.json").write_text(json.dumps({"stages": stages}, indent=1) + "\n", encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        main_set = "expw_val_detect" if f"{model.relative_to(REPO)}:expw_val_detect" in results else "val_publictest_fer2013"
        save_plots([h for stage in stages for h in stage["history"]], results[f"{model.relative_to(REPO)}:{main_set}"],
                   Path(tmp))
        shutil.copy(Path(tmp) / "curves.png", f"{prefix}-training-log.png")
        shutil.copy(Path(tmp) / "confusion.png", f"{prefix}-metrics-confusion.png")
    print_summary(results, photos, cpu_model.name)
    return 0


def print_summary(results: dict, photos: dict | None, photo_model: str) -> None:
    """One line per evaluation, then the sample photos."""
    for key, result in results.items():
        print(f"{key}: n {result['n']}, accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}, "
              f"{result['ms_per_face']} ms/face, recall {[round(v['recall'], 2) for v in result['per_class'].values()]}")
    if photos:
        print(f"sample photos ({photo_model}): {photos['right']} of {photos['of']} right; calm faces: {photos['calm']}")


if __name__ == "__main__":
    sys.exit(main())
