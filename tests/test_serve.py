"""``realtime-fer serve``: routes and the stream through Starlette's test client with the shipped models, the
limits and the token, a real uvicorn server shut down with a stream open, and the command line's exit codes.

Skips, with the reason, when the ``serve`` extra (FastAPI, uvicorn, httpx, python-multipart) is not installed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from tests.serve_helpers import (assert_rows_equal, camera_reference, image_csv_rows, require_serve_extra,
                                 stream_replies)

TestClient = require_serve_extra()

TOKEN = "test-token-1234"


@pytest.fixture(scope="module")
def models():
    from realtime_fer.apps.serve import Recognizers

    models = Recognizers.open()
    yield models
    models.close()


def make_client(models, **limits):
    from realtime_fer.apps.serve import ServeOptions, create_app

    return TestClient(create_app(models, ServeOptions(**limits)), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def client(models):
    with make_client(models) as client:
        yield client


def png(image) -> bytes:
    import cv2

    return cv2.imencode(".png", image)[1].tobytes()


def test_analyze_equals_the_image_modes_csv_row(client, astronaut, tmp_path):
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(png(astronaut))
    expected = image_csv_rows(photo)
    assert len(expected) == 1 and expected[0]["label"]
    raw = client.post("/v1/analyze", content=photo.read_bytes(), headers={"content-type": "image/png"})
    form = client.post("/v1/analyze", files={"file": ("x.png", photo.read_bytes(), "image/png")})
    for reply in (raw, form):
        assert reply.status_code == 200, reply.text
        assert reply.json()["width"] == 512
        assert_rows_equal(reply.json()["faces"], expected)


def test_stream_gives_the_camera_modes_rows_frame_by_frame(client, face_video):
    from tests.serve_helpers import camera_frames

    frames, fps = camera_frames(face_video, 24)
    expected = camera_reference(frames, fps)
    assert len(frames) == 24 and len(expected) == len(frames)  # a short reference must not pass the zip below
    with client.websocket_connect(f"ws://127.0.0.1/v1/stream?fps={fps}") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["labels"] and hello["fps"] == fps
        ws.send_text(json.dumps({"op": "ping"}))  # a command takes a seq, not a frame's place in time
        assert ws.receive_json() == {"type": "pong", "seq": 0}
        replies = stream_replies(ws, frames)
    assert [r["seq"] for r in replies] == list(range(1, len(frames) + 1))
    assert [r["time_ms"] for r in replies] == [round(i * 1000.0 / fps, 3) for i in range(len(frames))]
    assert all(r["dropped"] == 0 for r in replies)
    assert sum(len(rows) for rows in expected) >= 20  # the face is shown from the 3rd frame on
    for reply, rows in zip(replies, expected):
        assert [f["label"] for f in reply["faces"]] == [r["label"] for r in rows]
        assert [f["track_id"] for f in reply["faces"]] == [r["track_id"] for r in rows]
        for face, row in zip(reply["faces"], rows):
            assert face == pytest.approx(row, abs=2e-4)


def test_each_stream_has_its_own_tracks_but_shares_the_sessions(models):
    first, second = models.new_stream(), models.new_stream()
    assert first.recognizer.classifier is models.stream.classifier is second.recognizer.classifier
    assert first.recognizer.detector is models.stream.detector
    assert models.stream.discovery_detector is not None  # the camera defaults run discovery passes
    assert first.recognizer.discovery_detector is models.stream.discovery_detector
    assert first.recognizer.tracker is not second.recognizer.tracker and first.stage is not second.stage


def test_newest_frame_wins_and_drops_are_counted(client, astronaut):
    data = png(astronaut)
    with client.websocket_connect("ws://127.0.0.1/v1/stream") as ws:
        ws.receive_json()
        for _ in range(30):  # far faster than frames are recognized
            ws.send_bytes(data)
        ws.send_text(json.dumps({"op": "ping"}))
        replies = []
        while True:
            message = ws.receive_json()
            if message["type"] == "pong":
                break
            replies.append(message)
        while len(replies) < 2 or replies[-1]["seq"] != 29:
            replies.append(ws.receive_json())
    results = [r for r in replies if r["type"] == "result"]
    assert results[-1]["seq"] == 29  # the newest frame is always recognized
    assert sum(r["dropped"] for r in results) == 30 - len(results) > 0
    assert results[-1]["dropped_total"] == 30 - len(results)


def test_bad_messages_get_errors_and_the_stream_goes_on(client, astronaut):
    import cv2

    good = png(astronaut)
    rng = np.random.default_rng(0)
    jpeg = cv2.imencode(".jpg", astronaut)[1].tobytes()
    sof = jpeg.index(b"\xff\xc0")
    headers_only = jpeg[:sof + 2 + int.from_bytes(jpeg[sof + 2:sof + 4], "big")] + b"\xff\xd9"  # passes the header
    bad = [rng.bytes(200), good[: len(good) // 2], b"\xff\xd8\xff" + rng.bytes(50), b"", headers_only]
    with client.websocket_connect("ws://127.0.0.1/v1/stream") as ws:
        ws.receive_json()
        for round_ in range(40):
            ws.send_bytes(bad[round_ % len(bad)])
            reply = ws.receive_json()
            assert reply["type"] == "error" and reply["seq"] == 2 * round_ + (round_ + 9) // 10, reply
            ws.send_text("not json" if round_ % 2 else '{"op": "explode"}')
            assert ws.receive_json()["error"] == "wrong_message_type"
            if round_ % 10 == 0:
                ws.send_bytes(good)
                assert ws.receive_json()["type"] == "result"
    assert client.get("/healthz").json()["status"] == "ok"


def test_info_names_the_models_with_their_sha256(client):
    from realtime_fer.core.model_card import file_sha256

    info = client.get("/v1/info").json()
    assert info["version"] and info["provider"] and info["limits"]["max_streams"] == 4
    stream_model = info["stream"]["models"][0]
    assert stream_model["sha256"] == file_sha256(client.app.state.models.stream.classifier.model_path)
    assert info["still"]["detector"] == "centerface" and info["stream"]["detector"] == "blazeface"
    assert info["stream"]["discovery"] and "centerface.onnx" in {m["file"] for m in info["stream"]["models"]}
    assert stream_model["file"] == "expression-compact-talking.onnx"  # the video model, as --camera
    assert client.get("/openapi.json").json()["paths"]["/v1/analyze"]["post"]
    assert "/v1/analyze" in client.get("/docs").text


def test_page_and_its_files_are_served_from_the_package_only(client):
    page = client.get("/")
    assert page.status_code == 200 and "static/app.js" in page.text and "http" not in page.text.split("<body>")[1]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "getUserMedia" in client.get("/static/app.js").text
    for name in ("..%2F__init__.py", "index.html", "%2Fetc%2Fpasswd"):
        assert client.get(f"/static/{name}").status_code == 404


def test_without_the_token_every_route_answers_401(models, astronaut):
    from starlette.testclient import WebSocketDenialResponse

    with make_client(models, token=TOKEN) as client:
        for path in ("/", "/static/app.js", "/healthz", "/v1/info", "/openapi.json", "/docs"):
            assert client.get(path).status_code == 401, path
            assert client.get(path, headers={"Authorization": "Bearer wrong-token-99"}).status_code == 401
            assert client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200, path
        assert client.post("/v1/analyze", content=png(astronaut)).status_code == 401
        assert client.post(f"/v1/analyze?token={TOKEN}", content=png(astronaut)).status_code == 200
        with pytest.raises(WebSocketDenialResponse) as refused:
            with client.websocket_connect("ws://127.0.0.1/v1/stream"):
                pass
        assert refused.value.status_code == 401
        with client.websocket_connect(f"ws://127.0.0.1/v1/stream?token={TOKEN}") as ws:
            assert ws.receive_json()["type"] == "hello"
        assert f"static/app.js?token={TOKEN}" in client.get(f"/?token={TOKEN}").text


def test_another_origin_is_refused_unless_allowed(models):
    from starlette.testclient import WebSocketDenialResponse

    evil, good = {"Origin": "http://evil.example"}, {"Origin": "http://app.example"}
    with make_client(models, origins=("http://app.example",)) as client:
        with pytest.raises(WebSocketDenialResponse) as refused:
            with client.websocket_connect("ws://127.0.0.1/v1/stream", headers=evil):
                pass
        assert refused.value.status_code == 403
        reply = client.get("/v1/info", headers=evil)
        assert reply.status_code == 403 and "access-control-allow-origin" not in reply.headers
        with client.websocket_connect("ws://127.0.0.1/v1/stream", headers=good) as ws:
            assert ws.receive_json()["type"] == "hello"
        with client.websocket_connect("ws://127.0.0.1/v1/stream", headers={"Origin": "http://127.0.0.1"}) as ws:
            assert ws.receive_json()["type"] == "hello"  # its own page
        assert client.get("/v1/info", headers=good).headers["access-control-allow-origin"] == "http://app.example"
        preflight = client.options("/v1/analyze", headers={**good, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200
    with make_client(models) as client:  # no origins named: CORS off
        assert "access-control-allow-origin" not in client.get("/v1/info", headers=good).headers
        assert client.get("/v1/info", headers=good).status_code == 403


def test_a_loopback_server_answers_only_requests_addressed_to_it(models):
    """A page whose name resolves to 127.0.0.1 (DNS rebinding) is its own origin, but not this server's host."""
    from starlette.testclient import WebSocketDenialResponse

    rebound = {"Host": "evil.example:8000", "Origin": "http://evil.example:8000"}
    with make_client(models) as client:
        refused = client.get("/v1/info", headers=rebound)
        assert refused.status_code == 403 and refused.json()["error"] == "host_not_allowed"
        with pytest.raises(WebSocketDenialResponse) as denied:
            with client.websocket_connect("ws://evil.example:8000/v1/stream", headers=rebound):
                pass
        assert denied.value.status_code == 403
        for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
            assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
    with make_client(models, origins=("https://fer.example",)) as client:  # behind a proxy passing Host through
        assert client.get("/v1/info", headers={"Host": "fer.example"}).status_code == 200
    with make_client(models, host="0.0.0.0") as client:  # listening for other machines: any name
        assert client.get("/healthz", headers={"Host": "192.0.2.7:8000"}).status_code == 200


def test_oversize_images_get_413(models):
    big = np.random.default_rng(1).integers(0, 255, (200, 200, 3), np.uint8)
    with make_client(models, max_bytes=20_000, max_pixels=100 * 100) as client:
        too_many_bytes = client.post("/v1/analyze", content=png(big))
        assert too_many_bytes.status_code == 413 and too_many_bytes.json()["error"] == "too_large"
        chunked = client.post("/v1/analyze", content=iter([png(big)[:15_000], png(big)[15_000:]]))
        assert "content-length" not in chunked.request.headers  # counted while it arrives
        assert chunked.status_code == 413 and chunked.json()["error"] == "too_large"
        assert "got more" in chunked.json()["message"]
        too_many_pixels = client.post("/v1/analyze", content=png(np.zeros((200, 200, 3), np.uint8)))
        assert too_many_pixels.status_code == 413 and too_many_pixels.json()["error"] == "too_many_pixels"
        assert client.post("/v1/analyze", content=b"GIF89a....").status_code == 415
        with client.websocket_connect("ws://127.0.0.1/v1/stream") as ws:
            ws.receive_json()
            ws.send_bytes(png(big))
            assert ws.receive_json()["error"] == "too_large"
            ws.send_bytes(png(np.zeros((200, 200, 3), np.uint8)))
            assert ws.receive_json()["error"] == "too_many_pixels"


def test_streams_beyond_the_cap_get_503(models):
    from starlette.testclient import WebSocketDenialResponse

    with make_client(models, max_streams=2) as client:
        with client.websocket_connect("ws://127.0.0.1/v1/stream") as one, client.websocket_connect("ws://127.0.0.1/v1/stream") as two:
            one.receive_json(), two.receive_json()
            with pytest.raises(WebSocketDenialResponse) as refused:
                with client.websocket_connect("ws://127.0.0.1/v1/stream"):
                    pass
            assert refused.value.status_code == 503 and b"stream limit" in refused.value.content
        with client.websocket_connect("ws://127.0.0.1/v1/stream") as again:  # a slot is free again
            assert again.receive_json()["type"] == "hello"
        assert client.get("/v1/info").json()["streams_refused"] == 1


def test_an_idle_stream_is_closed_with_a_reason(models):
    from starlette.websockets import WebSocketDisconnect

    with make_client(models, idle_timeout_s=0.3) as client:
        with client.websocket_connect("ws://127.0.0.1/v1/stream") as ws:
            ws.receive_json()
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
    assert closed.value.code == 4408 and "idle" in closed.value.reason


def test_a_frame_not_recognized_in_time_gets_an_error_and_the_stream_goes_on(models, astronaut):
    import time

    with make_client(models, frame_timeout_s=0.1, max_analyze=1) as client:
        with client.websocket_connect("ws://127.0.0.1/v1/stream") as ws:
            ws.receive_json()
            busy = models.pool.submit(time.sleep, 0.6)  # the recognizer thread is taken meanwhile
            ws.send_bytes(png(astronaut))
            late = ws.receive_json()
            assert late["error"] == "frame_timeout" and late["seq"] == 0
            busy.result()
            ws.send_bytes(png(astronaut))
            assert ws.receive_json()["type"] == "result"
        models.pool.submit(time.sleep, 0.6)
        reply = client.post("/v1/analyze", content=png(astronaut))
        assert reply.status_code == 504 and reply.json()["error"] == "timeout"
        # the late photo still waits for the recognizer thread: it keeps its --max-analyze slot until done
        again = client.post("/v1/analyze", content=png(astronaut))
        assert again.status_code == 503 and again.json()["error"] == "busy"
        deadline = time.monotonic() + 20
        while client.app.state.analyzing and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.app.state.analyzing == 0


def test_a_real_server_closes_open_streams_with_1001_when_stopped(models, astronaut):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from realtime_fer.apps.serve import ServeOptions, Server, create_app

    from websockets.exceptions import InvalidStatus

    options = ServeOptions(port=0)
    server = Server(create_app(models, options), options).start()
    try:
        with pytest.raises(InvalidStatus) as refused:  # uvicorn sends the denial as a real HTTP response
            connect(f"ws://127.0.0.1:{server.port}/v1/stream", origin="http://evil.example").close()
        assert refused.value.response.status_code == 403 and b"origin_not_allowed" in refused.value.response.body
        with connect(f"ws://127.0.0.1:{server.port}/v1/stream") as ws:
            assert json.loads(ws.recv(10))["type"] == "hello"
            ws.send(png(astronaut))
            assert json.loads(ws.recv(10))["type"] == "result"
            threading.Thread(target=server.stop).start()
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(10)
    finally:
        server.stop()
    assert closed.value.rcvd.code == 1001 and closed.value.rcvd.reason == "server shutting down"
    assert not server.thread.is_alive()


def _serve(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "realtime_fer", "serve", *args], stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def test_command_line_warns_for_other_hosts_serves_and_exits_143_on_sigterm():
    import httpx

    process = _serve("--host", "0.0.0.0", "--port", "0", env={"REALTIME_FER_TOKEN": TOKEN})
    try:
        lines = []
        while not any("serving on" in line for line in lines):
            line = process.stderr.readline()
            assert line, "".join(lines) + process.stderr.read()
            lines.append(line)
        port = int(lines[-1].split("serving on http://0.0.0.0:")[1].split("/")[0])
        assert any("warning: --host 0.0.0.0" in line for line in lines)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 401  # the token came from the env
        assert httpx.get(f"http://127.0.0.1:{port}/healthz?token={TOKEN}").json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 143
    finally:
        process.kill()
        process.wait()


def test_command_line_refuses_a_busy_port_and_bad_limits_with_exit_2():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = _serve("--port", str(port))
        _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and "Traceback" not in err
    assert f"--port {port}: expected a free port" in err
    process = _serve("--max-streams", "0", "--token", "short")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and err.count("error:") == 1 and "Traceback" not in err


def test_serve_has_no_frame_limit_and_no_look_ahead_threads():
    from realtime_fer.apps.cli import serve

    options = {o for action in serve.build_parser()._actions for o in action.option_strings}
    assert {"--max-frames", "--detect-threads", "--workers"}.isdisjoint(options)
    assert {"--model", "--detector", "--temporal", "--max-streams"} <= options
