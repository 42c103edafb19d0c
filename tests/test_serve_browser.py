"""The live page in a real browser: Debian's Chromium, headless, with a fake camera playing a clip, driven by
Selenium through chromedriver. The page opens the camera, streams frames to a real server (uvicorn, with a
token), draws boxes and labels on its canvas and shows the round trip; a photo chosen on the page is analyzed.

The screenshot is kept in ``$REALTIME_FER_ARTEFACTS`` (a temporary folder when unset). Skips, with the reason,
without the ``serve`` extra, Selenium or /usr/bin/chromium + /usr/bin/chromedriver (scripts/install_system_deps.sh).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import DATA_DIR, face_frame
from tests.serve_helpers import require_serve_extra

require_serve_extra()
pytest.importorskip("selenium", reason="selenium is not installed: pip install -e '.[serve]'")
CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
if not (CHROMIUM.exists() and DRIVER.exists()):
    pytest.skip("Chromium and chromedriver are not installed (bash scripts/install_system_deps.sh)",
                allow_module_level=True)

PEXELS = DATA_DIR / "samples" / "videos" / "WolfgangLanger_Pexels.mp4"
TOKEN = "browser-token-5678"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--window-size=1300,800")


def write_y4m(path: Path, frames, fps: int = 15) -> Path:
    """(H, W, 3) uint8 BGR frames -> a YUV4MPEG2 4:2:0 file (what Chromium's fake camera plays, looping)."""
    import cv2

    height, width = frames[0].shape[:2]
    with open(path, "wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            handle.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def clip_frames(count: int = 30):
    """The first ``count`` frames of the Pexels clip at 640x360, or (without the data folder) the drifting
    astronaut face of the fast tier."""
    import cv2

    if PEXELS.exists():
        capture, frames = cv2.VideoCapture(str(PEXELS)), []
        while len(frames) < count:
            ok, image = capture.read()
            if not ok:
                break
            frames.append(cv2.resize(image, (640, 360), interpolation=cv2.INTER_AREA))
        capture.release()
        return frames
    return [face_frame(i) for i in range(count)]


@pytest.fixture(scope="module")
def server():
    from realtime_fer.apps.serve import Recognizers, ServeOptions, Server, create_app

    models = Recognizers.open()
    options = ServeOptions(port=0, token=TOKEN)
    with Server(create_app(models, options), options) as running:
        yield running
    models.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    folder = tmp_path_factory.mktemp("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={folder / 'profile'}")
    options.add_argument(f"--use-file-for-fake-video-capture={write_y4m(folder / 'clip.y4m', clip_frames())}")
    driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
    yield driver
    driver.quit()


def wait_for(driver, script: str, timeout_s: float = 60.0):
    """Poll ``script`` (JavaScript returning a value) until it is truthy; its value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    state = driver.execute_script("return JSON.stringify(window.fer && window.fer.state)")
    raise AssertionError(f"timed out waiting for {script!r}; page state: {state}")


def artefact_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("REALTIME_FER_ARTEFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_page_streams_the_camera_and_draws_faces(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/?token={TOKEN}")
    browser.find_element(By.ID, "camera").click()
    wait_for(browser, "const s = window.fer.state; return s.replies >= 8 && s.faces.length > 0")
    state = browser.execute_script("return window.fer.state")
    assert state["connected"] and state["errors"] == 0
    assert 0 < state["rttMs"] < 5000 and state["fps"] > 0
    assert "rtt" in browser.find_element(By.ID, "stats").text
    assert browser.find_elements(By.CSS_SELECTOR, "#faces .face .bar")  # the per-class bars
    # the box's left edge on the canvas has the colour of the label it shows
    pixel = browser.execute_script("""
        const s = window.fer.state, f = s.faces[0], c = document.getElementById('overlay');
        const x = Math.round(f.x1 * s.scale.x), y = Math.round((f.y1 + f.y2) / 2 * s.scale.y);
        return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data);""")
    colour = browser.execute_script("""
        const labels = window.fer.state.hello.labels, i = labels.indexOf(window.fer.state.faces[0].label);
        return window.fer.COLORS[i % window.fer.COLORS.length];""")
    assert pixel[:3] == [int(colour[k:k + 2], 16) for k in (1, 3, 5)] and pixel[3] == 255
    shot = artefact_dir(tmp_path) / "serve-browser-camera.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_the_page_keeps_streaming_after_the_server_closed_its_stream(server, browser):
    import asyncio

    browser.get(f"{server.url}/?token={TOKEN}")
    browser.find_element("id", "camera").click()
    wait_for(browser, "return window.fer.state.replies >= 5")
    hub, loop = server.app.state.hub, server.app.state.loop

    async def close_streams():  # what a server-side failure does; the page reconnects after 2 s
        await asyncio.gather(*(s.close(1011, "test: closed by the server") for s in list(hub.streams)))

    asyncio.run_coroutine_threadsafe(close_streams(), loop).result(5.0)
    wait_for(browser, "return !window.fer.state.connected", 10.0)
    before = browser.execute_script("return window.fer.state.replies")
    # the new connection counts its frames from 0 again: replies must go on (not stall on the old numbers)
    wait_for(browser, f"const s = window.fer.state; return s.connected && s.replies >= {before + 10}", 60.0)


def test_a_photo_chosen_on_the_page_is_analyzed(server, browser, astronaut, tmp_path):
    import cv2
    from selenium.webdriver.common.by import By

    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), astronaut)
    browser.get(f"{server.url}/?token={TOKEN}")
    browser.find_element(By.ID, "photo").send_keys(str(photo))
    faces = wait_for(browser, "const s = window.fer.state; return s.photo && s.faces")
    assert len(faces) == 1 and faces[0]["label"]
    assert browser.execute_script("return window.fer.state.mode") == "photo"
    shutil.copy(photo, artefact_dir(tmp_path) / "serve-browser-photo-input.png")
    browser.save_screenshot(str(artefact_dir(tmp_path) / "serve-browser-photo.png"))
