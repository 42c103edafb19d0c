"""Run the runtime on the sample photos whose expression is known and print what it says.

    python scripts/score_sample_photos.py [--model models/expression-faceres.int8.onnx] [--json]

The photos and their labels are listed in ``../shared/data/README.md`` (labels read from the
file names); ``two_people.jpg`` holds two calm faces that must not read as angry or sad.  Each
photo goes through ``realtime_fer.Recognizer`` exactly as ``realtime-fer --image`` does (BlazeFace
``both`` ranges, eye alignment, the model's crop), and the label is the raw top class of the
photo's largest face (every face for ``two_people.jpg``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

IMAGES = REPO.parent / "shared" / "data" / "samples" / "images"
KNOWN = {"angry_black.jpg": "angry", "happy_black.jpg": "happy", "sad_asian.jpg": "sad",
         "surprise_white.jpg": "surprise", "0-f1-su-ph.jpg": "surprise", "0-f15-hao-ph.jpg": "happy",
         "15-f13-anc-ph.jpg": "angry", "45-m7-di-ph.jpg": "disgust"}
CALM = {"two_people.jpg": ("angry", "sad")}  # every face here must read as none of these


def score(model: str | Path | None = None, images: Path = IMAGES) -> dict:
    """{"known": {file: {"expected", "faces": [(label, confidence)], "label", "right"}},
    "calm": {file: {"faces": [...], "ok"}}, "right": n, "of": n}; raises FileNotFoundError."""
    import cv2
    import numpy as np

    from realtime_fer import Recognizer

    out = {"known": {}, "calm": {}}
    with Recognizer(model, provider="cpu", detector_range="both") as recognizer:
        labels = recognizer.labels

        def faces_of(name: str) -> list[tuple[str, float, float]]:
            frame = cv2.imread(str(images / name), cv2.IMREAD_COLOR)
            if frame is None:
                raise FileNotFoundError(f"expected the sample photo {images / name}, got no readable file")
            recognizer.reset()
            result = recognizer.process(frame)
            boxes, probs = result.faces.boxes, result.faces.raw_probs
            areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) if len(boxes) else np.zeros(0)
            return [(labels[int(p.argmax())], round(float(p.max()), 3), float(a)) for p, a in zip(probs, areas)]

        for name, expected in KNOWN.items():
            faces = faces_of(name)
            top = max(faces, key=lambda f: f[2])[0] if faces else None
            out["known"][name] = {"expected": expected, "label": top, "right": top == expected,
                                  "faces": [f[:2] for f in faces]}
        for name, banned in CALM.items():
            faces = faces_of(name)
            out["calm"][name] = {"faces": [f[:2] for f in faces], "not": list(banned),
                                 "ok": bool(faces) and all(f[0] not in banned for f in faces)}
    out["right"] = sum(v["right"] for v in out["known"].values())
    out["of"] = len(KNOWN)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="ONNX model (default: the runtime's CPU default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = score(args.model)
    if args.json:
        print(json.dumps(result))
        return 0
    for name, r in result["known"].items():
        print(f"{name:22s} expected {r['expected']:9s} got {str(r['label']):9s} {'ok ' if r['right'] else 'BAD'} "
              f"faces {r['faces']}")
    for name, r in result["calm"].items():
        print(f"{name:22s} calm faces {r['faces']} -> {'ok' if r['ok'] else 'reads as ' + '/'.join(r['not'])}")
    print(f"known labels right: {result['right']} of {result['of']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
