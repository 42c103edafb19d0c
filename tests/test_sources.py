"""Frame sources: video files, camera stand-ins (newest frame only), images, synthetic frames."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from realtime_fer.errors import InputError
from realtime_fer.io.sources import (CameraSource, ImageSource, VideoFileSource, parse_camera_target,
                                  read_image, to_bgr)
from realtime_fer.io.synthetic import SyntheticSource
from tests.conftest import FACE_VIDEO_FPS, FACE_VIDEO_FRAMES, write_face_video


def test_video_file_yields_every_frame_in_order_with_times(face_video):
    with VideoFileSource(face_video) as source:
        assert source.info.size == (640, 360)
        assert source.info.fps == pytest.approx(FACE_VIDEO_FPS, rel=1e-3)
        assert source.info.frame_count == FACE_VIDEO_FRAMES
        frames = list(source.frames())
    assert [f.index for f in frames] == list(range(FACE_VIDEO_FRAMES))
    assert [f.time_ms for f in frames] == pytest.approx([i * 1000 / FACE_VIDEO_FPS for i in range(FACE_VIDEO_FRAMES)])
    assert all(f.image.shape == (360, 640, 3) and f.image.dtype == np.uint8 for f in frames)
    assert source.end_reason == "eof"
    # distinct buffers: the consumer owns each frame (the overlay draws into it)
    assert len({id(f.image) for f in frames}) == len(frames)


def test_video_file_max_frames_and_stop_event(face_video):
    with VideoFileSource(face_video, max_frames=5) as source:
        assert len(list(source.frames())) == 5
        assert source.end_reason == "max_frames"
    stop = threading.Event()
    with VideoFileSource(face_video) as source:
        got = []
        for frame in source.frames(stop):
            got.append(frame)
            if len(got) == 3:
                stop.set()
        assert len(got) == 3 and source.end_reason == "stopped"


def test_close_unblocks_a_reader_waiting_on_a_full_queue(face_video):
    source = VideoFileSource(face_video, queue_size=1)
    next(iter(source.frames()))
    time.sleep(0.1)  # the reader is now blocked on the full queue
    source.close()
    assert not source._thread.is_alive()


@pytest.mark.parametrize("content, name", [(None, "missing.mp4"), (b"", "empty.mp4"),
                                           (np.random.default_rng(0).bytes(50_000), "random.mp4")])
def test_bad_video_files_raise_input_error(tmp_path, content, name):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=name):
        VideoFileSource(path)


def test_video_path_that_is_a_folder_raises(tmp_path):
    with pytest.raises(InputError, match="directory"):
        VideoFileSource(tmp_path)


def test_truncated_avi_yields_the_decodable_frames(tmp_path):
    full = write_face_video(tmp_path / "full.avi", frames=24)
    data = full.read_bytes()
    half = tmp_path / "half.avi"
    half.write_bytes(data[: len(data) // 2])
    with VideoFileSource(half) as source:
        frames = list(source.frames())
    assert 0 < len(frames) < 24
    assert source.end_reason == "eof"


def test_truncated_mp4_without_index_is_a_clear_error(tmp_path):
    """OpenCV writes the MP4 index (moov) last; half a file has none, so nothing decodes."""
    full = write_face_video(tmp_path / "full.mp4", frames=24)
    data = full.read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        VideoFileSource(half)


def test_camera_stand_in_file_unpaced_delivers_frames(face_video):
    with CameraSource(str(face_video), pace=False) as source:
        assert source.is_file and source.info.size == (640, 360)
        frames = list(source.frames())
    assert 1 <= len(frames) <= FACE_VIDEO_FRAMES
    assert [f.index for f in frames] == sorted({f.index for f in frames})
    assert len(frames) + sum(f.dropped for f in frames) == FACE_VIDEO_FRAMES
    assert source.end_reason == "eof"


def test_camera_hands_over_the_newest_frame_and_drops_stale_ones(face_video):
    """A consumer slower than the (paced, 12 fps) camera sees fresh frames, skipping the rest."""
    with CameraSource(str(face_video), pace=True) as source:
        seen, ages = [], []
        for frame in source.frames():
            seen.append(frame)
            ages.append((time.perf_counter() - frame.captured) * 1e3)
            time.sleep(0.25)  # ~3 camera frames
    assert sum(f.dropped for f in seen) >= len(seen)  # most frames were skipped, not queued
    assert len(seen) + sum(f.dropped for f in seen) == FACE_VIDEO_FRAMES
    assert len(seen) < FACE_VIDEO_FRAMES / 2
    # at most about one camera period (83 ms) old; a queue would hand over frames >= 250 ms old
    assert np.median(ages[1:]) < 150, ages


def test_camera_index_that_does_not_exist_raises():
    with pytest.raises(InputError, match=r"camera 97: .*index 97"):
        CameraSource(97)


def test_parse_camera_target(tmp_path):
    assert parse_camera_target("0") == (0, False)
    assert parse_camera_target(2) == (2, False)
    assert parse_camera_target("rtsp://host/stream") == ("rtsp://host/stream", False)
    with pytest.raises(InputError, match="no file"):
        parse_camera_target(str(tmp_path / "nope.mp4"))


class _FakeCapture:
    """Delivers ``good`` frames, then either fails reads or blocks forever (a hung camera)."""

    def __init__(self, good: int, hang: bool):
        self.good, self.hang, self.reads = good, hang, 0
        self.released = threading.Event()

    def isOpened(self):  # noqa: N802 - OpenCV's name
        return True

    def read(self):
        self.reads += 1
        if self.reads <= self.good:
            time.sleep(0.01)
            return True, np.full((48, 64, 3), self.reads, np.uint8)
        if self.hang:
            self.released.wait(30)
        return False, None

    def get(self, prop):
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self):
        self.released.set()


@pytest.mark.parametrize("hang, reason", [(False, "stream ended"), (True, "stalled")])
def test_camera_that_stops_delivering_ends_cleanly(monkeypatch, hang, reason):
    fake = _FakeCapture(good=5, hang=hang)
    monkeypatch.setattr("realtime_fer.io.sources._open_capture", lambda target, what: fake)
    source = CameraSource(3, stall_timeout_s=0.5)
    start = time.perf_counter()
    frames = list(source.frames())
    assert 1 <= len(frames) <= 5
    assert source.end_reason.startswith(reason)
    assert time.perf_counter() - start < 3
    fake.released.set()
    source.close()


def test_image_folder_skips_non_images_with_a_warning(tmp_path, astronaut):
    cv2.imwrite(str(tmp_path / "a_grey.png"), cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(tmp_path / "b_rgba.png"), cv2.cvtColor(astronaut, cv2.COLOR_BGR2BGRA))
    (tmp_path / "c_notes.txt").write_text("not an image")
    (tmp_path / "d_broken.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    cv2.imwrite(str(tmp_path / "e_colour.jpg"), astronaut)
    warnings = []
    with ImageSource(tmp_path, warn=warnings.append) as source:
        frames = list(source.frames())
    assert [f.name for f in frames] == ["a_grey.png", "b_rgba.png", "e_colour.jpg"]
    assert [f.index for f in frames] == [0, 1, 2]
    assert all(f.image.shape == (512, 512, 3) and f.image.dtype == np.uint8 for f in frames)
    grey = frames[0].image
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    assert np.array_equal(frames[1].image, astronaut)  # alpha dropped, colours kept
    assert len(warnings) == 2 and "c_notes.txt" in warnings[0] and "d_broken.jpg" in warnings[1]
    assert [p.name for p in source.skipped] == ["c_notes.txt", "d_broken.jpg"]


def test_image_source_errors(tmp_path):
    with pytest.raises(InputError, match="no file"):
        ImageSource(tmp_path / "missing.jpg")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="non-image"):
        ImageSource(tmp_path / "notes.txt")
    with pytest.raises(InputError, match="readable image"):
        ImageSource(tmp_path, warn=lambda m: None)


def test_to_bgr_and_read_image(tmp_path, astronaut):
    assert to_bgr(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert to_bgr(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)
    sixteen = (astronaut.astype(np.uint16) * 257)
    path = tmp_path / "deep.png"
    cv2.imwrite(str(path), sixteen)
    image = read_image(path)
    assert image.dtype == np.uint8 and np.abs(image.astype(int) - astronaut).max() <= 1
    assert read_image(tmp_path / "x.txt") is None


def test_synthetic_source_places_non_overlapping_faces():
    with SyntheticSource(frames=7, faces=5) as source:
        frames = list(source.frames())
        assert len(frames) == 7 and frames[0].image.shape == (360, 640, 3)
        origins = [source.patch_origin(k, 0) for k in range(5)]
    ph, pw = source._patch.shape[:2]
    for i, (xa, ya) in enumerate(origins):
        for xb, yb in origins[i + 1:]:
            assert abs(xa - xb) >= pw or abs(ya - yb) >= ph
    with pytest.raises(ValueError):
        SyntheticSource(frames=1, faces=9)
