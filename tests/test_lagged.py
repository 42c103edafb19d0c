"""The lagged offline filter (core/temporal/lagged.py): equal to its reference, to the whole-track filter when the lag is
long, releases in order and on time, several tracks, a bounded queue."""

import numpy as np
import pytest

from realtime_fer.core.faces import Faces
from realtime_fer.core.temporal import LaggedFilter, LaggedTrack, backward_ema, pending_capacity
from realtime_fer.core.temporal import (OFFLINE_DEFAULT, TemporalSettings, ema_weights, evidence_of,
                                        filter_track_offline, filter_track_whole, label_switches, sticky_labels)
from tests.test_temporal import step_track


def noisy_track(seed: int = 0, frames: int = 240, classes: int = 4):
    """(times_ms, raw): uneven stamps (20-50 ms), a label that changes every ~1.5 s, noise on top."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.uniform(20.0, 50.0, frames))
    truth = (times // 1500).astype(int) % classes
    raw = rng.dirichlet(np.ones(classes), frames) * 0.6
    raw[np.arange(frames), truth] += 0.4
    return times, raw.astype(np.float32)


def reference_lagged(times, raw, settings):
    """The lagged filter written plainly: per frame r, the window r..n (n = the first frame with t_n >= t_r + lag,
    when r is released; the last frame if none),
    a backward loop from n, and a constrained whole-prefix Viterbi (``sticky_labels``) through the labels shown."""
    raw = np.asarray(raw, np.float64)
    alphas = ema_weights(np.diff(times), settings.tau_s)
    forward = raw.copy()
    for t in range(1, len(raw)):
        forward[t] = forward[t - 1] + alphas[t - 1] * (raw[t] - forward[t - 1])
    probs, labels = np.zeros_like(raw), np.zeros(len(raw), np.int64)
    for r in range(len(raw)):
        n = min(int(np.searchsorted(times, times[r] + settings.lag_s * 1000 - 1e-6)), len(times) - 1)
        window = forward[:n + 1].copy()
        for k in range(n - 1, r - 1, -1):
            window[k] = window[k + 1] + alphas[k] * (forward[k] - window[k + 1])
        probs[r] = window[r]
        used = np.concatenate([probs[:r], window[r:]])
        mask = np.zeros_like(used)
        for k in range(r):  # the labels already shown are fixed
            mask[k] = -np.inf
            mask[k, labels[k]] = 0.0
        labels[r] = sticky_labels(times[:n + 1], evidence_of(used, settings.evidence) + mask, settings.switch_cost)[r]
    return probs.astype(np.float32), labels


@pytest.mark.parametrize("lag", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("evidence", ["log", "prob"])
def test_streaming_equals_the_plain_reference(lag, evidence):
    times, raw = noisy_track()
    settings = OFFLINE_DEFAULT.with_(lag_s=lag, margin=0.2, min_hold_s=0.4, tau_s=0.3, evidence=evidence)
    probs, labels = filter_track_offline(times, raw, settings)
    want_probs, want_labels = reference_lagged(times, raw, settings)
    assert probs == pytest.approx(want_probs, abs=1e-5)
    assert labels.tolist() == want_labels.tolist()


def test_lag_longer_than_the_track_is_the_whole_track_filter():
    times, raw = noisy_track(seed=3)
    settings = OFFLINE_DEFAULT.with_(lag_s=times[-1] / 1000 + 1)
    probs, labels = filter_track_offline(times, raw, settings)
    whole_probs, whole_labels = filter_track_whole(times, raw, settings)
    assert probs == pytest.approx(whole_probs, abs=1e-6) and labels.tolist() == whole_labels.tolist()
    short = filter_track_offline(times, raw, settings.with_(lag_s=0.2))[1]
    assert short.tolist() != whole_labels.tolist()  # the test can tell a short lag from the whole track


def test_backward_ema_in_chunks_equals_the_loop():
    rng = np.random.default_rng(2)
    forward = rng.random((300, 3))
    alphas = rng.uniform(0.01, 0.9, 299)
    want = forward.copy()
    for k in range(298, -1, -1):
        want[k] = want[k + 1] + alphas[k] * (forward[k] - want[k + 1])
    assert backward_ema(forward, alphas) == pytest.approx(want, rel=1e-9)


def test_the_lagged_filter_follows_a_step_late_by_less_than_the_lag():
    times, raw = step_track(30, seconds=6, change_s=3.0, blips=[(1.0, 0.2)])
    _, labels = filter_track_offline(times, raw, OFFLINE_DEFAULT)
    switch = times[np.flatnonzero(labels == 1)[0]] / 1000
    assert abs(switch - 3.0) <= 0.2 and 2 not in labels and label_switches(labels) == 1


def one_face(track_id, raw, x=0.0):
    return Faces(np.array([[x, 0, x + 10, 10]], np.float32), np.ones(1), np.zeros((1, 2, 2)), [track_id],
                 raw_probs=np.asarray(raw, np.float32)[None])


def test_frames_come_out_in_order_and_only_after_the_lag():
    times, raw = noisy_track(frames=120)
    settings = OFFLINE_DEFAULT.with_(lag_s=0.5)
    stage = LaggedFilter(settings)
    released = []
    for t in range(len(times)):
        for time_ms, faces, payload in stage.push(times[t], one_face(1, raw[t]), payload=t):
            assert time_ms + 500 <= times[t] + 1e-6  # no frame before the newest is lag_s later
            released.append((payload, faces.label_ids[0], faces.probs[0]))
        assert all(times[t] - times[k] < 500 for k in range(len(times)) if k > (released[-1][0] if released
                                                                                 else -1) and k <= t)
    released += [(p, f.label_ids[0], f.probs[0]) for _, f, p in stage.flush()]
    assert [p for p, *_ in released] == list(range(len(times))) and len(stage) == 0
    probs, labels = filter_track_offline(times, raw, settings)
    assert [int(k) for _, k, _ in released] == labels.tolist()
    assert np.stack([p for *_, p in released]) == pytest.approx(probs, abs=1e-6)


def test_two_tracks_an_ended_track_and_faces_without_a_track():
    times = np.arange(90) * 1000 / 30.0
    _, raw_a = step_track(30, seconds=3, change_s=1.5)
    _, raw_b = step_track(30, seconds=3, change_s=0.7)
    settings = OFFLINE_DEFAULT.with_(lag_s=0.5)
    stage = LaggedFilter(settings)
    out = []
    counts = []
    for t in range(90):
        faces = [one_face(1, raw_a[t])]
        if t < 40:  # track 2 ends at frame 40
            faces.append(one_face(2, raw_b[t], x=50))
        faces.append(one_face(-1, [0.1, 0.2, 0.7], x=100))
        joined = Faces(np.concatenate([f.boxes for f in faces]), np.ones(len(faces)), np.zeros((len(faces), 2, 2)),
                       [int(f.track_ids[0]) for f in faces], raw_probs=np.concatenate([f.raw_probs for f in faces]))
        out += stage.push(times[t], joined)
        counts.append(stage.track_count)
    assert counts[39] == 2 and counts[-1] == 1  # track 2's state is freed once its frames are out
    out += stage.flush()
    assert [round(t) for t, *_ in out] == [round(t) for t in times]
    a = np.array([f.label_ids[0] for _, f, _ in out])
    b = np.array([f.label_ids[1] for _, f, _ in out[:40]])
    assert a.tolist() == filter_track_offline(times, raw_a, settings)[1].tolist()
    assert b.tolist() == filter_track_offline(times[:40], raw_b[:40], settings, clock_ms=times)[1].tolist()
    untracked = [f for _, f, _ in out]
    assert all(f.label_ids[-1] == 2 and f.probs[-1].tolist() == pytest.approx([0.1, 0.2, 0.7]) for f in untracked)
    assert all(f.raw_probs[0].tolist() == pytest.approx(raw_a[k].tolist()) for k, (_, f, _) in enumerate(out))


def test_the_queue_is_bounded():
    settings = OFFLINE_DEFAULT.with_(lag_s=1.0)
    stage = LaggedFilter(settings, max_pending=pending_capacity(1.0, 30))
    assert stage.max_pending == 40
    sizes = []
    for t in range(300):  # stamps 1 ms apart (a broken clock): the lag alone would hold every frame
        stage.push(float(t), one_face(1, [0.5, 0.5]))
        sizes.append(len(stage))
    assert max(sizes) == 40 and stage.early_releases == 260
    assert len(stage.flush()) == 40 and len(stage) == 0
    with pytest.raises(ValueError, match="max_pending"):
        LaggedFilter(settings, max_pending=0)


def test_lag_is_validated_and_described():
    assert "lag=1s" in OFFLINE_DEFAULT.describe() and "lag" not in TemporalSettings("live").describe()
    with pytest.raises(ValueError, match="lag_s"):
        TemporalSettings("offline", lag_s=-1)
    with pytest.raises(ValueError, match="viterbi_on"):
        LaggedTrack(OFFLINE_DEFAULT, viterbi_on="future")
