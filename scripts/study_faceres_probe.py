"""Which crop and input size for the faceres backbone: a linear probe on frozen features, scored on ExpW dev.

``python scripts/study_faceres_probe.py --backbone ../shared/data/backbones/faceres.json``

ExpW ``train`` faces go through the runtime's BlazeFace + eye alignment, are cropped with each candidate
crop at each size, and the backbone's pooled features feed a logistic regression (C chosen by 5-fold CV)
fitted on train-minus-dev (``train.faceres_data.dev_mask``) and scored on dev. ExpW ``val`` is not read.
Prints one JSON line per (crop, size).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CROPS = {"fer2013": (1.185, 0.0, -0.093), "wide": (1.4, 0.0, -0.05)}


def probe(train_f, train_y, dev_f, dev_y) -> dict:
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.preprocessing import StandardScaler

    from train.metrics import classification_report
    from train.mix import CLASSES

    scaler = StandardScaler().fit(train_f)
    clf = LogisticRegressionCV(Cs=[0.003, 0.01, 0.03, 0.1], cv=5, max_iter=2000).fit(scaler.transform(train_f), train_y)
    pred = clf.predict(scaler.transform(dev_f))
    rep = classification_report(dev_y, pred, CLASSES)
    return {"accuracy": round(rep["accuracy"], 4), "macro_f1": round(rep["macro_f1"], 4), "C": float(clf.C_[0])}


def main() -> int:
    from realtime_fer.core.align import CropSpec

    from train.backbone import load_backbone
    from train.faceres_data import align_all, detect_expw, dev_mask
    from train.mix import CLASSES

    p = argparse.ArgumentParser()
    p.add_argument("--backbone", default="../shared/data/backbones/faceres.json")
    p.add_argument("--expw", type=Path, default=Path("../shared/data/expw"))
    p.add_argument("--sizes", type=int, nargs="+", default=[224, 160, 128])
    args = p.parse_args()
    rows, found, _ = detect_expw(args.expw, "train")
    dev = dev_mask([r["photo"] for r in rows])
    y = np.array([CLASSES.index(r["label"]) for r in rows])
    for size in args.sizes:
        net = load_backbone(args.backbone, size)
        for name, (scale, sx, sy) in CROPS.items():
            x = align_all(found, size, CropSpec(scale, sx, sy)).astype(np.float32) / 255
            t0 = time.time()
            feats = net.predict(x, batch_size=64, verbose=0)
            seconds = time.time() - t0
            result = probe(feats[~dev], y[~dev], feats[dev], y[dev])
            print(json.dumps({"crop": name, "size": size, **result, "train": int((~dev).sum()), "dev": int(dev.sum()),
                              "feature_s": round(seconds, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
