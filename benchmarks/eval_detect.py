"""Face-detection recall per detector and setting: FDDB (recall, unmatched detections per image), group_photos
(recall), and false faces on the no-face samples.

    python benchmarks/eval_detect.py [--data ../shared/data] [--detectors SPEC ...] [--every N] [--json OUT]
    python benchmarks/eval_detect.py --timing 100 [--detectors SPEC ...]   # speed only, interleaved

SPEC: ``blazeface:short|full|both|auto``, ``centerface:SIZE`` (longest side of its input), ``mtcnn``; add
``@F`` for a score threshold other than 0.5 and ``/P`` for a minimum box width in pixels (e.g.
``centerface:640@0.5/20``). ``--every N`` measures every N-th image (the table says how many). The matching rule
is ``realtime_fer.apps.engine.detect_eval`` 's (IoU >= 0.3, or the detection's centre in the box at 0.2-2.5x its
area; one detection per face). Times are median ms per image on this machine, under whatever load it carries;
``--timing N`` times every detector on the same N FDDB images, detectors taking turns (twice), so that background
load hits them alike: compare speeds with that, not with the table's column.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime_fer.apps.engine.detect_eval import count_false_faces, load_boxes, measure_recall  # noqa: E402
from realtime_fer.core.detect import create_detector  # noqa: E402

DEFAULT_SPECS = ("blazeface:short", "blazeface:full", "blazeface:auto", "blazeface:both", "centerface:480",
                 "centerface:640", "mtcnn")


def open_detector(spec: str):
    """``create_detector`` for one SPEC string (see the module docstring)."""
    spec, _, min_size = spec.partition("/")
    spec, _, threshold = spec.partition("@")
    name, _, setting = spec.partition(":")
    keywords = {"min_confidence": float(threshold or 0.5), "min_size": float(min_size or 0)}
    if name == "blazeface":
        return create_detector("blazeface", range=setting or "short", **keywords)
    if name == "centerface":
        return create_detector("centerface", size=int(setting) if setting else None, provider="cpu", **keywords)
    return create_detector(name, **keywords)


def timing(specs, data: Path, count: int) -> dict:
    """Median ms per FDDB image of each SPEC, on ``count`` images spread over the set, detectors taking turns."""
    import cv2
    import numpy as np

    paths = list(load_boxes(data / "fddb" / "labels.csv"))
    images = [cv2.imread(str(p)) for p in paths[:: max(len(paths) // count, 1)][:count]]
    detectors = {spec: open_detector(spec) for spec in specs}
    samples = {spec: [] for spec in specs}
    for detector in detectors.values():
        detector.detect(images[0])  # first inferences allocate
    for _ in range(2):
        for spec, detector in detectors.items():
            for image in images:
                start = time.perf_counter()
                detector.detect(image)
                samples[spec].append((time.perf_counter() - start) * 1000.0)
    for detector in detectors.values():
        detector.close()
    return {spec: float(np.median(values)) for spec, values in samples.items()}


def video_frames(path: Path):
    import cv2

    capture = cv2.VideoCapture(str(path))
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        yield frame
    capture.release()


def evaluate(spec: str, data: Path, every: int) -> dict:
    import cv2

    with open_detector(spec) as detector:
        fddb = measure_recall(detector, load_boxes(data / "fddb" / "labels.csv"), every)
        groups = measure_recall(detector, load_boxes(data / "group_photos" / "labels.csv"))
        still, _ = count_false_faces(detector, [cv2.imread(str(data / "samples/images/no-faces.jpg"))])
        clip, clip_frames = count_false_faces(detector, video_frames(data / "samples/videos/no_face.mp4"))
    return {"detector": spec, "fddb_images": fddb.images, "fddb_faces": fddb.faces, "fddb_found": fddb.found,
            "fddb_recall": round(fddb.recall, 4), "fddb_unmatched_per_image": round(fddb.unmatched_per_image, 3),
            "fddb_ms": round(fddb.ms, 1), "groups_found": groups.found, "groups_faces": groups.faces,
            "groups_recall": round(groups.recall, 4), "no_faces_jpg": still, "no_face_mp4": clip,
            "no_face_mp4_frames": clip_frames}


HEADER = ("| detector | FDDB recall | FDDB unmatched / image | ms / FDDB image | group_photos recall | "
          "no-faces.jpg | no_face.mp4 detections (frames) |\n|---|---|---|---|---|---|---|")


def row(r: dict) -> str:
    return (f"| `{r['detector']}` | {r['fddb_recall']:.3f} ({r['fddb_found']}/{r['fddb_faces']}) | "
            f"{r['fddb_unmatched_per_image']:.2f} | {r['fddb_ms']:.0f} | {r['groups_recall']:.3f} "
            f"({r['groups_found']}/{r['groups_faces']}) | {r['no_faces_jpg']} | {r['no_face_mp4']} "
            f"({r['no_face_mp4_frames']}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--detectors", nargs="+", default=list(DEFAULT_SPECS), metavar="SPEC")
    parser.add_argument("--every", type=int, default=1, help="measure every N-th FDDB image (default 1: all)")
    parser.add_argument("--json", type=Path, help="append one JSON line per detector here")
    parser.add_argument("--timing", type=int, default=0, metavar="N", help="only time the detectors on N FDDB images")
    args = parser.parse_args()
    if not (args.data / "fddb" / "labels.csv").is_file():
        sys.exit(f"eval_detect: expected FDDB at {args.data / 'fddb'}, got no labels.csv; pass --data DIR")
    if args.timing:
        for spec, ms in timing(args.detectors, args.data, args.timing).items():
            print(f"{spec}: median {ms:.1f} ms per FDDB image", flush=True)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; every {args.every}. FDDB image",
          flush=True)
    print(HEADER, flush=True)
    for spec in args.detectors:
        result = evaluate(spec, args.data, args.every)
        print(row(result), flush=True)
        if args.json:
            with open(args.json, "a") as handle:
                handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
