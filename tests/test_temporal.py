"""The temporal stage: time constants in seconds, label hysteresis, the whole-track filter."""

import numpy as np
import pytest

from realtime_fer.core.faces import Faces
from realtime_fer.core.temporal import (LIVE_DEFAULT, OFF, OFFLINE_DEFAULT, LiveFilter, TemporalSettings,
                                        filter_track_live, filter_track_offline, label_switches, smooth_probs_offline,
                                        sticky_labels)


def step_track(fps: float, seconds: float = 4.0, change_s: float = 2.0, blips=(), classes: int = 3):
    """(times_ms, raw): class 0 until ``change_s``, class 1 after; ``blips`` = [(start_s, length_s)] of class 2."""
    times = np.arange(0, seconds, 1.0 / fps) * 1000.0
    raw = np.full((len(times), classes), 0.05, np.float32)
    label = np.where(times < change_s * 1000, 0, 1)
    for start, length in blips:
        label[(times >= start * 1000) & (times < (start + length) * 1000)] = 2
    raw[np.arange(len(times)), label] = 0.9
    return times, raw / raw.sum(axis=1, keepdims=True)


def first_switch_s(times, labels, to: int) -> float:
    return times[np.flatnonzero(labels == to)[0]] / 1000.0


def test_live_switch_time_is_the_same_at_15_and_60_fps():
    settings = TemporalSettings("live", tau_s=0.3, margin=0.15, min_hold_s=0.4, evidence="prob")
    switch = {}
    for fps in (15, 60):
        times, raw = step_track(fps)
        switch[fps] = first_switch_s(times, filter_track_live(times, raw, settings)[1], to=1)
    assert switch[15] == pytest.approx(switch[60], abs=1 / 15 + 1e-9)
    # delay after the change: the smoothed lead must reach the margin, then hold for 0.4 s
    assert 2.4 < switch[60] < 2.4 + 0.3


def test_live_hysteresis_ignores_blips_shorter_than_the_hold_and_follows_long_ones():
    settings = TemporalSettings("live", tau_s=0.1, margin=0.15, min_hold_s=0.4, evidence="prob")
    times, raw = step_track(30, seconds=6, change_s=10, blips=[(1.0, 0.2), (3.0, 1.5)])
    _, labels = filter_track_live(times, raw, settings)
    shown = labels[(times > 1000) & (times < 2000)]
    assert set(shown.tolist()) == {0}  # the 0.2 s blip is never shown
    assert 2 in labels[(times > 3000) & (times < 4500)]  # the 1.5 s change is
    assert label_switches(labels) == 2
    assert label_switches(filter_track_live(times, raw, OFF)[1]) == 4  # raw shows both blips


def test_live_probabilities_follow_the_time_constant():
    times, raw = step_track(30, change_s=1.0)
    probs, _ = filter_track_live(times, raw, TemporalSettings("live", tau_s=0.5, margin=0, min_hold_s=0))
    after = np.flatnonzero(times >= 1000)[0]
    k = np.flatnonzero(times >= 1500)[0]  # 0.5 s = one time constant after the step
    expected = raw[0, 1] + (raw[after, 1] - raw[0, 1]) * (1 - np.exp(-(times[k] - times[after - 1]) / 500.0))
    assert probs[k, 1] == pytest.approx(expected, abs=1e-4)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_ema_weight_maps_to_its_time_constant():
    assert TemporalSettings.tau_from_ema_weight(0.6) == pytest.approx(0.0653, abs=1e-4)
    assert TemporalSettings.tau_from_ema_weight(0.0) == 0.0
    times, raw = step_track(30)
    probs, _ = filter_track_live(times, raw, TemporalSettings("live", TemporalSettings.tau_from_ema_weight(0.5), 0, 0))
    assert probs[1] == pytest.approx(0.5 * raw[0] + 0.5 * raw[1], abs=1e-5)


def test_offline_filter_has_no_delay_and_drops_blips():
    times, raw = step_track(30, seconds=6, change_s=3.0, blips=[(1.0, 0.2)])
    probs, labels = filter_track_offline(times, raw, OFFLINE_DEFAULT)
    assert abs(first_switch_s(times, labels, 1) - 3.0) <= 1 / 30 + 1e-9
    assert 2 not in labels and label_switches(labels) == 1
    live = filter_track_live(times, raw, LIVE_DEFAULT)[1]
    assert first_switch_s(times, live, 1) > 3.0 + 1 / 30  # causal: later


def test_offline_smoothing_is_symmetric_in_time():
    times, raw = step_track(30, seconds=4, change_s=2.0)
    smooth = smooth_probs_offline(times, raw, 0.3)
    middle = np.flatnonzero(times >= 2000)[0]
    # zero phase: the crossing of classes 0 and 1 stays at the step
    assert smooth[middle - 2, 0] > smooth[middle - 2, 1] and smooth[middle + 1, 1] > smooth[middle + 1, 0]


def test_viterbi_switches_only_when_the_integrated_lead_pays_the_cost():
    times = np.arange(60) * 1000 / 30.0  # 2 s at 30 fps
    probs = np.tile([0.6, 0.4], (60, 1))
    probs[30:40] = [0.4, 0.6]  # class 1 leads by 0.2 for 1/3 s: integrated lead 0.067 prob-seconds
    assert label_switches(sticky_labels(times, probs, 0.1)) == 0   # per switch 0.1: two switches cost 0.2
    assert label_switches(sticky_labels(times, probs, 0.02)) == 2  # 0.04 < 0.067
    assert sticky_labels(times, probs, 0.0).tolist() == probs.argmax(axis=1).tolist()


def test_live_filter_per_track_prune_and_untracked_faces():
    boxes = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]], np.float32)
    faces = Faces(boxes, np.ones(3), np.zeros((3, 2, 2)), [1, 2, -1])
    stage = LiveFilter(TemporalSettings("live", tau_s=1.0, margin=0.1, min_hold_s=1.0, evidence="prob"))
    first = stage(faces.replace(raw_probs=[[0.9, 0.1], [0.1, 0.9], [0.9, 0.1]]), 0.0)
    assert first.label_ids.tolist() == [0, 1, 0]
    later = stage(faces.replace(raw_probs=[[0.1, 0.9], [0.1, 0.9], [0.1, 0.9]]), 100.0)
    assert later.label_ids.tolist() == [0, 1, 1]  # track 1 holds its label; the untracked face shows raw
    assert later.raw_probs[0].tolist() == pytest.approx([0.1, 0.9])  # raw is untouched
    assert 0.1 < later.probs[0, 1] < 0.9
    stage.prune({2})
    again = stage(faces.select(np.array([0])).replace(raw_probs=[[0.1, 0.9]]), 200.0)
    assert again.label_ids.tolist() == [1]  # track 1 was forgotten: starts fresh


def test_off_mode_and_bad_settings():
    faces = Faces(np.array([[0, 0, 10, 10]]), np.ones(1), np.zeros((1, 2, 2)), [1])
    off = LiveFilter(OFF)
    off(faces.replace(raw_probs=[[0.9, 0.1]]), 0)
    out = off(faces.replace(raw_probs=[[0.2, 0.8]]), 33)
    assert out.probs[0].tolist() == pytest.approx([0.2, 0.8]) and out.label_ids.tolist() == [1]
    for kwargs, name in (({"mode": "smooth"}, "mode"), ({"tau_s": -1}, "tau_s"), ({"margin": 11}, "margin"),
                         ({"margin": 2, "evidence": "prob"}, "margin"), ({"evidence": "nats"}, "evidence")):
        with pytest.raises(ValueError, match=name):
            TemporalSettings(**kwargs)


def test_the_stream_filter_and_the_per_track_function_agree():
    times, raw = step_track(25, seconds=5, change_s=2.0, blips=[(3.5, 0.6)])
    jitter = np.random.default_rng(1).uniform(0, 20, len(times))  # uneven time stamps
    times = times + jitter
    stage = LiveFilter(LIVE_DEFAULT)
    shown, smoothed = [], []
    for t in range(len(times)):
        faces = Faces(np.array([[0, 0, 10, 10]]), np.ones(1), np.zeros((1, 2, 2)), [4], raw_probs=raw[t:t + 1])
        out = stage(faces, times[t])
        shown.append(int(out.label_ids[0]))
        smoothed.append(out.probs[0])
    probs, labels = filter_track_live(times, raw, LIVE_DEFAULT)
    assert labels.tolist() == shown and probs == pytest.approx(np.array(smoothed), abs=1e-6)
    assert label_switches(labels) >= 2  # the step and the 0.6 s change both show
