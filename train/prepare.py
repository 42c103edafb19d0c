"""Prepare a facial-expression data set for training, as the seed paper does.

``python -m train.prepare --data DIR --out OUT [--align mtcnn|blazeface|none] [--size 96] ...``

Steps (seed paper, Sections 4-5; every parameter an option, the paper's values the defaults):
read and hash every image -> SHA-1 duplicate removal (Table 1) -> label encoding and
stratified 80/20 split with seed 0 (Table 2), or FER2013's own usage split -> eye
alignment (Table 3) -> resize and scale to [0, 1] -> noise augmentation of the
training set (Tables 4-5) -> reshuffle, class weights, one-hot -> save.

Output (``OUT/``), the contract ``train/fit.py`` reads:
    train_x.npy, val_x.npy  float32 (N, H, W, C) in [0, 1], C = 3 BGR or 1 grey
    train_y.npy, val_y.npy  float32 (N, K) one-hot
    meta.json               classes, label_encoding, class_weights, size, channels, color,
                            alignment, label_source, data, split, ...
    report.md, report.json, *.png
    val_files.txt           the source file of each val row (relative to --data), for error analysis

The arrays are written chunk by chunk into ``.npy`` files created with
``numpy.lib.format.open_memmap``, so the float set is never in RAM; what stays in
RAM is one uint8 copy of the images at the model size.  Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from train import augment, datasets, dedup, eye_alignment, report, split
from train.augment import PolicyError
from realtime_fer.errors import MissingDependencyError
from train.datasets import DatasetError

StageProgress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stage is a short label such as "read"."""


@dataclass
class Config:
    """Every option of the preparation (the paper's values are the defaults)."""

    data: Path
    out: Path
    align: str = "mtcnn"
    size: int = 96
    color: str = "bgr"
    labels: str = "fer2013"
    classes: str = "six"
    split: str = "auto"  # auto: usage for FER2013, stratified for class folders
    val_fraction: float = 0.2
    seed: int = 0
    augment: str = "paper"
    workers: int = 2
    read_threads: int = 4
    detect_min_side: int = 160
    chunk: int = 1024
    figures: bool = True


@dataclass
class Result:
    """What :func:`prepare` made: the report dict and the files written."""

    report: dict
    files: list[Path] = field(default_factory=list)


def write_npy(path: Path, shape: tuple[int, ...], dtype, chunks: Iterable[np.ndarray]) -> None:
    """Write a ``.npy`` of ``shape`` from consecutive row chunks without holding it in RAM.

    The file and its header come from ``numpy.lib.format.open_memmap``; the rows are then
    written with plain file writes (page cache, not process memory).
    """
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    offset = mm.offset
    del mm
    rows = 0
    with open(path, "r+b") as handle:
        handle.seek(offset)
        for chunk in chunks:
            chunk = np.ascontiguousarray(chunk, dtype=dtype)
            handle.write(chunk.tobytes())
            rows += len(chunk)
    if rows != shape[0]:
        raise RuntimeError(f"write_npy {path}: expected {shape[0]} rows, wrote {rows}")


def _chunks(count: int, size: int):
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes (the path itself when outside ``root``)."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _peak_rss_mb(who: str = "self") -> float:
    """Peak resident set size in MiB of this process ("self") or of its largest finished child
    process ("children", the alignment workers); Linux ``ru_maxrss`` is KiB."""
    import resource  # noqa: PLC0415

    target = resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN
    return resource.getrusage(target).ru_maxrss / 1024


def _check_detector_installed(method: str) -> None:
    """Raise MissingDependencyError before any work when the alignment detector cannot be imported."""
    import importlib.util  # noqa: PLC0415

    needed = {"mtcnn": ("mtcnn", "tensorflow"), "blazeface": ("mediapipe",), "none": ()}[method]
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependencyError(f"--align {method}: expected {', '.join(missing)} installed, got ImportError; "
                                     "run pip install 'realtime-fer[train]' or use --align none")


def prepare(cfg: Config, progress: StageProgress | None = None) -> Result:
    """Run every step and write ``cfg.out``.

    Raises:
        DatasetError, PolicyError: bad input (the message names the class, rows or field).
        MissingDependencyError: the ``--align`` detector is not installed.
    """
    tick = progress or (lambda stage, done, total: None)
    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[name] = round(now - clock, 3)
        clock = now

    _check_detector_installed(cfg.align)
    policy = augment.load_policy(cfg.augment)
    inventory = datasets.read_inventory(cfg.data, cfg.labels, cfg.classes)
    if len(inventory) == 0:
        raise DatasetError(f"--data {cfg.data}: expected images, found none after filtering; check --labels/--classes")
    split_method = cfg.split if cfg.split != "auto" else ("usage" if inventory.usage is not None else "stratified")
    if split_method == "usage" and inventory.usage is None:
        raise DatasetError("--split usage: expected a FER2013 layout with a usage column, got class folders; "
                           "use --split stratified")
    lap("list")

    # 1. read + hash + decode + fit to the model size (one pass over the files)
    size = (cfg.size, cfg.size)
    scan = datasets.scan_images(inventory.paths, cfg.color, size, cfg.read_threads,
                                lambda d, t: tick("read", d, t))
    lap("read")
    labels = inventory.labels
    failed_classes = {labels[i] for i in range(len(labels))} - {labels[i] for i in np.flatnonzero(scan.ok)}
    if failed_classes:
        raise DatasetError(f"class {sorted(failed_classes)[0]!r}: expected readable images, none could be decoded; "
                           "check the files (see the skipped list)")

    # 2. SHA-1 duplicates, before the split
    if split_method == "usage":
        dd = dedup.deduplicate_by_split(scan.sha1, labels, inventory.usage, scan.ok)
    else:
        dd = dedup.deduplicate(scan.sha1, labels, scan.ok)
    keep = np.flatnonzero(dd.keep)
    lap("dedup")

    # 3. label encoding + split (indices into the scanned arrays)
    classes, codes_all = split.encode_labels(labels)
    codes_kept = codes_all[keep]
    if split_method == "usage":
        tr, va = split.usage_split([inventory.usage[i] for i in keep])
        for k, name in enumerate(classes):
            if not (codes_kept[tr] == k).any() or not (codes_kept[va] == k).any():
                raise DatasetError(f"usage split: expected class {name!r} in both Training and PublicTest rows, "
                                   "got an empty side; use --split stratified or another --classes")
    else:
        tr, va = split.stratified_split(codes_kept, classes, cfg.val_fraction, cfg.seed)
    train_rows, val_rows = keep[tr], keep[va]
    lap("split")

    # 4. alignment (overwrites the fitted images where eyes are found)
    aligned = np.zeros(len(scan.ok), bool)
    if cfg.align != "none":
        rows = np.concatenate([train_rows, val_rows])
        flags = eye_alignment.align_images(scan.images, inventory.paths, rows, cfg.align, cfg.color, cfg.workers,
                                      cfg.detect_min_side, lambda d, t: tick("align", d, t))
        aligned[rows] = flags
    lap("align")

    # 6. augmentation plan on the training set, 7. reshuffle
    train_codes = codes_all[train_rows]
    plan = augment.plan_augmentation(train_codes, classes, policy)
    plan = plan.permuted(augment.shuffle_order(len(plan), cfg.seed))
    weights = split.class_weights(plan.codes, len(classes))
    lap("plan")

    # 5 + 7. scale to [0, 1], noise, one-hot, save in chunks
    cfg.out.mkdir(parents=True, exist_ok=True)
    h, w, c = scan.images.shape[1:]
    k = len(classes)
    done = [0]
    total_rows = len(plan) + len(val_rows)

    def counted(batches):
        for batch in batches:
            yield batch
            done[0] += len(batch)
            tick("write", done[0], total_rows)

    write_npy(cfg.out / "train_x.npy", (len(plan), h, w, c), np.float32,
              counted(augment.render_rows(plan, s, scan.images, train_rows) for s in _chunks(len(plan), cfg.chunk)))
    write_npy(cfg.out / "train_y.npy", (len(plan), k), np.float32, [split.one_hot(plan.codes, k)])
    write_npy(cfg.out / "val_x.npy", (len(val_rows), h, w, c), np.float32,
              counted(scan.images[val_rows[s]].astype(np.float32) / np.float32(255)
                      for s in _chunks(len(val_rows), cfg.chunk)))
    write_npy(cfg.out / "val_y.npy", (len(val_rows), k), np.float32, [split.one_hot(codes_all[val_rows], k)])
    (cfg.out / "val_files.txt").write_text("".join(f"{_relative(inventory.paths[i], cfg.data)}\n" for i in val_rows),
                                           encoding="utf-8")
    lap("write")

    alignment_meta = {"method": cfg.align}
    if cfg.align != "none":
        alignment_meta.update(detect_min_side=cfg.detect_min_side, function="realtime_fer.core.align.align_face(box=None)",
                              aligned=int(aligned[np.concatenate([train_rows, val_rows])].sum()),
                              not_aligned=int((~aligned[np.concatenate([train_rows, val_rows])]).sum()))
    split_meta = {"method": split_method, "seed": cfg.seed}
    if split_method == "usage":
        split_meta["rule"] = "FER2013 usage column: Training -> train, PublicTest -> val (complete, after dedup)"
    else:
        split_meta.update(rule="sklearn train_test_split(stratify=y, shuffle=True)", test_size=cfg.val_fraction)
    meta = {
        "classes": classes,
        "label_encoding": {name: i for i, name in enumerate(classes)},
        "class_weights": {name: float(weights[i]) for i, name in enumerate(classes)},
        "size": [h, w], "channels": int(c), "color": cfg.color,
        "alignment": alignment_meta, "label_source": inventory.label_source,
        "data": str(cfg.data), "split": split_meta,
        "augmentation": policy.name if policy else "none",
        "counts": {"train": len(plan), "val": int(len(val_rows))},
        "files": {"train_x": "train_x.npy", "train_y": "train_y.npy", "val_x": "val_x.npy", "val_y": "val_y.npy",
                  "val_files": "val_files.txt"},
    }
    (cfg.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    facts = report.Facts(
        config={k2: str(v) for k2, v in asdict(cfg).items()}, inventory=inventory, scan_ok=scan.ok,
        scan_errors=scan.errors, dedup=dd, classes=classes, codes=codes_all, train_rows=train_rows,
        val_rows=val_rows, aligned=aligned, align_method=cfg.align, plan=plan, policy=policy,
        weights=weights, split=split_meta, times=times, peak_rss_mb=_peak_rss_mb(),
        peak_rss_children_mb=_peak_rss_mb("children"), shapes=scan.shapes)
    files = report.write_report(facts, cfg.out, figures=cfg.figures)
    lap("report")
    return Result(report.load_json(cfg.out), [cfg.out / n for n in
                                               ("train_x.npy", "train_y.npy", "val_x.npy", "val_y.npy", "meta.json")] + files)


# ----------------------------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m train.prepare", description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, type=Path, help="class-folder root (DIR/<Class>/*.jpg) or FER2013 folder with labels.csv")
    p.add_argument("--out", required=True, type=Path, help="output folder (created)")
    p.add_argument("--align", default="mtcnn", choices=["mtcnn", "blazeface", "none"], help="eye alignment (default mtcnn)")
    p.add_argument("--size", default=96, type=int, help="output side in pixels (default 96)")
    p.add_argument("--color", default="bgr", choices=["bgr", "gray"], help="bgr: 3 channels in OpenCV order; gray: 1")
    p.add_argument("--labels", default=None, choices=["fer2013", "ferplus"],
                   help="FER2013 layout: label source (default fer2013)")
    p.add_argument("--classes", default=None, choices=["six", "seven"],
                   help="FER2013 layout: the paper's six or six + neutral (default six)")
    p.add_argument("--split", default="auto", choices=["auto", "usage", "stratified"],
                   help="auto: FER2013 usage column if present, else stratified")
    p.add_argument("--val-fraction", default=0.2, type=float, help="stratified split: val share (default 0.2)")
    p.add_argument("--seed", default=0, type=int, help="split, augmentation and shuffle seed (default 0)")
    p.add_argument("--augment", default="paper", help="paper, none, or a policy JSON file (default paper)")
    p.add_argument("--workers", default=2, type=int, help="alignment processes (default 2)")
    p.add_argument("--read-threads", default=4, type=int, help="image reading threads (default 4)")
    p.add_argument("--detect-min-side", default=160, type=int, help="upscale smaller images to this before detection")
    p.add_argument("--chunk", default=1024, type=int, help="rows per write chunk (default 1024)")
    p.add_argument("--no-figures", dest="figures", action="store_false", help="skip the PNG histograms")
    return p


def _check_args(args: argparse.Namespace) -> str | None:
    """One-line message for a bad option value, or None."""
    if not 8 <= args.size <= 1024:
        return f"--size: expected 8..1024 pixels, got {args.size}; pass e.g. --size 96"
    if not 0.0 < args.val_fraction < 1.0:
        return f"--val-fraction: expected a number between 0 and 1, got {args.val_fraction}; pass e.g. 0.2"
    if args.workers < 1 or args.read_threads < 1 or args.chunk < 1:
        return "--workers/--read-threads/--chunk: expected positive integers; pass e.g. 2"
    if not args.data.exists():
        return f"--data: expected an existing folder, got {str(args.data)!r}; check the path"
    if args.out.exists() and not args.out.is_dir():
        return f"--out: expected a folder, got the file {str(args.out)!r}; pick another path"
    return None


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        sys.stderr.write(f"error: {message}; see python -m train.prepare --help\n")
        sys.exit(2)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.__class__ = _ArgumentParser
    args = parser.parse_args(argv)
    problem = _check_args(args)
    if problem:
        sys.stderr.write(f"error: {problem}\n")
        return 2
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn  # noqa: PLC0415

    console = Console(stderr=True)
    layout_options = [f"--{name}" for name in ("labels", "classes") if getattr(args, name) is not None]
    if layout_options and not datasets.is_fer2013_layout(args.data):
        sys.stderr.write(f"warning: {'/'.join(layout_options)} apply to the FER2013 layout (a labels.csv); {args.data} "
                         "has none, so its folder names are the classes and those options are ignored\n")
    cfg = Config(**{k: v for k, v in vars(args).items() if v is not None or k not in ("labels", "classes")})
    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description:<6}"), BarColumn(), MofNCompleteColumn(), TextColumn("elapsed"),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console) as bar:
        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            result = prepare(cfg, progress)
        except (DatasetError, PolicyError, MissingDependencyError) as exc:
            bar.stop()
            sys.stderr.write(f"error: {exc}\n")
            return 2
    _print_summary(result.report, cfg.out)
    return 0


def _print_summary(rep: dict, out: Path) -> None:
    """Print the report's tables with rich (stdout)."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    console = Console()
    for title, (headers, rows) in report.summary_rows(rep).items():
        table = Table(*headers, title=title, title_justify="left")
        for row in rows:
            table.add_row(*(str(v) for v in row))
        console.print(table)
    if rep["skipped"]:
        console.print(f"[yellow]{len(rep['skipped'])} files skipped[/yellow] (listed in {out / 'report.md'})")
    console.print(f"Table 4 vs 5: {rep['augmentation']['table4_vs_table5']['finding']}")
    console.print(f"Wrote {out} (train {rep['totals']['augmented_train']}, val {rep['totals']['val']}); "
                  f"timings {rep['timings_s']} s, peak RSS {rep['peak_rss_mb']} MiB")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
