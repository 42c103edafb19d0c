"""Measure how FER2013's 48x48 crops frame a face, in BlazeFace box units.

Runs the runtime's BlazeFace detector on FER2013 validation faces (upscaled x4 and
padded so the detector sees the whole face) and prints the median crop spec
{"scale", "shift_x", "shift_y"}: FER's frame side / box side, and the offset of the
frame centre from the box centre in box sides. The runtime then crops live faces
with that spec so they look like the training crops.

    python scripts/measure_fer_crop.py ../shared/data/fer2013 --limit 1500 > configs/fer2013_crop.json
"""

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from realtime_fer.core.detect import BlazeFaceDetector


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fer_dir", type=Path)
    parser.add_argument("--limit", type=int, default=1500)
    parser.add_argument("--upscale", type=int, default=4)
    args = parser.parse_args()
    files = sorted((args.fer_dir / "val").glob("*.png"))[: args.limit]
    up, pad = args.upscale, 48 * args.upscale // 2
    scales, shifts = [], []
    with BlazeFaceDetector("short", min_confidence=0.6) as detector:
        for path in files:
            grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            big = cv2.resize(grey, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC)
            big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
            faces = detector.detect(big)
            if len(faces) != 1:
                continue
            x1, y1, x2, y2 = (faces.boxes[0] - pad) / up
            side = max(x2 - x1, y2 - y1)
            scales.append(48.0 / side)
            shifts.append(((24.0 - (x1 + x2) / 2) / side, (24.0 - (y1 + y2) / 2) / side))
    shifts = np.array(shifts)
    spec = {"scale": round(float(np.median(scales)), 3), "shift_x": 0.0,
            "shift_y": round(float(np.median(shifts[:, 1])), 3),
            "measured_on": f"{len(scales)} of {len(files)} FER2013 val faces with one BlazeFace (short) detection",
            "measured_shift_x": round(float(np.median(shifts[:, 0])), 3),
            "iqr_scale": [round(float(q), 3) for q in np.percentile(scales, [25, 75])]}
    json.dump(spec, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
