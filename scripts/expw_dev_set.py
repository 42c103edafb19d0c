"""Write the ExpW dev split (``train.faceres_data.dev_mask`` over the ExpW train faces BlazeFace finds, as
``train.faceres_data.prepare`` makes it: 15 % of the photos, grouped by photo, seed 0; the split that chose the
models' checkpoints and recipes) as a folder ``train.evaluate`` scores:

    python scripts/expw_dev_set.py --out out/expw_dev
    python -m train.evaluate --model M --data out/expw_dev --split dev --detect

``OUT/labels.csv`` keeps ExpW's columns with ``split`` = dev for the dev faces only; ``OUT/faces`` links to ExpW's
face folder (nothing is copied).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    from train.faceres_data import detect_expw, dev_mask

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--expw", type=Path, default=REPO.parent / "shared" / "data" / "expw")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    with open(args.expw / "labels.csv", newline="") as handle:
        columns = csv.DictReader(handle).fieldnames
    rows = detect_expw(args.expw, "train")[0]  # the faces prepare keeps: the split is drawn over these
    dev = dev_mask([row["photo"] for row in rows])
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({**row, "split": "dev"} for row, chosen in zip(rows, dev) if chosen)
    link = args.out / "faces"
    if not link.exists():
        link.symlink_to((args.expw / "faces").resolve(), target_is_directory=True)
    print(f"{int(dev.sum())} dev faces of the {len(rows)} ExpW train faces found -> {args.out / 'labels.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
