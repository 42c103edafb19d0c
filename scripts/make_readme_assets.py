"""Make assets/annotated.jpg for the README with the project's own pipeline.

The picture is ``skimage.data.astronaut()`` (NASA, public domain) plus a mirrored,
smaller copy of it, annotated by the default model with the live mode's overlay.

    python scripts/make_readme_assets.py [--model models/expression-faceres.onnx]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from realtime_fer import Recognizer
from realtime_fer.apps.render.overlay import Overlay, hud_lines

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def scene() -> np.ndarray:
    """(512, 896, 3) uint8 BGR: the astronaut, and a half-size mirrored copy beside her."""
    astronaut = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    canvas = np.full((512, 896, 3), 40, np.uint8)
    canvas[:, :512] = astronaut
    small = cv2.resize(astronaut[:, ::-1], (320, 320), interpolation=cv2.INTER_AREA)
    canvas[96:416, 544:864] = small
    return canvas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model for the provider")
    parser.add_argument("--out", type=Path, default=ASSETS / "annotated.jpg")
    args = parser.parse_args()
    image = scene()
    with Recognizer(args.model, detector_range="both") as recognizer:
        for _ in range(3):  # a few frames so the smoothed values settle, as in a video
            result = recognizer.process(image)
        timings = sum(result.timings_ms.values())
        Overlay(recognizer.labels).draw(image, result, hud_lines(None, timings, len(result.faces), recognizer.provider))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {args.out}: {len(result.faces)} faces, {result.top()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
