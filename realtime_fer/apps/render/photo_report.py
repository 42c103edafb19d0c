"""The report of a photos CSV (``--image ... --csv``, which has a ``file`` column): per photo, its faces.

Track ids start again at 1 in every photo, so the per-track timelines of a video would merge different people
of different photos into one "track 1" spanning 0.0-0.0 s; a photos table is summed up per photo instead:
``DIR/summary.json`` (``{"kind": "photos", "photos": [{"file", "faces": [{"track_id", "label", "confidence",
"box": [x1, y1, x2, y2]}]}], "faces", "labels": {label: faces}, "dominant", "source"}``) and ``DIR/report.html``.
Photos without a face have no row in the CSV, so they are not listed.
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from pathlib import Path

from ...errors import InputError


def is_photo_table(path: str | Path) -> bool:
    """Whether the faces CSV at ``path`` was written for photos (it has a ``file`` column)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return "file" in (next(csv.reader(handle), None) or [])
    except (OSError, UnicodeDecodeError):
        return False  # load_table names the problem


def summarize_photos(path: str | Path) -> dict:
    """The per-photo summary (module docstring) of a photos CSV; InputError for rows it cannot read."""
    photos: dict[str, list[dict]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                face = {"track_id": int(row["track_id"]), "label": row["label"],
                        "confidence": float(row["confidence"]) if row["confidence"] else None,
                        "box": [float(row[k]) for k in ("x1", "y1", "x2", "y2")]}
            except (ValueError, KeyError, TypeError):
                raise InputError(f"report {path}: expected numbers in row {line}, got {list(row.values())[:4]}...; "
                                 "the file may be damaged or not a faces CSV") from None
            photos.setdefault(row["file"], []).append(face)
    labels = Counter(face["label"] for faces in photos.values() for face in faces)
    return {"kind": "photos", "photos": [{"file": name, "faces": faces} for name, faces in photos.items()],
            "faces": sum(labels.values()), "labels": dict(labels.most_common()),
            "dominant": labels.most_common(1)[0][0] if labels else None, "source": Path(path).name}


def _html(summary: dict) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>realtime-fer report</title><style>"
             "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}</style></head><body>",
             f"<h1>Expressions in {html.escape(summary['source'])}</h1>",
             f"<p>{len(summary['photos'])} photos with {summary['faces']} faces; most shown: "
             f"<b>{html.escape(str(summary['dominant']))}</b>. Each photo is on its own: face numbers start again "
             "at 1 in every photo. Photos without a face are not in the CSV, so not here.</p>",
             "<table><tr><th>photo</th><th>face</th><th>label</th><th>confidence</th><th>box (x1, y1, x2, y2)</th>"
             "</tr>"]
    for photo in summary["photos"]:
        for face in photo["faces"]:
            confidence = "" if face["confidence"] is None else f"{face['confidence']:.2f}"
            parts.append(f"<tr><td>{html.escape(photo['file'])}</td><td>{face['track_id']}</td>"
                         f"<td>{html.escape(face['label'])}</td><td>{confidence}</td>"
                         f"<td>{', '.join(f'{v:.0f}' for v in face['box'])}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_photo_report(csv_path: str | Path, out: Path) -> dict:
    """Write ``out``/summary.json and report.html for a photos CSV (``out`` checked by the caller); the summary.
    A failed write deletes what it wrote, and ``out`` when it made it."""
    from ...io.output_paths import remove_outputs

    summary = summarize_photos(csv_path)
    made = [] if out.is_dir() else [out]
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for name, text in (("summary.json", json.dumps(summary, indent=2) + "\n"), ("report.html", _html(summary))):
            written.append(out / name)
            written[-1].write_text(text, encoding="utf-8")
    except Exception:
        remove_outputs(written, made)
        raise
    return summary
