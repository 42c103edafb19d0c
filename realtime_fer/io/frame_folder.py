"""A folder of numbered frames read as a video (Aff-Wild2's ``cropped_aligned/<video>/00001.jpg ...``).

Files are ordered by the number in their name (the last run of digits of the stem:
``00017.jpg`` -> 17, ``frame_0042.png`` -> 42), not alphabetically, and each frame keeps
its file's number as ``SourceFrame.index`` (the CSV's ``frame``), so gaps in the numbering
stay gaps.  ``time_ms = (number - first) * 1000 / fps`` where ``first`` is 1 when the
numbering starts at 1 or later (Aff-Wild2 counts from 00001) and 0 when a frame 0 exists,
so the first video frame is at 0 ms either way.  Images decode to (H, W, 3) uint8 BGR;
files that are not images or do not decode are skipped and listed in ``unreadable``.
"""

from __future__ import annotations

import queue
import re
import time
from pathlib import Path

from ..errors import InputError
from .sources import IMAGE_EXTENSIONS, SourceInfo, _QueuedSource, queue_depth, read_image

_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def numbered_frames(folder: Path) -> list[tuple[int, Path]]:
    """(number, path) of the image files of ``folder`` whose names carry a number, sorted by number."""
    items = []
    for path in folder.iterdir():
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        match = _NUMBER.search(path.stem)
        if match:
            items.append((int(match.group(1)), path))
    items.sort()
    return items


class FrameFolderSource(_QueuedSource):
    """Numbered image files of one folder, in number order, at ``fps`` frames per second.

    Args:
        path: the folder.
        fps: frame rate of the video the frames were taken from (> 0).
        max_frames: stop after this many frames.

    Attributes: ``files`` ((number, path) in order), ``gaps`` (numbers missing between the
    first and the last), ``unreadable`` (paths that did not decode; ``lost`` the same as
    ``LostFrame(number, time_ms)``).

    Raises:
        InputError: not a folder, no numbered image in it, none readable, or a bad ``fps``.
    """

    def __init__(self, path: str | Path, fps: float, max_frames: int | None = None, queue_size: int = 8):
        super().__init__(max_frames, queue_size)
        self.path = Path(path)
        if not self.path.is_dir():
            raise InputError(f"frame folder {self.path}: expected a folder of numbered images, got no folder; "
                             "check the path")
        if not fps or fps <= 0 or fps > 1000:
            raise InputError(f"--fps: expected the frame rate of the video the frames come from (0 < F <= 1000), "
                             f"got {fps}; e.g. --fps 30")
        self.files = numbered_frames(self.path)
        if not self.files:
            raise InputError(f"frame folder {self.path}: expected image files with a number in their name "
                             "(00001.jpg, ...), got none; pass a folder of numbered frames")
        self.unreadable: list[Path] = []
        self.missized: list[tuple[str, tuple[int, int]]] = []  # (file name, (width, height)) left out
        self.fps = float(fps)
        self.first_number = 0 if self.files[0][0] == 0 else 1
        numbers = [number for number, _ in self.files]
        self.gaps = numbers[-1] - numbers[0] + 1 - len(set(numbers))
        start = 0
        while start < len(self.files) and (first := read_image(self.files[start][1])) is None:
            self.unreadable.append(self.files[start][1])
            start += 1
        if start == len(self.files):
            raise InputError(f"frame folder {self.path}: expected at least one readable image, got none among "
                             f"{len(self.files)} numbered files; check the files")
        self._first = (start, first)
        size = (first.shape[1], first.shape[0])
        self.info = SourceInfo("frames", self.path.name, self.fps, size, len(self.files))
        self._queue = queue.Queue(maxsize=queue_depth(size, queue_size))
        self._start(self._run, "fer-frames-reader")

    @property
    def lost_frames(self) -> int:
        return len(self.unreadable)

    @property
    def lost(self) -> list:
        """``LostFrame(number, time_ms)`` of the numbered files that did not decode."""
        from .av_reader import LostFrame

        numbers = {path: number for number, path in self.files}
        return [LostFrame(*self._where(numbers[path])) for path in self.unreadable]

    def _where(self, number: int) -> tuple[int, float]:
        return number, (number - self.first_number) * 1000.0 / self.fps

    def _produce(self):
        start, image = self._first
        self._first = None
        number, _ = self.files[start]
        yield (image, None, 0.0, *self._where(number))
        for number, file in self.files[start + 1:]:
            if self._stop.is_set():
                return
            began = time.perf_counter()
            image = read_image(file)
            if image is None:
                self.unreadable.append(file)
                continue
            if (image.shape[1], image.shape[0]) != self.info.size:  # never stretched: left out and reported
                self.missized.append((file.name, (image.shape[1], image.shape[0])))
                continue
            yield (image, None, (time.perf_counter() - began) * 1e3, *self._where(number))
