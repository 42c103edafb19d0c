"""``realtime-fer serve`` on the real samples: a photo analyzed over HTTP equals ``--image``'s CSV rows, and
the Pexels clip streamed over the WebSocket gets ``--camera``'s labels frame by frame (its live stage, no frame
dropped). Skips without ../shared/data or the ``serve`` extra."""

from __future__ import annotations

import shutil

import pytest

from tests.data_tier.samples import SAMPLES, require
from tests.serve_helpers import (assert_rows_equal, camera_frames, camera_reference, image_csv_rows,
                                 require_serve_extra, stream_replies)

pytestmark = pytest.mark.data
TestClient = require_serve_extra()


@pytest.fixture(scope="module")
def client():
    from realtime_fer.apps.serve import Recognizers, ServeOptions, create_app

    models = Recognizers.open()
    with TestClient(create_app(models, ServeOptions()), base_url="http://127.0.0.1") as client:
        yield client
    models.close()


@pytest.mark.parametrize("name", ["two_people.jpg", "multi_face.jpg"])
def test_analyze_of_a_sample_photo_equals_the_image_csv(client, name, tmp_path):
    shutil.copy(require(SAMPLES / "images" / name), tmp_path / name)
    expected = image_csv_rows(tmp_path / name)
    assert len(expected) >= 2
    reply = client.post("/v1/analyze", content=(tmp_path / name).read_bytes(), headers={"content-type": "image/jpeg"})
    assert reply.status_code == 200, reply.text
    assert_rows_equal(reply.json()["faces"], expected)


def test_the_pexels_clip_streamed_gets_the_camera_modes_labels(client):
    frames, fps = camera_frames(require(SAMPLES / "videos" / "WolfgangLanger_Pexels.mp4"), 240)
    expected = camera_reference(frames, fps)
    with client.websocket_connect(f"ws://127.0.0.1/v1/stream?fps={fps}") as ws:
        ws.receive_json()
        replies = stream_replies(ws, frames)  # PNG: the same pixels --camera decodes
    labels = [[f["label"] for f in r["faces"]] for r in replies]
    assert labels == [[row["label"] for row in rows] for rows in expected]
    # the video model (the camera's default) shows neutral, then sad over these frames
    assert sum(map(len, labels)) >= 230 and len({label for frame in labels for label in frame}) >= 2
    assert [[f["track_id"] for f in r["faces"]] for r in replies] == [[row["track_id"] for row in rows]
                                                                     for rows in expected]
