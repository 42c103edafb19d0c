"""How the int8 export's calibration images and weight range change a faceres-layout model, scored on ExpW dev.

``python scripts/study_int8_calibration.py --run runs/faceres``

Exports ``RUN/best.keras`` to float32 ONNX, then quantises it four ways: calibrated on the export's own 512
training images (``train.export``: an even stride over the mix, mostly grey FER2013 faces) or on 512 colour
ExpW train-minus-dev faces, each with ``reduce_range`` (7-bit weights, the export default) and with 8-bit
weights. Prints one JSON line per variant: dev accuracy and the share of dev faces whose top label equals the
float32 graph's. ExpW ``val`` is not read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    from train.config import config_from_dict
    from train.export import export_onnx, load_checkpoint, ort_probs, quantize_int8
    from train.fit import load_data

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, default=Path("runs/faceres"))
    args = p.parse_args()
    config = json.loads((args.run / "config.json").read_text(encoding="utf-8"))
    data = load_data(config_from_dict(config, where=str(args.run / "config.json")))
    y = data.val_y.argmax(1)
    expw = data.train_x.expw_x
    calibrations = {"export mix": data.train_x[:: max(1, len(data.train_x) // 512)][:512],
                    "ExpW colour": expw[np.linspace(0, len(expw) - 1, 512).astype(int)].astype(np.float32) / 255}
    with tempfile.TemporaryDirectory() as tmp:
        float_path = export_onnx(load_checkpoint(args.run / "best.keras"), Path(tmp) / "float.onnx")
        float_top = ort_probs(float_path, data.val_x).argmax(1)
        print(json.dumps({"run": str(args.run), "variant": "float32",
                          "dev_accuracy": round(float((float_top == y).mean()), 4)}))
        for name, images in calibrations.items():
            for reduce_range in (True, False):
                q_path = quantize_int8(float_path, Path(tmp) / "q.onnx", images, reduce_range=reduce_range)
                top = ort_probs(q_path, data.val_x).argmax(1)
                weights = "7-bit" if reduce_range else "8-bit"
                print(json.dumps({"run": str(args.run), "calibration": name, "weights": weights,
                                  "dev_accuracy": round(float((top == y).mean()), 4),
                                  "top_label_as_float32": round(float((top == float_top).mean()), 4)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
