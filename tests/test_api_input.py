"""The Python API refuses bad frames with the package's own one-line error, and keeps the native libraries'
log lines off stderr unless they are asked for."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from realtime_fer import InputError, Recognizer
from tests.conftest import REPO


@pytest.fixture(scope="module")
def recognizer(tiny_model):
    with Recognizer(tiny_model, provider="cpu", detector_range="short") as recognizer:
        yield recognizer


@pytest.mark.parametrize("frame, says", [
    (None, "cv2.imread returns None"),
    ("photo.jpg", "numpy array"),
    (np.zeros((8, 8, 3), np.float32), "uint8"),
    (np.zeros((0, 0, 3), np.uint8), "pixels"),
    (np.zeros((8, 8, 2), np.uint8), "shape"),
])
def test_bad_frames_raise_input_error_naming_what_was_expected(recognizer, frame, says):
    with pytest.raises(InputError, match="frame: expected") as raised:
        recognizer.process(frame)
    assert says in str(raised.value) and "\n" not in str(raised.value)


CODE = """
from realtime_fer import Recognizer
from tests.images import astronaut_bgr
with Recognizer(detector_range="short") as recognizer:
    faces = recognizer.process(astronaut_bgr()).faces
print(len(faces))
"""


@pytest.mark.slow
@pytest.mark.parametrize("asked", [False, True])
def test_native_log_lines_stay_off_stderr_unless_asked_for(asked):
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    if asked:
        env["REALTIME_FER_NATIVE_LOGS"] = "1"
    done = subprocess.run([sys.executable, "-c", CODE], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1"
    if asked:
        assert "LiteRT" in done.stderr or "XNNPACK" in done.stderr  # what the default hides
    else:
        assert done.stderr == ""
