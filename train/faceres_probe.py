"""Stage 1 of the faceres recipe: a linear probe on the frozen backbone, saved as the head's start.

``python -m train.faceres_probe --data prepared/faceres --size 160 --out runs/faceres_probe``

Pooled features of every training face (FER2013 + ExpW train-minus-dev, no augmentation) feed a
multinomial logistic regression (sklearn; inputs standardised, C chosen on ExpW dev among a few
values). The standardisation is folded into the weights, so ``head.npz`` (``kernel`` (1024, K) float32,
``bias`` (K,)) is a dense layer on the raw features: ``ModelConfig.head_init`` starts the fine-tune
from it (linear probe, then fine-tune). Writes ``probe.json`` (dev accuracy / macro-F1 per C) and
``features_dev.npy`` for later comparisons. Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

C_VALUES = (0.003, 0.01, 0.03, 0.1)


def features(backbone, images, batch_size: int = 128) -> np.ndarray:
    """(n, 1024) float32 pooled features of an indexable (n, S, S, 3) BGR [0, 1] image set."""
    out = [np.asarray(backbone.predict_on_batch(np.asarray(images[i:i + batch_size], np.float32)), np.float32)
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out)


def fit_probe(train_f, train_labels, dev_f, dev_labels, classes, weights=None) -> tuple[dict, dict]:
    """Fit one probe per C; return (the best by dev macro-F1 as {"kernel", "bias"}, {C: dev metrics})."""
    from sklearn.linear_model import LogisticRegression

    from train.metrics import classification_report

    mean, std = train_f.mean(0), train_f.std(0) + 1e-6
    scores, best, best_f1 = {}, None, -1.0
    for c in C_VALUES:
        clf = LogisticRegression(C=c, max_iter=3000).fit((train_f - mean) / std, train_labels, sample_weight=weights)
        rep = classification_report(dev_labels, clf.predict((dev_f - mean) / std), classes)
        scores[str(c)] = {"accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"]}
        if rep["macro_f1"] > best_f1:
            kernel = (clf.coef_ / std[None, :]).T.astype(np.float32)
            bias = (clf.intercept_ - (clf.coef_ * (mean / std)[None, :]).sum(1)).astype(np.float32)
            best, best_f1 = {"kernel": kernel, "bias": bias, "C": c}, rep["macro_f1"]
    return best, scores


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.faceres_probe", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("prepared/faceres"))
    p.add_argument("--size", type=int, default=160)
    p.add_argument("--backbone", default="../shared/data/backbones/faceres.json")
    p.add_argument("--out", type=Path, default=Path("runs/faceres_probe"))
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from train.backbone import BackboneError, load_backbone
    from train.faceres_model import load_prepared
    from train.fit import FitError

    try:
        data = load_prepared(args.data, args.size, expw_repeat=1)
        backbone = load_backbone(args.backbone, args.size)
    except (FitError, BackboneError, OSError) as exc:
        print(f"train.faceres_probe: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    train_f, dev_f = features(backbone, data.train_x), features(backbone, data.val_x)
    np.save(args.out / "features_dev.npy", dev_f)
    labels = data.train_y.argmax(1)
    head, scores = fit_probe(train_f, labels, dev_f, data.val_y.argmax(1), data.classes,
                             weights=data.train_y.max(1))
    np.savez(args.out / "head.npz", kernel=head["kernel"], bias=head["bias"])
    report = {"size": args.size, "C": head["C"], "dev": scores, "train_faces": len(labels),
              "rule": "C with the best ExpW-dev macro-F1; features of FER2013 + ExpW train-minus-dev, no augmentation; "
                      "FER2013 targets: the FER+ majority, weighted by its vote share"}
    (args.out / "probe.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
