"""Training-step throughput (images per second) of a config's network, float32 against bfloat16.

    python benchmarks/bench_training.py [--config configs/default.toml] [--batch 128]
                                        [--rounds 3] [--seconds 10] [--json]

Builds the config's architecture on the TensorFlow backend and times ``train_on_batch`` on
random 48x48 (the config's data shape is not read: no prepared data is needed) batches
under the float32 and the ``mixed_bfloat16`` dtype policies, interleaved ``--rounds`` times
so that the shared machine's load hits both alike.  Prints the median images/s of each
policy and their ratio (bf16 / float32): the figure behind the ``precision`` config key.
On a CPU without bf16 instructions the ratio falls below 1; keep ``precision = "float32"`` there.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from train.config import load_config  # noqa: E402
from train.fit import compile_model  # noqa: E402

POLICIES = ("float32", "mixed_bfloat16")


def images_per_second(model, x: np.ndarray, y: np.ndarray, seconds: float) -> float:
    """Images per second of ``model.train_on_batch`` over ``seconds`` (after 3 warm-up steps)."""
    weights = np.ones(len(x), np.float32)
    for _ in range(3):
        model.train_on_batch(x, y, sample_weight=weights)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        model.train_on_batch(x, y, sample_weight=weights)
        steps += 1
    return steps * len(x) / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/default.toml")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, {"backend": "tensorflow"})
    rng = np.random.default_rng(0)
    shape, n_classes = (48, 48, 1), 7
    x = rng.random((args.batch, *shape), dtype=np.float32)
    y = np.eye(n_classes, dtype=np.float32)[rng.integers(0, n_classes, args.batch)]
    models = {policy: compile_model(dataclasses.replace(cfg, precision=policy), shape, n_classes)
              for policy in POLICIES}
    samples = {policy: [] for policy in POLICIES}
    for _ in range(args.rounds):
        for policy in POLICIES:
            samples[policy].append(images_per_second(models[policy], x, y, args.seconds))
    import keras

    keras.mixed_precision.set_global_policy("float32")
    median = {policy: float(np.median(values)) for policy, values in samples.items()}
    result = {"config": args.config, "batch": args.batch, "img_per_s": {p: round(v, 1) for p, v in median.items()},
              "samples": {p: [round(v, 1) for v in values] for p, values in samples.items()},
              "ratio_bf16_over_float32": round(median["mixed_bfloat16"] / median["float32"], 3)}
    if args.json:
        print(json.dumps(result))
    else:
        for policy in POLICIES:
            print(f"{policy:>15}: {median[policy]:7.1f} img/s  (rounds: {result['samples'][policy]})")
        print(f"bf16 / float32: {result['ratio_bf16_over_float32']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
