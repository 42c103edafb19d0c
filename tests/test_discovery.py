"""Discovery (``core.discovery``): when the slow small-face detector runs, how its faces are carried between its
passes, that track ids survive the passes, and (with the real CenterFace) that the camera preset finds a small face
entering a wide shot within 1 s without waiting for the slow detector."""

from __future__ import annotations

import copy
import threading
import time

import numpy as np
import pytest

from realtime_fer.apps.engine.detect_ahead import DetectAhead
from realtime_fer.core.discovery import (BackgroundDiscovery, DiscoveryCache, DiscoverySettings, InlineDiscovery,
                                         discovery_size, merge)
from realtime_fer.core.faces import Faces
from realtime_fer.core.temporal import OFF
from realtime_fer.core.track import IouTracker

BIG = (100.0, 100.0, 300.0, 300.0)
SMALL = (800.0, 200.0, 830.0, 235.0)


def faces(*boxes, keypoints: int = 6) -> Faces:
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    return Faces(boxes, np.full(len(boxes), 0.9), np.repeat(centre[:, None], keypoints, axis=1))


def test_passes_run_on_the_first_detected_frame_at_or_after_each_multiple_of_every():
    cache = DiscoveryCache(DiscoverySettings(every=10))
    assert [i for i in range(0, 40, 2) if cache.due(i)] == [0, 10, 20, 30]
    cache = DiscoveryCache(DiscoverySettings(every=5))
    assert [i for i in range(0, 24, 3) if cache.due(i)] == [0, 6, 12, 15, 21]
    cache.clear()
    assert cache.due(0)


def test_discovered_faces_are_added_to_the_fast_ones_once_each():
    fast = faces(BIG)
    found = faces((110, 90, 290, 320), SMALL, keypoints=5)  # CenterFace's taller box of the big face, and a small one
    merged, which = merge(fast, found)
    assert merged.boxes.tolist() == [list(BIG), list(SMALL)] and which.tolist() == [0, -1]
    assert merged.keypoints.shape == (2, 2, 2)  # eyes only: either detector's faces track together


def test_a_fast_box_spanning_two_neighbours_hides_neither_and_each_box_is_at_most_one_face():
    span = (100.0, 100.0, 300.0, 300.0)  # a BlazeFace box over two faces side by side
    left, right = (100.0, 130.0, 190.0, 250.0), (210.0, 130.0, 300.0, 250.0)
    merged, which = merge(faces(span), faces(left, right, keypoints=5))
    assert which.tolist() == [-1, -1] and len(merged) == 3
    twin = (110.0, 95.0, 290.0, 310.0)  # one face, twice found by the slow detector: only one of them is fast's
    assert sorted(merge(faces(span), faces(twin, twin, keypoints=5))[1].tolist()) == [-1, 0]


def test_the_cache_carries_only_the_faces_the_fast_detector_cannot_find():
    cache = DiscoveryCache(DiscoverySettings(every=10))
    cache.update(faces((110, 90, 290, 320), SMALL, keypoints=5))
    moved = (120.0, 100.0, 320.0, 300.0)
    assert cache.combine(faces(moved)).boxes.tolist() == [list(moved), list(SMALL)]  # the big face at fast's box
    assert cache.combine(Faces.empty(6)).boxes.tolist() == [list(SMALL)]  # fast lost the big face: not carried
    assert cache.combine(faces(moved)).boxes.tolist() == [list(moved), list(SMALL)]
    cache.update(faces(BIG, keypoints=5))  # the next pass no longer finds the small face (keep=1): it is dropped
    assert cache.combine(Faces.empty(6)).boxes.tolist() == [list(BIG)]  # new in this pass: carried until fast finds it


def test_keep_lets_a_face_survive_a_pass_that_missed_it():
    cache = DiscoveryCache(DiscoverySettings(keep=2))
    cache.update(faces(SMALL))
    cache.update(Faces.empty(5))
    assert len(cache) == 1
    cache.update(Faces.empty(5))
    assert len(cache) == 0


def test_track_ids_stay_across_passes_and_a_small_face_is_carried_between_them():
    """30 frames, fast detector every frame (finds only the big face), slow pass every 10 frames (finds both)."""
    cache, tracker = DiscoveryCache(DiscoverySettings(every=10)), IouTracker(max_missed=5, min_hits=3)
    shown_ids = []
    for index in range(30):
        if cache.due(index):
            cache.update(faces((105 + index, 95, 295 + index, 320), SMALL, keypoints=5))
        tracked = tracker.update(cache.combine(faces((100 + index, 100, 300 + index, 300))))
        shown_ids.append(tracker.shown(tracked).track_ids.tolist())
    assert shown_ids[:2] == [[], []] and all(ids == [1, 2] for ids in shown_ids[2:])


class _Recorder:
    """A detector that records the frames (ints) it ran on and returns ``answer``."""

    def __init__(self, answer: Faces, delay: float = 0.0):
        self.answer, self.delay, self.frames = answer, delay, []

    def detect(self, frame):
        time.sleep(self.delay)
        self.frames.append(int(frame[0, 0, 0]))
        return self.answer

    def close(self):
        pass


def test_look_ahead_runs_the_slow_detector_on_its_cadence_and_returns_the_combined_faces():
    fast, slow = _Recorder(faces(BIG)), _Recorder(faces(SMALL, keypoints=5))
    ahead = DetectAhead(fast, every=2, discovery=InlineDiscovery(slow, DiscoverySettings(every=10)))
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(25)]
    for frame in frames:
        ahead.submit(frame)
    results = [ahead.detections_for(frame) for frame in frames]
    ahead.close()
    assert sorted(fast.frames) == list(range(0, 25, 2)) and sorted(slow.frames) == [0, 10, 20]
    assert all(results[i] is None for i in range(1, 25, 2))
    assert all(results[i].boxes.tolist() == [list(BIG), list(SMALL)] for i in range(0, 25, 2))


def test_background_discovery_never_waits_for_the_slow_detector():
    now = [0.0]
    slow = _Recorder(faces(SMALL, keypoints=5), delay=0.3)
    discovery = BackgroundDiscovery(slow, DiscoverySettings(period_s=0.25), clock=lambda: now[0])
    frame = np.zeros((4, 4, 3), np.uint8)
    started = time.perf_counter()
    first = discovery.step(frame, faces(BIG))
    assert time.perf_counter() - started < 0.1 and first.boxes.tolist() == [list(BIG)]
    discovery.wait()
    assert discovery.step(frame, faces(BIG)).boxes.tolist() == [list(BIG), list(SMALL)]
    assert discovery.passes == 1  # the clock did not move: no second pass before period_s
    now[0] = 0.3
    discovery.step(frame, faces(BIG))
    discovery.wait()
    assert discovery.passes == 2
    twin = copy.deepcopy(discovery)
    assert twin.detector is slow and len(twin.cache) == 0 and twin.passes == 0
    assert not any(t.name == "fer-discover" for t in threading.enumerate())


def test_discovery_size_follows_the_frame():
    assert discovery_size(1280, 720) == 640 and discovery_size(640, 360) == 320 and discovery_size(1920, 1080) == 960


def test_settings_are_checked():
    with pytest.raises(ValueError, match="every"):
        DiscoverySettings(every=0)


def test_the_camera_preset_finds_a_small_face_entering_a_wide_shot_within_a_second():
    """Real BlazeFace + CenterFace: frames arrive at 30 fps; a ~40 px face appears at frame 15 (BlazeFace short
    never finds it); the recognizer shows it by frame 45, keeps one id, and no frame waits for CenterFace."""
    from realtime_fer.core.detect import create_detector
    from realtime_fer.core.pipeline import Recognizer
    from tests.images import face_tile

    empty = np.full((720, 1280, 3), 90, np.uint8)
    with_face = empty.copy()
    with_face[300:380, 600:680] = face_tile(80)
    with create_detector("blazeface", range="short") as fast:
        assert len(fast.detect(with_face)) == 0
    shown, spent = [], []
    with Recognizer.for_video(provider="cpu") as recognizer:
        assert recognizer.discovery_detector.detector.provider == recognizer.provider  # CUDA too when that is asked
        slow_ms = min(_timed(recognizer.discovery_detector.detect, with_face) for _ in range(3))
        for index in range(60):
            frame = with_face if index >= 15 else empty
            start = time.perf_counter()
            result = recognizer.process(frame, index=index, time_ms=index * 1000 / 30)
            spent.append((time.perf_counter() - start) * 1e3)
            shown.append(result.faces.track_ids.tolist())
            time.sleep(max(1 / 30 - spent[-1] / 1e3, 0))
    first = next(i for i, ids in enumerate(shown) if ids)
    assert 15 <= first <= 45, shown
    assert all(ids == shown[first] for ids in shown[first:]) and len(shown[first]) == 1
    assert np.median(spent) < slow_ms, (np.median(spent), slow_ms)


def _timed(call, *args) -> float:
    start = time.perf_counter()
    call(*args)
    return (time.perf_counter() - start) * 1e3


def test_with_many_faces_only_classify_limit_are_read_per_frame_new_tracks_first(tiny_model):
    """12 faces on noise frames (each frame's crops differ, so a fresh reading differs from the last one): frame 0
    reads all 12 (new tracks), then 8 per frame, those read longest ago first; the others keep their last reading."""
    from realtime_fer.core.pipeline import Recognizer

    boxes = [(20 + 100 * (i % 6), 20 + 150 * (i // 6), 100 + 100 * (i % 6), 120 + 150 * (i // 6)) for i in range(12)]
    rng = np.random.default_rng(0)
    with Recognizer(tiny_model, provider="cpu", temporal=OFF, classify_limit=8) as recognizer:
        results = [recognizer.process(rng.integers(0, 255, (360, 640, 3), np.uint8), detections=faces(*boxes))
                   for _ in range(4)]
    probs = [r.faces.raw_probs for r in results]
    read = [np.flatnonzero(~np.isclose(probs[i], probs[i - 1]).all(axis=1)).tolist() for i in range(1, 4)]
    assert [len(r.faces) for r in results] == [12] * 4 and len(read[0]) == 8
    assert read[1] == sorted(set(range(12)) - set(read[0]) | set(read[0][:4]))  # the 4 left out, then the oldest
    assert all(len(r) == 8 for r in read)
