"""Who felt what, when: a report made from a faces CSV (``realtime-fer report faces.csv --out DIR``).

A pure function of the CSV (the columns ``sinks.table_columns`` writes). A CSV of photos (``--image``: a
``file`` column; every photo's track ids start again at 1, so tracks mean nothing across photos) gets a
per-photo report instead: each photo's faces with their label and confidence (``write_photo_report``).
A CSV of a video or a stream: per track a timeline
PNG (each class's ``prob_<label>`` over time, the shown ``label`` as a coloured band under
it), the share of its frames in each shown label and the dominant one; a summary table; all
in ``DIR/report.html`` (PNGs embedded, and alongside as ``track_<id>.png``) plus
``DIR/summary.json``. Shares are fractions of the track's rows (frames in which the face
was seen). matplotlib is imported lazily, with the Agg backend (no display needed).
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import InputError, MissingDependencyError
from .photo_report import is_photo_table, write_photo_report

PALETTE = {"angry": "#d62728", "disgust": "#8c564b", "fear": "#9467bd", "happy": "#f2b701", "neutral": "#7f7f7f",
           "sad": "#1f77b4", "surprise": "#17becf", "contempt": "#e377c2"}
REQUIRED = ("frame", "time_ms", "track_id", "label")


def color_for_label(label: str, index: int = 0) -> str:
    """A fixed colour per class name (matplotlib's tab10 for names not in PALETTE)."""
    tab10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
    return PALETTE.get(label, tab10[index % len(tab10)])


@dataclass
class Track:
    """One track of a faces table: (T,) frame, (T,) time_ms, (T,) shown labels, (T, C) probs (NaN if absent)."""

    track_id: int
    frames: np.ndarray
    time_ms: np.ndarray
    labels: list[str]
    probs: np.ndarray


@dataclass
class LabelTally:
    """A table sink (``write(result, name)``, ``close()``) counting shown labels per track, for the end-of-run table."""

    counts: dict[int, Counter] = field(default_factory=dict)
    first_ms: dict[int, float] = field(default_factory=dict)
    last_ms: dict[int, float] = field(default_factory=dict)

    def write(self, result, name=None) -> None:
        for track_id, (label, _confidence) in zip(result.faces.track_ids.tolist(), result.top()):
            self.counts.setdefault(track_id, Counter())[label] += 1
            self.first_ms.setdefault(track_id, result.time_ms)
            self.last_ms[track_id] = result.time_ms

    def close(self) -> None:
        pass

    def summary(self, labels) -> dict:
        tracks = {tid: (self.counts[tid], self.first_ms[tid], self.last_ms[tid]) for tid in self.counts}
        return summarize_counts(tracks, labels)


def load_table(path: str | Path) -> tuple[list[Track], tuple[str, ...]]:
    """Read a faces CSV into tracks (sorted by id, rows in frame order) and the class names.

    Raises:
        InputError: missing file, or not a faces table (missing columns, unreadable numbers).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"report: expected a faces CSV written by --csv, got {path} which is not a file; "
                         "run realtime-fer --video IN --csv faces.csv first")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InputError(f"report {path}: expected the columns of a faces CSV ({', '.join(REQUIRED)}, "
                             f"prob_<label>...), got no {', '.join(missing)}; pass a file written by --csv")
        labels = tuple(c[5:] for c in header if c.startswith("prob_"))
        col = {c: i for i, c in enumerate(header)}
        prob_cols = [col[f"prob_{name}"] for name in labels]
        rows: dict[int, list] = {}
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                track = int(row[col["track_id"]])
                values = (int(row[col["frame"]]), float(row[col["time_ms"]]), row[col["label"]],
                          [float(row[i]) if row[i] != "" else np.nan for i in prob_cols])
            except (ValueError, IndexError):
                raise InputError(f"report {path}: expected numbers in row {line}, got {row[:4]}...; the file "
                                 "may be damaged or not a faces CSV") from None
            rows.setdefault(track, []).append(values)
    tracks = []
    for track_id in sorted(rows):
        items = sorted(rows[track_id], key=lambda v: v[0])
        probs = np.array([v[3] for v in items], np.float32).reshape(len(items), len(labels))
        tracks.append(Track(track_id, np.array([v[0] for v in items]), np.array([v[1] for v in items]),
                            [v[2] for v in items], probs))
    return tracks, labels


def summarize_counts(tracks: dict[int, tuple[Counter, float, float]], labels) -> dict:
    """``{"tracks": [...], "faces": int, "dominant": label}`` from per-track (label counts, first ms, last ms).

    Each track entry: ``track_id, frames, start_s, end_s, shares {label: fraction, every class},
    dominant`` (ties go to the class listed first in ``labels``).
    """
    labels = list(labels)
    out, overall = [], Counter()
    for track_id in sorted(tracks):
        counts, first_ms, last_ms = tracks[track_id]
        total = sum(counts.values())
        names = labels + sorted(set(counts) - set(labels))
        shares = {name: round(counts.get(name, 0) / total, 4) for name in names}
        dominant = max(names, key=lambda n: (counts.get(n, 0), -names.index(n)))
        out.append({"track_id": int(track_id), "frames": int(total), "start_s": round(first_ms / 1000, 3),
                    "end_s": round(last_ms / 1000, 3), "shares": shares, "dominant": dominant})
        overall.update(counts)
    dominant = max(overall, key=lambda n: (overall[n], -(labels.index(n) if n in labels else len(labels)))) \
        if overall else None
    return {"tracks": out, "faces": int(sum(overall.values())), "dominant": dominant}


def summarize(tracks: list[Track], labels) -> dict:
    """The summary (see ``summarize_counts``) of tracks read by ``load_table``."""
    return summarize_counts({t.track_id: (Counter(t.labels), float(t.time_ms[0]), float(t.time_ms[-1]))
                             for t in tracks if len(t.frames)}, labels)


def plot_track(track: Track, labels, path: Path) -> Path:
    """Write the timeline PNG of one track: probabilities over time, the shown label as a band below."""
    try:
        import matplotlib
    except ImportError:
        raise MissingDependencyError("report: expected matplotlib for the plots, got no matplotlib module; "
                                     "pip install \"realtime-fer[report]\" (or pip install matplotlib)") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    seconds = track.time_ms / 1000.0
    figure, (lines, band) = plt.subplots(2, 1, figsize=(10, 3.6), sharex=True,
                                         gridspec_kw={"height_ratios": [5, 1], "hspace": 0.08})
    for k, name in enumerate(labels):
        if np.isfinite(track.probs[:, k]).any():
            lines.plot(seconds, track.probs[:, k], color=color_for_label(name, k), linewidth=1.4, label=name)
    lines.set_ylim(0, 1)
    lines.set_ylabel("probability")
    lines.set_title(f"track {track.track_id}")
    lines.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    lines.grid(alpha=0.3)
    names = list(labels) + sorted(set(track.labels) - set(labels))
    step = float(np.median(np.diff(seconds))) if len(seconds) > 1 else 1 / 30
    start = 0
    for end in range(1, len(track.labels) + 1):  # one coloured span per run of the same shown label
        if end == len(track.labels) or track.labels[end] != track.labels[start]:
            name = track.labels[start]
            band.axvspan(seconds[start], seconds[end - 1] + step, color=color_for_label(name, names.index(name)),
                         linewidth=0)
            start = end
    band.set_yticks([])
    band.set_ylabel("shown", rotation=0, ha="right", va="center")
    band.set_xlabel("time (s)")
    shown = [n for n in names if n in set(track.labels)]
    band.legend(handles=[Patch(color=color_for_label(n, names.index(n)), label=n) for n in shown], loc="upper left",
                bbox_to_anchor=(1.0, 1.6), fontsize=8, frameon=False)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path


def _html(summary: dict, images: dict[int, Path], source: str) -> str:
    head = ("<!doctype html><html><head><meta charset='utf-8'><title>realtime-fer report</title><style>"
            "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}"
            "img{max-width:100%}</style></head><body>")
    parts = [head, f"<h1>Expressions in {html.escape(source)}</h1>",
             f"<p>{len(summary['tracks'])} tracks, {summary['faces']} face-frames; most shown overall: "
             f"<b>{html.escape(str(summary['dominant']))}</b>. Shares are fractions of the frames in which the "
             "track's face was seen.</p>"]
    names = list(summary["tracks"][0]["shares"]) if summary["tracks"] else []
    parts.append("<table><tr><th>track</th><th>frames</th><th>from (s)</th><th>to (s)</th><th>dominant</th>"
                 + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>")
    for entry in summary["tracks"]:
        parts.append(f"<tr><td>{entry['track_id']}</td><td>{entry['frames']}</td><td>{entry['start_s']:.2f}</td>"
                     f"<td>{entry['end_s']:.2f}</td><td>{html.escape(entry['dominant'])}</td>"
                     + "".join(f"<td>{100 * entry['shares'].get(n, 0):.1f} %</td>" for n in names) + "</tr>")
    parts.append("</table>")
    for track_id, image in images.items():
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        parts.append(f"<h2>track {track_id}</h2><img alt='timeline of track {track_id}' "
                     f"src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def check_report_folder(out_dir: str | Path) -> Path:
    """InputError unless ``out_dir`` is a folder (existing or to be made) that files can be written into."""
    from ...io.sinks import check_output

    return check_output(out_dir, False, folder=True, label="report --out")


def write_report(csv_path: str | Path, out_dir: str | Path) -> dict:
    """Make ``out_dir``/report.html, summary.json and track_<id>.png from a faces CSV; returns the summary.

    When writing fails half-way, the files it wrote are deleted again (no half report looks like a result).
    """
    out = check_report_folder(out_dir)
    if is_photo_table(csv_path):
        return write_photo_report(csv_path, out)
    tracks, labels = load_table(csv_path)
    made = not out.is_dir()
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(tracks, labels)
    summary["source"] = Path(csv_path).name
    written: list[Path] = []
    try:
        images = {}
        for track in (t for t in tracks if len(t.frames)):
            written.append(out / f"track_{track.track_id}.png")
            images[track.track_id] = plot_track(track, labels, written[-1])
        written.append(out / "summary.json")
        written[-1].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        written.append(out / "report.html")
        written[-1].write_text(_html(summary, images, Path(csv_path).name), encoding="utf-8")
    except Exception:
        from ...io.output_paths import remove_outputs

        remove_outputs(written, [out] if made else [])
        raise
    return summary
