"""Levers for reading talking faces right, scored by leaving one person out on the talking-face set.

    python benchmarks/bench_talking.py --model models/expression-compact.onnx --keep out/talking/compact
    python benchmarks/bench_talking.py --model models/expression-faceres.int8.onnx --keep out/talking/faceres
    python scripts/study_talking.py --runs compact=out/talking/compact faceres=out/talking/faceres \
        --balance 0 0.5 1 --l2 0.001 0.01 [--final] [--json]

The kept CSVs hold each frame's raw probabilities (``raw_`` columns) of every model, on the same detections (the
detector does not depend on the model). Levers: each model as it is; each model plus log-prior offsets
(``train.talking_prior``); with several runs, the models' mean log-probability, and a fitted weighted sum plus
offsets. Every fitted lever is scored person by person with numbers fitted on the other people's clips, through
the offline (``--video``) and live (``--camera``) temporal stages. ``--final`` also prints the numbers fitted on
every clip (what a shipped model would carry).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from train.talking_prior import TALKING, fit, leave_one_person_out, load_runs  # noqa: E402


def levers(names: list[str]) -> list[tuple[list[str], str]]:
    found = [([n], "as is") for n in names] + [([n], "prior") for n in names]
    if len(names) > 1:
        found += [(names, "as is"), (names, "weights+prior")]
    return found


def main(argv=None) -> int:
    from realtime_fer.core.temporal import LIVE_DEFAULT, OFFLINE_DEFAULT

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", nargs="+", required=True, help="NAME=FOLDER of bench_talking.py --keep CSVs")
    parser.add_argument("--data", type=Path, default=REPO / TALKING)
    parser.add_argument("--balance", type=float, nargs="+", default=[0.5], help="label balance exponents to try")
    parser.add_argument("--l2", type=float, nargs="+", default=[0.01], help="L2 strengths to try")
    parser.add_argument("--final", action="store_true", help="also fit each lever on every clip and print it")
    parser.add_argument("--json", action="store_true", help="one JSON list at the end instead of a line per lever")
    args = parser.parse_args(argv)
    runs = dict(item.split("=", 1) for item in args.runs)
    clips = load_runs(args.data, runs)
    results = []
    for members, mode in levers(list(runs)):
        fitted = mode != "as is"
        for balance in (args.balance if fitted else [0.0]):
            for l2 in (args.l2 if fitted else [0.0]):
                row = {"lever": "+".join(members) + ("" if not fitted else f" {mode}"),
                       "balance": balance if fitted else None, "l2": l2 if fitted else None}
                for stage, settings in (("offline", OFFLINE_DEFAULT), ("live", LIVE_DEFAULT)):
                    row[stage] = leave_one_person_out(clips, members, mode, balance, l2, settings)
                if args.final and fitted:
                    row["fitted_on_all"] = [round(float(v), 4)
                                            for v in fit(clips, members, balance, l2, mode == "weights+prior")]
                results.append(row)
                if not args.json:
                    print(json.dumps(row), flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
