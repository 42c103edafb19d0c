import cv2
import numpy as np
import pytest

from realtime_fer.core.align import (CropSpec, align_face, align_faces, alignment_matrix, crop_square, eye_angle_degrees,
                                transform_points)
from realtime_fer.core.detect import BlazeFaceDetector
from tests.images import astronaut_bgr

EYE_TOLERANCE_DEG = 5.5  # BlazeFace eye keypoints drift a few pixels on rotated faces (see the test)


def test_matrix_levels_the_eyes_and_keeps_their_distance_ratio():
    left, right = np.array([100.0, 120.0]), np.array([160.0, 90.0])
    matrix = alignment_matrix(left, right, center=(130, 130), side=200, out_size=(100, 100))
    out = transform_points(matrix, [left, right])
    assert abs(out[0, 1] - out[1, 1]) < 1e-6
    assert out[0, 0] < out[1, 0]
    assert np.hypot(*(out[1] - out[0])) == pytest.approx(np.hypot(60, 30) * 100 / 200)


def test_crop_centre_maps_to_output_centre():
    matrix = alignment_matrix((10, 50), (90, 50), center=(50, 60), side=100, out_size=(48, 48))
    assert transform_points(matrix, [(50, 60)])[0] == pytest.approx([24, 24])


def test_crop_spec_shift_and_scale_move_the_window():
    image = np.zeros((200, 200), np.uint8)
    image[95:105, 95:105] = 255  # a white square at the centre of the box below
    box = (50, 50, 150, 150)
    plain = align_face(image, (80, 90), (120, 90), box, (50, 50), CropSpec(scale=1.0))
    shifted = align_face(image, (80, 90), (120, 90), box, (50, 50), CropSpec(scale=1.0, shift_y=-0.2))
    ys_plain = np.nonzero(plain > 128)[0].mean()
    ys_shift = np.nonzero(shifted > 128)[0].mean()
    assert ys_plain == pytest.approx(24.5, abs=1)
    assert ys_shift == pytest.approx(24.5 + 10, abs=1)  # window moved up 20 px = 10 output px


@pytest.mark.parametrize("angle", [-20.0, -10.0, 10.0, 20.0])
def test_rotated_real_face_comes_out_level(angle):
    """Rotate the astronaut by a known angle, align with BlazeFace's eyes, and check where the
    TRUE eyes (found on the upright image, moved by the known rotation) land: level within
    EYE_TOLERANCE_DEG. BlazeFace's eye keypoints drift on strongly rotated faces (measured:
    residual 2.5-5 deg at +-20 deg, 7-9 deg at +-30 deg), hence the range tested here."""
    image = astronaut_bgr()
    rotation = cv2.getRotationMatrix2D((256, 256), angle, 1.0)
    rotated = cv2.warpAffine(image, rotation, (512, 512), borderMode=cv2.BORDER_REPLICATE)
    with BlazeFaceDetector("short") as detector:
        upright = detector.detect(image)
        faces = detector.detect(rotated)
    assert len(upright) == 1 and len(faces) == 1
    true_eyes = transform_points(rotation, [upright.eyes[0][0], upright.eyes[1][0]])
    assert abs(eye_angle_degrees(*true_eyes)) > 4  # the input really is tilted (the face itself leans ~5 deg)
    center, side = crop_square(faces.boxes[0], CropSpec())
    matrix = alignment_matrix(faces.eyes[0][0], faces.eyes[1][0], center, side, (96, 96))
    aligned_eyes = transform_points(matrix, true_eyes)
    assert abs(eye_angle_degrees(*aligned_eyes)) < EYE_TOLERANCE_DEG
    assert aligned_eyes[0, 0] < aligned_eyes[1, 0] and (aligned_eyes[:, 1] < 48).all()  # upright, eyes in upper half


def test_whole_image_mode_rotates_in_place_like_the_paper():
    """box=None: the whole 128 px crop is rotated and resized; two marked eyes come out level."""
    image = np.zeros((128, 128, 3), np.uint8)
    left, right = (40, 50), (90, 62)
    cv2.circle(image, left, 3, (255, 255, 255), -1)
    cv2.circle(image, right, 3, (0, 0, 255), -1)
    out = align_face(image, left, right, None, (96, 96))
    assert out.shape == (96, 96, 3) and out.dtype == np.uint8
    white = np.argwhere((out[:, :, 0] > 128) & (out[:, :, 2] > 128)).mean(axis=0)
    red = np.argwhere((out[:, :, 2] > 128) & (out[:, :, 0] < 100)).mean(axis=0)
    assert abs(white[0] - red[0]) < 1.0 and white[1] < red[1]  # same row, left eye still on the left


def test_align_faces_batches_grey_and_colour():
    image = astronaut_bgr()
    boxes = np.array([[177, 82, 272, 177], [0, 0, 100, 100]], np.float32)
    left = np.array([[201, 105], [30, 40]], np.float32)
    right = np.array([[246, 109], [70, 40]], np.float32)
    grey = align_faces(image, boxes, left, right, (48, 48), grayscale=True)
    colour = align_faces(image, boxes, left, right, (64, 32))
    assert grey.shape == (2, 48, 48, 1) and colour.shape == (2, 32, 64, 3)
    assert not np.array_equal(grey[0], grey[1])
    expected = cv2.cvtColor(colour[0], cv2.COLOR_BGR2GRAY)
    assert align_faces(image, boxes[:1], left[:1], right[:1], (64, 32), grayscale=True)[0, :, :, 0] == pytest.approx(expected, abs=1)
    assert align_faces(image, boxes[:0], left[:0], right[:0], (48, 48)).shape == (0, 48, 48, 3)


def test_the_recognizers_crop_of_a_rotated_face_equals_the_upright_crop(tmp_path):
    """The path the app runs (``Recognizer.process``: detector box and eyes -> ``align_faces`` -> model), with a
    real ONNX model that matches its crop against three templates: the crop of the upright astronaut, and that
    crop turned by +20 and -20 degrees, and a fourth class that wins when no template correlates above 0.6. A face
    rotated by +-20 degrees in the frame must give the upright crop (eyes levelled inside the detector's box;
    measured correlation 0.75-0.85), not a turned one (0.35 with the upright template) nor an upside-down one (0.2)."""
    from realtime_fer import Recognizer
    from realtime_fer.core.align import CropSpec
    from tests.tiny_model import write_tiny_model

    image = astronaut_bgr()

    def rotated(angle: float) -> np.ndarray:
        turn = cv2.getRotationMatrix2D((224, 130), angle, 1.0)  # about the face
        return cv2.warpAffine(image, turn, (512, 512), borderMode=cv2.BORDER_REPLICATE)

    with BlazeFaceDetector("full") as detector:
        upright = detector.detect(image)
    assert len(upright) == 1
    left, right = upright.keypoints[:, 0], upright.keypoints[:, 1]  # the detector's documented order
    assert left[0, 0] < right[0, 0]  # image-left eye first
    crop = align_faces(image, upright.boxes, left, right, (48, 48), CropSpec(), grayscale=True)[0, :, :, 0]
    crop = crop.astype(np.float32) / 255.0

    def template(angle: float) -> np.ndarray:
        turned = cv2.warpAffine(crop, cv2.getRotationMatrix2D((23.5, 23.5), angle, 1.0), (48, 48),
                                borderMode=cv2.BORDER_REPLICATE)
        turned = turned - turned.mean()
        return (turned / np.linalg.norm(turned)).ravel()

    angles = (0.0, 20.0, -20.0)  # classes 0, 1, 2 of the model; class 3: none of them; 4-6 never win
    weights = np.zeros((48 * 48, 7), np.float32)
    for k, angle in enumerate(angles):
        weights[:, k] = 50.0 * template(angle)  # logit = 50 * correlation with the template (zero-mean: no DC)
    bias = np.array([0, 0, 0, 50.0 * 0.6, -1e3, -1e3, -1e3], np.float32)
    model = write_tiny_model(tmp_path, weights=weights, bias=bias)
    with Recognizer(model, provider="cpu") as recognizer:
        for angle in (20.0, -20.0, 0.0):
            recognizer.reset()
            faces = recognizer.process(rotated(angle)).faces
            assert len(faces) == 1
            logits = np.log(np.maximum(faces.raw_probs[0, :4], 1e-30)) / 50.0  # correlation minus the best one's
            best = int(logits.argmax())
            assert best == 0, f"the crop of a face rotated by {angle} deg matches " + \
                (f"the template turned by {angles[best]} deg" if best < 3 else "no template") + \
                f" (correlations minus the best one: {logits[:3]}, threshold {logits[3]})"
