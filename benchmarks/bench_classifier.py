"""Classifier-only throughput (faces per second) per batch size, for CPU and GPU providers.

    python benchmarks/bench_classifier.py [--provider auto|cpu|cuda|tensorrt] [--model PATH ...]
                                          [--batches 1 5 32 256 1024] [--threads N] [--seconds S] [--json]

Runs ``ExpressionClassifier.predict`` (the runtime's own preprocessing + one ONNX Runtime
call) on random uint8 crops of the model's input size, so it needs neither MediaPipe nor
data: it is the script to carry to a GPU machine.  Default models: the shipped model for
the provider (int8 on CPU, float32 on CUDA/TensorRT).  For each batch size it prints the
median ms per batch over ``--seconds`` of calls, ms per face and faces per second, plus
the provider that really ran.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def time_batches(classifier, batch: int, seconds: float, rng: np.random.Generator) -> dict:
    """{"batch", "median_ms", "ms_per_face", "faces_per_s"} for ``batch`` crops per call."""
    width, height = classifier.input_size
    crops = rng.integers(0, 256, (batch, height, width, classifier.card.input.channels), dtype=np.uint8)
    for _ in range(5):  # warm-up (GPU providers compile and allocate on the first calls)
        classifier.predict(crops)
    samples, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(samples) < 5:
        t0 = time.perf_counter()
        classifier.predict(crops)
        samples.append((time.perf_counter() - t0) * 1e3)
    median = float(np.median(samples))
    return {"batch": batch, "median_ms": round(median, 4), "ms_per_face": round(median / batch, 4),
            "faces_per_s": round(batch / median * 1e3, 1), "calls": len(samples)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="auto")
    parser.add_argument("--model", nargs="*", help="ONNX models with sidecars (default: the shipped one)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 5, 32, 256])
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (CPU)")
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per batch size")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from realtime_fer.core.classify import ExpressionClassifier

    rng = np.random.default_rng(0)
    report = {"cpus": os.cpu_count(), "runs": []}
    for model in args.model or [None]:
        classifier = ExpressionClassifier(model, provider=args.provider, intra_op_threads=args.threads)
        rows = [time_batches(classifier, batch, args.seconds, rng) for batch in args.batches]
        report["runs"].append({"model": classifier.model_path.name, "provider": classifier.provider,
                               "threads": args.threads, "batches": rows})
    if args.json:
        print(json.dumps(report))
        return 0
    for run in report["runs"]:
        print(f"{run['model']} on {run['provider']} ({run['threads']} thread(s), {report['cpus']} cpus)")
        for row in run["batches"]:
            print(f"  batch {row['batch']:>5}: {row['median_ms']:9.3f} ms per call, {row['ms_per_face']:.4f} ms per face, "
                  f"{row['faces_per_s']:>10.1f} faces/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
