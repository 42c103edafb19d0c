"""How a model reads people talking: a clip-labelled talking-face set through the real ``--video`` path.

    python benchmarks/bench_talking.py [--model PATH] [--temporal offline|live|off] [--data DIR] [--keep DIR]
        [--json] [--clips N]

Each clip of ``DIR/labels.csv`` (default ``../shared/data/talking``; columns ``path,label,person``, ``mixed``
clips are run but not scored) is annotated as ``realtime-fer --video CLIP --csv faces.csv`` does
(``run_video_job`` with the video mode's defaults and the chosen model and temporal stage). Printed per clip:
the main track's frames, the share shown with the clip's label (after the temporal stage) and raw (each frame's
own argmax), and the most-shown label; then the summary of ``apps.engine.clip_eval.summarize``: clip accuracy,
frames right, per label, neutral clips shown neutral, and the same averaged per person. ``--keep DIR`` keeps
each clip's CSV (``DIR/<clip>.csv``), whose ``raw_`` columns let a study re-score other settings offline
(``scripts/study_talking.py``). About 1-2 minutes for the 63 clips on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import REPO

TALKING = REPO.parent / "shared" / "data" / "talking"


def run_clips(data: Path, model: str | None, temporal: str, keep: Path | None, limit: int | None = None):
    """(labels, [ClipScore], seconds, frames): every clip of ``data`` through ``run_video_job``."""
    from realtime_fer.apps.engine.clip_eval import load_clip_set, read_table, score_clip
    from realtime_fer.apps.engine.options import OutputOptions, RecognizerOptions, RunOptions
    from realtime_fer.apps.engine.recognizer_setup import open_recognizer
    from realtime_fer.apps.engine.video_job import run_video_job
    from realtime_fer.core.temporal import default_settings

    recognizer_options = RecognizerOptions(model=model)
    settings = default_settings(temporal)
    scores, frames, started = [], 0, time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fer-talking-") as scratch, \
            open_recognizer(recognizer_options, "video") as recognizer:
        labels = recognizer.labels
        clips = load_clip_set(data, labels)[:limit]
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for clip in clips:
            table = folder / f"{clip.path.stem}.csv"
            options = RunOptions(recognizer=recognizer_options, temporal=settings,
                                 outputs=OutputOptions(csv=table, overwrite=True))
            result = run_video_job(clip.path, options, recognizer=recognizer)
            frames += result.frames
            scores.append(score_clip(clip, read_table(table), labels))
    return labels, scores, time.perf_counter() - started, frames


def print_report(scores, summary: dict, model: str, temporal: str, seconds: float, frames: int) -> None:
    print(f"model {model}, temporal {temporal}: {len(scores)} clips, {frames} frames in {seconds:.1f} s")
    print(f"{'clip':<44} {'label':<9} {'frames':>6} {'shown':>6} {'raw':>6}  most shown")
    for score in scores:
        mark = "" if score.label == "mixed" else ("  ok" if score.right else "  MISS")
        print(f"{score.name[:44]:<44} {score.label:<9} {score.frames:>6} {score.shown_right:>6.2f} "
              f"{score.raw_right:>6.2f}  {score.most_shown or '(no face)'}{mark}")
    print(f"\nscored clips {summary['clips']} of {summary['people']} people")
    print(f"clip accuracy {summary['clip_accuracy']:.3f} (per person {summary['by_person']['clip_accuracy']:.3f}); "
          f"frames right {summary['frames_right']:.3f} (per person {summary['by_person']['frames_right']:.3f}; "
          f"raw {summary['raw_frames_right']:.3f})")
    print(f"neutral clips shown neutral: {summary['neutral_shown_neutral']:.3f} of frames; their most-shown labels "
          f"{summary['neutral_most_shown']}")
    for label, figures in summary["per_label"].items():
        print(f"  {label:<9} {figures['clips']:>3} clips: clip accuracy {figures['clip_accuracy']:.3f}, frames right "
              f"{figures['frames_right']:.3f} (raw {figures['raw_frames_right']:.3f})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="ONNX expression model (default: the --video mode's default)")
    parser.add_argument("--temporal", default="offline", choices=("offline", "live", "off"),
                        help="the temporal stage's defaults for this mode (default: offline, as --video)")
    parser.add_argument("--data", type=Path, default=TALKING, help="clip set folder with labels.csv")
    parser.add_argument("--keep", type=Path, help="keep each clip's faces CSV in this folder")
    parser.add_argument("--clips", type=int, help="only the first N clips (a quick look)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    if not (args.data / "labels.csv").is_file():
        print(f"bench_talking: expected a clip set at {args.data} (labels.csv + clips), got none; pass --data",
              file=sys.stderr)
        return 2
    from realtime_fer.apps.engine.clip_eval import as_dict, summarize

    labels, scores, seconds, frames = run_clips(args.data, args.model, args.temporal, args.keep, args.clips)
    summary = summarize(scores, labels)
    model = args.model or "the --video default"
    if args.json:
        print(json.dumps({"model": model, "temporal": args.temporal, "seconds": round(seconds, 1), "frames": frames,
                          "summary": summary, "clips": [as_dict(score) for score in scores]}, indent=1))
    else:
        print_report(scores, summary, model, args.temporal, seconds, frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
