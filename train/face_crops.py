"""Face crops made the way the runtime makes them: a full image -> BlazeFace -> eye-levelled crop.

Training on crops from the runtime's own detector and alignment (``realtime_fer.core.detect`` +
``realtime_fer.core.align``, the sidecar's crop) makes training faces framed like the faces the
runtime feeds the model, and evaluating through it (``train.evaluate --detect``) measures what a
user gets.  Used by ``train.evaluate`` and ``train.mix``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: A detection is the labelled face when its IoU with the given box is at least this.
MIN_TARGET_IOU = 0.3


class CropError(Exception):
    """An unreadable image; the message is one line (expected / got / what to do)."""


def locate_face(detector, path: Path, target_box=None):
    """The face of ``path`` the runtime's detector finds: ``(frame, box, left_eye, right_eye)`` or None.

    Args:
        detector: a ``realtime_fer.core.detect`` detector.
        target_box: optional (4,) xyxy pixels of the labelled face: the detection that overlaps it most
            (IoU >= MIN_TARGET_IOU) is used, and None is returned if none does. Without it, the most
            confident detection is used.
    Returns:
        frame (H, W, 3) uint8 BGR; box (4,) float32 xyxy and eyes (2,) float32 (x, y) in its pixels.
    Raises:
        CropError: the file is not a readable image.
    """
    import cv2

    from realtime_fer.core.track import iou_matrix

    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None:
        raise CropError(f"image {path}: expected a readable image file, got unreadable bytes; remove or replace it")
    faces = detector.detect(frame)
    if len(faces.boxes) == 0:
        return None
    if target_box is None:
        best = int(np.argmax(faces.scores))
    else:
        overlap = iou_matrix(np.asarray(target_box, np.float32).reshape(1, 4), faces.boxes)[0]
        best = int(np.argmax(overlap))
        if overlap[best] < MIN_TARGET_IOU:
            return None
    return frame, faces.boxes[best], faces.eyes[0][best], faces.eyes[1][best]


class DetectCropper:
    """Full image -> one aligned face crop, or None when the face is not found.

    Args:
        input_size: (width, height) of the crop.
        crop: ``realtime_fer.core.align.CropSpec`` (the model sidecar's crop).
        grayscale: grey crops (BT.601 luma) instead of BGR.
        rgb: return colour crops in RGB order instead of BGR (ignored for grey).
    """

    def __init__(self, input_size: tuple[int, int], crop, grayscale: bool, rgb: bool = False,
                 detector: str = "blazeface", range: str = "auto"):
        from realtime_fer.core.detect import create_detector

        self.input_size, self.crop, self.grayscale, self.rgb = tuple(input_size), crop, grayscale, rgb
        self.detector = create_detector(detector, range=range)

    @classmethod
    def for_classifier(cls, classifier) -> "DetectCropper":
        """A cropper with an ``ExpressionClassifier``'s input size, crop and colour."""
        return cls(classifier.input_size, classifier.crop, classifier.grayscale,
                   rgb=classifier.card.input.color == "rgb")

    def __call__(self, path: Path, target_box=None) -> np.ndarray | None:
        """(H, W, C) uint8 crop of the face in ``path`` (the face :func:`locate_face` picks), or None.

        Raises:
            CropError: the file is not a readable image.
        """
        from realtime_fer.core.align import align_faces

        found = locate_face(self.detector, path, target_box)
        if found is None:
            return None
        frame, box, left, right = found
        crops = align_faces(frame, box[None], left[None], right[None], self.input_size, self.crop,
                            grayscale=self.grayscale)
        return crops[0][..., ::-1] if (self.rgb and not self.grayscale) else crops[0]

    def close(self) -> None:
        self.detector.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
