"""Leads measured in log-probability (evidence "log", the default): a switch cost that a confident brief
expression pays fast and a wavering lead slowly, live (change detection) and offline (Viterbi)."""

import numpy as np
import pytest

from realtime_fer.core.temporal import (LIVE_DEFAULT, MIN_SHOWN_S, OFFLINE_DEFAULT, WARM_UP_S, TemporalSettings,
                                        LOG_FLOOR, filter_track_live, filter_track_offline, label_switches,
                                        log_evidence, sticky_labels)

FPS = 30.0


def track(segments, classes: int = 3):
    """(times_ms, raw) at 30 fps from [(seconds, {class: probability, ...}), ...]; the rest share what is left."""
    rows = []
    for seconds, probs in segments:
        row = np.full(classes, (1.0 - sum(probs.values())) / (classes - len(probs)))
        for c, p in probs.items():
            row[c] = p
        rows += [row] * int(round(seconds * FPS))
    return np.arange(len(rows)) * 1000.0 / FPS, np.array(rows, np.float32)


def shown_on(times, labels, start_s, end_s, c) -> float:
    inside = (times >= start_s * 1000 - 1e-6) & (times < end_s * 1000 - 1e-6)
    return float(np.mean(labels[inside] == c))


def test_log_evidence_floors_ruled_out_classes():
    assert log_evidence(np.array([1.0, 0.5, 0.0])).tolist() == pytest.approx([0.0, np.log(0.5), np.log(LOG_FLOOR)])
    assert LOG_FLOOR == 0.1  # a lead counts at most ln(10) = 2.3 nats per second: no 0.1 s blip pays a switch


def test_offline_log_evidence_tells_a_brief_expression_from_a_wavering_lead():
    """A fixed cost on probability leads cannot: the brief expression's integrated probability lead (0.4 s x 0.96
    = 0.38) is smaller than a 4.2 s wavering one's (4.2 s x 0.1 = 0.42); in log-probability it is larger
    (0.4 s x ln(0.97 / 0.1) = 0.91 against 4.2 s x ln(0.55 / 0.45) = 0.84)."""
    hold = (2.0, {0: 0.97, 1: 0.01})
    brief = track([hold, (0.4, {0: 0.01, 1: 0.97}), hold])
    wavering = track([hold, (4.2, {0: 0.45, 1: 0.55}), hold])
    for cost in np.linspace(0.05, 0.5, 19):  # probability leads: every cost that shows the brief one shows both
        shows_brief = 1 in sticky_labels(brief[0], brief[1], cost)
        assert not shows_brief or 1 in sticky_labels(wavering[0], wavering[1], cost)
    cost = 0.44  # two switches: 0.88
    assert 1 in sticky_labels(brief[0], log_evidence(brief[1]), cost)
    assert 1 not in sticky_labels(wavering[0], log_evidence(wavering[1]), cost)


def test_offline_default_shows_half_a_second_and_not_a_tenth():
    times, raw = track([(2.0, {0: 0.9}), (0.5, {1: 0.9}), (1.0, {0: 0.9}), (0.1, {2: 0.9}), (1.0, {0: 0.9})])
    _, labels = filter_track_offline(times, raw, OFFLINE_DEFAULT)
    assert shown_on(times, labels, 2.0, 2.5, 1) == 1.0  # no lag in the offline filter: exactly the frames
    assert 2 not in labels and label_switches(labels) == 2
    _, before = filter_track_offline(times, raw, OFFLINE_DEFAULT.with_(evidence="prob", tau_s=0.5, margin=0.3))
    assert 1 not in before  # the defaults before issue 17 swallowed it


def test_live_switch_time_depends_on_the_lead():
    """After the warm-up, a lead of L nats pays the default cost (0.45 x 0.8 = 0.36 nats-seconds) in 0.36 / L s."""
    start, cost = WARM_UP_S + 1.0, LIVE_DEFAULT.switch_cost
    strong = track([(start, {0: 0.9}), (2.0, {1: 0.9})])  # lead ln(0.9 / 0.1) = 2.2 nats (floored): ~0.16 s
    weak = track([(start, {0: 0.55, 1: 0.45}), (3.0, {0: 0.45, 1: 0.55})])  # lead 0.2 nats: ~1.8 s
    delays = []
    for times, raw in (strong, weak):
        labels = filter_track_live(times, raw, LIVE_DEFAULT)[1]
        delays.append(times[np.flatnonzero(labels == 1)[0]] / 1000.0 - start)
    assert cost == pytest.approx(0.36)
    assert delays[0] == pytest.approx(cost / np.log(0.9 / LOG_FLOOR), abs=1.5 / FPS)
    assert delays[1] == pytest.approx(cost / np.log(0.55 / 0.45), abs=1.5 / FPS)


def test_live_ignores_flicker_and_a_tenth_of_a_second_but_shows_half_a_second():
    after = WARM_UP_S + 0.5
    times, raw = track([(after, {0: 0.9}), (0.1, {1: 0.8}), (1.0, {0: 0.9}), (0.5, {1: 0.8}), (1.0, {0: 0.9})])
    flicker = raw.copy()
    flicker[np.arange(len(raw)) % 2 == 1] = raw[0][[1, 0, 2]]  # every other frame: class 1 leads as strongly
    labels = filter_track_live(times, raw, LIVE_DEFAULT)[1]
    assert shown_on(times, labels, after, after + 1.1, 1) == 0.0  # the 0.1 s blip (lead 2.1 nats: 0.21 < 0.36)
    assert shown_on(times, labels, after + 1.1, after + 1.6, 1) >= 0.6  # the 0.5 s expression, ~0.17 s late
    assert label_switches(filter_track_live(times, flicker, LIVE_DEFAULT)[1][:int(after * FPS)]) <= 1


def test_live_warm_up_lets_a_new_track_leave_its_first_frame_label():
    times, raw = track([(0.1, {1: 0.5, 0: 0.3}), (3.0, {0: 0.6, 1: 0.3})])
    labels = filter_track_live(times, raw, LIVE_DEFAULT)[1]
    assert labels[0] == 1 and labels[int(0.3 * FPS)] == 0  # without the warm-up: 0.36 / ln(2) = 0.52 s
    settled = filter_track_live(times, raw, TemporalSettings("live", 0.0, 0.5, 0.8, evidence="prob"))[1]
    assert settled[int(0.3 * FPS)] == 1  # (the probability hysteresis: hold 0.8 s)


def run_lengths_s(labels) -> list[float]:
    """Seconds each shown run lasts, the last one (cut by the track's end) left out."""
    changes = np.flatnonzero(np.diff(labels)) + 1
    return (np.diff(np.concatenate([[0], changes])) / FPS).tolist()


def test_live_holds_a_shown_label_min_shown_s_even_in_the_warm_up():
    """A new face whose weak leads take turns every 0.15 s (lead ln 3 = 1.1 nats: the warm-up's quarter cost, 0.09,
    is paid in 0.08 s): without the hold every turn is shown for ~0.15 s; with it no label is shown for less than
    0.2 s, and the evidence gathered meanwhile still switches at once when the hold is over."""
    turns = [(0.15, {c: 0.6, (c + 1) % 3: 0.2}) for c in (1, 2, 0, 1, 2, 0, 1, 2)]
    times, raw = track([(0.2, {0: 0.6, 1: 0.2})] + turns)
    free = filter_track_live(times, raw, LIVE_DEFAULT.with_(min_shown_s=0.0))[1]
    assert min(run_lengths_s(free)) < 0.15 and label_switches(free) >= 4
    held = filter_track_live(times, raw, LIVE_DEFAULT)[1]
    assert MIN_SHOWN_S == 0.2 and min(run_lengths_s(held)) >= MIN_SHOWN_S - 1e-9
    assert label_switches(held) < label_switches(free)
    after = WARM_UP_S + 1.0  # and later, a confident 0.5 s expression is still shown, then left after the hold
    times, raw = track([(after, {0: 0.9}), (0.5, {1: 0.9}), (1.0, {0: 0.9})])
    labels = filter_track_live(times, raw, LIVE_DEFAULT)[1]
    assert shown_on(times, labels, after, after + 0.5, 1) >= 0.6 and labels[-1] == 0


def test_min_shown_s_is_validated_and_described():
    with pytest.raises(ValueError, match="min_shown_s"):
        TemporalSettings("live", min_shown_s=-0.1)
    assert "min_shown=0s" in LIVE_DEFAULT.with_(min_shown_s=0.0).describe()
    assert "min_shown" not in LIVE_DEFAULT.describe() and "min_shown" not in OFFLINE_DEFAULT.describe()


def test_a_switch_cost_of_zero_shows_the_argmax_without_a_hold():
    times, raw = track([(0.5, {0: 0.9}), (0.1, {1: 0.9}), (0.5, {0: 0.9})])
    labels = filter_track_live(times, raw, LIVE_DEFAULT.with_(margin=0.0))[1]
    assert labels.tolist() == raw.argmax(axis=1).tolist()  # the 0.1 s run included
