"""The offline temporal filter with a bounded look-ahead: frames wait ``lag_s`` seconds for their future.

A frame at time ``t`` is released once a frame at ``t + lag_s`` (or later) has arrived, or when
the stream ends (``flush``); it is then filtered with everything known at that moment:

* probabilities: the causal forward EMA (``alpha = 1 - exp(-dt / tau_s)``, the live filter's)
  followed by a backward EMA over the buffered window, from the newest frame back to the
  released one (started at the newest frame's forward value). With the whole track buffered
  this is exactly ``whole.smooth_probs_offline`` (forward, then backward over the result).
* labels: fixed-lag Viterbi. The forward score vector of the track (best path score ending in each
  class, up to the last released frame, kept only for the label released there) is
  kept; at a release the Viterbi recursion runs on from it over the window with the window's
  smoothed probabilities (``VITERBI_ON``; their logs with evidence "log": ``timing.evidence_of``), and the
  path is backtracked from the best class at the newest frame down to the released frame. With the whole
  track buffered this is exactly ``whole.sticky_labels`` of the smoothed probabilities.

So a lag longer than the track (``filter_track_offline`` with ``lag_s`` >= its length, or a file
shorter than the lag) gives the whole-track result; shorter lags decide each frame with ``lag_s``
of future. Memory per track: the window, ``lag_s * fps`` rows of ``3 C + 1`` float64.
"""

from __future__ import annotations

import collections
import math

import numpy as np


from ..faces import Faces
from .settings import OFFLINE_DEFAULT, TemporalSettings
from .timing import DEFAULT_FPS, ema_weights, evidence_of, frame_durations

VITERBI_ON = "window"
"""Which probabilities the label decoder scores: "window" (the released frame's smoothed probabilities, as
the whole-track filter does), "forward" (the causal EMA) or "raw". Chosen by benchmarks/bench_temporal.py
(``--alternatives``); see docs/temporal.md."""
VITERBI_SOURCES = ("window", "forward", "raw")
# The decoder goes on from the label last shown (the kept scores of the other classes are dropped), so every
# switch the output makes is one the switch cost paid for. Keeping the unconstrained scores instead lets labels
# released at different times disagree (measured with the model before mirror averaging: woman2 2 switches instead
# of 0, Pexels 98.9 % instead of 96.7 %), so that variant was dropped.
_MIN_KEEP = 1e-4  # (1 - alpha) below this (tau < dt / 9.2: no smoothing to speak of) counts as this


def backward_ema(forward: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """The backward EMA over a window, from its newest row back: ``b[L-1] = f[L-1]``,
    ``b[k] = alphas[k] * f[k] + (1 - alphas[k]) * b[k + 1]``, vectorized in chunks with cumulative products.

    Args:
        forward: (L, C) float64 forward-EMA rows, oldest first.
        alphas: (L - 1,) float64 weights of the gaps between consecutive rows.
    Returns:
        (L, C) float64.
    """
    count = len(forward)
    out = np.empty_like(forward)
    if count == 0:
        return out
    out[-1] = forward[-1]
    chunk = 64  # keeps the cumulative products of (1 - alpha) far from underflow
    end = count - 1
    while end > 0:
        start = max(0, end - chunk)
        a = alphas[start:end]  # (m,): gap k -> k+1 for k in [start, end)
        keep = np.maximum(1.0 - a, _MIN_KEEP)
        q = np.concatenate([[1.0], np.cumprod(keep)])  # q[j] = prod_{start <= i < start + j} keep_i
        terms = (q[:-1] * a)[:, None] * forward[start:end]  # q_j a_j f_j
        tail = np.cumsum(terms[::-1], axis=0)[::-1]  # sum_{j >= k} q_j a_j f_j
        out[start:end] = (tail + q[-1] * out[end]) / q[:-1, None]
        end = start
    return out


class LaggedTrack:
    """The lagged offline filter of one track, fed frame by frame.

    ``push(time_ms, raw)`` adds a frame ((C,) raw probabilities); ``due(now_ms)`` says how many of
    the oldest frames may be released at clock time ``now_ms``; ``release(k)`` returns their
    ((k, C) float32 probabilities, (k,) int64 labels) and forgets them.
    """

    def __init__(self, settings: TemporalSettings, viterbi_on: str | None = None):
        viterbi_on = VITERBI_ON if viterbi_on is None else viterbi_on
        if viterbi_on not in VITERBI_SOURCES:
            raise ValueError(f"viterbi_on: expected one of {', '.join(VITERBI_SOURCES)}, got {viterbi_on!r}")
        self.settings, self.viterbi_on = settings, viterbi_on
        self.lag_ms = settings.lag_s * 1000.0
        self.cost = settings.switch_cost
        self._times: collections.deque = collections.deque()  # window: ms, oldest first
        self._raw: collections.deque = collections.deque()
        self._forward: collections.deque = collections.deque()
        self._state: np.ndarray | None = None  # forward EMA of the newest frame
        self._score: np.ndarray | None = None  # Viterbi scores at the last released frame (None: none yet)
        self._released_ms: float | None = None  # time of the last released frame
        self.newest_ms: float | None = None

    def __len__(self) -> int:
        return len(self._times)

    def push(self, time_ms: float, raw: np.ndarray) -> None:
        raw = np.asarray(raw, np.float64)
        if self._state is None or self._state.shape != raw.shape:
            self._state = raw.copy()
        else:
            gap = time_ms - self.newest_ms
            alpha = float(ema_weights(np.array([gap]), self.settings.tau_s)[0])
            self._state = self._state + alpha * (raw - self._state)
        self._times.append(float(time_ms))
        self._raw.append(raw)
        self._forward.append(self._state)
        self.newest_ms = float(time_ms)

    def due(self, now_ms: float) -> int:
        """How many of the oldest frames have waited ``lag_s`` at clock time ``now_ms``."""
        limit = now_ms - self.lag_ms + 1e-6
        count = 0
        for time_ms in self._times:
            if time_ms > limit:
                break
            count += 1
        return count

    def release(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Filter and forget the ``count`` oldest frames: ((count, C) float32 probs, (count,) int64 labels)."""
        count = min(int(count), len(self._times))
        if count == 0:
            return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
        times = np.fromiter(self._times, np.float64, len(self._times))
        forward = np.stack(self._forward)
        if self.settings.tau_s > 0.0 and len(times) > 1:
            smooth = backward_ema(forward, ema_weights(np.diff(times), self.settings.tau_s))
        else:
            smooth = forward
        labels = self._decode(times, smooth, count)
        for _ in range(count):
            self._times.popleft()
            self._raw.popleft()
            self._forward.popleft()
        self._released_ms = float(times[count - 1])
        return smooth[:count].astype(np.float32), labels

    def _decode(self, times: np.ndarray, smooth: np.ndarray, count: int) -> np.ndarray:
        """Labels of the ``count`` oldest window frames; advances the kept Viterbi scores past them."""
        probs = {"window": smooth, "forward": None, "raw": None}[self.viterbi_on]
        if probs is None:
            probs = np.stack(self._forward if self.viterbi_on == "forward" else self._raw)
        if self.cost <= 0.0:
            return probs[:count].argmax(axis=1).astype(np.int64)
        probs = evidence_of(probs, self.settings.evidence)
        previous = [] if self._released_ms is None else [self._released_ms]
        gains = (probs * frame_durations(np.concatenate([previous, times]))[len(previous):, None]).tolist()
        # The recursion in plain floats: C is small (7), so this is several times faster than numpy calls per frame.
        cost, steps = self.cost, []
        score = None if self._score is None else self._score.tolist()
        for gain in gains:
            if score is None:
                steps.append(None)
                score = list(gain)
                continue
            best = max(score)
            switched = best - cost
            steps.append((score, score.index(best), switched))
            score = [(s if s >= switched else switched) + g for s, g in zip(score, gain)]
        scores_at = None
        label = score.index(max(score))
        labels = [0] * len(gains)
        labels[-1] = label
        for t in range(len(gains) - 1, 0, -1):
            previous_score, best, switched = steps[t]
            if previous_score[label] < switched:
                label = best
            labels[t - 1] = label
            if t == count:
                scores_at = previous_score  # the scores at frame count - 1
        if count == len(gains):
            scores_at = score
        kept = np.array(scores_at)  # the path goes on from the label just shown: a later switch pays its cost
        self._score = np.where(np.arange(len(kept)) == labels[count - 1], kept, -np.inf)
        return np.array(labels[:count], np.int64)


def filter_track_offline(times_ms: np.ndarray, raw: np.ndarray, settings: TemporalSettings = OFFLINE_DEFAULT,
                         clock_ms: np.ndarray | None = None, viterbi_on: str | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """One track through ``LaggedTrack`` as ``LaggedFilter`` runs it in a video (``settings.lag_s`` of look-ahead;
    mode "off": raw and its argmax).

    Args:
        times_ms: (T,) ms time stamps of the track's frames, increasing.
        raw: (T, C) raw probabilities.
        clock_ms: time stamps of every frame of the video (frames without this track included;
            NaN ignored), which drive the releases as in the video; None: the track's own.
        viterbi_on: which probabilities the label decoder scores (``VITERBI_SOURCES``; None: the default).
    Returns:
        ((T, C) float32 probs, (T,) int64 labels).
    """
    times = np.asarray(times_ms, np.float64)
    raw = np.asarray(raw, np.float32)
    if settings.mode == "off":
        return raw.copy(), raw.argmax(axis=1).astype(np.int64)
    track = LaggedTrack(settings, viterbi_on)
    if clock_ms is None:
        clock = times
    else:
        clock = np.asarray(clock_ms, np.float64)
        clock = np.union1d(clock[np.isfinite(clock)], times)
    probs, labels = [], []
    j = 0
    for now in clock.tolist():
        while j < len(times) and times[j] <= now:
            track.push(float(times[j]), raw[j])
            j += 1
        due = track.due(now)
        if due:
            p, k = track.release(due)
            probs.append(p)
            labels.append(k)
    while j < len(times):
        track.push(float(times[j]), raw[j])
        j += 1
    p, k = track.release(len(track))
    probs.append(p)
    labels.append(k)
    probs = [p for p in probs if len(p)]
    out_probs = np.concatenate(probs) if probs else np.zeros((0, raw.shape[1] if raw.ndim == 2 else 0), np.float32)
    return out_probs, np.concatenate(labels).astype(np.int64)


class LaggedFilter:
    """The lagged offline filter for a stream of frames with several faces: frames in, frames out, ``lag_s`` later.

    ``push(time_ms, faces, payload)`` takes a frame (``faces.raw_probs`` (n, C), ``faces.track_ids``
    (n,)) and returns the frames now due, oldest first, as ``(time_ms, faces, payload)`` with
    ``probs`` (n, C) float32 and ``label_ids`` (n,) int64 set; ``flush()`` returns every frame
    still waiting (end of file, stop, error). Faces without a track id (-1) get their raw
    probabilities and argmax. A track's state is freed once its frames are all released and it
    is gone (not in ``live_ids`` when given, else not in the newest frame). At most
    ``max_pending`` frames wait: beyond that the oldest is released early (with what is known).
    """

    def __init__(self, settings: TemporalSettings, max_pending: int | None = None,
                 viterbi_on: str | None = None):
        if max_pending is not None and max_pending < 1:
            raise ValueError(f"max_pending: expected an integer >= 1 or None, got {max_pending}")
        self.settings, self.max_pending, self.viterbi_on = settings, max_pending, viterbi_on
        self._frames: collections.deque = collections.deque()
        self._tracks: dict[int, LaggedTrack] = {}
        self.early_releases = 0

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def track_count(self) -> int:
        return len(self._tracks)

    def push(self, time_ms: float, faces: Faces, payload=None, live_ids=None) -> list:
        raw = faces.raw_probs
        if raw is None and len(faces):
            raise ValueError("Faces.raw_probs: expected class probabilities, got None; classify before filtering")
        time_ms = float(time_ms)
        ids = faces.track_ids.tolist() if len(faces) else []
        for i, track_id in enumerate(ids):
            if track_id >= 0:
                track = self._tracks.get(track_id)
                if track is None:
                    track = self._tracks[track_id] = LaggedTrack(self.settings, self.viterbi_on)
                track.push(time_ms, raw[i])
        self._frames.append((time_ms, faces, payload, ids))
        limit = time_ms - self.settings.lag_s * 1000.0 + 1e-6
        due = 0
        for frame in self._frames:
            if frame[0] > limit:
                break
            due += 1
        if self.max_pending is not None and len(self._frames) - due > self.max_pending:
            self.early_releases += len(self._frames) - due - self.max_pending
            due = len(self._frames) - self.max_pending
        released = self._release(due)
        gone = set(ids) if live_ids is None else set(live_ids)
        for track_id in [k for k, t in self._tracks.items() if not len(t) and k not in gone]:
            del self._tracks[track_id]
        return released

    def flush(self) -> list:
        """Every waiting frame, filtered with what is known; the state is then empty."""
        released = self._release(len(self._frames))
        self._tracks.clear()
        return released

    def _release(self, count: int) -> list:
        if count <= 0:
            return []
        frames = [self._frames.popleft() for _ in range(count)]
        wanted = collections.Counter(t for frame in frames for t in frame[3] if t >= 0)
        filtered = {t: self._tracks[t].release(k) for t, k in wanted.items()}
        used = dict.fromkeys(filtered, 0)
        out = []
        for time_ms, faces, payload, ids in frames:
            if not len(faces):
                out.append((time_ms, faces.replace(probs=None, label_ids=None) if faces.raw_probs is None
                            else faces, payload))
                continue
            probs = faces.raw_probs.astype(np.float32, copy=True)
            labels = probs.argmax(axis=1).astype(np.int64)
            for i, track_id in enumerate(ids):
                if track_id >= 0:
                    k = used[track_id]
                    probs[i], labels[i] = filtered[track_id][0][k], filtered[track_id][1][k]
                    used[track_id] = k + 1
            out.append((time_ms, faces.replace(probs=probs, label_ids=labels), payload))
        return out


def pending_capacity(lag_s: float, fps: float | None) -> int:
    """Frames ``lag_s`` of a ``fps`` source holds, with room for uneven time stamps (the delay's bound)."""
    fps = fps if fps and math.isfinite(fps) and fps > 0 else DEFAULT_FPS
    return int(math.ceil(lag_s * fps * 1.25)) + 2
