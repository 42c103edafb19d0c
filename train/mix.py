"""Prepare a mixed-source training set: FER2013 (FER+ vote distributions) + ExpW in-the-wild faces.

``python -m train.mix --fer2013 ../shared/data/fer2013 --expw ../shared/data/expw --out prepared/mix7``

Writes ``train.fit``'s prepared-data contract (``train_x.npy`` float32 (N, 48, 48, 1) grey in [0, 1],
``train_y.npy`` float32 (N, 7) rows summing to 1, ``val_x.npy``, ``val_y.npy``, ``meta.json``) plus
``train_source.npy`` (int8 (N,): 0 = FER2013, 1 = ExpW) and ``val_files.txt``.

* FER2013 ``Training`` rows (never PublicTest), exact duplicates (SHA-1 of the file bytes) kept
  once.  Targets (``--fer-labels``): ``ferplus`` = the FER+ crowd votes over the seven classes,
  normalised to a distribution (contempt, unknown and not-a-face votes dropped; an image whose
  seven-class votes are fewer than half of its votes is left out); ``fer2013`` = the original
  label one-hot; ``mix:A`` = ``(1 - A) * ferplus + A * fer2013``.
* ExpW ``train`` split only, each face cropped by the runtime's own BlazeFace + eye alignment
  with the FER2013 crop (``configs/fer2013_crop.json``), picking the detection that overlaps the
  labelled box; faces the detector misses are left out and counted.  ``--expw-repeat R`` puts
  each ExpW face R times into the training set (ExpW has ~3.3 k faces against FER2013's ~27 k).
* Validation = ExpW ``val`` through the same detector path: it chooses checkpoints, and is the
  split the issue's accuracy target is measured on (so a figure on it is "measured on the split
  that chose it").  FER2013 PublicTest is not in here: it is scored afterwards with
  ``train.evaluate`` and chose nothing.

Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CLASSES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
#: FER+ vote column of each class (``ferplus_contempt``, ``_unknown``, ``_NF`` are dropped).
FERPLUS_COLUMNS = {"angry": "ferplus_anger", "disgust": "ferplus_disgust", "fear": "ferplus_fear",
                   "happy": "ferplus_happiness", "neutral": "ferplus_neutral", "sad": "ferplus_sadness",
                   "surprise": "ferplus_surprise"}
FERPLUS_ALL = ["ferplus_neutral", "ferplus_happiness", "ferplus_surprise", "ferplus_sadness", "ferplus_anger",
               "ferplus_disgust", "ferplus_fear", "ferplus_contempt", "ferplus_unknown", "ferplus_NF"]
SIZE = 48


class MixError(Exception):
    """Bad input to ``train.mix``; the message is one line (expected / got / what to do)."""


@dataclass
class Part:
    """Images (n, 48, 48, 1) uint8 grey, targets (n, 7) float32, and counts of what was left out."""

    x: np.ndarray
    y: np.ndarray
    files: list[str]
    left_out: dict[str, int]


def parse_fer_labels(choice: str) -> float:
    """Weight A of the original one-hot label in the FER2013 target: ferplus -> 0, fer2013 -> 1, mix:A -> A."""
    if choice == "ferplus":
        return 0.0
    if choice == "fer2013":
        return 1.0
    if choice.startswith("mix:"):
        try:
            a = float(choice[4:])
        except ValueError:
            a = -1.0
        if 0.0 <= a <= 1.0:
            return a
    raise MixError(f"--fer-labels: expected ferplus, fer2013 or mix:A with 0 <= A <= 1, got {choice!r}")


def read_csv(path: Path, required: list[str]) -> list[dict]:
    if not path.is_file():
        raise MixError(f"expected a labels.csv at {path}, got no file; pass the data set's folder")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise MixError(f"{path}: expected columns {required}, missing {missing}; is this the right data set?")
        return list(reader)


def fer2013_part(root: Path, original_weight: float) -> Part:
    """FER2013 Training faces (48x48 grey as stored) with FER+/original/mixed targets."""
    import cv2

    rows = read_csv(root / "labels.csv", ["path", "usage", "fer2013_emotion", *FERPLUS_ALL])
    seen: set[str] = set()
    xs, ys, files = [], [], []
    left_out = {"duplicate": 0, "no_ferplus_votes": 0, "mostly_unknown_or_not_face": 0, "unreadable": 0}
    for row in rows:
        if row["usage"] != "Training":
            continue
        data = (root / row["path"]).read_bytes()
        digest = hashlib.sha1(data).hexdigest()
        if digest in seen:
            left_out["duplicate"] += 1
            continue
        seen.add(digest)
        if row["ferplus_neutral"] == "":
            left_out["no_ferplus_votes"] += 1
            continue
        votes = np.array([float(row[FERPLUS_COLUMNS[c]]) for c in CLASSES], np.float32)
        total = sum(float(row[c] or 0) for c in FERPLUS_ALL)
        if votes.sum() < 0.5 * total or votes.sum() == 0:
            left_out["mostly_unknown_or_not_face"] += 1
            continue
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        if image is None:
            left_out["unreadable"] += 1
            continue
        if image.shape != (SIZE, SIZE):
            image = cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        one_hot = np.zeros(len(CLASSES), np.float32)
        one_hot[CLASSES.index(row["fer2013_emotion"])] = 1.0
        ys.append((1.0 - original_weight) * votes / votes.sum() + original_weight * one_hot)
        xs.append(image[..., None])
        files.append(row["path"])
    return Part(np.stack(xs), np.stack(ys).astype(np.float32), files, left_out)


def expw_part(root: Path, split: str, crop_file: Path, progress=None) -> Part:
    """ExpW faces of ``split`` cropped by the runtime's detector + alignment, one-hot targets."""
    from realtime_fer.core.align import CropSpec

    from train.face_crops import DetectCropper

    rows = [r for r in read_csv(root / "labels.csv", ["path", "label", "split", "box_x1", "box_y1", "box_x2", "box_y2"])
            if r["split"] == split]
    if not rows:
        raise MixError(f"{root / 'labels.csv'}: expected rows with split {split!r}, got none")
    unknown = sorted({r["label"] for r in rows} - set(CLASSES))
    if unknown:
        raise MixError(f"{root / 'labels.csv'}: expected labels in {CLASSES}, got {unknown}; fix the file")
    crop = CropSpec.from_dict(json.loads(crop_file.read_text(encoding="utf-8")))
    xs, ys, files = [], [], []
    left_out = {"labelled_face_not_detected": 0}
    with DetectCropper((SIZE, SIZE), crop, grayscale=True) as cropper:
        for i, row in enumerate(rows):
            box = [float(row[c]) for c in ("box_x1", "box_y1", "box_x2", "box_y2")]
            face = cropper(root / row["path"], box)
            if progress:
                progress(i + 1, len(rows))
            if face is None:
                left_out["labelled_face_not_detected"] += 1
                continue
            target = np.zeros(len(CLASSES), np.float32)
            target[CLASSES.index(row["label"])] = 1.0
            xs.append(face)
            ys.append(target)
            files.append(row["path"])
    return Part(np.stack(xs), np.stack(ys), files, left_out)


def mix(fer_root: Path, expw_root: Path, out: Path, fer_labels: str = "ferplus", expw_repeat: int = 4,
        crop_file: Path = Path("configs/fer2013_crop.json"), progress=None) -> dict:
    """Build the prepared folder ``out``; return its meta (also written to ``meta.json``)."""
    original_weight = parse_fer_labels(fer_labels)
    if expw_repeat < 1:
        raise MixError(f"--expw-repeat: expected an integer >= 1, got {expw_repeat}")
    fer = fer2013_part(fer_root, original_weight)
    expw_train = expw_part(expw_root, "train", crop_file, progress)
    expw_val = expw_part(expw_root, "val", crop_file, progress)
    train_x = np.concatenate([fer.x] + [expw_train.x] * expw_repeat)
    train_y = np.concatenate([fer.y] + [expw_train.y] * expw_repeat)
    source = np.concatenate([np.zeros(len(fer.x), np.int8), np.ones(len(expw_train.x) * expw_repeat, np.int8)])
    order = np.random.default_rng(0).permutation(len(train_x))
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "train_x.npy", train_x[order].astype(np.float32) / np.float32(255))
    np.save(out / "train_y.npy", train_y[order])
    np.save(out / "train_source.npy", source[order])
    np.save(out / "val_x.npy", expw_val.x.astype(np.float32) / np.float32(255))
    np.save(out / "val_y.npy", expw_val.y)
    (out / "val_files.txt").write_text("".join(f"{f}\n" for f in expw_val.files), encoding="utf-8")
    mass = train_y.sum(axis=0)
    weights = mass.sum() / (len(CLASSES) * np.maximum(mass, 1e-6))
    meta = {
        "classes": CLASSES,
        "label_encoding": {c: i for i, c in enumerate(CLASSES)},
        "class_weights": {c: float(w) for c, w in zip(CLASSES, weights)},
        "size": [SIZE, SIZE], "channels": 1, "color": "gray",
        "alignment": {"method": "blazeface (runtime detector + eye alignment) for ExpW; none for FER2013 (48x48 as stored)",
                      "crop_file": str(crop_file)},
        "label_source": f"FER2013 Training: {fer_labels} "
                        f"({'FER+ vote distributions' if original_weight < 1 else 'original labels'}"
                        f"{f', original one-hot weight {original_weight}' if 0 < original_weight < 1 else ''}); "
                        "ExpW train: human labels (research data, no licence file: see ExpW's terms)",
        "data": {"fer2013": str(fer_root), "expw": str(expw_root)},
        "split": {"method": "fixed", "train": "FER2013 Training (deduplicated) + ExpW split=train",
                  "val": "ExpW split=val (chooses checkpoints)", "rule": "ExpW's labels.csv split column"},
        "augmentation": "none (online augmentation in train.fit)",
        "counts": {"train": int(len(train_x)), "val": int(len(expw_val.x)), "fer2013_train": int(len(fer.x)),
                   "expw_train_faces": int(len(expw_train.x)), "expw_repeat": int(expw_repeat),
                   "expw_val_faces": int(len(expw_val.x))},
        "left_out": {"fer2013": fer.left_out, "expw_train": expw_train.left_out, "expw_val": expw_val.left_out},
        "target_mass": {c: float(m) for c, m in zip(CLASSES, mass)},
        "files": {"train_x": "train_x.npy", "train_y": "train_y.npy", "val_x": "val_x.npy", "val_y": "val_y.npy",
                  "val_files": "val_files.txt", "train_source": "train_source.npy"},
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.mix", description=__doc__.splitlines()[0])
    p.add_argument("--fer2013", required=True, type=Path, help="FER2013 folder with labels.csv (FER+ votes)")
    p.add_argument("--expw", required=True, type=Path, help="ExpW folder with labels.csv (path, label, split, box)")
    p.add_argument("--out", required=True, type=Path, help="prepared-data folder to write")
    p.add_argument("--fer-labels", default="ferplus", help="ferplus | fer2013 | mix:A (default ferplus)")
    p.add_argument("--expw-repeat", type=int, default=4, help="copies of each ExpW train face (default 4)")
    p.add_argument("--crop-file", type=Path, default=Path("configs/fer2013_crop.json"), help="CropSpec JSON")
    args = p.parse_args(argv)
    from realtime_fer.errors import FerError

    from train.face_crops import CropError

    try:
        meta = mix(args.fer2013, args.expw, args.out, args.fer_labels, args.expw_repeat, args.crop_file)
    except (MixError, CropError, FerError, OSError) as exc:
        print(f"train.mix: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(args.out), "counts": meta["counts"], "left_out": meta["left_out"],
                      "class_weights": meta["class_weights"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
