"""``realtime-fer eval``: score videos against per-frame ABAW EXPR labels (``engine.evaluate``), print the tables."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ...errors import InputError
from ..console import EXIT_OK, EXIT_SIGNAL, StopOnSignal, rich_console, warn
from ..engine.options import RunOptions
from .arguments import subcommand_parser, add_run_arguments

SUMMARY = "score videos against per-frame ABAW EXPR labels (macro-F1, accuracy, coverage)"


def build_parser() -> argparse.ArgumentParser:
    parser = subcommand_parser("eval", description="Score videos or frame folders against "
                               "Aff-Wild2 / ABAW EXPR per-frame annotations (macro-F1 over 8 classes, "
                               "accuracy, coverage, confusion), for one or many temporal settings.")
    parser.add_argument("videos", metavar="VIDEOS", help="a video, a frame folder, or a folder of them")
    parser.add_argument("annotations", metavar="ANNOTATIONS", help="an annotation .txt or a folder of them")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of frame folders (videos: their own)")
    parser.add_argument("--compare", action="store_true", help="also score raw, live and offline settings in a grid "
                        "and name the best by ABAW macro-F1")
    parser.add_argument("--setting", action="append", default=[], metavar="MODE[/EVIDENCE][:TAU[:MARGIN[:HOLD[:LAG]]]]",
                        help="also score this temporal setting (repeatable), e.g. live:0:0.5:0.8 or "
                             "offline:0.1 or offline/prob:0.5:0.3:0.8:2; parts left out take that mode's defaults "
                             "(/prob: the former probability-lead defaults)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    add_run_arguments(parser, "eval")
    return parser


def run(args, options: RunOptions, stop: StopOnSignal) -> int:
    """Recognize each input once, score the settings, print tables or JSON; the exit code."""
    from ..engine.evaluate import comparison_grid, match_inputs, parse_setting, run_eval
    from ..engine.recognizer_setup import open_recognizer

    if args.fps is not None and not 0 < args.fps <= 1000:
        raise InputError(f"--fps: expected a frame rate in (0, 1000], got {args.fps}; e.g. --fps 30")
    pairs, warnings = match_inputs(Path(args.videos), Path(args.annotations))
    for message in warnings:
        warn(message)
    grid = [options.temporal] + [parse_setting(spec) for spec in args.setting]
    if args.compare:
        grid += comparison_grid(options.temporal)
    grid = list(dict.fromkeys(grid))  # keep the order, drop repeats
    with open_recognizer(options.recognizer, "eval") as recognizer:
        report, warnings = run_eval(pairs, recognizer, grid, fps=args.fps, max_frames=options.max_frames,
                                    stop=stop.event)
    for message in warnings:
        warn(message)
    if args.json:
        print(json.dumps(report))
    else:
        _print_report(report)
    if stop.signum is not None:
        warn("interrupted: the scores cover the frames read so far")
        return EXIT_SIGNAL[stop.signum]
    return EXIT_OK


def headline_note(result: dict, classes: int = 8) -> str:
    """One line saying what the headline scores of ``result`` (a pooled ``evaluate`` result) mean."""
    present = len(result["present"])
    return (f"ABAW F1 = mean F1 over all {classes} classes, a class neither labelled nor shown counting 0 ({present} "
            f"of {classes} present here, so at most {present / classes:.3f}); F1 known = mean over the present "
            "classes the model has.")


def _class_table(classes, result: dict):
    """Per class: frames labelled, frames shown, F1, and whether it is present (absent classes score 0)."""
    from rich.table import Table

    confusion = result["confusion"]
    table = Table("class", "labelled", "shown", "F1", "present", title="per class (all inputs)")
    for c, name in enumerate(classes):
        labelled, shown = sum(confusion[c]), sum(row[c] for row in confusion)
        table.add_row(name, str(labelled), str(shown), f"{result['f1_per_class'][name]:.3f}",
                      "yes" if name in result["present"] else "no (scores 0)")
    return table


def _print_report(report: dict) -> None:
    from rich.table import Table

    console = rich_console()
    main = report["results"][0]
    table = Table("input", "frames", "ABAW F1", "classes present", "F1 known", "acc. known", "coverage", "no face",
                  title=f"per input ({main['setting']})")
    rows = [(row, None) for row in main["inputs"]] + [({**main, "input": "all"}, "bold")]
    for row, style in rows:
        table.add_row(row["input"], str(row["frames"]), f"{row['abaw_f1']:.3f}",
                      f"{len(row['present'])} of {len(report['classes'])}", f"{row['f1_known']:.3f}",
                      f"{row['accuracy_known']:.3f}", f"{row['coverage']:.3f}", str(row["no_face"]), style=style)
    console.print(table)
    console.print(headline_note(main, len(report["classes"])))
    console.print(_class_table(report["classes"], main))
    confusion = Table("truth \\ shown", *[c[:5] for c in report["classes"]], "no face", title="confusion (frames)")
    for name, counts in zip(report["classes"], main["confusion"]):
        if sum(counts):
            confusion.add_row(name, *[str(v) for v in counts])
    console.print(confusion)
    if len(report["results"]) > 1:
        settings = Table("setting", "ABAW F1", "F1 known", "acc. known", "switches/min", title="temporal settings")
        for row in report["results"]:
            settings.add_row(row["setting"], f"{row['abaw_f1']:.4f}", f"{row['f1_known']:.4f}",
                             f"{row['accuracy_known']:.4f}", f"{row['switches_per_min']:.1f}",
                             style="bold" if row["setting"] == report["best"] else None)
        console.print(settings)
        console.print(f"best by ABAW macro-F1 (then F1 known, then fewer switches): {report['best']}")
