"""Resident memory over a long synthetic video run through the full --video path.

    nice -n 5 python benchmarks/bench_memory.py [--frames N] [--faces N] [--model PATH] [--video LONG.mp4]

Runs ``annotate.run`` exactly as ``realtime-fer --video ... --output OUT.mp4 --csv OUT.csv``
does (reader thread, detection look-ahead, recognize + draw, writer thread, CSV) on
``--frames`` generated 640x360 frames (or the frames of ``--video``, through the PyAV reader,
with its audio carried over into the output), sampling the process RSS (psutil) every 250
frames.  It prints the RSS after warm-up, at the end, the growth, the end/warm ratio,
and the slope of a least-squares line over the second half (MiB per 1000 frames).
Target: flat (growth within a few MiB, slope ~0).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from common import detect_ahead_factory, model_path, recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6000)
    parser.add_argument("--faces", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="look-ahead detect workers (CLI default on 2 cores)")
    parser.add_argument("--model")
    parser.add_argument("--video", help="a (long) video file instead of synthetic frames")
    args = parser.parse_args()

    import psutil

    from realtime_fer.apps.engine.loop import Hooks, Sinks, run
    from realtime_fer.apps.engine.timing import StageTimer
    from realtime_fer.core.temporal import LIVE_DEFAULT, open_stage
    from realtime_fer.apps.render.overlay import Overlay
    from realtime_fer.io.sinks import CsvSink, VideoSink
    from realtime_fer.io.sources import VideoFileSource
    from realtime_fer.io.synthetic import SyntheticSource

    process = psutil.Process()
    model, described = model_path(args.model)
    points: list[tuple[int, float]] = []

    def sample(done: int) -> None:
        if done % 250 == 0:
            points.append((done, process.memory_info().rss / 2**20))

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fer-mem-") as tmp, recognizer(model) as rec:
        if args.video:
            source = VideoFileSource(args.video, max_frames=args.frames)
        else:
            source = SyntheticSource(frames=args.frames, faces=args.faces)
        timer = StageTimer()
        video = VideoSink(Path(tmp) / "long.mp4", source.info.fps, source.info.size, timer=timer,
                          time_base=source.info.time_base, audio_from=args.video if source.info.has_audio else None)
        table = CsvSink(Path(tmp) / "long.csv", rec.labels)
        factory = detect_ahead_factory(rec, args.workers)
        stats = run(source, rec, open_stage(LIVE_DEFAULT), Sinks(video=video, tables=[table]),
                    overlay=Overlay(rec.labels), hooks=Hooks(progress=sample), timer=timer,
                    ahead=factory() if factory else None)
        size_mib = (Path(tmp) / "long.mp4").stat().st_size / 2**20
    elapsed = time.perf_counter() - started
    frames, rss = np.array(points).T
    warm = rss[frames >= 500][0] if (frames >= 500).any() else rss[0]
    half = frames >= frames[-1] / 2
    slope = np.polyfit(frames[half], rss[half], 1)[0] * 1000 if half.sum() >= 2 else float("nan")
    print(f"input: {args.video or 'synthetic'}; model: {described}; {stats.frames} frames, {stats.faces / max(stats.frames, 1):.1f} faces/frame in {elapsed:.0f} s "
          f"({stats.mean_fps:.0f} fps), {stats.rows} CSV rows, video {size_mib:.0f} MiB")
    print("RSS MiB by frame: " + ", ".join(f"{int(f)}:{r:.0f}" for f, r in points[:: max(1, len(points) // 12)]))
    print(f"RSS after warm-up (frame 500) {warm:.1f} MiB, at the end {rss[-1]:.1f} MiB, growth "
          f"{rss[-1] - warm:+.1f} MiB, ratio end/warm {rss[-1] / warm:.3f}, slope over the 2nd half "
          f"{slope:+.2f} MiB per 1000 frames")


if __name__ == "__main__":
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    main()
