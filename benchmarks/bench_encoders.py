"""What each video encoder / preset costs: CPU time, wall time, file size and quality (PSNR).

    nice -n 5 python benchmarks/bench_encoders.py [--video IN] [--frames N] [--crf Q]
        [--configs libx264:ultrafast libx264:veryfast mpeg4 ...]

Decodes the first ``--frames`` frames of ``--video`` (default: the Pexels clip) into memory
once, then encodes them with each ``codec[:preset]`` through ``av_writer.AvVideoWriter`` (the
encoder ``--output`` uses, BGR -> YUV conversion included, no audio), and reports per frame:
CPU ms (process time, all encoder threads), wall fps, KiB, and the PSNR (dB) of the decoded
output against the input frames.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from common import PEXELS

DEFAULT_CONFIGS = ["libx264:ultrafast", "libx264:superfast", "libx264:veryfast", "libx264:medium", "mpeg4"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(PEXELS))
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--crf", type=float, default=None, help="quality (default: each encoder's default)")
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    args = parser.parse_args()

    import cv2

    from realtime_fer.io.av_reader import AvVideoReader
    from realtime_fer.io.av_writer import AvVideoWriter

    reader = AvVideoReader(args.video)
    frames, times = [], []
    for image, time_ms, _, _ in reader.frames():
        frames.append(image)
        times.append(time_ms)
        if len(frames) >= args.frames:
            break
    fps, time_base = reader.fps, reader.time_base
    reader.close()
    height, width = frames[0].shape[:2]
    print(f"input {args.video}: {len(frames)} frames {width}x{height}")
    with tempfile.TemporaryDirectory(prefix="fer-enc-") as tmp:
        for config in args.configs:
            codec, _, preset = config.partition(":")
            path = Path(tmp) / f"out{'.avi' if codec == 'mjpeg' else '.mp4'}"
            cpu, wall = time.process_time(), time.perf_counter()
            writer = AvVideoWriter(path, fps, (width, height), codec=codec, preset=preset or None, crf=args.crf,
                                   time_base=time_base)
            for image, time_ms in zip(frames, times):
                writer.write(image, time_ms)
            writer.close()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            check = AvVideoReader(path)
            psnr = [cv2.PSNR(frames[k][:h, :w], decoded)
                    for k, (decoded, _, _, _) in enumerate(check.frames()) if k < len(frames)
                    for h, w in [decoded.shape[:2]]]
            check.close()
            n = len(frames)
            print(f"{config:22s} cpu {cpu * 1e3 / n:6.2f} ms/frame  wall {n / wall:6.0f} fps  "
                  f"{path.stat().st_size / n / 1024:6.1f} KiB/frame  PSNR {np.mean(psnr):5.2f} dB")


if __name__ == "__main__":
    main()
