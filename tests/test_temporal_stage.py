"""The temporal stage's one interface: ``open_stage(settings, fps)``, ``push(FrameResult) -> [FrameResult]``,
``flush()``; the live stage releases each frame at once, the lagged one after ``lag_s``, both in push order."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_fer.core.faces import Faces, FrameResult
from realtime_fer.core.temporal import (LIVE_DEFAULT, OFF, OFFLINE_DEFAULT, LaggedStage, LiveStage, filter_track,
                                        open_stage)

LABELS = ("a", "b", "c")


def results(count: int, fps: float = 10.0, seed: int = 0) -> list[FrameResult]:
    """One face (track 1) per frame with random raw probabilities."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        raw = rng.dirichlet(np.ones(len(LABELS)), 1).astype(np.float32)
        faces = Faces(boxes=np.array([[10, 10, 50, 50]], np.float32), scores=np.ones(1, np.float32),
                      keypoints=np.zeros((1, 2, 2), np.float32), track_ids=np.array([1]), raw_probs=raw)
        out.append(FrameResult(i, i * 1000.0 / fps, faces, LABELS))
    return out


def test_open_stage_picks_the_stage_of_the_mode():
    assert isinstance(open_stage(LIVE_DEFAULT), LiveStage) and isinstance(open_stage(OFF), LiveStage)
    stage = open_stage(OFFLINE_DEFAULT, fps=30)
    assert isinstance(stage, LaggedStage) and stage.max_pending == 40
    with pytest.raises(ValueError, match="LaggedStage"):
        LiveStage(OFFLINE_DEFAULT)  # what Recognizer(temporal=offline) meets: a stream has no future


@pytest.mark.parametrize("settings", [LIVE_DEFAULT, OFF, OFFLINE_DEFAULT])
def test_every_frame_comes_out_once_in_order_with_the_labels_of_its_track_filter(settings):
    frames = results(40)
    stage, out, waiting = open_stage(settings, fps=10.0), [], []
    for result in frames:
        released = stage.push(result, {1})
        if settings.mode != "offline":
            assert [r.index for r in released] == [result.index]  # at once
        out += released
        waiting.append(len(frames[:result.index + 1]) - len(out))
    if settings.mode == "offline":
        assert max(waiting) == 10  # a frame waits until one at least 1 s later arrives: 10 frames at 10 fps
    out += stage.flush()
    assert [r.index for r in out] == list(range(40))
    times = np.array([r.time_ms for r in frames])
    raw = np.concatenate([r.faces.raw_probs for r in frames])
    probs, labels = filter_track(times, raw, settings)
    np.testing.assert_array_equal(np.concatenate([r.faces.label_ids for r in out]), labels)
    np.testing.assert_allclose(np.concatenate([r.faces.probs for r in out]), probs, rtol=1e-5, atol=1e-6)
