"""The temporal stage: per-track smoothing of class probabilities and a steady shown label.

Two knobs shape the *probabilities* and two the *shown label*, and they mean the same in
both modes, in seconds of source time (frame time stamps), so a 15 fps and a 60 fps
source behave alike:

* ``tau_s``: time constant of the probability smoothing (default 0: none). Live: a causal exponential
  moving average with ``alpha = 1 - exp(-dt / tau_s)`` per frame (``dt`` from the time
  stamps). Offline: the same average run forwards and then backwards (zero phase: no delay),
  over the frames known ``lag_s`` later (below).
* ``margin`` and ``min_hold_s``: the shown label. A switch costs ``margin * min_hold_s`` of evidence, a lead
  of ``margin`` held for ``min_hold_s``; ``evidence`` says what a lead is: "log" (default) the difference of
  log-probabilities (nats, floored at ``timing.LOG_FLOOR``), so a confident brief expression pays the cost fast
  and a wavering lead slowly; "prob" the difference of probabilities (the former design, the default until 2026-12-05). Offline:
  the label sequence maximising ``sum_t dt_t * e_t[label_t] - margin * min_hold_s * (number of switches)``
  (Viterbi; ``e`` = log-probabilities or probabilities). Live, "log": each class gathers its evidence
  against the shown label (``S_c = max(0, S_c + dt * (ln p_c - ln p_shown))``) and is shown once it reaches
  the cost (the lag-0 form of the offline decoder; a new track's cost grows over ``WARM_UP_S``; a label once shown
  stays ``min_shown_s``); live, "prob": hysteresis, a new label is shown once its smoothed probability has led the
  shown one by at least ``margin`` for ``min_hold_s`` seconds.
* ``lag_s`` (offline only): how many seconds of source time a frame waits for its future
  before it is filtered and released (``lagged.LaggedFilter``; ``filter_track_offline`` runs
  the same code). A lag longer than the track gives the whole-track result above.

``raw_probs`` are never changed. ``probs`` are the smoothed probabilities (with the default ``tau_s`` 0: the raw
ones) and ``label_ids`` the shown label per face (what the CSV's ``label``/``confidence`` report). The label is
chosen from the evidence over time, so it can differ from the argmax of that frame's ``probs``: it is then
*held* (``Faces.held``; the overlay marks it, the CSV's ``label`` is not the largest ``prob_`` column).

Modes: ``live`` (causal, for cameras and streams; ``LiveStage``),
``offline`` (non-causal with ``lag_s`` of look-ahead: ``LaggedStage``,
``filter_track_offline`` on one track; for files),
``off`` (probs = raw, label = argmax of raw).

The stage (``stage.py``): every consumer — the camera loop, ``--video``, ``batch``, ``eval`` — drives a
``TemporalStage`` made by ``open_stage(settings, fps)``: ``push(FrameResult) -> [FrameResult]`` (the frames
now due, in push order, with ``probs`` and ``label_ids`` set) and ``flush()`` (every frame still waiting).
``LiveStage`` returns each frame at once; ``LaggedStage`` holds frames ``lag_s`` seconds.

Modules, each importing only those above it in this list: ``timing`` (EMA weights, frame durations),
``settings`` (``TemporalSettings`` and the defaults), ``live`` (causal filter), ``whole`` (offline filter of
one whole track), ``lagged`` (offline filter with a bounded look-ahead), ``stage`` (the one interface).
"""

from .lagged import (VITERBI_ON, VITERBI_SOURCES, LaggedFilter, LaggedTrack, backward_ema,  # noqa: F401
                     filter_track_offline, pending_capacity)
from .live import LiveFilter, filter_track_live  # noqa: F401
from .settings import (EVIDENCE, LIVE_BEFORE, LIVE_DEFAULT, MAX_LOG_MARGIN, MAX_VIDEO_LAG_S,  # noqa: F401
                       MIN_SHOWN_S, MODES, OFF, OFFLINE_BEFORE, OFFLINE_DEFAULT, WARM_UP_S, TemporalSettings,
                       default_settings)
from .stage import LaggedStage, LiveStage, TemporalStage, filter_track, label_switches, open_stage  # noqa: F401
from .timing import (DEFAULT_FPS, LOG_FLOOR, MAX_GAP_S, ema_weights, evidence_of, frame_durations,  # noqa: F401
                     log_evidence)
from .whole import filter_track_whole, smooth_probs_offline, sticky_labels  # noqa: F401
