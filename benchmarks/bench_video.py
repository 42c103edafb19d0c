"""--video annotation throughput vs decode+encode-only throughput, measured in the same run.

    nice -n 5 python benchmarks/bench_video.py [--video IN] [--workers N] [--repeats N] [--model PATH]
        [--codec NAME] [--preset P [P ...]] [--frames N]

Defaults to the Pexels clip (../shared/data/samples/videos/WolfgangLanger_Pexels.mp4), or
300 synthetic 640x360 frames when it is absent.  Each repeat runs, back to back: the
one-thread decode->encode loop, the full pipeline (decode thread, recognize + draw,
encode thread, CSV), and the threaded decode->encode; the best of each is kept
(the machine is shared, so single passes are noisy).  Every pass uses the same reader
and encoder (``--codec``/``--preset``, default libx264 at its default preset; several
presets are compared one after the other).  Target: ratio >= 0.5.
"""

from __future__ import annotations

import argparse
import json
import os

from common import PEXELS, detect_ahead_factory, model_path, recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(PEXELS) if PEXELS.is_file() else None)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1], help="look-ahead detect workers to compare")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--codec", default=None, help="video encoder (default: libx264)")
    parser.add_argument("--preset", nargs="+", default=[None], help="encoder presets to compare (default: the default)")
    parser.add_argument("--frames", type=int, default=None, help="frames per pass (default: all)")
    args = parser.parse_args()

    from realtime_fer.apps.engine.bench import run_bench

    model, described = model_path(args.model)
    print(f"input: {args.video or 'synthetic 640x360, 1 face'}; model: {described}; cpus: {os.cpu_count()}; "
          f"load avg: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for workers, preset in ((w, p) for p in args.preset for w in args.workers):
        with recognizer(model) as rec:
            report = run_bench(rec, video=args.video, repeats=args.repeats, frames=args.frames,
                               ahead_factory=detect_ahead_factory(rec, workers),
                               encoder={"codec": args.codec, "preset": preset})
        if args.json:
            print(json.dumps({"workers": workers, **report}))
            continue
        stages = "  ".join(f"{k} {v['median_ms']:.2f}/{v['p95_ms']:.2f}" for k, v in report["stages"].items())
        print(f"{report['codec']} {report['preset']} workers={workers}: pipeline {report['fps']:.1f} fps over "
              f"{report['frames']} frames | "
              f"decode+encode one thread {report['io_only_fps']:.1f} fps -> ratio {report['ratio']:.3f} | "
              f"threaded decode+encode {report['io_threaded_fps']:.1f} fps -> ratio {report['ratio_threaded']:.3f}")
        print(f"  stage median/p95 ms: {stages}")


if __name__ == "__main__":
    main()
