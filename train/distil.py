"""Prepared data for distilling the compact 48x48 grey model from the face-pretrained one (issue 21).

``python -m train.distil --teacher models/expression-faceres.onnx --faceres-data prepared/faceres
--expw ../shared/data/expw --group-photos ../shared/data/group_photos --out prepared/distil``

The teacher (a 160x160 BGR sidecar model, run by the runtime's ``ExpressionClassifier``, each face
averaged with its mirror image) labels three sources, all of them training splits:

* FER2013 Training faces of ``prepared/faceres`` (``fer_x``: 48x48 grey, resized to the teacher's side);
* ExpW ``train`` faces *minus dev* (the dev photos of ``train.faceres_data`` stay out, so dev can still
  choose the student's checkpoint), re-detected by the runtime's BlazeFace and aligned twice from one
  detection: at the teacher's side in colour and at 48x48 grey for the student, as the runtime crops them;
* the unlabelled faces of ``group_photos`` ``train`` photos that CenterFace (the ``--image`` detector)
  finds, minus the labelled ones (already in ExpW) and minus any photo in ExpW dev. No val, test or
  FDDB face is used.

Targets: ``weight * human + (1 - weight) * teacher`` where a human label exists (FER+ votes, ExpW's
one-hot), the teacher's alone for the group-photo faces. Writes ``train.fit``'s prepared contract
(``train_x`` float32 (N, 48, 48, 1) grey in [0, 1], ``train_y`` (N, 7) rows summing to 1, ``val_x``/``val_y``
= ExpW dev at 48x48 grey one-hot, ``meta.json``) plus ``train_source.npy`` (int8: 0 FER2013, 1 ExpW,
2 group photos) and ``teacher_dev.json`` (the teacher's own dev accuracy, a check). Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from train.faceres_data import align_all, detect_expw, dev_mask, one_hot
from train.mix import CLASSES, MixError, read_csv

STUDENT_SIDE = 48
#: Group-photo faces smaller than this (box side, pixels) carry too little detail to label.
MIN_GROUP_FACE = 24
SOURCES = {"fer2013": 0, "expw": 1, "group_photos": 2}


def teacher_probs(teacher, crops: np.ndarray, batch: int = 64) -> np.ndarray:
    """(n, 7) float32: the teacher's probabilities for (n, S, S, 3) uint8 BGR crops, averaged with the mirror."""
    out = np.zeros((len(crops), len(CLASSES)), np.float32)
    for start in range(0, len(crops), batch):
        chunk = np.ascontiguousarray(crops[start:start + batch])
        out[start:start + batch] = 0.5 * (teacher.predict(chunk) + teacher.predict(chunk[:, :, ::-1].copy()))
    return out


def distil_targets(human: np.ndarray, teacher: np.ndarray, weight: float) -> np.ndarray:
    """(n, 7) float32 rows summing to 1: ``weight * human + (1 - weight) * teacher`` (both (n, 7) distributions)."""
    if human.shape != teacher.shape:
        raise ValueError(f"distil_targets: expected human and teacher targets of one shape, got {human.shape} and "
                         f"{teacher.shape}")
    mixed = weight * human.astype(np.float32) + (1 - weight) * teacher.astype(np.float32)
    return mixed / mixed.sum(axis=1, keepdims=True)


def fer_as_teacher_input(fer_x: np.ndarray, side: int) -> np.ndarray:
    """(n, 48, 48, 1) uint8 grey -> (n, side, side, 3) uint8, bilinear (as ``MixedImages`` feeds the teacher)."""
    import cv2

    out = np.empty((len(fer_x), side, side, 3), np.uint8)
    for i, face in enumerate(fer_x):
        out[i] = cv2.resize(face[:, :, 0], (side, side), interpolation=cv2.INTER_LINEAR)[:, :, None]
    return out


def expw_faces(expw_root: Path, side: int, crop, progress=None):
    """ExpW train faces split like ``train.faceres_data``: (teacher crops, student crops, one-hot, dev mask, photos)."""
    rows, found, _ = detect_expw(expw_root, "train", progress)
    dev = dev_mask([r["photo"] for r in rows])
    return (align_all(found, side, crop), align_all(found, STUDENT_SIDE, crop, grayscale=True),
            one_hot([r["label"] for r in rows]), dev, [r["photo"] for r in rows])


def group_faces(root: Path, side: int, crop, skip_photos: set[str]):
    """Unlabelled faces of ``root``'s train photos: (teacher crops, student crops, per-photo counts)."""
    import cv2

    from realtime_fer.core.align import align_faces
    from realtime_fer.core.centerface import CenterFaceDetector
    from realtime_fer.core.track import iou_matrix

    rows = read_csv(root / "labels.csv", ["path", "photo", "x1", "y1", "x2", "y2", "split"])
    photos: dict[str, list] = {}
    for r in rows:
        if r["split"] == "train" and r["photo"] not in skip_photos:
            photos.setdefault(r["path"], []).append([float(r[c]) for c in ("x1", "y1", "x2", "y2")])
    teacher_crops, student_crops, counts = [], [], {}
    detector = CenterFaceDetector()
    for path, labelled in sorted(photos.items()):
        frame = cv2.imread(str(root / path), cv2.IMREAD_COLOR)
        faces = detector.detect(frame)
        sides = np.minimum(faces.boxes[:, 2] - faces.boxes[:, 0], faces.boxes[:, 3] - faces.boxes[:, 1])
        overlap = iou_matrix(faces.boxes, np.asarray(labelled, np.float32)).max(axis=1) if len(faces.boxes) else sides
        keep = np.flatnonzero((sides >= MIN_GROUP_FACE) & (overlap < 0.3))
        counts[path] = int(len(keep))
        if len(keep) == 0:
            continue
        boxes, left, right = faces.boxes[keep], faces.keypoints[keep, 0], faces.keypoints[keep, 1]
        teacher_crops.append(align_faces(frame, boxes, left, right, (side, side), crop, grayscale=False))
        student_crops.append(align_faces(frame, boxes, left, right, (STUDENT_SIDE,) * 2, crop, grayscale=True))
    detector.close()
    if not teacher_crops:
        return (np.zeros((0, side, side, 3), np.uint8), np.zeros((0, STUDENT_SIDE, STUDENT_SIDE, 1), np.uint8), counts)
    return np.concatenate(teacher_crops), np.concatenate(student_crops), counts


def meta_of(folder: Path) -> dict:
    """The ``meta.json`` of a prepared folder."""
    return json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def train_order(n: int) -> np.ndarray:
    """(n,) int64 the seeded order ``save_arrays`` stores ``n`` train rows in: saved row i is row ``order[i]``."""
    return np.random.default_rng(0).permutation(n)


def save_arrays(out: Path, train: dict[str, np.ndarray], val: dict[str, np.ndarray]) -> None:
    """Save ``train`` shuffled (one :func:`train_order` for all its arrays) and ``val`` as they are, as ``NAME.npy``
    in ``out``; uint8 images (``*_x``) become float32 in [0, 1] (``train.fit``'s contract)."""
    out.mkdir(parents=True, exist_ok=True)
    order = train_order(len(train["train_x"]))
    for name, array in {**{k: v[order] for k, v in train.items()}, **val}.items():
        np.save(out / f"{name}.npy", array.astype(np.float32) / np.float32(255) if name.endswith("_x") else array)


def prepare(args, progress=None) -> dict:
    """Write ``args.out`` (see the module docstring); return its meta."""
    from realtime_fer.core.classify import ExpressionClassifier

    teacher = ExpressionClassifier(args.teacher, provider="cpu", intra_op_threads=0)
    side, crop = teacher.input_size[0], teacher.crop
    folder = args.faceres_data
    fer_x, fer_y = np.load(folder / "fer_x.npy"), np.load(folder / "fer_y.npy")
    expw_t, expw_s, expw_y, dev, photos = expw_faces(args.expw, side, crop, progress)
    prepared_dev = np.load(folder / "dev_y.npy")
    if int(dev.sum()) != len(prepared_dev) or not np.array_equal(expw_y[dev], prepared_dev):
        raise MixError(f"{folder}: expected {int(dev.sum())} dev faces as re-detected now, got {len(prepared_dev)}; "
                       "re-run train.faceres_data so both use the same detections")
    group_t, group_s, group_counts = group_faces(args.group_photos, side, crop,
                                                 {p for p, d in zip(photos, dev) if d})
    fer_t = teacher_probs(teacher, fer_as_teacher_input(fer_x, side))
    expw_tp = teacher_probs(teacher, expw_t[~dev])
    dev_tp = teacher_probs(teacher, expw_t[dev])
    group_tp = teacher_probs(teacher, group_t)
    w = float(args.weight)
    parts_x = [fer_x, expw_s[~dev]] + [expw_s[~dev]] * (args.expw_repeat - 1) + [group_s]
    parts_y = ([distil_targets(fer_y, fer_t, w)] + [distil_targets(expw_y[~dev], expw_tp, w)] * args.expw_repeat
               + [group_tp])
    source = np.concatenate([np.full(len(fer_x), 0), np.full(int((~dev).sum()) * args.expw_repeat, 1),
                             np.full(len(group_s), 2)]).astype(np.int8)
    train_x, train_y = np.concatenate(parts_x), np.concatenate(parts_y).astype(np.float32)
    out = args.out
    save_arrays(out, {"train_x": train_x, "train_y": train_y, "train_source": source},
                {"val_x": expw_s[dev], "val_y": expw_y[dev]})
    teacher_dev = float((dev_tp.argmax(1) == expw_y[dev].argmax(1)).mean())
    mass = train_y.sum(axis=0)
    meta = {
        "format": "distil-prepared/1", "classes": CLASSES, "size": [STUDENT_SIDE, STUDENT_SIDE], "channels": 1,
        "color": "gray", "data": {"fer2013": meta_of(args.faceres_data)["data"]["fer2013"], "expw": str(args.expw),
                                  "group_photos": str(args.group_photos)},
        "label_source": "the teacher's mirror-averaged probabilities mixed with FER+ vote distributions (FER2013 "
                        "Training) and ExpW train human labels; the teacher's alone for group-photo faces",
        "teacher": {"model": str(args.teacher), "sha256": teacher.card.sha256, "mirror_average": True,
                    "dev_accuracy": teacher_dev},
        "targets": f"{w} x human label + {1 - w:.2f} x teacher where a human label exists; teacher alone for "
                   "group-photo faces",
        "split": {"train": "FER2013 Training (deduplicated) + ExpW train minus dev + group_photos train photos "
                           "(unlabelled faces, dev photos left out)",
                  "val": "ExpW dev (15 % of ExpW train photos, train.faceres_data): chooses the checkpoint",
                  "untouched": "ExpW val, FER2013 PublicTest (scored afterwards)"},
        "counts": {"fer2013_train": int(len(fer_x)), "expw_train": int((~dev).sum()), "expw_repeat": args.expw_repeat,
                   "group_faces": int(len(group_s)), "group_photos": len(group_counts), "dev": int(dev.sum()),
                   "train": int(len(train_x))},
        "class_weights": {c: float(v) for c, v in zip(CLASSES, mass.sum() / (len(mass) * mass))},
        "crop": crop.to_dict(), "alignment": "blazeface + eye alignment (ExpW), CenterFace + eyes (group photos), "
                                             "none for FER2013 (48x48 as stored)",
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.distil", description=__doc__.splitlines()[0])
    p.add_argument("--teacher", required=True, type=Path, help="the teacher's ONNX file (with its .json sidecar)")
    p.add_argument("--faceres-data", required=True, type=Path, help="train.faceres_data's prepared folder")
    p.add_argument("--expw", required=True, type=Path, help="ExpW folder with labels.csv")
    p.add_argument("--group-photos", required=True, type=Path, help="group_photos folder with labels.csv")
    p.add_argument("--out", required=True, type=Path, help="prepared folder to write")
    p.add_argument("--weight", type=float, default=0.5, help="weight of the human label in the target (0-1)")
    p.add_argument("--expw-repeat", type=int, default=4, help="copies of each ExpW face in the training set")
    args = p.parse_args(argv)
    if not 0.0 <= args.weight <= 1.0 or args.expw_repeat < 1:
        print(f"train.distil: expected --weight in [0, 1] and --expw-repeat >= 1, got {args.weight} and "
              f"{args.expw_repeat}", file=sys.stderr)
        return 2
    from realtime_fer.errors import FerError

    from train.face_crops import CropError

    try:
        meta = prepare(args)
    except (MixError, CropError, FerError, OSError) as exc:
        print(f"train.distil: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(args.out), "counts": meta["counts"], "teacher": meta["teacher"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
