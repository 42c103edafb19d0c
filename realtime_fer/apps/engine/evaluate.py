"""``realtime-fer eval``: score videos against per-frame labels (Aff-Wild2 / ABAW "EXPR" protocol).

Why a runtime subcommand and not ``python -m train.evaluate --video``: what is scored is the
runtime as users run it (BlazeFace, tracker, alignment, the shipped ONNX model and the
temporal stage), which ``train/`` (a repository tool needing TensorFlow) does not ship.

Annotations: one ``.txt`` per video, header ``Neutral,Anger,Disgust,Fear,Happiness,Sadness,
Surprise,Other``, then one integer per frame (0-7 in that order, -1 = not labelled).
``<video>_left.txt`` / ``<video>_right.txt`` label the person on that side of the frame.
Inputs are matched by name: ``VIDEOS`` (a video, a frame folder, or a folder of them) and
``ANNOTATIONS`` (a .txt or a folder of them).

The recognizer runs once per video with the temporal stage off and its frame results are kept; each
temporal setting compared then replays them through the very stage ``--video`` runs
(``core.temporal.open_stage(settings, fps)``, fed the same results and live track ids in the same order),
so the labels scored are the labels ``--video`` writes, frame for frame, and comparing 30 settings costs
one pass over the frames.

Scores (pooled over all labelled frames of all inputs, as ABAW does): ``abaw_f1`` = macro-F1 over
the 8 classes (Other included; a class neither labelled nor predicted scores 0, as in
scikit-learn's ``f1_score(labels=range(8))``; ``present`` names the classes labelled or shown, so a clip of
one expression scores at most 1/8 however right it is); ``f1_known`` / ``accuracy_known`` over frames whose
label the model has, macro over those of its classes that are labelled or predicted;
``coverage`` = labelled frames in which the scored person's face was found. A labelled frame
without that face is a miss (wrong) and is counted in ``no_face``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...core.temporal import (LIVE_BEFORE, OFFLINE_BEFORE, TemporalSettings, default_settings, label_switches,
                              open_stage)
from ...errors import InputError

ABAW_CLASSES = ("Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise", "Other")
SYNONYMS = {"neutral": 0, "anger": 1, "angry": 1, "disgust": 2, "fear": 3, "happy": 4, "happiness": 4, "sad": 5,
            "sadness": 5, "surprise": 6, "surprised": 6}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg"}
SIDES = ("left", "right")


def read_annotation(path: Path) -> np.ndarray:
    """(T,) int64 ABAW class per frame (-1 = not labelled); InputError for another format."""
    lines = Path(path).read_text(encoding="utf-8", errors="replace").split()
    header = lines[0] if lines else ""
    if header.replace(" ", "").lower() != ",".join(ABAW_CLASSES).lower():
        raise InputError(f"annotation {path}: expected the header {','.join(ABAW_CLASSES)}, got {header[:60]!r}; "
                         "pass an Aff-Wild2 EXPR annotation file")
    try:
        values = np.array([int(v) for v in lines[1:]], np.int64)
    except ValueError:
        raise InputError(f"annotation {path}: expected one integer (-1..7) per line after the header, got "
                         "something else; check the file") from None
    if values.size and (values.min() < -1 or values.max() > 7):
        raise InputError(f"annotation {path}: expected labels in -1..7, got {values.min()}..{values.max()}")
    return values


def model_to_abaw(labels) -> np.ndarray:
    """(C,) int64: the ABAW class of each model class (by name; unknown names -> 7, Other)."""
    return np.array([SYNONYMS.get(name.lower(), 7) for name in labels], np.int64)


def read_frame_folder(folder: Path, fps: float, first_number: int = 1):
    """Frames of an Aff-Wild2-style frame folder (``00001.jpg`` ...), gaps kept.

    The number in each file name is the frame number (``first_number`` = the first frame's),
    so frame index = number - first_number and time_ms = index * 1000 / fps. Files without a
    number in their name, or that OpenCV cannot read, are skipped. Yields ``sources.SourceFrame``
    with (H, W, 3) uint8 BGR images. (A small reader for ``eval``; the io layer's frame-folder
    source can replace it.)
    """
    import cv2

    from ...io.sources import SourceFrame

    numbered = []
    for file in Path(folder).iterdir():
        match = re.search(r"(\d+)$", file.stem)
        if match and file.is_file():
            numbered.append((int(match.group(1)), file))
    for number, file in sorted(numbered):
        image = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if image is not None:
            index = number - first_number
            yield SourceFrame(index, index * 1000.0 / fps, image, file.name)


def match_inputs(videos: Path, annotations: Path) -> tuple[list[tuple[Path, list[tuple[Path, str | None]]]], list[str]]:
    """Pair videos / frame folders with their annotation files by name.

    Returns ([(video, [(annotation, side or None), ...]), ...], warnings about unmatched files).
    """
    videos, annotations = Path(videos), Path(annotations)
    if not videos.exists():
        raise InputError(f"eval: expected a video, frame folder or folder of them, got {videos} which does not exist")
    if not annotations.exists():
        raise InputError(f"eval: expected an annotation .txt or a folder of them, got {annotations} which does not "
                         "exist")
    is_frames = videos.is_dir() and any(re.search(r"\d+$", f.stem) and f.suffix.lower() in (".jpg", ".png", ".jpeg")
                                        for f in videos.iterdir())
    if videos.is_file() or is_frames:
        candidates = [videos]
    else:
        candidates = sorted(p for p in videos.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES or p.is_dir())
    files = [annotations] if annotations.is_file() else sorted(annotations.glob("*.txt"))
    by_stem: dict[str, list[tuple[Path, str | None]]] = {}
    for file in files:
        stem, side = file.stem, None
        for s in SIDES:
            if stem.endswith(f"_{s}"):
                stem, side = stem[: -len(s) - 1], s
        by_stem.setdefault(stem, []).append((file, side))
    pairs, warnings = [], []
    for video in candidates:
        stem = video.name if video.is_dir() else video.stem
        found = by_stem.pop(stem, None)
        if found is None and annotations.is_file() and len(candidates) == 1:
            found = by_stem.pop(next(iter(by_stem)))  # one video, one named annotation file: pair them
        if found:
            pairs.append((video, found))
        elif not annotations.is_file():
            warnings.append(f"{video.name}: no annotation {stem}.txt / {stem}_left.txt / {stem}_right.txt; skipped")
    warnings += [f"{file.name}: no video or frame folder named {stem}; skipped"
                 for stem, items in by_stem.items() for file, _ in items]
    if not pairs:
        raise InputError(f"eval: expected videos whose names match annotation files, got no pair in {videos} and "
                         f"{annotations}; name them NAME.mp4 (or folder NAME/) and NAME.txt / NAME_left.txt")
    return pairs, warnings


@dataclass
class VideoFaces:
    """Every face the recognizer found in one input: row arrays, plus per-frame times.

    Attributes: frame (N,) int64, track (N,) int64, cx (N,) float64 box centre x in pixels,
    raw (N, C) float32; times_ms (F,) float64 per frame index (NaN where no frame); width in pixels; fps;
    results: per frame read, in order, (``FrameResult`` with raw probabilities, the tracker's live ids),
    what the temporal stage is fed (rows are their faces, in this order).
    """

    frame: np.ndarray
    track: np.ndarray
    cx: np.ndarray
    raw: np.ndarray
    times_ms: np.ndarray
    width: int
    fps: float
    results: list = field(default_factory=list)

    @property
    def frames_read(self) -> int:
        """Frames of the input up to the last one read (gaps of a frame folder included)."""
        return len(self.times_ms)


def recognize(recognizer, video: Path, fps: float | None, stop=None, max_frames: int | None = None) -> VideoFaces:
    """Run ``recognizer`` over a video file or frame folder and keep each face's raw probabilities."""
    from ...io.sources import VideoFileSource

    if video.is_dir():
        if fps is None:
            raise InputError(f"eval {video}: expected --fps for a frame folder (frames carry no time), got none; "
                             "e.g. --fps 30")
        frames, source = read_frame_folder(video, fps), None
    else:
        source = VideoFileSource(video, max_frames=max_frames)
        fps = fps or source.info.fps
        frames = source.frames(stop)
    rows, times, width, results = [], {}, 0, []
    recognizer.reset()
    try:
        for count, frame in enumerate(frames):
            if max_frames is not None and count >= max_frames or (stop is not None and stop.is_set()):
                break
            result = recognizer.process(frame.image, frame.index, frame.time_ms)
            width = max(width, frame.image.shape[1])
            times[frame.index] = frame.time_ms
            results.append((result, frozenset(recognizer.tracker.active_ids)))
            faces = result.faces
            for k in range(len(faces)):
                x1, _, x2, _ = faces.boxes[k]
                rows.append((frame.index, int(faces.track_ids[k]), 0.5 * (x1 + x2), faces.raw_probs[k]))
    finally:
        if source is not None:
            source.close()
    n_classes = len(recognizer.labels)
    times_ms = np.full(max(times, default=-1) + 1, np.nan)
    for index, value in times.items():
        times_ms[index] = value
    return VideoFaces(np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.int64),
                      np.array([r[2] for r in rows], np.float64),
                      np.array([r[3] for r in rows], np.float32).reshape(len(rows), n_classes), times_ms, width, fps,
                      results)


def choose_rows(faces: VideoFaces, side: str | None, length: int) -> np.ndarray:
    """(length,) int64 row of the scored person's face per frame, -1 where it was not found.

    No side: the face whose track is longest (the video's main person). "left"/"right": with
    two or more faces, the leftmost / rightmost; with one, that face if its centre is on that half.
    """
    chosen = np.full(length, -1, np.int64)
    ids, counts = np.unique(faces.track, return_counts=True)
    track_length = dict(zip(ids.tolist(), counts.tolist()))
    order = np.argsort(faces.frame, kind="stable")
    frames, starts = np.unique(faces.frame[order], return_index=True)
    for frame, rows in zip(frames.tolist(), np.split(order, starts[1:])):
        if frame >= length:
            break
        if side is None:
            chosen[frame] = max(rows.tolist(), key=lambda r: track_length[int(faces.track[r])])
        elif len(rows) >= 2:
            ordered = rows[np.argsort(faces.cx[rows])]
            chosen[frame] = ordered[0] if side == "left" else ordered[-1]
        elif (faces.cx[rows[0]] < faces.width / 2) == (side == "left"):
            chosen[frame] = rows[0]
    return chosen


def row_labels(faces: VideoFaces, settings: TemporalSettings) -> np.ndarray:
    """(N,) int64 model class shown per row under ``settings``: the frame results replayed through the temporal
    stage ``--video`` runs (``open_stage(settings, fps)``), so each label is the one ``--video`` writes."""
    stage = open_stage(settings, faces.fps)
    shown = []
    for result, live_ids in faces.results:
        shown += [r.faces.label_ids for r in stage.push(result, live_ids) if len(r.faces)]
    shown += [r.faces.label_ids for r in stage.flush() if len(r.faces)]
    return np.concatenate(shown).astype(np.int64) if shown else np.zeros(0, np.int64)


def scores(truth: np.ndarray, predicted: np.ndarray, known: set[int]) -> dict:
    """Metrics over labelled frames: truth (T,) ABAW 0-7 or -1, predicted (T,) ABAW 0-7 or -1 (no face)."""
    labelled = truth >= 0
    t, p = truth[labelled], predicted[labelled]
    confusion = np.zeros((8, 9), np.int64)  # rows: truth 0-7; columns: predicted 0-7, then "no face"
    np.add.at(confusion, (t, np.where(p >= 0, p, 8)), 1)

    def class_f1(c: int) -> float:
        tp = confusion[c, c]
        denominator = 2 * tp + (confusion[:, c].sum() - tp) + (confusion[c].sum() - tp)
        return float(2 * tp / denominator) if denominator else 0.0

    def f1(classes) -> float:
        values = [class_f1(c) for c in classes]
        return float(np.mean(values)) if values else 0.0

    known_rows = np.isin(t, sorted(known))
    present = [c for c in range(8) if confusion[c].sum() or confusion[:, c].sum()]  # in the truth or the predictions
    return {"frames": int(labelled.sum()), "no_face": int(np.count_nonzero(p < 0)),
            "coverage": float(np.mean(p >= 0)) if len(p) else 0.0,
            "abaw_f1": f1(range(8)), "f1_known": f1([c for c in present if c in known]),
            "f1_per_class": {ABAW_CLASSES[c]: round(class_f1(c), 4) for c in range(8)},
            "present": [ABAW_CLASSES[c] for c in present],
            "accuracy_known": float(np.mean(p[known_rows] == t[known_rows])) if known_rows.any() else 0.0,
            "confusion": confusion.tolist()}


def comparison_grid(main: TemporalSettings) -> list[TemporalSettings]:
    """``main`` first, then raw, the defaults, the former probability-lead defaults (``LIVE_BEFORE``, ``OFFLINE_BEFORE``:
    probability leads) and a small grid of live and offline settings around the defaults (no duplicates)."""
    live, offline = default_settings("live"), default_settings("offline")
    grid = [main, TemporalSettings("off"), live, offline, LIVE_BEFORE, OFFLINE_BEFORE]
    grid += [live.with_(min_shown_s=0.0)]  # live without the minimum shown time (before it was added)
    grid += [live.with_(tau_s=tau, margin=margin) for tau in (0.0, 0.1) for margin in (0.25, 0.5, 0.75, 1.0)]
    grid += [offline.with_(tau_s=tau, margin=margin) for tau in (0.0, 0.1) for margin in (0.25, 0.5, 0.75, 1.0)]
    grid += [offline.with_(lag_s=lag) for lag in (0.5, 2.0)]
    grid += [OFFLINE_BEFORE.with_(tau_s=tau, margin=margin) for tau in (0.25, 0.5) for margin in (0.1, 0.2)]
    unique: list[TemporalSettings] = []
    for settings in grid:
        if settings.mode == "off":
            settings = TemporalSettings("off")
        if settings not in unique:
            unique.append(settings)
    return unique


def evaluate(items: list[tuple[str, VideoFaces, np.ndarray, str | None]], labels, grid) -> dict:
    """Score every setting of ``grid`` on ``items`` = [(name, faces, truth (T,), side)]; pooled and per input."""
    to_abaw = model_to_abaw(labels)
    known = set(to_abaw.tolist())
    rows_cache = {}
    results = []
    for settings in grid:
        pooled_truth, pooled_pred, per_input, switches, minutes = [], [], [], 0, 0.0
        for name, faces, truth, side in items:
            key = id(faces), side
            if key not in rows_cache:
                rows_cache[key] = choose_rows(faces, side, len(truth))
            chosen = rows_cache[key]
            shown = row_labels(faces, settings)
            predicted = np.where(chosen >= 0, to_abaw[shown[np.maximum(chosen, 0)]] if len(shown) else -1, -1)
            seen = predicted[predicted >= 0]
            switches += label_switches(seen)
            minutes += len(truth) / faces.fps / 60.0
            entry = scores(truth, predicted, known)
            pooled_only = ("confusion", "f1_per_class")
            per_input.append({"input": name, **{k: v for k, v in entry.items() if k not in pooled_only}})
            pooled_truth.append(truth)
            pooled_pred.append(predicted)
        pooled = scores(np.concatenate(pooled_truth), np.concatenate(pooled_pred), known)
        results.append({"setting": settings.describe(), "mode": settings.mode, "tau_s": settings.tau_s,
                        "margin": settings.margin, "min_hold_s": settings.min_hold_s, "evidence": settings.evidence,
                        "min_shown_s": settings.min_shown_s,
                        "switches_per_min": round(switches / minutes, 2) if minutes else 0.0,
                        **pooled, "inputs": per_input})
    best = max(results, key=lambda r: (round(r["abaw_f1"], 6), round(r["f1_known"], 6), -r["switches_per_min"]))
    return {"classes": list(ABAW_CLASSES), "model_labels": list(labels), "results": results,
            "main": results[0]["setting"], "best": best["setting"]}


def parse_setting(spec: str) -> TemporalSettings:
    """``MODE[/EVIDENCE][:TAU[:MARGIN[:HOLD[:LAG]]]]`` -> TemporalSettings (parts left out: the mode's defaults;
    EVIDENCE ``log`` or ``prob``, ``prob`` starting from the former probability-lead defaults); InputError if bad."""
    parts = spec.split(":")
    try:
        mode, _, evidence = parts[0].partition("/")
        base = default_settings(mode)
        if evidence and base.mode != "off":
            base = {"live": LIVE_BEFORE, "offline": OFFLINE_BEFORE}[mode] if evidence == "prob" else \
                base.with_(evidence=evidence)
        values = [float(v) for v in parts[1:]]
        if len(values) > 4:
            raise ValueError("too many parts")
        names = ("tau_s", "margin", "min_hold_s", "lag_s")
        if len(values) == 4 and base.mode != "offline":
            raise ValueError("a lag is for the offline mode only")
        return base if base.mode == "off" else base.with_(**dict(zip(names, values)))
    except ValueError as exc:
        raise InputError(f"--setting {spec}: expected MODE[/EVIDENCE][:TAU[:MARGIN[:HOLD[:LAG]]]] with MODE live, "
                         f"offline or off, EVIDENCE log or prob and numbers in range (LAG: offline), got {exc}; e.g. "
                         "--setting live:0:0.5:0.8 or offline:0:1 or offline/prob:0.5:0.3:0.8:2") from None


def length_warning(name: str, labels: int, faces: VideoFaces, max_frames: int | None) -> str | None:
    """A warning when an annotation of ``labels`` lines does not fit the ``faces.frames_read`` frames read
    (frames past the end of the video are scored as misses; labels past ``max_frames`` are left out)."""
    frames = faces.frames_read
    if labels == frames or (max_frames is not None and labels > frames):
        return None
    if labels > frames:
        return (f"{name}: expected one label per frame, got {labels} labels for {frames} frames; the "
                f"{labels - frames} labels past the video's end count as frames without a face (check the pairing)")
    return (f"{name}: expected one label per frame, got {labels} labels for {frames} frames; the last "
            f"{frames - labels} frames are not scored (check the pairing)")


def run_eval(pairs, recognizer, grid: list[TemporalSettings], *, fps: float | None = None,
             max_frames: int | None = None, stop=None) -> tuple[dict, list[str]]:
    """Recognize each input of ``pairs`` (``match_inputs``) once with ``recognizer`` (its temporal stage off) and
    score every setting of ``grid``; returns (the ``evaluate`` report, warnings about the inputs)."""
    items, warnings = [], []
    for video, files in pairs:
        faces = recognize(recognizer, video, fps, stop, max_frames)
        for file, side in files:
            truth = read_annotation(file)
            message = length_warning(file.name, len(truth), faces, max_frames)
            if message:
                warnings.append(message)
            if max_frames is not None:
                truth = truth[:faces.frames_read]
            items.append((file.stem, faces, truth, side))
    return evaluate(items, recognizer.labels, grid), warnings
