"""realtime-fer batch on a corpus: vs a shell loop of --video calls, workers 2 vs 1, Ray vs local.

    python benchmarks/bench_batch.py [--copies 4] [--rounds 1] [--no-ray]

The corpus is the sample clips of ../shared/data/samples/videos, each linked ``--copies``
times into a temporary folder (6 clips x 4 = 24 files), CSV only, default model and settings.
Every figure comes from the same run, each timed as the command a user types, run as a
subprocess with ``python -m realtime_fer`` from this checkout:

* shell loop: ``for f in ...; do python -m realtime_fer --video $f --csv OUT/$f.csv; done``
* ``batch CORPUS --out OUT --workers 1`` and ``--workers 2``
* ``batch CORPUS --out OUT --ray HEAD:PORT`` on a 2-CPU local cluster this script starts
  (``ray start --head --num-cpus 2``; its start-up is not in the timing) and stops.

Printed: wall seconds, corpus frames/s, the ratios against the targets (batch --workers 2 /
loop <= 0.5; workers 2 / workers 1 frames/s >= 1.2; Ray / local workers 2 frames/s >= 0.85),
per-video overhead in batch (a job's seconds minus its video's own loop time; and the
whole wall of --workers 1 minus the loops, per video, start-up included), and whether every batch CSV equals the loop's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO

SAMPLES = REPO.parent / "shared" / "data" / "samples" / "videos"


def _run(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4, help="links per sample clip (6 clips: 4 -> 24 files)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every measurement this many times")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    clips = sorted(p for p in SAMPLES.glob("*") if p.suffix.lower() in (".mp4", ".mov"))
    if not clips:
        sys.exit(f"bench_batch: expected sample videos in {SAMPLES}, got none")
    work = Path(tempfile.mkdtemp(prefix="fer-bench-batch-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for copy in range(args.copies):
        for clip in clips:
            (corpus / f"{clip.stem}_{copy}{clip.suffix}").symlink_to(clip)
    files = sorted(corpus.iterdir())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    fer = [sys.executable, "-m", "realtime_fer"]
    print(f"corpus: {len(files)} files ({len(clips)} sample clips x {args.copies}); cpus {os.cpu_count()}; "
          f"load avg {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    ray_address = None
    if not args.no_ray:
        port = _free_port()
        subprocess.run(["ray", "start", "--head", "--num-cpus", "2", "--port", str(port), "--node-ip-address",
                        "127.0.0.1", "--include-dashboard", "false", "--disable-usage-stats"], check=True,
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the address the head listens on (this Ray binds its node IP even when asked for 127.0.0.1)
        ray_address = Path(tempfile.gettempdir(), "ray", "ray_current_cluster").read_text().strip()
    try:
        for round_ in range(1, args.rounds + 1):
            _round(round_, work, files, corpus, fer, env, ray_address)
    finally:
        if ray_address:
            subprocess.run(["ray", "stop", "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def _round(round_: int, work: Path, files, corpus: Path, fer: list, env: dict, ray_address) -> None:
    loop_out = work / f"loop{round_}"
    loop_out.mkdir()
    script = "; ".join(f"{' '.join(fer)} --video '{f}' --csv '{loop_out / f.stem}.csv'" for f in files)
    start = time.perf_counter()
    subprocess.run(["bash", "-c", script], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    loop_s = time.perf_counter() - start
    walls, fps, records = {}, {}, {}
    runs = {"workers 1": ["--workers", "1"], "workers 2": ["--workers", "2"]}
    if ray_address:
        runs["ray (2-CPU cluster)"] = ["--ray", ray_address]
    for name, extra in runs.items():
        out = work / f"{name.split()[0]}{extra[-1].replace(':', '_')}_{round_}"
        walls[name] = _run([*fer, "batch", str(corpus), "--out", str(out), "--csv", "--quiet", *extra], env)
        records[name] = _manifest(out)
        assert all(r["status"] == "done" for r in records[name]), [r["error"] for r in records[name]]
        frames = sum(r["frames"] for r in records[name])
        fps[name] = frames / walls[name]
        equal = all((out / r["outputs"]["csv"]).read_bytes() == (loop_out / f"{r['key']}.csv").read_bytes()
                    for r in records[name])
        print(f"[round {round_}] batch {name:20s} {walls[name]:6.1f} s  {fps[name]:6.1f} corpus frames/s  "
              f"CSVs equal to the --video loop's: {equal}")
    frames = sum(r["frames"] for r in records["workers 1"])
    print(f"[round {round_}] shell loop of --video   {loop_s:6.1f} s  {frames / loop_s:6.1f} corpus frames/s "
          f"({loop_s / len(files):.2f} s per call)")
    own = sum(r["frames"] / r["fps"] for r in records["workers 1"])
    in_job = sum(r["seconds"] - r["frames"] / r["fps"] for r in records["workers 1"]) / len(files)
    print(f"[round {round_}] batch --workers 2 / shell loop time: {walls['workers 2'] / loop_s:.3f} (target <= 0.5)")
    print(f"[round {round_}] workers 2 / workers 1 frames/s: {fps['workers 2'] / fps['workers 1']:.3f} (target >= 1.2)")
    print(f"[round {round_}] per-video overhead in batch --workers 1: {in_job:.3f} s per video in the worker (job "
          f"seconds - the video's own loop; target <= 0.1); everything else included (process and worker start-up, "
          f"driver): {(walls['workers 1'] - own) / len(files):.3f} s per video (wall {walls['workers 1']:.1f} s - "
          f"loops {own:.1f} s, / {len(files)})")
    if ray_address:
        name = "ray (2-CPU cluster)"
        print(f"[round {round_}] ray / local workers 2 frames/s: {fps[name] / fps['workers 2']:.3f} (target >= 0.85)")


if __name__ == "__main__":
    main()
