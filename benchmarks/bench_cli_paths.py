"""``realtime-fer --video`` end to end, this checkout against another one, alternating in one run.

    nice -n 5 python benchmarks/bench_cli_paths.py --video IN [--baseline DIR] [--output] [--repeats N]
        [-- extra CLI options]

Each repeat runs ``python -m realtime_fer --video IN --csv TMP.csv`` (plus ``--output TMP.mp4``
with ``--output``) once with ``PYTHONPATH`` = this checkout and once with ``--baseline``'s
(e.g. an older commit unpacked by ``git archive COMMIT | tar -x -C DIR``), and reads the fps
the CLI reports (frames / wall time of the processing loop, model loading excluded).  Prints
best and median fps of each and the ratio this / baseline of the bests.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import REPO

SUMMARY = re.compile(r"(\d+) frames, (\d+) faces, ([\d.]+) fps")


def one_run(checkout: Path, video: str, output: bool, extra: list[str], tmp: Path) -> tuple[int, float]:
    """(frames, fps) of one CLI run of ``checkout``'s code."""
    command = [sys.executable, "-m", "realtime_fer", "--video", video, "--csv", str(tmp / "out.csv"), "--overwrite"]
    if output:
        command += ["--output", str(tmp / "out.mp4")]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(command + extra, env=env, cwd=tmp, capture_output=True, text=True, timeout=900)
    match = SUMMARY.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"{checkout}: exit {done.returncode}: {done.stderr.strip()[-400:]}")
    return int(match.group(1)), float(match.group(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", required=True)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--output", action="store_true", help="also write the annotated video")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more CLI options (after --)")
    args = parser.parse_args()
    checkouts = {"this": REPO, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    fps: dict[str, list[float]] = {name: [] for name in checkouts}
    print(f"input {args.video}; {'CSV + video' if args.output else 'CSV only'}; cpus {os.cpu_count()}; "
          f"load avg {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="fer-cli-bench-") as tmp:
        for _ in range(max(1, args.repeats)):
            for name, checkout in checkouts.items():
                frames, value = one_run(checkout, args.video, args.output, args.extra, Path(tmp))
                fps[name].append(value)
                print(f"  {name}: {frames} frames, {value:.1f} fps", flush=True)
    for name, values in fps.items():
        print(f"{name} ({checkouts[name]}): best {max(values):.1f} fps, median {statistics.median(values):.1f}")
    if args.baseline:
        print(f"ratio this / baseline (best): {max(fps['this']) / max(fps['baseline']):.3f}")


if __name__ == "__main__":
    main()
