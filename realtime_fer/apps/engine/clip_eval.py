"""Scoring a model on clips that carry one expression label each (e.g. a talking-face set), by clip and by person.

A clip set is a folder with ``labels.csv`` (columns ``path``, ``label``, ``person``; ``path`` relative to the
folder; ``label`` one of the model's class names, or ``mixed`` for a clip that is not scored). Each clip is run
through the real ``--video`` path (``benchmarks/bench_talking.py``); this module scores the rows it wrote:

* the clip's *main track* is the track with the most rows (one face per frame of it);
* per clip: the share of the main track's frames whose shown label (``label``, after the temporal stage) and whose
  raw label (the argmax of the frame's own ``raw_`` probabilities) equal the clip's label, and the clip's
  most-shown label;
* over the set (``summarize``): clip accuracy (most-shown label right), frames right (the mean over clips of the
  share of shown frames right, so a long clip counts as much as a short one), the same per label, the share of
  neutral frames on neutral clips, and per person (each person's clips averaged first, then the people), so that
  one person with many clips does not dominate.

No I/O but ``load_clip_set`` and ``read_table``; no printing.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from ...errors import InputError

UNSCORED = "mixed"


@dataclass(frozen=True)
class Clip:
    """One labelled clip: ``path`` (absolute), ``label`` (a class name or ``UNSCORED``), ``person`` (an id)."""

    path: Path
    label: str
    person: str

    @property
    def scored(self) -> bool:
        return self.label != UNSCORED


@dataclass(frozen=True)
class ClipScore:
    """What the recognizer showed on one clip's main track.

    Attributes:
        name, label, person: the clip's file name, label and person.
        frames: rows of the main track (0: no face found; the clip then counts as wrong).
        shown_right / raw_right: shares of those frames whose shown / raw label is ``label`` (0 when no frames).
        most_shown: the label shown on most of its frames ("" when no frames); shown_shares: label -> share.
    """

    name: str
    label: str
    person: str
    frames: int
    shown_right: float
    raw_right: float
    most_shown: str
    shown_shares: dict

    @property
    def right(self) -> bool:
        return self.frames > 0 and self.most_shown == self.label


def load_clip_set(folder: str | Path, labels: tuple[str, ...]) -> list[Clip]:
    """The clips of ``folder/labels.csv`` in file order.

    Raises:
        InputError: no labels.csv, a missing column or clip file, or a label that is neither one of ``labels``
            nor ``mixed``.
    """
    folder = Path(folder)
    table = folder / "labels.csv"
    if not table.is_file():
        raise InputError(f"clip set: expected {table} with columns path,label,person, got no such file; pass the "
                         "folder that holds labels.csv")
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    clips = []
    for number, row in enumerate(rows, start=2):
        if not {"path", "label", "person"} <= set(row):
            raise InputError(f"{table}: expected columns path,label,person, got {sorted(row)}; add the missing ones")
        if row["label"] not in labels and row["label"] != UNSCORED:
            raise InputError(f"{table} line {number}: expected a label in {', '.join(labels)} or {UNSCORED}, got "
                             f"{row['label']!r}; fix the label")
        path = folder / row["path"]
        if not path.is_file():
            raise InputError(f"{table} line {number}: expected the clip {path}, got no such file; fix the path")
        clips.append(Clip(path, row["label"], row["person"]))
    return clips


def read_table(path: str | Path) -> list[dict]:
    """The rows of a faces CSV (``--csv``) as dicts of strings."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def main_track(rows: list[dict]) -> list[dict]:
    """The rows of the track with the most rows (ties: the lowest id), in frame order; [] for no rows."""
    if not rows:
        return []
    counts = Counter(row["track_id"] for row in rows)
    best = min(counts, key=lambda track: (-counts[track], int(track)))
    return sorted((row for row in rows if row["track_id"] == best), key=lambda row: int(row["frame"]))


def raw_label(row: dict, labels: tuple[str, ...]) -> str:
    """The argmax of a row's ``raw_<label>`` columns (first label on ties)."""
    values = [float(row[f"raw_{label}"]) for label in labels]
    return labels[values.index(max(values))]


def score_clip(clip: Clip, rows: list[dict], labels: tuple[str, ...]) -> ClipScore:
    """``clip``'s ``ClipScore`` from the rows ``--csv`` wrote for it (every track; the main one is scored)."""
    track = main_track(rows)
    return score_labels(clip, [row["label"] for row in track], [raw_label(row, labels) for row in track], labels)


def score_labels(clip: Clip, shown: list[str], raw: list[str], labels: tuple[str, ...]) -> ClipScore:
    """``clip``'s ``ClipScore`` from its main track's shown and raw label per frame (equal lengths, frame order)."""
    counts = Counter(shown)
    frames = len(shown)
    most = min(counts, key=lambda label: (-counts[label], labels.index(label))) if counts else ""
    return ClipScore(clip.path.name, clip.label, clip.person, frames,
                     counts[clip.label] / frames if frames else 0.0,
                     sum(label == clip.label for label in raw) / frames if frames else 0.0, most,
                     {label: round(count / frames, 4) for label, count in counts.most_common()})


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def _by_person(scores: list[ClipScore], value) -> float:
    """The mean over people of the mean over each person's clips of ``value(score)``."""
    people = defaultdict(list)
    for score in scores:
        people[score.person].append(value(score))
    return _mean(_mean(values) for values in people.values())


def summarize(scores: list[ClipScore], labels: tuple[str, ...]) -> dict:
    """The set's figures (scored clips only; see the module docstring).

    Returns:
        {"clips", "people", "clip_accuracy", "frames_right", "raw_frames_right", "neutral_shown_neutral",
         "by_person": {"clip_accuracy", "frames_right"}, "per_label": {label: {"clips", "clip_accuracy",
         "frames_right", "raw_frames_right"}}, "neutral_most_shown": {label: clips}}.
    """
    scored = [score for score in scores if score.label != UNSCORED]
    per_label = {}
    for label in labels:
        mine = [score for score in scored if score.label == label]
        if mine:
            per_label[label] = {"clips": len(mine), "clip_accuracy": _mean(s.right for s in mine),
                                "frames_right": _mean(s.shown_right for s in mine),
                                "raw_frames_right": _mean(s.raw_right for s in mine)}
    neutral = [score for score in scored if score.label == "neutral"]
    return {"clips": len(scored), "people": len({score.person for score in scored}),
            "clip_accuracy": _mean(score.right for score in scored),
            "frames_right": _mean(score.shown_right for score in scored),
            "raw_frames_right": _mean(score.raw_right for score in scored),
            "neutral_shown_neutral": _mean(score.shown_right for score in neutral),
            "by_person": {"clip_accuracy": _by_person(scored, lambda s: float(s.right)),
                          "frames_right": _by_person(scored, lambda s: s.shown_right)},
            "per_label": per_label,
            "neutral_most_shown": dict(Counter(score.most_shown or "(no face)" for score in neutral).most_common())}


def as_dict(score: ClipScore) -> dict:
    """A JSON-ready dict of ``score`` (with ``right``)."""
    return {**asdict(score), "right": score.right}
