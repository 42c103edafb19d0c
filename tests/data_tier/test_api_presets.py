"""``Recognizer.for_photos()`` gives ``realtime-fer --image``'s faces and labels on a real group photo."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from realtime_fer import Recognizer
from realtime_fer.apps.cli.entry import main
from tests.data_tier.samples import SAMPLES, require


@pytest.mark.data
def test_for_photos_finds_the_faces_and_labels_of_image_mode(tmp_path):
    photo = require(SAMPLES / "images" / "multi_face.jpg")
    table = tmp_path / "faces.csv"
    assert main(["--image", str(photo), "--csv", str(table)]) == 0
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5  # the five people of the photo
    with Recognizer.for_photos() as recognizer:
        result = recognizer.process(cv2.imread(str(photo)))
        again = recognizer.process(cv2.imread(str(photo)))  # each call a photo on its own
    order = np.argsort(result.faces.boxes[:, 0])
    cli = sorted(rows, key=lambda row: float(row["x1"]))
    assert len(result.faces.boxes) == len(cli)
    for i, row in zip(order, cli):
        assert np.allclose(result.faces.boxes[i], [float(row[k]) for k in ("x1", "y1", "x2", "y2")], atol=0.51)
        assert result.labels[result.faces.label_ids[i]] == row["label"]
    assert np.array_equal(result.faces.boxes, again.faces.boxes) and list(again.faces.track_ids) == list(
        result.faces.track_ids)
