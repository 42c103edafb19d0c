"""Make assets/report_pexels.png for the README: the report timeline of the Pexels clip, made by the project.

Runs ``realtime-fer --video WolfgangLanger_Pexels.mp4 --report DIR`` (default temporal settings, the
shipped model unless --model) and copies the track's timeline PNG. The chart holds no video pixels.

    python scripts/make_report_figure.py [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEXELS = REPO.parent / "shared" / "data" / "samples" / "videos" / "WolfgangLanger_Pexels.mp4"
sys.path.insert(0, str(REPO))


def main() -> int:
    from realtime_fer.apps.cli import main as cli

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", type=Path, default=REPO / "assets" / "report_pexels.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fer-report-") as folder:
        report = Path(folder) / "report"
        code = cli(["--video", str(PEXELS), "--report", str(report)] + (["--model", args.model] if args.model else []))
        if code:
            return code
        summary = json.loads((report / "summary.json").read_text())
        track = summary["tracks"][0]["track_id"]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(report / f"track_{track}.png", args.out)
    shares = ", ".join(f"{k} {100 * v:.0f} %" for k, v in summary["tracks"][0]["shares"].items() if v)
    print(f"wrote {args.out}: track {track}, {shares}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
