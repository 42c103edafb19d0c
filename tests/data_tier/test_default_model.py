"""The shipped models against their recorded claims.

``models/expression-compact.onnx`` is the compact 48x48 grey model distilled from the face-pretrained one (session
7; float32 only: its int8 file lost more than the export's 0.5 points on ExpW dev), the ``--model`` for the slowest
CPUs; ``models/expression-fer2013(.int8).onnx`` is the FER2013-only model, kept for the FER2013 benchmark and the
paper comparison.  Each has its sidecar. The default (the face-pretrained model, ``DEFAULT``) is tested in
``test_faceres_model.py``; the tests here that concern what every user gets (quantisation on a real video, tilted
faces) run it.

The first tests need only the repository; the data-tier ones re-score each model on FER2013
PublicTest (``../shared/data/fer2013/val``) and on ExpW val through the runtime's detector
(``../shared/data/expw``), check that the figures written into the sidecars are exactly what the
models give, that the FER2013 model beats the `fer` package's model on FER2013, that every model stays
above its floors (``PUBLICTEST_FLOOR``, ``EXPW_FLOOR``: which split chose which model is said there), the
default far from the FER2013 model's figure on ExpW, and that the default holds a floor on ExpW val faces turned
by +-20 degrees: the floor a broken eye alignment fails (upright faces hardly notice it).
"""

from pathlib import Path

import numpy as np
import pytest

from tests.data_tier.samples import DATA, FER2013, require

ROOT = Path(__file__).resolve().parents[2]
MODELS = {"float32": ROOT / "models" / "expression-compact.onnx"}
DEFAULT = {"float32": ROOT / "models" / "expression-faceres.onnx", "int8": ROOT / "models" / "expression-faceres.int8.onnx"}
FER2013_MODELS = {"fer2013-float32": ROOT / "models" / "expression-fer2013.onnx",
                  "fer2013-int8": ROOT / "models" / "expression-fer2013.int8.onnx"}
ALL_MODELS = {**MODELS, **FER2013_MODELS}
PEER = {"accuracy": 0.656, "macro_f1": 0.621}  # fer's emotion_model.hdf5 on PublicTest, original labels (issue 4)
LABELS7 = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
EXPW = DATA / "expw"
# Floors: (accuracy, macro-F1) a little (~0.01) under what each model measured, written here and not read from the
# sidecars (scripts/record_default_model.py rewrites those). Which split chose which model matters:
# * the compact model (float32, distilled): trained on FER2013 Training + ExpW train minus dev + group-photo faces,
#   checkpoint chosen on ExpW dev, so ExpW val and FER2013 PublicTest are both honest for it;
# * the FER2013-only models: checkpoint chosen on PublicTest, never saw ExpW: ExpW val is their honest split.
PUBLICTEST_FLOOR = {  # measured: fer2013 labels / FER+ majority labels (contempt left out)
    "float32": {"fer2013": (0.56, 0.445), "ferplus": (0.785, 0.63)},  # 0.5711 / 0.4583, 0.7957 / 0.6426
    "fer2013-float32": {"fer2013": (0.67, 0.65), "ferplus": (0.65, 0.57)},  # 0.6795 / 0.6617, 0.6601 / 0.5818
    "fer2013-int8": {"fer2013": (0.67, 0.65), "ferplus": (0.65, 0.58)},  # 0.6795 / 0.6597, 0.6664 / 0.5894
}
EXPW_FLOOR = {  # ExpW val through the runtime's detector and alignment (missed faces count as wrong)
    "float32": (0.42, 0.425),  # 0.4326 / 0.4368
    "fer2013-float32": (0.305, 0.275), "fer2013-int8": (0.305, 0.28),  # 0.3144 / 0.2860, 0.3186 / 0.2905
}
EXPW_TURNED_DEGREES = 20.0
EXPW_TURNED_FLOOR = (0.335, 0.38)  # the int8 default (face-pretrained) on ExpW val turned +-20 degrees: measured 0.3463 / 0.3930
RECALL_FLOOR = 0.25  # issue 9: every class's recall on ExpW val (the compact model's lowest, disgust, is 0.26)
FER2013_MODEL_ON_EXPW = 0.319  # the FER2013-only model's ExpW val accuracy (detect; int8 0.3186, float 0.3144)
NAMES = {path: name for name, path in ALL_MODELS.items()}


@pytest.fixture(scope="module", params=sorted(ALL_MODELS))
def classifier(request):
    from realtime_fer.core.classify import ExpressionClassifier

    return ExpressionClassifier(ALL_MODELS[request.param], provider="cpu")


def test_default_model_loads_with_its_sidecar(classifier):
    card = classifier.card
    assert classifier.labels == LABELS7
    assert classifier.input_size == (48, 48) and classifier.grayscale
    assert card.output_kind == "probabilities" and card.alignment == "eyes-level"
    if classifier.model_path in FER2013_MODELS.values():
        assert card.training["label_source"] == "fer2013" and "fer2013" in card.training["data"]
    else:
        assert "FER+" in card.training["label_source"] and "ExpW" in card.training["label_source"]
        assert {"fer2013", "expw"} <= set(card.training["data"])
    if "quantization" in card.training:
        assert "uint8 activations" in card.training["quantization"]
    else:
        assert card.metrics["parity_max_abs_diff"] <= 1e-4
    crops = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1), dtype=np.uint8)
    probs = classifier.predict(crops)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    mirrored = classifier.predict(np.ascontiguousarray(crops[:, :, ::-1]))
    assert "test_time" not in card.training  # no mirror averaging in these graphs
    assert np.abs(probs - mirrored).max() > 1e-3


@pytest.mark.data
@pytest.mark.parametrize("labels", ["fer2013", "ferplus"])
def test_recorded_publictest_figures_are_reproduced(classifier, labels):
    from train.evaluate import evaluate

    require(FER2013)
    recorded = classifier.card.metrics[f"val_publictest_{labels}"]
    # FER+ has 'contempt', which the seven-class model does not know: left out, as recorded
    result = evaluate(classifier.model_path, FER2013 / "val", labels=labels, batch_size=256, skip_unknown=labels == "ferplus")
    assert result["n"] == recorded["n"]
    assert result["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-6)
    assert result["macro_f1"] == pytest.approx(recorded["macro_f1"], abs=1e-6)
    assert result["excluded"] == recorded["excluded"]
    if labels == "fer2013":
        assert result["n"] == 3579  # the complete PublicTest split
    floor = PUBLICTEST_FLOOR[NAMES[classifier.model_path]][labels]
    assert result["accuracy"] >= floor[0] and result["macro_f1"] >= floor[1], (result["accuracy"], result["macro_f1"])
    if labels == "fer2013" and classifier.model_path in FER2013_MODELS.values():
        assert result["accuracy"] > PEER["accuracy"] and result["macro_f1"] > PEER["macro_f1"]


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(ALL_MODELS))
def test_recorded_expw_val_figures_are_reproduced_and_the_default_model_holds_its_floor(name):
    """ExpW val through the runtime's own detector + alignment: what a user's real faces get."""
    from train.evaluate import evaluate

    require(EXPW)
    from realtime_fer.core.model_card import load_card

    recorded = load_card(ALL_MODELS[name]).metrics["expw_val_detect"]
    result = evaluate(ALL_MODELS[name], EXPW, split="val", detect=True, batch_size=256)
    assert result["n"] == recorded["n"] == 2166 and result["no_face"] == recorded["no_face"]
    assert result["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-6)
    assert result["macro_f1"] == pytest.approx(recorded["macro_f1"], abs=1e-6)
    assert result["accuracy"] >= EXPW_FLOOR[name][0] and result["macro_f1"] >= EXPW_FLOOR[name][1]
    if name in MODELS:
        assert min(v["recall"] for v in result["per_class"].values()) >= RECALL_FLOOR
        assert result["accuracy"] > FER2013_MODEL_ON_EXPW + 0.08  # far from the FER2013 model's figure
    else:
        assert result["accuracy"] <= FER2013_MODEL_ON_EXPW + 0.001


@pytest.mark.data
def test_calm_faces_of_two_people_do_not_read_as_angry_or_sad():
    """The issue's first complaint: two calm faces read as sad 0.47 and angry 0.53 with the FER2013 model."""
    from scripts.score_sample_photos import IMAGES, score

    require(IMAGES)
    result = score(MODELS["float32"])
    assert len(result["calm"]["two_people.jpg"]["faces"]) == 2 and result["calm"]["two_people.jpg"]["ok"]


@pytest.mark.data
def test_detect_mode_on_sample_photos_counts_a_faceless_image_as_wrong(tmp_path):
    """Full photos through the runtime detector + alignment; the cartoon has no face."""
    import shutil

    from tests.data_tier.samples import SAMPLES
    from train.evaluate import evaluate

    images = require(SAMPLES) / "images"
    layout = {"happy": ["happy_black.jpg", "0-f15-hao-ph.jpg"], "sad": ["sad_asian.jpg"],
              "surprise": ["surprise_white.jpg", "0-f1-su-ph.jpg"], "angry": ["angry_black.jpg", "no-faces.jpg"]}
    for label, names in layout.items():
        (tmp_path / label).mkdir()
        for name in names:
            shutil.copy(images / name, tmp_path / label / name)
    result = evaluate(MODELS["float32"], tmp_path, detect=True)
    assert result["n"] == 7 and result["no_face"] == 1 and result["no_face_files"][0].endswith("no-faces.jpg")
    assert result["per_class"]["angry"]["support"] == 2


@pytest.mark.data
def test_int8_model_agrees_with_the_float_model_on_a_real_video():
    """Quantisation must not change what users see: same top label on >= 95 % of real faces (measured 99.2 %)."""
    import cv2

    from realtime_fer.core.align import align_faces
    from realtime_fer.core.classify import ExpressionClassifier
    from realtime_fer.core.detect import create_detector
    from tests.data_tier.samples import SAMPLES

    clip = require(SAMPLES) / "videos" / "WolfgangLanger_Pexels.mp4"
    models = [ExpressionClassifier(DEFAULT[name], provider="cpu") for name in ("float32", "int8")]
    detector, capture, probs = create_detector("blazeface", range="short"), cv2.VideoCapture(str(clip)), ([], [])
    try:
        for _ in range(200):
            ok, frame = capture.read()
            if not ok:
                break
            faces = detector.detect(frame)
            left, right = faces.eyes
            crops = align_faces(frame, faces.boxes, left, right, models[0].input_size, models[0].crop,
                                grayscale=models[0].grayscale)
            for model, out in zip(models, probs):
                out.append(model.predict(crops))
    finally:
        capture.release()
        detector.close()
    float_probs, int8_probs = np.concatenate(probs[0]), np.concatenate(probs[1])
    assert len(float_probs) >= 190  # one face in (almost) every frame
    assert (float_probs.argmax(1) == int8_probs.argmax(1)).mean() >= 0.95


def turned_expw_val(out: Path, degrees: float) -> Path:
    """A copy of ExpW val in ``out`` (same layout) with each photo padded by 30 % grey and turned about its
    labelled face, +``degrees`` and -``degrees`` alternately; the labelled box becomes the turned box's bounds."""
    import csv

    import cv2

    with open(EXPW / "labels.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["split"] == "val"]
    (out / "faces").mkdir(parents=True)
    for i, row in enumerate(rows):
        image = cv2.imread(str(EXPW / row["path"]))
        pad = int(0.3 * max(image.shape[:2]))
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(128, 128, 128))
        x1, y1, x2, y2 = (float(row[k]) + pad for k in ("box_x1", "box_y1", "box_x2", "box_y2"))
        turn = cv2.getRotationMatrix2D(((x1 + x2) / 2, (y1 + y2) / 2), degrees if i % 2 == 0 else -degrees, 1.0)
        turned = cv2.warpAffine(image, turn, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)
        corners = np.array([[x1, y1, 1], [x2, y1, 1], [x1, y2, 1], [x2, y2, 1]]) @ turn.T
        row.update(box_x1=corners[:, 0].min(), box_y1=corners[:, 1].min(), box_x2=corners[:, 0].max(),
                   box_y2=corners[:, 1].max(), width=turned.shape[1], height=turned.shape[0])
        cv2.imwrite(str(out / row["path"]), turned, [cv2.IMWRITE_JPEG_QUALITY, 95])
    with open(out / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


@pytest.mark.data
def test_the_default_model_holds_its_floor_on_expw_val_faces_turned_20_degrees(tmp_path):
    """Tilted heads through the runtime's detector and eye alignment. This is the floor a broken alignment fails
    (issue 20, bug B: no rotation inside the detector's box gives 0.2881 / 0.3244 here, while upright ExpW val
    moves by less than 0.001). Faces BlazeFace misses at this tilt count as wrong (measured: 564 of 2166)."""
    from train.evaluate import evaluate

    require(EXPW)
    result = evaluate(DEFAULT["int8"], turned_expw_val(tmp_path / "expw", EXPW_TURNED_DEGREES), split="val",
                      detect=True, batch_size=256)
    assert result["n"] == 2166
    accuracy, macro_f1 = EXPW_TURNED_FLOOR
    assert result["accuracy"] >= accuracy and result["macro_f1"] >= macro_f1, result
