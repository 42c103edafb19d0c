"""train.distil: the student's targets and the teacher's mirror-averaged probabilities (a real ONNX session)."""

import numpy as np
import pytest

from train.distil import distil_targets, fer_as_teacher_input, teacher_probs


def test_targets_mix_the_human_label_and_the_teacher_and_stay_distributions():
    human = np.eye(7, dtype=np.float32)[[3, 4]]
    teacher = np.full((2, 7), 1 / 7, np.float32)
    mixed = distil_targets(human, teacher, 0.5)
    np.testing.assert_allclose(mixed.sum(1), 1.0, atol=1e-6)
    assert mixed[0, 3] == pytest.approx(0.5 + 0.5 / 7) and mixed[1, 4] == pytest.approx(0.5 + 0.5 / 7)
    np.testing.assert_allclose(distil_targets(human, teacher, 0.0), teacher, atol=1e-6)
    np.testing.assert_allclose(distil_targets(human, teacher, 1.0), human, atol=1e-6)
    with pytest.raises(ValueError, match="one shape"):
        distil_targets(human, teacher[:1], 0.5)


def test_fer_faces_are_resized_and_repeated_to_three_channels_for_the_teacher():
    fer = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1), dtype=np.uint8)
    out = fer_as_teacher_input(fer, 160)
    assert out.shape == (3, 160, 160, 3) and out.dtype == np.uint8
    assert np.array_equal(out[..., 0], out[..., 2])
    assert abs(float(out.mean()) - float(fer.mean())) < 2.0


def test_teacher_probabilities_average_each_face_with_its_mirror(tmp_path):
    from realtime_fer.core.classify import ExpressionClassifier
    from tests.tiny_model import write_tiny_model

    teacher = ExpressionClassifier(write_tiny_model(tmp_path), provider="cpu")
    crops = np.random.default_rng(1).integers(0, 256, (70, 48, 48, 1), dtype=np.uint8)
    probs = teacher_probs(teacher, crops, batch=32)
    mirrored = teacher_probs(teacher, np.ascontiguousarray(crops[:, :, ::-1]), batch=32)
    single = teacher.predict(crops)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probs, mirrored, atol=1e-6)
    assert np.abs(probs - single).max() > 1e-4  # the tiny model is not mirror-symmetric by itself


def test_arrays_are_saved_shuffled_together_and_images_scaled_to_unit_floats(tmp_path):
    from train.distil import save_arrays

    x = np.arange(5, dtype=np.uint8).reshape(5, 1, 1, 1) * 50
    y = np.eye(5, dtype=np.float32)
    save_arrays(tmp_path, {"train_x": x, "train_y": y, "train_source": np.arange(5, dtype=np.int8)},
                {"val_x": x[:2], "val_y": y[:2]})
    tx, ty, ts = (np.load(tmp_path / f"train_{n}.npy") for n in ("x", "y", "source"))
    assert tx.dtype == np.float32 and tx.max() <= 1.0 and ts.dtype == np.int8
    order = ts.astype(int)
    assert sorted(order) == list(range(5)) and list(order) != list(range(5))  # shuffled, one order for all
    np.testing.assert_allclose(tx[:, 0, 0, 0], order * 50 / 255, atol=1e-6)
    assert (ty.argmax(1) == order).all()
    np.testing.assert_allclose(np.load(tmp_path / "val_x.npy")[:, 0, 0, 0], [0, 50 / 255], atol=1e-6)
