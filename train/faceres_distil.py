"""The distillation targets in ``train.faceres_data``'s layout at a small side: a face-pretrained student.

``python -m train.faceres_distil --faceres-data prepared/faceres --distil-data prepared/distil --size 80 --out prepared/faceres_distil80``

``train.distil`` made soft targets (half the default model's mirror-averaged probabilities, half the human
labels) for FER2013 Training and ExpW train-minus-dev, stored with 48x48 grey faces for the compact CNN.
This writes the same targets beside colour faces for a student with the faceres architecture (the
MobileNet, its face-pretrained weights as the start) at side ``size``: FER2013 faces stay 48x48 grey (resized
when batched, as for the teacher); ExpW train and dev crops are the 160 px colour crops of
``train.faceres_data`` shrunk with area averaging. The group-photo faces of ``train.distil`` are left out (only
their grey crops were kept). Dev keeps its human labels and still chooses. ``train.fit`` trains it with
``model.arch = "faceres"`` and ``model.input_size = size``. Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from train.distil import meta_of, train_order

#: The side of the crops this is made from (``train.faceres_data``'s 160 px arrays).
SOURCE_SIDE = 160


class DistilLayoutError(Exception):
    """Prepared folders that do not belong together; one line."""


def unshuffle(saved: np.ndarray) -> np.ndarray:
    """Undo ``train.distil.save_arrays``' order of the train rows (``train.distil.train_order``): original order back."""
    order = train_order(len(saved))
    original = np.empty_like(saved)
    original[order] = saved
    return original


def shrink(images: np.ndarray, size: int) -> np.ndarray:
    """(n, S, S, 3) uint8 -> (n, size, size, 3) uint8 by area averaging (``cv2.INTER_AREA``)."""
    import cv2

    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images])


def split_targets(distil: Path, counts: dict, n_fer: int, n_expw: int) -> tuple[np.ndarray, np.ndarray]:
    """(FER2013 targets (n_fer, K), ExpW train targets (n_expw, K)) from ``train.distil``'s folder.

    Args:
        counts: the ``counts`` of that folder's meta.
    Raises:
        DistilLayoutError: the folder's counts or sources do not match ``n_fer`` / ``n_expw``.
    """
    if counts["fer2013_train"] != n_fer or counts["expw_train"] != n_expw:
        raise DistilLayoutError(f"{distil}: expected targets for {n_fer} FER2013 and {n_expw} ExpW faces (the faceres "
                                f"data's), got {counts['fer2013_train']} and {counts['expw_train']}; re-run train.distil")
    source = unshuffle(np.load(distil / "train_source.npy"))
    targets = unshuffle(np.load(distil / "train_y.npy"))
    if not (np.all(source[:n_fer] == 0) and np.all(source[n_fer:n_fer + n_expw] == 1)):
        raise DistilLayoutError(f"{distil}: expected FER2013 rows then ExpW rows once unshuffled, got another order; "
                                "re-run train.distil")
    return targets[:n_fer], targets[n_fer:n_fer + n_expw]


def prepare(faceres: Path, distil: Path, size: int, out: Path) -> dict:
    """Write ``out`` in the faceres layout at ``size``; return its meta."""
    base, teacher = meta_of(faceres), meta_of(distil)
    fer_x = np.load(faceres / "fer_x.npy", mmap_mode="r")
    expw = np.load(faceres / f"expw_{SOURCE_SIDE}.npy")
    fer_t, expw_t = split_targets(distil, teacher["counts"], len(fer_x), len(expw))
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(faceres / "fer_x.npy", out / "fer_x.npy")
    np.save(out / "fer_y.npy", fer_t.astype(np.float32))
    np.save(out / f"expw_{size}.npy", shrink(expw, size))
    np.save(out / "expw_y.npy", expw_t.astype(np.float32))
    np.save(out / f"dev_{size}.npy", shrink(np.load(faceres / f"dev_{SOURCE_SIDE}.npy"), size))
    shutil.copyfile(faceres / "dev_y.npy", out / "dev_y.npy")
    meta = {**base, "sizes": [size], "label_source": teacher["label_source"], "teacher": teacher["teacher"],
            "targets": teacher["targets"], "group_photo_faces": "left out (train.distil kept only their grey crops)",
            "made_from": {"faceres_data": str(faceres), "distil_data": str(distil),
                          "shrink": f"{SOURCE_SIDE} px colour crops, cv2.INTER_AREA"}}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.faceres_distil", description=__doc__.splitlines()[0])
    p.add_argument("--faceres-data", type=Path, default=Path("prepared/faceres"))
    p.add_argument("--distil-data", type=Path, default=Path("prepared/distil"))
    p.add_argument("--size", type=int, default=80)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    if not 32 <= args.size <= SOURCE_SIDE:
        print(f"train.faceres_distil: --size: expected 32..{SOURCE_SIDE}, got {args.size}", file=sys.stderr)
        return 2
    try:
        meta = prepare(args.faceres_data, args.distil_data, args.size, args.out)
    except (DistilLayoutError, FileNotFoundError, KeyError) as exc:
        print(f"train.faceres_distil: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(args.out), "sizes": meta["sizes"], "teacher": meta["teacher"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
