"""Prepared data for the face-pretrained backbone: FER2013 (FER+ votes) + ExpW faces at S x S, colour.

``python -m train.faceres_data --fer2013 ../shared/data/fer2013 --expw ../shared/data/expw --out prepared/faceres``

Writes (all uint8 images, no float copies: a 160x160 colour set would not fit in RAM as float32):

    fer_x.npy      (n, 48, 48, 1) uint8 grey   FER2013 Training, deduplicated (``train.mix.fer2013_part``)
    fer_y.npy      (n, 7) float32             FER+ vote distributions over the seven classes
    expw_S.npy     (m, S, S, 3) uint8 BGR      ExpW ``train`` faces not in dev, cropped by the runtime's
                                               BlazeFace + eye alignment + the crop in ``--crop-file``
    expw_y.npy     (m, 7) float32 one-hot
    dev_S.npy, dev_y.npy                       the same for the dev faces
    meta.json                                  classes, counts, sizes, crop, split rule, class weights

**Selection rule** (issue 21): a *dev* split is carved out of ExpW ``train``, grouped by photo
(``GroupShuffleSplit``, 15 %, seed 0), so faces of one photo never straddle it. Dev (and FER2013
PublicTest, scored by ``train.evaluate``) choose checkpoints, input size and recipe; ExpW ``val`` is in
no file here and is measured once at the end.

The ExpW faces are detected once; every size in ``--sizes`` is aligned from the same detection, so
the crops equal what the runtime feeds a model of that size. Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from train.mix import CLASSES, MixError, fer2013_part, read_csv

DEV_FRACTION = 0.15
BOX_COLUMNS = ("box_x1", "box_y1", "box_x2", "box_y2")


def dev_mask(photos: list[str], fraction: float = DEV_FRACTION, seed: int = 0) -> np.ndarray:
    """(n,) bool: True for the faces whose photo falls in the dev split (grouped by photo)."""
    from sklearn.model_selection import GroupShuffleSplit

    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    _, dev = next(splitter.split(np.zeros(len(photos)), groups=np.asarray(photos)))
    mask = np.zeros(len(photos), bool)
    mask[dev] = True
    return mask


def detect_expw(root: Path, split: str, progress=None) -> tuple[list[dict], list[tuple], dict]:
    """Rows of ``split`` whose labelled face BlazeFace finds, with ``train.face_crops.locate_face``'s
    (frame path, box, left eye, right eye) for each (the frame itself is not kept).

    Returns:
        (kept rows, detections, left_out counts); boxes and eyes are float32 in the photo's pixels.
    """
    from realtime_fer.core.detect import create_detector

    from train.face_crops import locate_face

    rows = [r for r in read_csv(root / "labels.csv", ["path", "label", "split", "photo", *BOX_COLUMNS])
            if r["split"] == split]
    if not rows:
        raise MixError(f"{root / 'labels.csv'}: expected rows with split {split!r}, got none")
    kept, found, left_out = [], [], {"labelled_face_not_detected": 0}
    with create_detector("blazeface", range="auto") as detector:
        for i, row in enumerate(rows):
            located = locate_face(detector, root / row["path"], [float(row[c]) for c in BOX_COLUMNS])
            if progress:
                progress(i + 1, len(rows))
            if located is None:
                left_out["labelled_face_not_detected"] += 1
                continue
            kept.append(row)
            found.append((root / row["path"], *located[1:]))
    return kept, found, left_out


def align_all(found: list[tuple], size: int, crop, grayscale: bool = False) -> np.ndarray:
    """(n, size, size, C) uint8 crops of the detections (the runtime's ``align_faces``): C = 3 BGR, or 1 grey
    when ``grayscale``."""
    import cv2

    from realtime_fer.core.align import align_faces

    out = np.zeros((len(found), size, size, 1 if grayscale else 3), np.uint8)
    for i, (path, box, left, right) in enumerate(found):
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        out[i] = align_faces(frame, box[None], left[None], right[None], (size, size), crop, grayscale=grayscale)[0]
    return out


def one_hot(labels: list[str]) -> np.ndarray:
    y = np.zeros((len(labels), len(CLASSES)), np.float32)
    y[np.arange(len(labels)), [CLASSES.index(label) for label in labels]] = 1.0
    return y


def prepare(fer_root: Path, expw_root: Path, out: Path, sizes: list[int], crop_file: Path, progress=None) -> dict:
    """Write the prepared folder ``out`` (see the module docstring); return its meta."""
    from realtime_fer.core.align import CropSpec

    crop = CropSpec.from_dict(json.loads(crop_file.read_text(encoding="utf-8")))
    fer = fer2013_part(fer_root, original_weight=0.0)
    rows, found, left_out = detect_expw(expw_root, "train", progress)
    dev = dev_mask([r["photo"] for r in rows])
    y = one_hot([r["label"] for r in rows])
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "fer_x.npy", fer.x)
    np.save(out / "fer_y.npy", fer.y)
    np.save(out / "expw_y.npy", y[~dev])
    np.save(out / "dev_y.npy", y[dev])
    for size in sizes:
        crops = align_all(found, size, crop)
        np.save(out / f"expw_{size}.npy", crops[~dev])
        np.save(out / f"dev_{size}.npy", crops[dev])
    (out / "dev_files.txt").write_text("".join(f"{r['path']}\n" for r, d in zip(rows, dev) if d), encoding="utf-8")
    meta = {
        "format": "faceres-prepared/1", "classes": CLASSES, "sizes": sizes, "color": "bgr",
        "crop": crop.to_dict(), "crop_file": str(crop_file),
        "alignment": "blazeface (runtime detector + eye alignment) for ExpW; none for FER2013 (48x48 grey as stored, "
                     "resized and repeated to three channels when batched)",
        "label_source": "FER2013 Training: FER+ vote distributions; ExpW train: human labels (research data)",
        "split": {"method": "GroupShuffleSplit by photo", "dev_fraction": DEV_FRACTION, "seed": 0,
                  "train": "FER2013 Training (deduplicated) + ExpW train minus dev",
                  "dev": "ExpW train, 15 % of photos: chooses checkpoints, size and recipe",
                  "untouched": "ExpW val (measured once, at the end); FER2013 PublicTest (scored, chooses too)"},
        "data": {"fer2013": str(fer_root), "expw": str(expw_root)},
        "counts": {"fer2013_train": int(len(fer.x)), "expw_train": int((~dev).sum()), "expw_dev": int(dev.sum()),
                   "dev_photos": len({r["photo"] for r, d in zip(rows, dev) if d})},
        "left_out": {"fer2013": fer.left_out, "expw_train": left_out},
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.faceres_data", description=__doc__.splitlines()[0])
    p.add_argument("--fer2013", required=True, type=Path, help="FER2013 folder with labels.csv (FER+ votes)")
    p.add_argument("--expw", required=True, type=Path, help="ExpW folder with labels.csv")
    p.add_argument("--out", required=True, type=Path, help="prepared folder to write")
    p.add_argument("--sizes", type=int, nargs="+", default=[224, 160, 128], help="crop sides to write")
    p.add_argument("--crop-file", type=Path, default=Path("configs/fer2013_crop.json"),
                   help="CropSpec JSON (default: the FER2013 crop, which frames FER2013 faces as stored)")
    args = p.parse_args(argv)
    from realtime_fer.errors import FerError

    from train.face_crops import CropError

    try:
        meta = prepare(args.fer2013, args.expw, args.out, args.sizes, args.crop_file)
    except (MixError, CropError, FerError, OSError) as exc:
        print(f"train.faceres_data: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(args.out), "counts": meta["counts"], "left_out": meta["left_out"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
