"""Generated data sets for the train/ tests (no files from ../shared/data)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from train.prepare import Config, prepare

PAPER_TABLE1 = {  # seed paper, Table 1: (before, after) SHA-1 duplicate removal
    "Anger": (8228, 8228), "Disgust": (2651, 2458), "Fear": (2985, 2983),
    "Happiness": (9113, 9113), "Sadness": (13040, 13040), "Surprise": (7418, 7417),
}
PAPER_TABLE2 = {  # seed paper, Table 2: (code, train, val)
    "Anger": (0, 6582, 1646), "Disgust": (1, 1967, 491), "Fear": (2, 2386, 597),
    "Happiness": (3, 7290, 1823), "Sadness": (4, 10432, 2608), "Surprise": (5, 5934, 1483),
}
PAPER_TABLE5 = {  # seed paper, Table 5: (before, after) augmentation
    "Anger": (6582, 9543), "Disgust": (1967, 7868), "Fear": (2386, 9544),
    "Happiness": (7290, 9477), "Sadness": (10432, 10432), "Surprise": (5934, 9492),
}


def unique_png(index: int, side: int = 8, rng: np.random.Generator | None = None) -> bytes:
    """PNG bytes of a (side, side, 3) image whose first pixels encode ``index`` (so every index is distinct)."""
    rng = rng or np.random.default_rng(index)
    pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    pixels.reshape(-1)[:4] = np.frombuffer(int(index).to_bytes(4, "little"), np.uint8)
    ok, data = cv2.imencode(".png", pixels)
    assert ok
    return data.tobytes()


def make_class_folders(root: Path, table: dict[str, tuple[int, int]], side: int = 8, ext: str = "png") -> Path:
    """Write ``root/<Class>/NNNNN.<ext>`` with ``before`` files per class, ``before - after`` of them exact copies.

    ``ext`` "png" or "ppm"; PPM (P6) needs no encoder, which keeps the 43k-file paper set fast.
    Every non-copy image is distinct (its first pixels encode a running index).
    """
    rng = np.random.default_rng(1234)
    jobs = []
    index = 0
    for name, (before, after) in table.items():
        folder = root / name
        folder.mkdir(parents=True)
        if ext == "png":
            blobs = [unique_png(index + i, side, rng) for i in range(after)]
        else:
            pixels = rng.integers(0, 256, (after, side * side * 3), dtype=np.uint8)
            pixels[:, :4] = np.arange(index, index + after, dtype="<u4").view(np.uint8).reshape(after, 4)
            header = b"P6 %d %d 255\n" % (side, side)
            blobs = [header + row.tobytes() for row in pixels]
        index += after
        blobs += [blobs[j * 7 % after] for j in range(before - after)]  # byte-identical copies of earlier files
        jobs += [(folder / f"{i:05d}.{ext}", blob) for i, blob in enumerate(blobs)]

    def write(job):
        with open(job[0], "wb") as handle:
            handle.write(job[1])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, jobs, chunksize=512))
    return root


@pytest.fixture(scope="session")
def paper_set(tmp_path_factory) -> Path:
    """A class-folder set of 8x8 PPM images with the paper's Table 1 counts, duplicates included."""
    return make_class_folders(tmp_path_factory.mktemp("paper") / "data", PAPER_TABLE1, ext="ppm")


@pytest.fixture(scope="session")
def paper_prepared(paper_set, tmp_path_factory):
    """``prepare`` run once on ``paper_set`` with the paper's defaults except alignment/size (8 px, none)."""
    out = tmp_path_factory.mktemp("paper_out")
    cfg = Config(data=paper_set, out=out, align="none", size=8, figures=False, read_threads=4)
    return prepare(cfg), out
