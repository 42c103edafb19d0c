"""Reproduce the vendored BlazeFace models in models/ from the mediapipe 0.10.21 wheel.

Current mediapipe wheels (>= 1.0) ship no model files; 0.10.21 (Apache-2.0) still has
them under ``mediapipe/modules/face_detection/``. This downloads that wheel with pip
(the only step that needs a network), extracts the two .tflite files and checks their
sha256 against models/MODELS.md's manifest. The runtime itself never downloads.

    python scripts/fetch_blazeface.py [--out models]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "mediapipe==0.10.21"
FILES = {
    "mediapipe/modules/face_detection/face_detection_short_range.tflite":
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite":
        "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "models")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "-d", tmp, WHEEL],
                       check=True)
        wheel = next(Path(tmp).glob("mediapipe-0.10.21-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for member, expected in FILES.items():
                data = archive.read(member)
                actual = hashlib.sha256(data).hexdigest()
                if actual != expected:
                    print(f"fetch_blazeface: {member}: expected sha256 {expected}, got {actual}", file=sys.stderr)
                    return 1
                (args.out / Path(member).name).write_bytes(data)
                print(f"wrote {args.out / Path(member).name} ({len(data)} bytes, sha256 ok)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
