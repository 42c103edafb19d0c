"""Output writers: annotated video, annotated images, and per-face CSV / JSONL tables.

* ``VideoSink``: encodes with FFmpeg (PyAV) on a writer thread fed through a bounded
  queue, so encoding overlaps with inference; ``close()`` drains the queue, writes the
  audio and finalizes the file, which is what makes an interrupted MP4 playable (the
  index is written then).  H.264 (libx264) for .mp4/.m4v/.mov/.mkv, MJPEG for .avi; the
  input's audio is carried over with ``audio_from``.
* ``CsvSink`` / ``JsonlSink``: one row per face per frame (no row for a frame without
  faces); each frame's rows are written with one ``write`` and flushed, so a killed
  process leaves complete lines up to the last processed frame.
* ``ImageSink``: annotated stills, one file per input image.

Columns (``table_columns(labels)``): frame, time_ms, track_id, x1, y1, x2, y2 (frame
pixels, xyxy), det_score, label, confidence, prob_<label>... (smoothed; with the default ``tau`` 0 the raw
ones), raw_<label>... (unsmoothed), plus ``file`` for image inputs. ``label`` is the label the temporal stage
shows (what the overlay's tag says) and ``confidence`` is its ``prob_`` value; where ``label`` is not the
largest ``prob_`` column the label is *held* on the evidence of other frames (the overlay's tag then ends in
"held"; ``Faces.held``).

``check_output(path, overwrite)`` refuses to clobber existing files; call it for every
output before any work starts.
"""

from __future__ import annotations

import csv
import io
import json
import math
import queue
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..core.faces import FrameResult
from .output_paths import remove_output, remove_outputs, writable_problem

_STOP = object()


def check_output(path: str | Path, overwrite: bool, *, folder: bool = False, inputs: tuple = (),
                 label: str | None = None) -> Path:
    """Validate an output path before processing starts.

    Raises InputError when the file exists and ``overwrite`` is False, when it would
    overwrite one of ``inputs``, when its parent folder cannot be created (it is created
    when missing, like ``mkdir -p``) or written into (the file system is asked:
    ``output_paths.writable_problem``), or (``folder``) when it is an existing non-folder. ``label`` names the
    output in the messages (an option such as "--out"; default "output", "output folder" with ``folder``).
    """
    path = Path(path)
    for source in inputs:
        try:
            if Path(source).exists() and path.exists() and path.samefile(source):
                raise InputError(f"output {path}: expected a path different from the input, got the input itself; "
                                 "choose another output path")
        except OSError:
            pass
    if folder:
        if path.exists() and not path.is_dir():
            raise InputError(f"{label or 'output folder'} {path}: expected a folder, got an existing file; pass a "
                             "folder path")
        _check_writable(path, folder=True, label=label)
        return path
    if path.is_dir():
        raise InputError(f"output {path}: expected a file path, got an existing folder; pass a file name")
    if path.exists() and not overwrite:
        raise InputError(f"output {path}: expected a new file, got an existing one; pass --overwrite to replace it")
    _check_writable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"output {path}: expected a folder {path.parent} that exists or can be created, got "
                         f"{exc.strerror or exc}; choose another output path") from None
    return path


def _check_writable(path: Path, folder: bool = False, label: str | None = None) -> None:
    problem = writable_problem(path, folder=folder)
    if problem is not None:
        what = "a folder it can write into" if folder else "a place it can write a file"
        raise InputError(f"{label or 'output'} {path}: expected {what}, got {problem}; choose another "
                         f"{label or 'output path'}")


def table_columns(labels, with_file: bool = False) -> list[str]:
    """Column names of the CSV/JSONL tables for a model with class names ``labels``."""
    columns = ["frame", "time_ms", "track_id", "x1", "y1", "x2", "y2", "det_score", "label", "confidence"]
    columns += [f"prob_{name}" for name in labels] + [f"raw_{name}" for name in labels]
    return columns + (["file"] if with_file else [])


def _rounded(value: float, digits: int) -> float | None:
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def table_rows(result: FrameResult, name: str | None = None) -> list[list]:
    """One list of values per face of ``result``, in ``table_columns`` order.

    Box coordinates are rounded to 0.1 px, probabilities to 1e-4; ``label`` is the shown label
    (``faces.label_ids``, possibly held: not the largest ``prob_``), ``confidence`` its ``prob_`` value.
    Missing probabilities (a face that was not classified) are None.
    """
    faces, n_classes = result.faces, len(result.labels)
    if len(faces) == 0:
        return []
    top = result.top()
    probs = faces.shown_probs
    raw = faces.raw_probs
    rows = []
    for k in range(len(faces)):
        x1, y1, x2, y2 = (_rounded(v, 1) for v in faces.boxes[k])
        label, confidence = top[k] if k < len(top) else (None, None)
        row = [result.index, _rounded(result.time_ms, 3), int(faces.track_ids[k]), x1, y1, x2, y2,
               _rounded(faces.scores[k], 4), label, None if confidence is None else _rounded(confidence, 4)]
        row += [_rounded(p, 4) for p in probs[k]] if probs is not None else [None] * n_classes
        row += [_rounded(p, 4) for p in raw[k]] if raw is not None else [None] * n_classes
        if name is not None:
            row.append(name)
        rows.append(row)
    return rows


class _TableSink:
    """Shared file handling: open with a header, write a frame's rows at once, flush."""

    def __init__(self, path: str | Path, labels, with_file: bool = False, overwrite: bool = False):
        self.path = check_output(path, overwrite)
        self.columns = table_columns(labels, with_file)
        self.with_file = with_file
        self.rows_written = 0
        self._handle = open(self.path, "w", encoding="utf-8", newline="")
        self._header()

    def _header(self) -> None:
        pass

    def _format(self, rows: list[list]) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def write(self, result: FrameResult, name: str | None = None) -> None:
        """Append the rows of one frame (nothing for a frame without faces) and flush."""
        rows = table_rows(result, name if self.with_file else None)
        if not rows or self._handle is None:
            return
        self._handle.write(self._format(rows))
        self._handle.flush()
        self.rows_written += len(rows)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def discard(self) -> None:
        """Close and delete the file: the run failed, so its rows are not a result."""
        try:
            self.close()
        except OSError:
            self._handle = None
        remove_output(self.path)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        _finish(self, exc_type)


def _finish(sink, exc_type) -> None:
    """Keep an output on success and on an interrupt (Ctrl-C: it is finalized up to the last frame); delete it
    when an error ends the run (``exc_type`` an Exception), so no partial file looks like a result."""
    if exc_type is not None and issubclass(exc_type, Exception):
        sink.discard()
    else:
        sink.close()


class CsvSink(_TableSink):
    """CSV table; empty cells for missing values."""

    def _header(self) -> None:
        self._handle.write(",".join(self.columns) + "\n")
        self._handle.flush()

    def _format(self, rows: list[list]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        return buffer.getvalue()


class JsonlSink(_TableSink):
    """JSON Lines table: one object per face with the ``table_columns`` keys; null for missing values."""

    def _format(self, rows: list[list]) -> str:
        return "".join(json.dumps(dict(zip(self.columns, row)), separators=(",", ":")) + "\n" for row in rows)


FOURCC_BY_CODEC = {"libx264": "avc1", "h264_nvenc": "avc1", "libx265": "hvc1", "mpeg4": "mp4v", "mjpeg": "MJPG"}


def fourcc_for(path: str | Path) -> str:
    """The FourCC of the default encoder for an output file name (by suffix): ``avc1`` (H.264) for
    .mp4/.m4v/.mov/.mkv, ``MJPG`` for .avi; InputError for unknown suffixes."""
    from .av_writer import default_codec

    return FOURCC_BY_CODEC[default_codec(path)]


class VideoSink:
    """Encode BGR frames to a video file on a writer thread (FFmpeg through PyAV, ``av_writer``).

    Args:
        path: output file; its suffix picks the container and the default encoder (H.264 for
            .mp4/.m4v/.mov/.mkv, MJPEG for .avi).
        fps: nominal frames per second (used for frames written without a time).
        size: (width, height); frames of another size are resized (rare: streams that change size).
        queue_size: frames buffered for the writer, at most (fewer for large frames, see
            ``sources.queue_depth``), so memory stays flat.
        fourcc: legacy encoder choice: "mp4v" -> mpeg4, "MJPG" -> mjpeg, "avc1" -> libx264.
        timer: a StageTimer that gets the writer's "encode" times.
        codec: FFmpeg encoder name, or "auto" (h264_nvenc when ``provider`` is CUDA/TensorRT and it
            opens); None: the suffix's default.  preset / crf: encoder speed preset and quality
            (``av_writer.DEFAULT_PRESET`` / ``DEFAULT_QUALITY`` when None).
        time_base: seconds per timestamp tick (pass the input's: its timestamps are kept exactly).
        audio_from: a media file whose first audio stream is carried over (stream copy, or AAC
            when the container cannot hold its codec); None: no audio.
        full_audio: called at ``close()``; True copies the audio to its end (the input was read
            to its end), False (default) ends it with the last written frame (an interrupted run).
        provider: the recognizer's provider, for ``codec="auto"``.

    ``write(image, time_ms=None)`` takes ownership of an (H, W, 3) uint8 BGR array: do not
    modify it afterwards; ``time_ms`` is its presentation time.

    Raises:
        InputError: the file exists (without overwrite) or the encoder/container does not open.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], *, overwrite: bool = False,
                 queue_size: int = 8, fourcc: str | None = None, timer=None, codec: str | None = None,
                 preset: str | None = None, crf: float | None = None, time_base=None,
                 audio_from: str | Path | None = None, full_audio=None, provider: str | None = None):
        from .av_writer import AvVideoWriter, resolve_codec

        self.path = check_output(path, overwrite)
        self.size = (int(size[0]), int(size[1]))
        self.fps = float(fps)
        if codec is None and fourcc is not None:
            codec = {"mp4v": "mpeg4", "MJPG": "mjpeg", "avc1": "libx264", "H264": "libx264"}.get(fourcc, fourcc)
        self.codec = resolve_codec(codec, self.path, provider)
        self.fourcc = FOURCC_BY_CODEC.get(self.codec, self.codec)
        if self.path.suffix.lower() == ".avi" and time_base is None:
            from fractions import Fraction

            time_base = 1 / Fraction(self.fps).limit_denominator(1001 * 1000)  # AVI counts frames, not time
        self._writer = AvVideoWriter(self.path, self.fps, self.size, codec=self.codec, preset=preset, crf=crf,
                                     time_base=time_base, audio_from=audio_from)
        self.has_audio = self._writer.audio is not None
        self.audio_copied = bool(self._writer.audio is not None and self._writer.audio.copied)
        self._full_audio = full_audio
        self.frames_written = 0
        self._timer = timer
        self._error: BaseException | None = None
        from .sources import queue_depth

        self._queue: queue.Queue = queue.Queue(maxsize=queue_depth(self.size, max(1, queue_size)))
        self._thread = threading.Thread(target=self._run, name="fer-video-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import cv2

        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is not None:
                continue  # keep draining so producers never block on a dead writer
            image, time_ms = item
            try:
                start = time.perf_counter()
                if (image.shape[1], image.shape[0]) != self.size:
                    image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
                self._writer.write(image, time_ms)
                self.frames_written += 1
                if self._timer is not None:
                    self._timer.add("encode", (time.perf_counter() - start) * 1e3)
            except BaseException as exc:  # noqa: BLE001 - reported to the producer on its next write
                self._error = exc

    def write(self, image: np.ndarray, time_ms: float | None = None) -> None:
        """Queue one (H, W, 3) uint8 BGR frame shown at ``time_ms`` (None: one frame after the last);
        blocks while the queue is full."""
        if self._error is not None:
            raise InputError(f"output video {self.path}: expected frames to encode, got an encoder failure "
                             f"({self._error}); check free disk space")
        if self._queue is None:
            raise InputError(f"output video {self.path}: expected an open writer, got a closed one; this is a bug")
        self._queue.put((image, time_ms))

    def close(self) -> None:
        """Encode every queued frame, then finalize the file (audio, index) (idempotent)."""
        if self._queue is None:
            return
        self._stop_thread()
        full = bool(self._full_audio()) if callable(self._full_audio) else bool(self._full_audio)
        self._writer.close(full_audio=full and self._error is None)

    def discard(self) -> None:
        """Stop the writer and delete the file: the run failed, so the video is not a result."""
        if self._queue is not None:
            self._error = self._error or InputError("discarded")  # the writer drains without encoding
            self._stop_thread()
        self._writer.discard()

    def _stop_thread(self) -> None:
        """End the writer thread once it has taken every queued frame (encoded, or dropped after an error)."""
        self._queue.put(_STOP)
        self._thread.join()
        self._queue = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        _finish(self, exc_type)


class ImageSink:
    """Write annotated images.

    ``target`` is a file (single-image input) or a folder (folder input, created if
    missing); in a folder each image keeps its name relative to the input folder (sub-folders
    are mirrored, e.g. ``trip/a.jpg``).  Existing files are
    refused without ``overwrite`` when they are about to be written; call
    ``check_names`` first to fail before any work.
    """

    def __init__(self, target: str | Path, *, folder: bool, overwrite: bool = False):
        self.target = check_output(target, overwrite, folder=folder)
        self.folder, self.overwrite = folder, overwrite
        self.files_written: list[Path] = []
        self._made_folders: list[Path] = [self.target] if folder and not self.target.is_dir() else []
        if folder:
            self.target.mkdir(parents=True, exist_ok=True)

    def path_for(self, name: str | None) -> Path:
        return self.target / name if self.folder else self.target

    def check_names(self, names) -> None:
        """Raise InputError if any of the output files for ``names`` exists (without overwrite)."""
        if self.overwrite:
            return
        for name in names:
            path = self.path_for(name)
            if path.exists():
                raise InputError(f"output {path}: expected a new file, got an existing one; pass --overwrite to "
                                 "replace it")

    def write(self, image: np.ndarray, name: str | None) -> Path:
        """Encode one (H, W, 3) uint8 BGR image; the format follows the file suffix."""
        import cv2

        path = self.path_for(name)
        suffix = path.suffix.lower() if path.suffix else ".png"
        ok, data = cv2.imencode(suffix, image)
        if not ok:
            ok, data = cv2.imencode(".png", image)
            path = path.with_suffix(".png")
        self.files_written.append(path)
        try:
            if self.folder and path.parent != self.target and not path.parent.is_dir():
                missing = [p for p in (path.parent, *path.parent.parents) if not p.is_dir()]
                path.parent.mkdir(parents=True)
                self._made_folders += missing
            path.write_bytes(data.tobytes())
        except OSError as exc:  # name the file (a full disk's error does not)
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        return path

    def close(self) -> None:
        pass

    def discard(self) -> None:
        """Delete the images written so far (and the folder, when this sink made it and it is left empty): the
        run failed, so they are not a result."""
        remove_outputs(self.files_written, self._made_folders)
        self.files_written = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        _finish(self, exc_type)
