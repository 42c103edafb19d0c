"""Steady labels that still follow real changes: label switches, accuracy, delay and cost of the temporal stage.

    python benchmarks/bench_temporal.py [--model PATH] [--speed-repeats 3] [--grid] [--alternatives]
        [--clips out/brief_clips] [--json]

1. ``woman2.mp4`` (a woman talking and smiling, one track): shown-label switches per minute,
   raw / the former EMA 0.6 / live default / offline default (the one-pass lagged filter ``--video``
   runs) / the offline filter over the whole track at once (lag longer than the clip), for comparison.
   Target <= 15 for live and offline. Also the shown runs shorter than 0.2 s (``short_runs``).
   ``--alternatives``: other lags, costs and smoothing, live without the minimum shown time, the switch
   cost an HMM learns from the labelled sequences (``learnt_switch_cost``), the former design re-tuned.
2. ``WolfgangLanger_Pexels.mp4`` with ``annotations/WolfgangLanger_Pexels.txt``: % of labelled
   frames right, and when the shown label turns happy relative to frame 248 (the first frame
   labelled happy; negative = earlier). Targets >= 95 % and <= 0.5 s.
3. Cost: ``realtime-fer --video PEXELS --output OUT.mp4 --csv OUT.csv`` end to end with
   ``--temporal live`` and ``--temporal offline`` (one pass, frames delayed by the lag), and the
   one-thread decode+encode loop, alternated ``--speed-repeats`` times (best of each kept); ratios
   printed (with ``--model``, else the shipped model). And the live and the offline filters' own time per
   frame with 1 and 5 faces, next to the former EMA's.

4. ``--clips FOLDER`` (made by ``benchmarks/make_brief_clips.py``): per clip of the brief-expression set, for
   raw, the former probability-lead defaults and the defaults: % of labelled frames right, % of the brief expression's
   frames that show it, how long before the brief expression starts its shown run begins (must be <= the lag;
   with the share of those early frames the raw labels already give the brief label), the shown runs shorter
   than 0.2 s, and the per-frame ABAW F1 over the set (``realtime-fer eval FOLDER FOLDER --compare`` scores the same
   labels: it replays the same stage). The defaults were chosen on this set.

The recognizer runs once per clip as ``--video`` does (detection every 2nd frame, temporal
stage off); every setting is then applied to those raw probabilities with the very functions
the runtime uses (``temporal.filter_track`` = ``LiveFilter`` / ``lagged.LaggedTrack``, released on
the video's frame clock as ``LaggedFilter`` does), so the figures are those of the CLI. Needs
../shared/data/samples. ``--grid`` prints a wider grid for re-tuning; the defaults were chosen on the clip set
(docs/temporal.md).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import tempfile
import time
from pathlib import Path

from common import PEXELS, REPO, model_path

SAMPLES = REPO.parent / "shared" / "data" / "samples"
WOMAN2 = SAMPLES / "videos" / "woman2.mp4"
PEXELS_LABELS = SAMPLES / "annotations" / "WolfgangLanger_Pexels.txt"
HAPPY_FROM = 248


WHOLE_TRACK_LAG_S = 60.0  # longer than either clip: the lagged filter then equals the whole-track one


def settings_compared():
    from realtime_fer.core.temporal import (LIVE_BEFORE, LIVE_DEFAULT, OFF, OFFLINE_BEFORE, OFFLINE_DEFAULT,
                                            TemporalSettings)

    ema = TemporalSettings("live", tau_s=TemporalSettings.tau_from_ema_weight(0.6), margin=0.0, min_hold_s=0.0,
                           evidence="prob")
    return {"raw": OFF, "EMA 0.6 (the first smoothing)": ema, "live, probability leads (former)": LIVE_BEFORE,
            "offline, probability leads (former)": OFFLINE_BEFORE, "live default": LIVE_DEFAULT,
            f"offline default (lag {OFFLINE_DEFAULT.lag_s:g} s)": OFFLINE_DEFAULT,
            "offline default, whole track at once": OFFLINE_DEFAULT.with_(lag_s=WHOLE_TRACK_LAG_S)}


def learnt_switch_cost(samples: Path = SAMPLES, classes: int = 7) -> dict:
    """The switch cost of an HMM whose transition matrix is learnt from the labelled sequences of the clip set's
    sources (the Pexels annotation and ``make_brief_clips.WOMAN2_LABELS``; unlabelled frames left out): staying
    with probability ``1 - p`` per frame (``p`` = label changes / consecutive labelled pairs), a change going to
    any of the other ``classes - 1`` classes alike. Viterbi on the model's per-frame log-probabilities then pays
    ``K = ln((1 - p) (classes - 1) / p)`` nats per switch, i.e. ``K x`` the mean frame duration in this stage's
    nats-seconds. Fit on the labels the clip set is scored with (say so with its figures)."""
    import av
    import numpy as np

    from make_brief_clips import PEXELS as PEXELS_NAME, WOMAN2 as WOMAN2_NAME, source_labels

    changes = pairs = frames = 0
    seconds = 0.0
    for name in (PEXELS_NAME, WOMAN2_NAME):
        with av.open(str(samples / "videos" / name)) as container:
            stream = container.streams.video[0]
            rate, count = float(stream.average_rate), stream.frames
        labels = source_labels(samples, name, count)
        labels = labels[labels >= 0]
        changes += int(np.count_nonzero(labels[1:] != labels[:-1]))
        pairs, frames, seconds = pairs + len(labels) - 1, frames + len(labels), seconds + len(labels) / rate
    p = changes / pairs
    per_switch = float(np.log((1.0 - p) * (classes - 1) / p))
    return {"changes": changes, "pairs": pairs, "p_change": p, "nats_per_switch": per_switch,
            "cost": per_switch * seconds / frames}


def alternative_settings() -> dict:
    """The designs and settings measured side by side with the defaults (``--alternatives``): other lags, costs and
    smoothing with log-probability leads, live without the minimum shown time, the switch cost an HMM learns from
    the labels (``learnt_switch_cost``), and the best settings of the former design (probability leads) on the
    clip set."""
    from realtime_fer.core.temporal import LIVE_DEFAULT, OFFLINE_BEFORE, OFFLINE_DEFAULT, TemporalSettings

    hmm = learnt_switch_cost()["cost"] / OFFLINE_DEFAULT.min_hold_s  # as a margin with the default hold
    return {"offline default, lag 0.5 s": OFFLINE_DEFAULT.with_(lag_s=0.5),
            "offline default, lag 2 s": OFFLINE_DEFAULT.with_(lag_s=2.0),
            "offline default, tau 0.1 s": OFFLINE_DEFAULT.with_(tau_s=0.1),
            "offline default, margin 0.3": OFFLINE_DEFAULT.with_(margin=0.3),
            "offline default, margin 1 (cost x2)": OFFLINE_DEFAULT.with_(margin=1.0),
            "offline default, margin 1.25 (cost x2.5)": OFFLINE_DEFAULT.with_(margin=1.25),
            "offline, HMM switch cost learnt from the labels": OFFLINE_DEFAULT.with_(margin=round(hmm, 4)),
            "offline, probability leads, tau 0.1 s, cost 0.04": OFFLINE_BEFORE.with_(tau_s=0.1, margin=0.05),
            "offline, probability leads, tau 0.1 s, cost 0.16": OFFLINE_BEFORE.with_(tau_s=0.1, margin=0.2),
            "live default, no minimum shown time (before)": LIVE_DEFAULT.with_(min_shown_s=0.0),
            "live default, margin 0.3": LIVE_DEFAULT.with_(margin=0.3),
            "live default, margin 0.6": LIVE_DEFAULT.with_(margin=0.6),
            "live default, margin 0.75 (cost 0.6)": LIVE_DEFAULT.with_(margin=0.75),
            "live default, margin 1 (cost 0.8)": LIVE_DEFAULT.with_(margin=1.0),
            "live, HMM switch cost learnt from the labels": LIVE_DEFAULT.with_(margin=round(hmm, 4)),
            "live default, tau 0.1 s": LIVE_DEFAULT.with_(tau_s=0.1),
            "live, probability leads, tau 0.15 margin 0.1 hold 0.2": TemporalSettings("live", 0.15, 0.1, 0.2,
                                                                                       evidence="prob")}


SHORT_RUN_S = 0.2


def short_runs(labels, times_ms) -> int:
    """Shown runs shorter than ``SHORT_RUN_S`` (blips) in a (T,) label sequence at (T,) ms, the first and the last
    run (cut by the clip) left out."""
    import numpy as np

    starts = np.concatenate([[0], np.flatnonzero(np.diff(labels)) + 1])
    if len(starts) < 3:
        return 0
    durations = np.diff(np.asarray(times_ms, np.float64)[starts]) / 1000.0  # run k lasts starts[k] -> starts[k + 1]
    return int(np.count_nonzero(durations[1:] < SHORT_RUN_S - 1e-9))


def clip_figures(model: Path, folder: Path, compared: dict) -> dict:
    """Per clip of the brief-expression set (``make_brief_clips.py``, ``clips.json``) and setting: % labelled frames
    right, % brief frames shown, seconds the brief label's shown run starts before the brief expression (0 if it
    is never shown), and the pooled per-frame ABAW F1; the labels are eval's (``row_labels``: the stage replayed)."""
    import numpy as np

    from realtime_fer.apps.engine.evaluate import (choose_rows, model_to_abaw, read_annotation, recognize,
                                                  row_labels, scores)
    from realtime_fer.core.pipeline import Recognizer
    from realtime_fer.core.temporal import OFF

    manifest = json.loads((folder / "clips.json").read_text())
    with Recognizer(model, detector_range="short", detect_every=2, temporal=OFF) as rec:
        inputs = {name: recognize(rec, folder / f"{name}.mp4", None) for name in manifest}
        to_abaw = model_to_abaw(rec.labels)
    out = {}
    for setting_name, settings in compared.items():
        settings = settings[0] if isinstance(settings, tuple) else settings
        rows, pooled_truth, pooled_shown = {}, [], []
        for name, faces in inputs.items():
            truth = read_annotation(folder / f"{name}.txt")
            chosen = choose_rows(faces, None, len(truth))
            labels = row_labels(faces, settings)
            shown = np.where(chosen >= 0, to_abaw[labels[np.maximum(chosen, 0)]], -1)
            seen = chosen >= 0
            row = {"right": float(np.mean(shown[truth >= 0] == truth[truth >= 0])),
                   "short_runs": short_runs(shown[seen], np.flatnonzero(seen) * 1000.0 / faces.fps)}
            if manifest[name]["brief"]:
                start, end, label = manifest[name]["brief"]
                row["brief_shown"] = float(np.mean(shown[start:end] == label))
                hits = np.flatnonzero(shown[start:end] == label)
                first = start + hits[0] if len(hits) else start
                while len(hits) and first > 0 and shown[first - 1] == label:
                    first -= 1
                row["early_s"] = (start - first) / faces.fps
                raw_top = to_abaw[faces.raw[np.maximum(chosen[first:start], 0)].argmax(axis=1)]
                row["early_raw_share"] = float(np.mean(raw_top == label)) if start > first else None
            rows[name] = row
            pooled_truth.append(truth)
            pooled_shown.append(shown)
        pooled = scores(np.concatenate(pooled_truth), np.concatenate(pooled_shown), set(to_abaw.tolist()))
        out[setting_name] = {"setting": settings.describe(), "abaw_f1": pooled["abaw_f1"], "clips": rows}
    return out


def print_clip_figures(figures: dict) -> None:
    names = list(next(iter(figures.values()))["clips"])
    print("\nbrief-expression clip set (the defaults were chosen on it): % labelled frames right / % brief frames "
          "shown / brief run starts before it (s) [share of those early frames the raw model reads as the brief "
          f"label]; shown runs under {SHORT_RUN_S:g} s")
    for setting_name, entry in figures.items():
        print(f"{setting_name}: {entry['setting']}; ABAW F1 over the set {entry['abaw_f1']:.4f}")
        for name in names:
            row = entry["clips"][name]
            brief = f" / {100 * row['brief_shown']:5.1f} % / {row['early_s']:+.2f}" if "brief_shown" in row else ""
            if row.get("early_raw_share") is not None:
                brief += f" [{100 * row['early_raw_share']:.0f} % raw]"
            print(f"    {name:30} {100 * row['right']:5.1f} %{brief}; short runs {row['short_runs']}")


def main_track_labels(faces, settings, viterbi_on=None):
    """(frames, times_ms, labels) of the longest track under ``settings``, filtered as ``eval``'s ``row_labels``
    filters every track (``viterbi_on``: the offline label decoder's input, None = its default)."""
    import numpy as np

    from realtime_fer.core.temporal import filter_track, filter_track_offline

    tracks = faces.track[faces.track >= 0]
    ids, counts = np.unique(tracks, return_counts=True)
    rows = np.flatnonzero(faces.track == ids[counts.argmax()])
    rows = rows[np.argsort(faces.frame[rows], kind="stable")]
    times = faces.times_ms[faces.frame[rows]]
    if settings.mode == "offline":
        _, labels = filter_track_offline(times, faces.raw[rows], settings, faces.times_ms, viterbi_on)
    else:
        _, labels = filter_track(times, faces.raw[rows], settings, clock_ms=faces.times_ms)
    return faces.frame[rows], times, labels


def happy_turn_s(frames, times_ms, labels, happy: int) -> float | None:
    """Seconds from frame HAPPY_FROM to the start of the happy run it lies in (negative = earlier)."""
    position = {int(f): k for k, f in enumerate(frames)}
    k = position.get(HAPPY_FROM)
    if k is None:
        return None
    if labels[k] == happy:
        while k > 0 and labels[k - 1] == happy:
            k -= 1
    else:
        while k < len(labels) and labels[k] != happy:
            k += 1
        if k == len(labels):
            return None
    return (times_ms[k] - times_ms[position[HAPPY_FROM]]) / 1000.0


def grid_settings() -> dict:
    """A grid of live and offline settings around the defaults (``--grid``), for re-tuning after a model change."""
    from realtime_fer.core.temporal import TemporalSettings

    grid = {}
    for mode, taus, margins, holds, lags in (
            ("live", (0.15, 0.3, 0.5, 0.8), (0.05, 0.1, 0.15, 0.2), (0.2, 0.3, 0.4, 0.6, 0.8), (1.0,)),
            ("offline", (0.25, 0.5, 1.0), (0.1, 0.2, 0.3, 0.4), (0.4, 0.8, 1.2), (0.5, 1.0, 2.0))):
        for tau in taus:
            for margin in margins:
                for hold in holds:
                    for lag in lags:
                        settings = TemporalSettings(mode, tau, margin, hold, lag)
                        grid[settings.describe()] = settings
    return grid


def label_figures(model: Path, compared: dict | None = None) -> dict:
    import numpy as np

    from realtime_fer.apps.engine.evaluate import read_annotation, recognize
    from realtime_fer.core.pipeline import Recognizer
    from realtime_fer.core.temporal import OFF, label_switches

    out = {}
    with Recognizer(model, detector_range="short", detect_every=2, temporal=OFF) as rec:
        woman = recognize(rec, WOMAN2, None)
        pexels = recognize(rec, PEXELS, None)
        names = rec.labels
    truth = read_annotation(PEXELS_LABELS)
    abaw_to_model = {4: names.index("happy"), 5: names.index("sad")}
    for name, settings in (compared or settings_compared()).items():
        settings, viterbi_on = settings if isinstance(settings, tuple) else (settings, None)
        frames, times, labels = main_track_labels(woman, settings, viterbi_on)
        minutes = (times[-1] - times[0]) / 60000.0
        row = {"woman2_switches": label_switches(labels), "woman2_switches_per_min": label_switches(labels) / minutes,
               "woman2_short_runs": short_runs(labels, times),
               "woman2_shown": {names[k]: int(c) for k, c in zip(*np.unique(labels, return_counts=True))}}
        frames, times, labels = main_track_labels(pexels, settings, viterbi_on)
        wanted = np.array([abaw_to_model.get(int(truth[f]), -1) if f < len(truth) else -1 for f in frames])
        labelled = int(np.count_nonzero(truth >= 0))
        right = int(np.count_nonzero((wanted >= 0) & (labels == wanted)))
        row.update({"pexels_right": right, "pexels_labelled": labelled, "pexels_percent_right": 100.0 * right / labelled,
                    "pexels_happy_turn_s": happy_turn_s(frames, times, labels, names.index("happy")),
                    "pexels_short_runs": short_runs(labels, times)})
        out[name] = row
    return out


class FormerEma:
    """The former temporal stage (per-track EMA, weight 0.6, removed with this benchmark's change), for reference."""

    def __init__(self, weight: float = 0.6):
        self.weight, self.state = weight, {}

    def __call__(self, faces, _time_ms):
        out = faces.raw_probs.copy()
        for i, track_id in enumerate(faces.track_ids.tolist()):
            previous = self.state.get(track_id)
            if previous is not None:
                out[i] = self.weight * previous + (1.0 - self.weight) * out[i]
            self.state[track_id] = out[i]
        return faces.replace(probs=out)


def filter_cost_us(faces_per_frame: int = 5, frames: int = 3000) -> dict:
    """Microseconds per frame of ``LiveFilter``, ``LaggedFilter`` (offline default) and the former EMA with
    ``faces_per_frame`` tracked faces at 30 fps (best of 3 interleaved passes)."""
    import numpy as np

    from realtime_fer.core.faces import Faces
    from realtime_fer.core.temporal import LaggedFilter
    from realtime_fer.core.temporal import LIVE_BEFORE, LIVE_DEFAULT, OFFLINE_BEFORE, OFFLINE_DEFAULT, LiveFilter

    rng = np.random.default_rng(0)
    raw = rng.dirichlet(np.ones(7), size=(frames, faces_per_frame)).astype(np.float32)
    boxes = np.tile([[0, 0, 10, 10]], (faces_per_frame, 1))
    base = Faces(boxes, np.ones(faces_per_frame), np.zeros((faces_per_frame, 2, 2)), np.arange(faces_per_frame))
    inputs = [base.replace(raw_probs=raw[t]) for t in range(frames)]
    makers = {"live": lambda: LiveFilter(LIVE_DEFAULT), "former_ema": FormerEma,
              "offline": lambda: LaggedFilter(OFFLINE_DEFAULT), "live_before": lambda: LiveFilter(LIVE_BEFORE),
              "offline_before": lambda: LaggedFilter(OFFLINE_BEFORE)}
    best = dict.fromkeys(makers, float("inf"))
    for _ in range(3):
        for name, make in makers.items():
            stage = make()
            start = time.perf_counter()
            if name.startswith("offline"):
                for t, faces in enumerate(inputs):
                    stage.push(t * 1000.0 / 30, faces)
                stage.flush()
            else:
                for t, faces in enumerate(inputs):
                    stage(faces, t * 1000.0 / 30)
            best[name] = min(best[name], (time.perf_counter() - start) / frames * 1e6)
    return best


def speed_figures(repeats: int, model: Path) -> dict:
    from realtime_fer.apps.engine.bench import io_only_sequential
    from realtime_fer.apps.cli import main as cli

    best = {"live": 0.0, "offline": 0.0, "io_only": 0.0}
    wall = {"live": 0.0, "offline": 0.0}
    frames = 0
    with tempfile.TemporaryDirectory(prefix="fer-bench-temporal-") as folder:
        out = Path(folder)
        for _ in range(repeats):
            frames, fps = io_only_sequential(str(PEXELS), None, 1, out / "io.mp4")
            best["io_only"] = max(best["io_only"], fps)
            for mode in ("live", "offline"):
                start = time.perf_counter()
                with contextlib.redirect_stderr(io.StringIO()) as err:
                    code = cli(["--video", str(PEXELS), "--output", str(out / f"{mode}.mp4"), "--csv",
                                str(out / f"{mode}.csv"), "--temporal", mode, "--overwrite", "--model", str(model)])
                assert code == 0, f"--temporal {mode} exited {code}"
                wall[mode] = max(wall[mode], frames / (time.perf_counter() - start))
                # the CLI's own figure: frames / loop time (flushing the delay included), model loading excluded
                fps = re.search(r"([0-9.]+) fps ->", err.getvalue())
                best[mode] = max(best[mode], float(fps.group(1)))
    return {"frames": frames, "fps": best, "fps_with_startup": wall, "offline_vs_live": best["offline"] / best["live"],
            "live_vs_io_only": best["live"] / best["io_only"], "offline_vs_io_only": best["offline"] / best["io_only"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--speed-repeats", type=int, default=3, help="0 skips the speed part")
    parser.add_argument("--grid", action="store_true", help="also print a grid of live/offline settings (re-tuning)")
    parser.add_argument("--alternatives", action="store_true",
                        help="also print the offline default with other lags and label-decoder inputs")
    parser.add_argument("--clips", help="also score the brief-expression clip set in this folder "
                        "(benchmarks/make_brief_clips.py)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for path in (WOMAN2, PEXELS, PEXELS_LABELS):
        if not path.is_file():
            raise SystemExit(f"bench_temporal: expected {path} (../shared/data/samples), got no such file")
    model, described = model_path(args.model)
    compared = {**settings_compared(), **(alternative_settings() if args.alternatives else {}),
                **(grid_settings() if args.grid else {})}
    report = {"model": described, "cpus": os.cpu_count(), "load_avg": [round(x, 1) for x in os.getloadavg()],
              "labels": label_figures(model, compared),
              "filter_us_per_frame": {n: filter_cost_us(n) for n in (1, 5)}}
    if args.clips:
        if not (Path(args.clips) / "clips.json").is_file():
            raise SystemExit(f"bench_temporal: expected {args.clips}/clips.json, got no such file; run "
                             "benchmarks/make_brief_clips.py first")
        report["clips"] = clip_figures(model, Path(args.clips), compared)
    if args.speed_repeats > 0:
        report["speed"] = speed_figures(args.speed_repeats, model)
    if args.json:
        print(json.dumps(report))
        return
    print(f"model: {described}; cpus {report['cpus']}; load avg {report['load_avg']}")
    print(f"{'setting':56} {'woman2 switches/min':>20} {'Pexels % right':>15} {'happy turn (s)':>15} "
          f"{'short runs w2/Pex':>18}")
    for name, row in report["labels"].items():
        turn = row["pexels_happy_turn_s"]
        print(f"{name:56} {row['woman2_switches_per_min']:20.1f} {row['pexels_percent_right']:14.1f}% "
              f"{'never' if turn is None else f'{turn:+.2f}':>15} "
              f"{row['woman2_short_runs']:>9d}/{row['pexels_short_runs']}")
    print("targets: <= 15 switches/min (live and offline defaults), >= 95 % right, happy by frame 260 (turn <= "
          "+0.5 s); brief expressions shown on >= 60 % (offline) / 40 % (live) of their frames, starting <= lag early")
    cost = report["filter_us_per_frame"]
    print(f"filters, us per frame with 1 / 5 faces: live {cost[1]['live']:.1f} / {cost[5]['live']:.1f}, offline "
          f"(lagged) {cost[1]['offline']:.1f} / {cost[5]['offline']:.1f}; the former probability-lead filters: live "
          f"{cost[1]['live_before']:.1f} / {cost[5]['live_before']:.1f}, offline {cost[1]['offline_before']:.1f} / "
          f"{cost[5]['offline_before']:.1f}; the former EMA {cost[1]['former_ema']:.1f} / {cost[5]['former_ema']:.1f} "
          "(a frame takes ~10000 us)")
    if "clips" in report:
        print_clip_figures(report["clips"])
    if "speed" in report:
        s = report["speed"]
        print(f"--video end to end (best of {args.speed_repeats}, {s['frames']} frames): live {s['fps']['live']:.1f} "
              f"fps, offline (one pass) {s['fps']['offline']:.1f} fps, one-thread decode+encode "
              f"{s['fps']['io_only']:.1f} fps; ratios offline/live {s['offline_vs_live']:.2f}, "
              f"live/io {s['live_vs_io_only']:.2f}, offline/io {s['offline_vs_io_only']:.2f} (the CLI's fps: loop time, "
              f"model loading excluded; with start-up: live {s['fps_with_startup']['live']:.1f}, offline "
              f"{s['fps_with_startup']['offline']:.1f} fps)")


if __name__ == "__main__":
    main()
