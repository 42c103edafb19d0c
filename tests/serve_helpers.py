"""Helpers of the ``realtime-fer serve`` tests: what ``--camera`` and ``--image`` give for the same frames, and
comparing those with the server's replies."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


def require_serve_extra():
    """Skip, with the reason, when the ``serve`` extra is not installed; else the fastapi TestClient class."""
    for module in ("fastapi", "uvicorn", "httpx", "multipart"):
        pytest.importorskip(module, reason=f"the 'serve' extra is not installed (no {module}): "
                                           "pip install -e '.[serve]'")
    from fastapi.testclient import TestClient

    return TestClient


def camera_frames(path: Path, count: int):
    """The first ``count`` frames of a video as ``--camera PATH`` reads them (OpenCV, (H, W, 3) uint8 BGR)."""
    import cv2

    from realtime_fer.io.sources import to_bgr

    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(to_bgr(image))
    capture.release()
    return frames, fps


class _Frames:
    """A source of in-memory frames at ``index * 1000 / fps`` ms (what ``CameraSource`` stamps file frames with)."""

    end_reason = ""

    def __init__(self, frames, fps: float):
        self.items, self.fps = frames, fps

    def frames(self, stop=None):
        from realtime_fer.io.sources import SourceFrame

        for index, image in enumerate(self.items):
            yield SourceFrame(index, index * 1000.0 / self.fps, image.copy())

    def close(self):
        pass


def camera_reference(frames, fps: float) -> list[list[dict]]:
    """Per frame, the JSONL rows ``--camera`` writes for these frames when none is dropped: its recognizer
    (``open_recognizer(.., "camera")``) and live stage run by the engine's loop."""
    from realtime_fer.apps.engine.loop import Hooks, Sinks, run
    from realtime_fer.apps.engine.options import RecognizerOptions
    from realtime_fer.apps.engine.recognizer_setup import open_recognizer
    from realtime_fer.apps.serve.models import face_rows
    from realtime_fer.core.temporal import LIVE_DEFAULT, open_stage

    rows = []
    with open_recognizer(RecognizerOptions(), "camera") as recognizer:
        run(_Frames(frames, fps), recognizer, open_stage(LIVE_DEFAULT), Sinks(),
            hooks=Hooks(on_frame=lambda _f, result, _s: rows.append(face_rows(result))))
    return rows


def stream_replies(websocket, images, encode=".png") -> list[dict]:
    """Send each (H, W, 3) BGR image and wait for its reply (so none is dropped); the replies."""
    import cv2

    replies = []
    for image in images:
        websocket.send_bytes(cv2.imencode(encode, image)[1].tobytes())
        reply = websocket.receive_json()
        assert reply["type"] == "result", reply
        replies.append(reply)
    return replies


def image_csv_rows(path: Path) -> list[dict]:
    """The rows of ``realtime-fer --image PATH --csv OUT``, run in this process."""
    from realtime_fer.apps.cli.entry import main

    out = path.parent / f"{path.stem}-faces.csv"
    assert main(["--image", str(path), "--csv", str(out), "--overwrite"]) == 0
    with open(out, newline="") as handle:
        return list(csv.DictReader(handle))


def assert_rows_equal(api_rows: list[dict], csv_rows: list[dict]) -> None:
    """The JSON rows equal the CSV's, column by column (numbers to the CSV's rounding, ``file`` aside)."""
    assert len(api_rows) == len(csv_rows), (len(api_rows), len(csv_rows))
    for api, table in zip(api_rows, csv_rows):
        assert set(api) == set(table) - {"file"}, sorted(set(api) ^ (set(table) - {"file"}))
        for key, value in api.items():
            if isinstance(value, str) or value is None:
                assert (value or "") == table[key], (key, value, table[key])
            else:
                assert float(value) == pytest.approx(float(table[key]), abs=1e-9), (key, value, table[key])
