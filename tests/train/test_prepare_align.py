"""Eye alignment of the data set: MTCNN / BlazeFace eyes on a rotated real face, then the runtime's align_face.

Ground truth: the eyes the same detector finds on the upright ``skimage.data.astronaut()``,
moved by the known rotation. After alignment those true eyes must be level within the
tolerance stated below. The astronaut's face itself leans ~3-5 degrees, which is why the
truth comes from the upright image rather than from zero.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from realtime_fer.core.align import alignment_matrix, eye_angle_degrees, transform_points
from tests.images import astronaut_bgr
from train import eye_alignment
from train.prepare import Config, prepare

MTCNN_TOLERANCE_DEG = 4.5  # measured residual 0.6-3.8 deg for tilts of 12-28 deg (MTCNN keypoints are integers)
BLAZEFACE_TOLERANCE_DEG = 5.5  # BlazeFace's eye keypoints drift a few degrees on rotated faces (as in tests/test_align.py)
CROP = (slice(40, 260), slice(115, 335))  # a 220x220 face crop of the astronaut, like the paper's face crops


def rotated_crop(angle: float, side: int) -> tuple[np.ndarray, np.ndarray]:
    """(side x side BGR face crop of the astronaut rotated by ``angle`` degrees, 2x3 map from the upright image)."""
    image = astronaut_bgr()
    rotation = cv2.getRotationMatrix2D((225, 150), angle, 1.0)
    rotated = cv2.warpAffine(image, rotation, (512, 512), borderMode=cv2.BORDER_REPLICATE)
    crop = cv2.resize(rotated[CROP], (side, side), interpolation=cv2.INTER_AREA)
    to_crop = np.array([[1, 0, -CROP[1].start], [0, 1, -CROP[0].start]], float) * (side / 220)
    return crop, to_crop @ np.vstack([rotation, [0, 0, 1]])


def check_levelled(detector, angle: float, side: int, tolerance: float) -> None:
    upright = eye_alignment.detect_eyes(astronaut_bgr(), detector)
    crop, mapping = rotated_crop(angle, side)
    true_eyes = transform_points(mapping, upright)
    assert abs(eye_angle_degrees(*true_eyes)) > 9  # the input really is tilted
    eyes = eye_alignment.detect_eyes(crop, detector)
    assert eyes is not None
    # the data set's alignment: whole crop rotated about its centre (align_face with box=None)
    matrix = alignment_matrix(eyes[0], eyes[1], (side / 2, side / 2), side, (96, 96))
    aligned = transform_points(matrix, true_eyes)
    assert abs(eye_angle_degrees(*aligned)) < tolerance
    assert aligned[0, 0] < aligned[1, 0] and (aligned[:, 1] < 48).all()  # upright, eyes in the upper half


@pytest.fixture(scope="module")
def mtcnn():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mtcnn import MTCNN

    return ("mtcnn", MTCNN())


@pytest.fixture(scope="module")
def blazeface():
    from realtime_fer.core.detect import BlazeFaceDetector

    with BlazeFaceDetector("short") as detector:
        yield ("blazeface", detector)


@pytest.mark.slow
def test_mtcnn_left_eye_is_the_image_left_eye(mtcnn):
    face = mtcnn[1].detect_faces(cv2.cvtColor(astronaut_bgr(), cv2.COLOR_BGR2RGB))[0]
    assert face["keypoints"]["left_eye"][0] < face["keypoints"]["right_eye"][0]


@pytest.mark.slow
@pytest.mark.parametrize("side", [128, 48])  # the paper's crops and FER2013's (upscaled for detection)
@pytest.mark.parametrize("angle", [-25.0, -15.0, 15.0, 25.0])
def test_mtcnn_alignment_levels_a_rotated_real_face(mtcnn, angle, side):
    check_levelled(mtcnn, angle, side, MTCNN_TOLERANCE_DEG)


@pytest.mark.parametrize("angle", [-20.0, 20.0])
def test_blazeface_alignment_levels_a_rotated_real_face(blazeface, angle):
    check_levelled(blazeface, angle, 128, BLAZEFACE_TOLERANCE_DEG)


class FakeMtcnn:
    """Returns fixed keypoints (right/left swapped on purpose) in the pixels of the frame it is given."""

    def __init__(self):
        self.seen = []

    def detect_faces(self, rgb):
        if isinstance(rgb, list):  # MTCNN 1.0 batch call: one answer list per image
            return [self.detect_faces(one) for one in rgb]
        self.seen.append(rgb.shape)
        s = rgb.shape[0] / 48
        return [{"confidence": 0.2, "keypoints": {"left_eye": (1, 1), "right_eye": (2, 2)}},
                {"confidence": 0.9, "keypoints": {"left_eye": (30 * s, 20 * s), "right_eye": (15 * s, 17 * s)}}]


def test_small_images_are_upscaled_for_detection_and_keypoints_mapped_back():
    fake = FakeMtcnn()
    eyes = eye_alignment.detect_eyes(np.zeros((48, 48, 3), np.uint8), ("mtcnn", fake), min_side=160)
    assert fake.seen == [(160, 160, 3)]
    assert np.allclose(eyes, [(15, 17), (30, 20)])  # most confident face, image-left eye first, in 48 px units
    fake.seen.clear()
    eye_alignment.detect_eyes(np.zeros((200, 300, 3), np.uint8), ("mtcnn", fake), min_side=160)
    assert fake.seen == [(200, 300, 3)]  # large enough: not resized


def test_batched_mtcnn_call_groups_frames_by_shape():
    fake = FakeMtcnn()
    images = [np.zeros((48, 48, 3), np.uint8), np.zeros((200, 300, 3), np.uint8), np.zeros((48, 48, 3), np.uint8)]
    eyes = eye_alignment.detect_eyes_batch(images, ("mtcnn", fake), min_side=160)
    assert sorted(fake.seen) == [(160, 160, 3), (160, 160, 3), (200, 300, 3)]
    assert np.allclose(eyes[0], [(15, 17), (30, 20)]) and np.allclose(eyes[2], eyes[0])
    assert np.allclose(eyes[1], [(15 * 200 / 48, 17 * 200 / 48), (30 * 200 / 48, 20 * 200 / 48)])


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.slow
def test_align_chunk_levels_rotated_faces_with_the_real_mtcnn_and_leaves_the_rest(tmp_path, monkeypatch, mtcnn):
    """The data set's aligner (the worker of ``align_images``) with the real MTCNN: the astronaut's face crop
    turned by +-20 degrees comes out as the upright crop does (eyes levelled about the same centre; measured
    correlation 0.94-0.99, against 0.46-0.56 for the turned crop left as it is), a flat image comes out as None."""
    names = {"turned": 20.0, "back": -20.0, "upright": 0.0}
    for name, angle in names.items():
        cv2.imwrite(str(tmp_path / f"{name}.png"), rotated_crop(angle, 128)[0])
    cv2.imwrite(str(tmp_path / "flat.png"), np.full((128, 128, 3), 128, np.uint8))
    monkeypatch.setattr(eye_alignment, "_DETECTOR", mtcnn)
    out = eye_alignment._align_chunk([str(tmp_path / f"{n}.png") for n in (*names, "flat")], "gray", (48, 48), 160)
    assert out[-1] == (None, None)
    aligned = {name: face for name, (face, _eyes) in zip(names, out)}
    assert all(face.shape == (48, 48, 1) and face.dtype == np.uint8 for face in aligned.values())
    for name in ("turned", "back"):
        as_is = cv2.cvtColor(cv2.resize(rotated_crop(names[name], 128)[0], (48, 48), interpolation=cv2.INTER_AREA),
                             cv2.COLOR_BGR2GRAY)
        assert correlation(as_is, aligned["upright"]) < 0.7  # the turn is visible in the input
        assert correlation(aligned[name], aligned["upright"]) > 0.85, name  # and gone from the output


def test_prepare_with_blazeface_counts_aligned_and_unaligned(tmp_path):
    """End to end through the process pool: astronaut crops align, noise images do not (Table 3)."""
    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    for name in ("face", "noise"):
        (data / name).mkdir(parents=True)
        for i in range(5):
            image = rotated_crop(4.0 * i - 8, 128)[0] if name == "face" else rng.integers(0, 256, (128, 128, 3), np.uint8)
            cv2.imwrite(str(data / name / f"{i}.png"), image)
    result = prepare(Config(data=data, out=tmp_path / "out", align="blazeface", size=32, augment="none",
                            figures=False, workers=1))
    pc = result.report["per_class"]
    face = pc["face"]["alignment"]
    noise = pc["noise"]["alignment"]
    assert face["train"]["aligned"] + face["val"]["aligned"] == 5
    assert noise["train"]["aligned"] + noise["val"]["aligned"] == 0
    assert noise["train"]["not_aligned"] + noise["val"]["not_aligned"] == 5
    assert result.report["alignment"]["method"] == "blazeface"
