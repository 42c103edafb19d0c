"""Classification metrics in plain NumPy (no scikit-learn needed at run time).

All functions take integer class codes: ``y_true`` and ``y_pred`` are (n,) int
arrays with values in ``[0, n_classes)``. The paper reports F1 because of class
imbalance; ``macro_f1`` is the unweighted mean of the per-class F1 scores over the
classes that occur in ``y_true`` or ``y_pred`` (scikit-learn's ``average="macro"``
default), so a label the data set does not use does not count as a zero.
A class with no predictions has precision 0 and a class with no support has
recall 0 (scikit-learn's ``zero_division=0``).
"""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) int64 counts; rows = true class, columns = predicted class."""
    y_true = np.asarray(y_true, np.int64).ravel()
    y_pred = np.asarray(y_pred, np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true/y_pred: expected equal lengths, got {y_true.shape[0]} and {y_pred.shape[0]}")
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
            raise ValueError(f"{name}: expected codes in [0, {n_classes}), got range [{arr.min()}, {arr.max()}]")
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_scores(confusion: np.ndarray, missed=None) -> dict[str, np.ndarray]:
    """Per-class precision, recall, f1 (float64) and support (int64) from a confusion matrix.

    ``missed``: optional (K,) counts of samples of each true class that got no prediction
    at all (e.g. no face found); they add to the support, so they lower recall.
    """
    confusion = np.asarray(confusion, np.float64)
    tp = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    support = confusion.sum(axis=1) + (0 if missed is None else np.asarray(missed, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def accuracy(y_true, y_pred) -> float:
    """Fraction of exact matches; 0.0 for empty input."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return float((y_true == y_pred).mean()) if y_true.size else 0.0


def _macro(scores: dict, confusion: np.ndarray) -> float:
    present = (scores["support"] > 0) | (np.asarray(confusion).sum(axis=0) > 0)
    return float(scores["f1"][present].mean()) if present.any() else 0.0


def macro_f1(y_true, y_pred, n_classes: int) -> float:
    """Unweighted mean of per-class F1 over the classes present in ``y_true`` or ``y_pred``."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    return _macro(per_class_scores(cm), cm)


def classification_report(y_true, y_pred, labels) -> dict:
    """Everything the evaluation and training reports need, JSON-ready.

    A negative code in ``y_pred`` means "no prediction" (e.g. no face was found): the
    sample counts as wrong, appears in no confusion column, and lowers its class's recall.

    Returns:
        {"n", "accuracy", "macro_f1", "per_class": {label: {"precision", "recall", "f1", "support"}},
         "confusion": list of lists (rows true, columns predicted), "labels": [...],
         "no_prediction": number of samples with a negative prediction}.
    """
    labels = list(labels)
    y_true = np.asarray(y_true, np.int64).ravel()
    y_pred = np.asarray(y_pred, np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true/y_pred: expected equal lengths, got {y_true.shape[0]} and {y_pred.shape[0]}")
    ok = y_pred >= 0
    cm = confusion_matrix(y_true[ok], y_pred[ok], len(labels))
    missed = np.bincount(y_true[~ok], minlength=len(labels)) if (~ok).any() else None
    scores = per_class_scores(cm, missed)
    per_class = {label: {"precision": round(float(scores["precision"][i]), 6),
                         "recall": round(float(scores["recall"][i]), 6),
                         "f1": round(float(scores["f1"][i]), 6),
                         "support": int(scores["support"][i])} for i, label in enumerate(labels)}
    return {"n": int(y_true.size), "accuracy": round(accuracy(y_true, y_pred), 6),
            "macro_f1": round(_macro(scores, cm), 6), "per_class": per_class,
            "confusion": cm.tolist(), "labels": labels, "no_prediction": int((~ok).sum())}
