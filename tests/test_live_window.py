"""The live window, for real, on a virtual X screen (Xvfb), fed by a video file standing in for the camera.

The test reads the displayed frame back twice: from an ``xwd`` screenshot of the X
screen while the window is up, and from the hidden ``--save-last-frame`` option, and
checks the overlay (the track's box colour) is on the face.  Needs Xvfb and xwd (Debian ``xvfb`` and
``x11-apps``, which ``scripts/install_system_deps.sh`` installs): without them the tests fail, they do not skip.
"""

from __future__ import annotations

import os
import select
import shutil
import struct
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from realtime_fer.apps.render.overlay import color_for
from tests.conftest import REPO, write_face_video

XVFB = shutil.which("Xvfb")
XWD = shutil.which("xwd")


def read_xwd(data: bytes) -> np.ndarray:
    """Decode an X Window Dump of a 24/32-bit TrueColor screen to (H, W, 3) uint8 BGR."""
    fields = struct.unpack(">25I", data[:100])
    header_size, width, height, byte_order = fields[0], fields[4], fields[5], fields[7]
    bits_per_pixel, bytes_per_line, red_mask, ncolors = fields[11], fields[12], fields[14], fields[19]
    stride = bits_per_pixel // 8  # 3 (packed, rows padded) on Xvfb's 24-bit screen, 4 on most servers
    assert stride in (3, 4) and red_mask == 0xFF0000, f"unsupported xwd: stride {stride}, red mask {red_mask:#x}"
    offset = header_size + 12 * ncolors
    rows = np.frombuffer(data, np.uint8, bytes_per_line * height, offset).reshape(height, bytes_per_line)
    pixels = rows[:, : width * stride].reshape(height, width, stride)
    if byte_order == 0:  # LSBFirst: B, G, R[, x]
        return pixels[..., :3].copy()
    return pixels[..., [stride - 1, stride - 2, stride - 3]].copy()


def count_color(image: np.ndarray, color) -> int:
    return int(np.all(image == np.array(color, np.uint8), axis=-1).sum())


@pytest.fixture
def xvfb_display(tmp_path):
    """Start Xvfb (white root window) on a free display number; yields ':N' and stops it afterwards."""
    assert XVFB is not None, "Xvfb is not installed: run bash scripts/install_system_deps.sh (as root)"
    read_fd, write_fd = os.pipe()
    log = open(tmp_path / "xvfb.log", "wb")
    process = subprocess.Popen([XVFB, "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten", "tcp",
                                "-wr"],  # a white root window: a black (blank) app window shows against it
                               pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=log)
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 15
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([read_fd], [], [], 0.5)
        if ready:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            number += chunk
    os.close(read_fd)
    if not number.strip():
        process.kill()
        process.wait(timeout=10)
        log.close()
        pytest.fail("Xvfb did not start: " + (tmp_path / "xvfb.log").read_text(errors="replace")[-500:])
    yield f":{number.decode().strip()}"
    process.terminate()
    process.wait(timeout=10)
    log.close()


def test_display_available_checks_the_x_server(monkeypatch, tmp_path):
    from realtime_fer.apps.cli.camera import display_available

    if not sys.platform.startswith("linux"):
        pytest.skip("the X check is Linux-only")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    assert display_available() is False
    monkeypatch.setenv("DISPLAY", ":987")  # nothing listens there
    assert display_available() is False


def test_display_available_with_xvfb(monkeypatch, xvfb_display):
    from realtime_fer.apps.cli.camera import display_available

    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", xvfb_display)
    assert display_available() is True


def watch_the_window(xvfb_display: str, command: list[str], cwd) -> tuple[int, str, np.ndarray | None, int, bool]:
    """Run the CLI ``command`` on ``xvfb_display`` and read the X screen back with ``xwd`` while it runs.

    Returns (exit code, stderr, the screen with the most pixels in track 1's box colour, that count, whether
    anything but the white root window was ever on the screen)."""
    env = {**os.environ, "DISPLAY": xvfb_display, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    best_screen, best_count, window_seen = None, 0, False
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        shot = subprocess.run([XWD, "-root", "-silent", "-display", xvfb_display], capture_output=True)
        if shot.returncode == 0 and len(shot.stdout) > 100:
            screen = read_xwd(shot.stdout)
            window_seen = window_seen or bool((screen != 255).any())  # a window over the white root (-wr)
            count = count_color(screen, color_for(1))
            if count > best_count:
                best_screen, best_count = screen, count
            if best_count > 400:
                break
        time.sleep(0.2)
    _, err = process.communicate(timeout=60)
    return process.returncode, err.decode(), best_screen, best_count, window_seen


def test_live_window_shows_the_overlay(tmp_path, tiny_model, xvfb_display):
    assert XWD is not None, "xwd is not installed: run bash scripts/install_system_deps.sh (as root)"
    video = write_face_video(tmp_path / "camera.avi", frames=60, fps=12)  # 5 s of "camera" at real pace
    last = tmp_path / "last.png"
    command = [sys.executable, "-m", "realtime_fer.apps.cli", "--camera", str(video), "--model", str(tiny_model),
               "--save-last-frame", str(last)]
    box_color = color_for(1)
    code, err, best_screen, best_count, window_seen = watch_the_window(xvfb_display, command, tmp_path)
    for _ in range(2):
        if code != 0 or window_seen:
            break
        # the screen stayed the bare white root while the app ran: its window never reached this X server (seen in
        # a few full-suite runs on a loaded 2-core machine, never when the test runs alone), so up to twice more.
        # A blank (black) window is not this case: it counts as seen and fails below.
        last.unlink(missing_ok=True)
        code, err, best_screen, best_count, window_seen = watch_the_window(xvfb_display, command, tmp_path)
    assert code == 0, err
    assert "Traceback" not in err and "no display" not in err
    assert window_seen, "the window never appeared on the X screen"

    # what the window showed last, as saved by the live loop
    frame = cv2.imread(str(last))
    assert frame is not None and frame.shape == (360, 640, 3)
    ys, xs = np.nonzero(np.all(frame == np.array(box_color, np.uint8), axis=-1))
    assert len(xs) > 300, "the track's box colour is missing from the displayed frame"
    # the box surrounds the astronaut's face tile (x 200..540, y 95..265 in camera.avi)
    assert 180 < np.median(xs) < 600 and 60 < np.median(ys) < 280
    assert count_color(frame[:40, :200], (0, 0, 0)) > 300  # the fps/latency HUD box

    # and the X screen itself showed it (read back with xwd while the window was up)
    assert best_count > 300, f"no overlay pixels found on the X screen (a window was seen: {window_seen})"
    near_background = np.all(np.abs(best_screen.astype(int) - (96, 80, 64)) <= 8, axis=-1).sum()
    assert near_background > 100_000  # the camera frame itself (MJPG-coded background) is on screen


def test_q_key_quits_the_window_loop(monkeypatch, face_video, tiny_model):
    """The key handling itself, without a display: q on the 3rd frame ends the loop."""
    from realtime_fer.apps.cli import camera as live
    from realtime_fer.core.pipeline import Recognizer
    from realtime_fer.io.sources import CameraSource

    keys = iter([-1, -1, ord("q")] + [-1] * 100)
    shown = []
    monkeypatch.setattr(cv2, "namedWindow", lambda *a: None)
    monkeypatch.setattr(cv2, "imshow", lambda title, image: shown.append(image.copy()))
    monkeypatch.setattr(cv2, "waitKey", lambda delay: next(keys))
    monkeypatch.setattr(cv2, "getWindowProperty", lambda *a: 1.0)
    monkeypatch.setattr(cv2, "destroyWindow", lambda *a: None)
    with Recognizer(tiny_model, detector_range="short") as recognizer:
        source = CameraSource(str(face_video), pace=True)  # 12 fps: q arrives long before the end
        stats = live.run_window(source, recognizer, hud=True)
    assert stats.end_reason == "quit" and stats.frames == 3 and len(shown) == 3
    assert count_color(shown[-1], color_for(1)) > 300
