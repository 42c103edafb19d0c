"""Score an ONNX expression model (plus sidecar) on a labelled image set.

``python -m train.evaluate --model M --data DIR [--labels auto|fer2013|ferplus|label] [--split S] [--detect]
[--json] [--per-image CSV]``

Data layouts:
  * class folders: ``DIR/<label>/*.png|jpg|...`` (folder names are matched to the model's
    labels case-insensitively, with synonyms such as ``happiness`` -> ``happy``);
  * FER2013 style: ``labels.csv`` with a ``path`` column, in ``DIR`` (every row) or in
    ``DIR``'s parent (only the rows under ``DIR``, e.g. ``.../fer2013/val``). ``--labels``
    picks the column: ``fer2013`` (``fer2013_emotion``) or ``ferplus`` (``ferplus_majority``;
    ties, ``unknown``, ``NF`` and labels outside the model's set such as ``contempt`` are
    left out and counted under ``excluded``);
  * ExpW style: ``labels.csv`` with ``path``, ``label`` and ``split`` columns (``--labels label``,
    the ``auto`` choice when there is no ``fer2013_emotion`` column); ``--split val`` keeps one
    split.  Where the rows carry the labelled face's box (``box_x1, box_y1, box_x2, box_y2``),
    ``--detect`` scores the detection that overlaps that box (IoU >= 0.3), not just the most
    confident face, and a labelled face the detector misses counts as wrong.

Input: face crops, resized to the model's input size (FER2013 crops are 48x48), or with
``--detect`` full images that go through the runtime's detector and eye alignment
(``realtime_fer.core.detect`` + ``realtime_fer.core.align``, the sidecar's crop); an image with no
face counts as wrong and is listed.  Preprocessing is ``ExpressionClassifier``'s, the same
as at run time.  ``ms_per_face`` is the classifier's time only (batched), not reading/detection.

Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from train.metrics import classification_report

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
SYNONYMS = {"anger": "angry", "happiness": "happy", "sadness": "sad", "surprised": "surprise", "fearful": "fear",
            "disgusted": "disgust", "neutrality": "neutral", "contemptuous": "contempt"}
FERPLUS_EXCLUDED = {"", "unknown", "nf"}
LABEL_COLUMNS = {"fer2013": "fer2013_emotion", "ferplus": "ferplus_majority", "label": "label"}
LABEL_CHOICES = ("auto", *LABEL_COLUMNS)
BOX_COLUMNS = ("box_x1", "box_y1", "box_x2", "box_y2")


class EvaluateError(Exception):
    """Bad input to evaluation; the message is one line (expected / got / what to do)."""


@dataclass
class LabelledSet:
    """Image paths with label names; ``excluded`` counts rows left out and why."""

    paths: list[Path]
    names: list[str]
    source: str
    excluded: dict[str, int] = field(default_factory=dict)
    boxes: list[tuple[float, float, float, float]] | None = None  # labelled face boxes (xyxy pixels), if given


def canonical(name: str) -> str:
    """Lower-case label name with synonyms mapped (``Happiness`` -> ``happy``)."""
    name = name.strip().lower()
    return SYNONYMS.get(name, name)


def find_labels_csv(data: Path) -> tuple[Path, str] | None:
    """(labels.csv, prefix of the rows to keep) for ``data`` or its parent, or None."""
    if (data / "labels.csv").is_file():
        return data / "labels.csv", ""
    if (data.parent / "labels.csv").is_file():
        return data.parent / "labels.csv", data.name + "/"
    return None


def _label_column(labels: str, fieldnames: list[str], csv_path: Path) -> str:
    """The labels.csv column ``labels`` names (``auto``: fer2013_emotion if present, else label)."""
    if labels not in LABEL_CHOICES:
        raise EvaluateError(f"--labels: expected one of {', '.join(LABEL_CHOICES)}, got {labels!r}")
    if labels == "auto":
        labels = "fer2013" if LABEL_COLUMNS["fer2013"] in fieldnames else "label"
    column = LABEL_COLUMNS[labels]
    if "path" not in fieldnames or column not in fieldnames:
        raise EvaluateError(f"{csv_path}: expected columns 'path' and {column!r}, got {fieldnames}; "
                            "use a FER2013- or ExpW-style labels.csv, class folders, or another --labels")
    return column


def read_dataset(data: str | Path, labels: str = "auto", usage: str | None = None,
                 split: str | None = None) -> LabelledSet:
    """List the images of ``data`` and their label names (see the module doc for layouts).

    Raises:
        EvaluateError: no such folder, no images, or an unknown ``labels`` choice.
    """
    data = Path(data)
    if not data.is_dir():
        raise EvaluateError(f"--data: expected a folder, got {'a file' if data.exists() else 'nothing'} at {data}; "
                            "pass a class-folder root or a FER2013-style folder with labels.csv")
    found = find_labels_csv(data)
    if found:
        csv_path, prefix = found
        paths, names, excluded, boxes = [], [], {}, []
        with open(csv_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fieldnames = list(reader.fieldnames or [])
            column = _label_column(labels, fieldnames, csv_path)
            if split and "split" not in fieldnames:
                raise EvaluateError(f"--split {split}: expected a 'split' column in {csv_path}, got {fieldnames}; "
                                    "drop --split (or use --usage for FER2013's usage column)")
            has_boxes = all(c in fieldnames for c in BOX_COLUMNS)
            for row in reader:
                if prefix and not row["path"].startswith(prefix):
                    continue
                if usage and row.get("usage") != usage:
                    continue
                if split and row.get("split") != split:
                    continue
                name = canonical(row[column] or "")
                if column == LABEL_COLUMNS["ferplus"] and name in FERPLUS_EXCLUDED:
                    key = "tie" if name == "" else name
                    excluded[key] = excluded.get(key, 0) + 1
                    continue
                paths.append(csv_path.parent / row["path"])
                names.append(name)
                if has_boxes:
                    boxes.append(tuple(float(row[c]) for c in BOX_COLUMNS))
        filters = "".join([f", rows under {prefix}" if prefix else "", f", usage {usage}" if usage else "",
                           f", split {split}" if split else ""])
        return LabelledSet(paths, names, f"{csv_path} ({column}{filters})", excluded, boxes if has_boxes else None)
    paths, names = [], []
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        for image in sorted(folder.iterdir()):
            if image.suffix.lower() in IMAGE_EXTENSIONS:
                paths.append(image)
                names.append(canonical(folder.name))
    if not paths:
        raise EvaluateError(f"--data {data}: expected class folders of images or a labels.csv, got neither; "
                            "see `python -m train.evaluate --help` for the layouts")
    return LabelledSet(paths, names, f"{data} (class folders)")


def encode_labels(dataset: LabelledSet, model_labels, skip_unknown: bool = False) -> np.ndarray:
    """(n,) int64 codes in the model's label order; drops (``skip_unknown``) or rejects unknown names.

    Raises:
        EvaluateError: the data has labels the model doesn't know (message lists both sets).
    """
    index = {canonical(label): i for i, label in enumerate(model_labels)}
    unknown = sorted({n for n in dataset.names if n not in index})
    if unknown and not skip_unknown:
        data_labels = sorted(set(dataset.names))
        raise EvaluateError(f"labels: the data has {unknown} that the model does not know; model labels "
                            f"{list(model_labels)}, data labels {data_labels}; evaluate a model trained on these "
                            "classes, or pass --skip-unknown to leave those images out")
    keep = [i for i, n in enumerate(dataset.names) if n in index]
    for n in dataset.names:
        if n not in index:
            dataset.excluded[n] = dataset.excluded.get(n, 0) + 1
    dataset.paths = [dataset.paths[i] for i in keep]
    dataset.names = [dataset.names[i] for i in keep]
    if dataset.boxes is not None:
        dataset.boxes = [dataset.boxes[i] for i in keep]
    return np.array([index[n] for n in dataset.names], np.int64)


def read_crop(path: Path, size: tuple[int, int], color: str) -> np.ndarray:
    """One face crop as (H, W, C) uint8 in the model's colour order, resized to ``size`` = (width, height)."""
    import cv2

    flag = cv2.IMREAD_GRAYSCALE if color == "gray" else cv2.IMREAD_COLOR
    image = cv2.imread(str(path), flag)
    if image is None:
        raise EvaluateError(f"image {path}: expected a readable image file, got unreadable bytes; remove or replace it")
    if (image.shape[1], image.shape[0]) != tuple(size):
        interp = cv2.INTER_AREA if image.shape[1] > size[0] else cv2.INTER_LINEAR
        image = cv2.resize(image, tuple(size), interpolation=interp)
    if color == "rgb":
        image = image[..., ::-1]
    return image.reshape(size[1], size[0], -1)


def evaluate(model: str | Path, data: str | Path, labels: str = "auto", detect: bool = False,
             batch_size: int = 64, threads: int = 1, provider: str = "cpu", usage: str | None = None,
             skip_unknown: bool = False, limit: int | None = None, progress=None, split: str | None = None,
             per_image: str | Path | None = None) -> dict:
    """Score ``model`` on ``data``; return the JSON-ready result.

    ``per_image``: also write a CSV with one row per image (path, true, predicted, confidence,
    found, ``prob_<label>``...; ``predicted`` is empty where no face was found).

    Returns:
        {"n", "accuracy", "macro_f1", "per_class": {label: {"precision","recall","f1","support"}},
         "confusion" (rows true, cols predicted, model label order), "labels", "ms_per_face",
         "predicted_share": {label: share of images predicted as it}, "true_share": {...},
         "no_face": count, "no_face_files": [...], "excluded": {reason: count}, "model", "data"}.
    Raises:
        EvaluateError, realtime_fer.errors.ModelError.
    """
    from realtime_fer.core.classify import ExpressionClassifier

    from train.face_crops import CropError, DetectCropper

    classifier = ExpressionClassifier(model, provider=provider, intra_op_threads=threads)
    dataset = read_dataset(data, labels, usage, split)
    y_true = encode_labels(dataset, classifier.labels, skip_unknown)
    if limit:
        dataset.paths, y_true = dataset.paths[:limit], y_true[:limit]
    if len(y_true) == 0:
        raise EvaluateError(f"--data {data}: expected labelled images, got none after filtering "
                            f"(excluded {dataset.excluded}); check --labels / --split / the folder")
    spec = classifier.card.input
    cropper = DetectCropper.for_classifier(classifier) if detect else None
    boxes = dataset.boxes if detect else None
    probs_all = np.zeros((len(y_true), len(classifier.labels)), np.float32)
    y_pred = np.full(len(y_true), -1, np.int64)
    no_face: list[str] = []
    infer_s, faces = 0.0, 0
    try:
        for start in range(0, len(y_true), batch_size):
            chunk = dataset.paths[start:start + batch_size]
            crops, slots = [], []
            for j, path in enumerate(chunk):
                if cropper:
                    crop = cropper(path, boxes[start + j] if boxes else None)
                else:
                    crop = read_crop(path, (spec.width, spec.height), spec.color)
                if crop is None:
                    no_face.append(str(path))
                    continue
                crops.append(crop)
                slots.append(start + j)
            if crops:
                batch = np.stack(crops)
                t0 = time.perf_counter()
                probs = classifier.predict(batch)
                infer_s += time.perf_counter() - t0
                faces += len(batch)
                probs_all[slots] = probs
                y_pred[slots] = probs.argmax(1)
            if progress:
                progress(min(start + batch_size, len(y_true)), len(y_true))
    except CropError as exc:
        raise EvaluateError(str(exc)) from None
    finally:
        if cropper:
            cropper.close()
    report = classification_report(y_true, y_pred, classifier.labels)
    report.pop("no_prediction", None)
    report.update({"ms_per_face": round(infer_s / max(faces, 1) * 1000.0, 4), "batch_size": batch_size,
                   "predicted_share": _shares(y_pred, classifier.labels), "true_share": _shares(y_true, classifier.labels),
                   "no_face": len(no_face), "no_face_files": no_face, "excluded": dataset.excluded,
                   "model": str(model), "data": dataset.source, "label_set": labels, "split": split, "detect": detect,
                   "provider": classifier.provider})
    if per_image:
        write_per_image(per_image, dataset, y_true, y_pred, probs_all, classifier.labels)
        report["per_image"] = str(per_image)
    return report


def _shares(codes: np.ndarray, labels) -> dict[str, float]:
    """{label: share of ``codes`` equal to its index} (codes of -1, no face, count in the total)."""
    n = max(len(codes), 1)
    return {label: round(float(np.sum(codes == i)) / n, 4) for i, label in enumerate(labels)}


def write_per_image(path: str | Path, dataset: LabelledSet, y_true, y_pred, probs, labels) -> None:
    """One CSV row per image: path, true, predicted ('' = no face), confidence, found, prob_<label>..."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "true", "predicted", "confidence", "found", *[f"prob_{c}" for c in labels]])
        for i, image in enumerate(dataset.paths):
            found = y_pred[i] >= 0
            writer.writerow([str(image), labels[y_true[i]], labels[y_pred[i]] if found else "",
                             f"{probs[i].max():.4f}" if found else "", int(found), *[f"{v:.4f}" for v in probs[i]]])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.splitlines()[0])
    p.add_argument("--model", default="models/expression-faceres.onnx", help="ONNX model; its sidecar is the .json next to it")
    p.add_argument("--data", required=True, help="class folders or a FER2013-style folder (labels.csv here or in the parent)")
    p.add_argument("--labels", default="auto", choices=LABEL_CHOICES,
                   help="labels.csv label column: fer2013 (original), ferplus (majority), label (ExpW); "
                        "auto = fer2013 where that column exists, else label")
    p.add_argument("--usage", help="labels.csv: keep only rows of this usage (e.g. PublicTest)")
    p.add_argument("--split", help="labels.csv: keep only rows of this split (ExpW: train or val)")
    p.add_argument("--per-image", dest="per_image", help="also write one CSV row per image (true, predicted, probabilities)")
    p.add_argument("--detect", action="store_true", help="full images: detect + align the face first")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--batch-size", type=int, default=64, help="faces per classifier call (default 64)")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads (default 1)")
    p.add_argument("--provider", default="cpu", help="onnxruntime provider: cpu | cuda | tensorrt | auto")
    p.add_argument("--skip-unknown", action="store_true", help="leave out images whose label the model does not know")
    p.add_argument("--limit", type=int, help="only the first N images")
    args = p.parse_args(argv)
    from realtime_fer.errors import FerError

    try:
        if args.json:
            result = evaluate(args.model, args.data, args.labels, args.detect, args.batch_size, args.threads,
                              args.provider, args.usage, args.skip_unknown, args.limit, split=args.split,
                              per_image=args.per_image)
        else:
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task("evaluating", total=None)
                result = evaluate(args.model, args.data, args.labels, args.detect, args.batch_size, args.threads,
                                  args.provider, args.usage, args.skip_unknown, args.limit,
                                  progress=lambda done, total: bar.update(task, completed=done, total=total),
                                  split=args.split, per_image=args.per_image)
    except (EvaluateError, FerError, ValueError) as exc:
        print(f"train.evaluate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['model']} on {result['data']}: n={result['n']}, accuracy {result['accuracy']:.4f}, "
                        f"macro-F1 {result['macro_f1']:.4f}, {result['ms_per_face']:.3f} ms/face")
    for col in ("class", "precision", "recall", "f1", "support"):
        table.add_column(col)
    for label, s in result["per_class"].items():
        table.add_row(label, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"]))
    console = Console()
    console.print(table)
    if result["no_face"]:
        console.print(f"no face found (counted wrong): {result['no_face']} images, e.g. {result['no_face_files'][:5]}")
    if result["excluded"]:
        console.print(f"left out: {result['excluded']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
