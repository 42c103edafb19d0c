"""train.metrics against scikit-learn, plus the 'no prediction' convention."""

import numpy as np
import pytest

from train import metrics

sk = pytest.importorskip("sklearn.metrics", reason="scikit-learn (the train extra) is needed as the reference")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_on_random_labels(seed):
    rng = np.random.default_rng(seed)
    k = 5
    y_true = rng.integers(0, k, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, k, 300))
    y_pred[y_pred == 4] = 3  # class 4 is never predicted: precision 0 by convention
    labels = list(range(k))
    assert np.array_equal(metrics.confusion_matrix(y_true, y_pred, k), sk.confusion_matrix(y_true, y_pred, labels=labels))
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert metrics.macro_f1(y_true, y_pred, k) == pytest.approx(
        sk.f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0))
    p, r, f, s = sk.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    ours = metrics.per_class_scores(metrics.confusion_matrix(y_true, y_pred, k))
    np.testing.assert_allclose(ours["precision"], p)
    np.testing.assert_allclose(ours["recall"], r)
    np.testing.assert_allclose(ours["f1"], f)
    np.testing.assert_array_equal(ours["support"], s)


def test_macro_mean_over_present_classes_like_sklearn_default():
    y_true, y_pred = np.array([0, 0, 1]), np.array([0, 2, 1])  # class 2 only predicted, class 3 unused
    expected = sk.f1_score(y_true, y_pred, average="macro", zero_division=0)
    assert metrics.macro_f1(y_true, y_pred, 4) == pytest.approx(expected)
    rep = metrics.classification_report(y_true, y_pred, ["a", "b", "c", "d"])
    assert rep["macro_f1"] == pytest.approx(expected, abs=1e-6) and rep["per_class"]["d"]["support"] == 0


def test_report_counts_no_prediction_as_wrong():
    rep = metrics.classification_report([0, 1, 2, 1], [0, 1, -1, 2], ["a", "b", "c"])
    assert rep["n"] == 4 and rep["accuracy"] == 0.5 and rep["no_prediction"] == 1
    assert rep["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert rep["per_class"]["b"]["recall"] == 0.5
    assert rep["confusion"] == [[1, 0, 0], [0, 1, 1], [0, 0, 0]]


def test_rejects_out_of_range_and_mismatched_lengths():
    with pytest.raises(ValueError, match="expected codes"):
        metrics.confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="equal lengths"):
        metrics.confusion_matrix([0, 1], [0], 3)


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, train.metrics; print(any(m in sys.modules for m in ('tensorflow', 'keras', 'torch')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
