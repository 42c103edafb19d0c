"""Frame sources: video files, cameras/streams, still images and synthetic frames.

Every source yields ``SourceFrame`` objects whose ``image`` is an (H, W, 3) uint8
**BGR** array (grey and BGRA inputs are converted on read, so the overlay and the
video writer always get BGR).  Sources decode on a reader thread:

* ``VideoFileSource``: decodes with FFmpeg (PyAV) ahead into a bounded queue, so decoding
  overlaps with inference and memory stays flat; no frame is dropped, damaged packets are
  skipped (and counted), timestamps come from the container, rotation metadata is applied.
* ``CameraSource``: keeps only the newest frame (a one-slot mailbox); a slow
  consumer skips stale frames instead of building up latency.  A video path or a
  URL may stand in for a camera (paced at the file's fps by default).
* ``ImageSource``: one image or every readable image of a folder (sorted by name);
  unreadable / non-image files are skipped with a warning through ``warn``.
* ``SyntheticSource``: the astronaut's face pasted on a plain background, for
  benchmarks and tests that need no data.

Iterate with ``source.frames(stop)``; it ends at end of stream, when ``stop``
(a ``threading.Event``) is set, or when the source stalls.  ``source.end_reason``
then says why ("eof", "stopped", "stalled", "error: ...", "max_frames").
The library never prints: warnings go to the ``warn`` callable (default
``warnings.warn``).
"""

from __future__ import annotations

import os
import queue
import threading
import time
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..core.faces import DEFAULT_FPS
from ..errors import InputError

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".webp", ".tif", ".tiff", ".ppm", ".pgm",
                    ".pbm", ".pnm", ".pxm", ".sr", ".ras", ".jp2", ".exr", ".hdr", ".pic", ".avif", ".gif"}
_END = object()


@dataclass
class SourceFrame:
    """One decoded frame.

    Attributes:
        index: 0-based position in the source (video files: counting frames that could not be decoded;
            image folders: among the readable images; frame folders: the file's number).
        time_ms: presentation time in ms: the container's timestamp for video files, number * 1000 / fps
            for frame folders, wall clock since start for cameras.
        image: (H, W, 3) uint8 BGR, owned by the receiver (the source never touches it again).
        name: file name for image sources, else None.
        captured: ``time.perf_counter()`` when decoding finished (for latency measurements).
        decode_ms: wall time the reader spent decoding this frame.
        dropped: frames the camera skipped right before this one (stale-frame dropping).
    """

    index: int
    time_ms: float
    image: np.ndarray
    name: str | None = None
    captured: float = 0.0
    decode_ms: float = 0.0
    dropped: int = 0


@dataclass
class SourceInfo:
    """What is known about a source before reading it.

    ``size`` is (width, height) in pixels of the first frame; ``frame_count`` is the
    container's claim (None when unknown, e.g. cameras; may be wrong for broken files).
    """

    kind: str  # "video" | "camera" | "images" | "frames" | "synthetic"
    name: str
    fps: float
    size: tuple[int, int]
    frame_count: int | None
    time_base: Fraction | None = None  # seconds per timestamp tick of a video file (None: unknown)
    has_audio: bool = False  # the file has an audio stream (carried over by VideoSink(audio_from=...))
    codec: str = ""  # the video codec of a file, e.g. "h264"


def queue_depth(size: tuple[int, int], most: int = 8, budget_mib: float = 64.0) -> int:
    """Frames of (width, height) BGR to buffer: ``most``, fewer for big frames (4K: 2), at least 2."""
    frame_mib = size[0] * size[1] * 3 / 2**20
    return int(max(2, min(most, budget_mib // max(frame_mib, 1e-6))))


def to_bgr(image: np.ndarray) -> np.ndarray:
    """(H, W) grey, (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA uint8 -> (H, W, 3) uint8 BGR."""
    import cv2

    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(float(image.max()), 1.0))
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def check_file(path: Path, what: str) -> None:
    """Raise InputError unless ``path`` is an existing, readable file."""
    if not path.exists():
        raise InputError(f"{what}: expected an existing file, got no file at {path}; check the path")
    if not path.is_file():
        raise InputError(f"{what}: expected a file, got a directory or special file at {path}; pass a file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{what}: expected a readable file, got no read permission for {path}; fix its permissions")
    if path.stat().st_size == 0:
        raise InputError(f"{what}: expected a non-empty file, got an empty file at {path}; pass a complete file")


def _open_capture(target, what: str):
    """An opened cv2.VideoCapture for a path/URL/index, or None when it does not open.

    Files decode with one FFmpeg thread on machines with <= 4 cores: the reader thread
    already overlaps decoding with inference, and extra decoder threads only compete
    with the detector there (measured: 0.63-0.73 vs 0.72-0.78 ms CPU per 640x360 H.264 frame).
    """
    import cv2

    if isinstance(target, int):
        cap = cv2.VideoCapture(target)
    else:
        params = [cv2.CAP_PROP_N_THREADS, 1] if what == "video" and (os.cpu_count() or 1) <= 4 else []
        cap = cv2.VideoCapture(str(target), cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        return None
    return cap


def _open_first_frame(target, what: str):
    """(capture, first frame) of ``target``; (None or a released capture, None) when nothing decodes."""
    cap = _open_capture(target, what)
    if cap is None:
        return None, None
    ok, first = cap.read()
    if not ok or first is None:
        cap.release()
        return cap, None
    return cap, first


def _capture_info(cap, kind: str, name: str, first: np.ndarray) -> SourceInfo:
    import cv2

    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        fps = DEFAULT_FPS
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    return SourceInfo(kind, name, fps, (first.shape[1], first.shape[0]), count if count > 0 else None)


class _Source:
    """Shared plumbing: a reader thread filling a queue, and ``frames()`` draining it."""

    info: SourceInfo

    def __init__(self, max_frames: int | None = None):
        self.max_frames = max_frames
        self.end_reason = ""
        self.frames_read = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _start(self, target: Callable[[], None], name: str) -> None:
        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def frames(self, stop: threading.Event | None = None) -> Iterator[SourceFrame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Stop the reader thread and release the device/file (idempotent)."""
        self._stop.set()
        cap = getattr(self, "_cap", None)
        if self._thread is None and cap is not None:  # never started: release here
            cap.release()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _QueuedSource(_Source):
    """A source whose reader thread puts every frame into a bounded queue (no dropping)."""

    def __init__(self, max_frames: int | None = None, queue_size: int = 8):
        super().__init__(max_frames)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._error: str | None = None

    def _put(self, item) -> bool:
        """Put into the queue, waiting while full; False once the source is closed."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> Iterator[tuple[np.ndarray, str | None, float]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _time_ms(self, index: int) -> float:
        return index * 1000.0 / self.info.fps

    def _run(self) -> None:
        index = count = 0
        try:
            for image, name, decode_ms, *where in self._produce():  # where: (index, time_ms) when the source knows
                if self.max_frames is not None and count >= self.max_frames:
                    self._error = "max_frames"
                    break
                position, time_ms = where if where else (index, self._time_ms(index))
                frame = SourceFrame(position, time_ms, image, name, time.perf_counter(), decode_ms)
                if not self._put(frame):
                    return
                index += 1
                count += 1
        except Exception as exc:  # a decoder failure ends the stream; the consumer reports it
            self._error = f"error: {type(exc).__name__}: {exc}"
        finally:
            self._put(_END)

    def frames(self, stop: threading.Event | None = None) -> Iterator[SourceFrame]:
        """Yield frames in order until end of stream or ``stop`` is set."""
        while True:
            if stop is not None and stop.is_set():
                self.end_reason = "stopped"
                return
            try:
                item = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if item is _END:
                self.end_reason = self._error or "eof"
                return
            self.frames_read += 1
            yield item

    def close(self) -> None:
        self._stop.set()
        while True:  # unblock a reader waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        super().close()


class VideoFileSource(_QueuedSource):
    """Decode a video file with FFmpeg (PyAV, ``av_reader.AvVideoReader``) on a reader thread.

    Args:
        path: the video file.
        max_frames: stop after this many frames.
        queue_size: decoded frames buffered ahead of the consumer, at most; fewer for large
            frames (``queue_depth``: about 64 MiB, so 2 for 4K), so memory stays flat.
        threads: FFmpeg decoder threads (None: ``av_reader.decoder_threads()``).

    Raises:
        InputError: missing/unreadable file, or a file no frame can be decoded from.

    Frames are upright (rotation metadata applied; ``info.size`` is the upright (width,
    height)), ``SourceFrame.time_ms`` is the container's presentation time and
    ``SourceFrame.index`` the frame's position counting undecodable frames, so damage leaves
    gaps.  Decoding goes on past damaged packets; ``lost`` (``LostFrame(position, time_ms)``),
    ``lost_frames`` and ``concealed_frames`` say what could not be decoded (complete once the
    stream ended).  A truncated file yields the frames that decode and then ends ("eof").
    """

    def __init__(self, path: str | Path, max_frames: int | None = None, queue_size: int = 8,
                 threads: int | None = None):
        from .av_reader import AvVideoReader

        super().__init__(max_frames, queue_size)
        self.path = Path(path)
        check_file(self.path, "video")
        self._reader = AvVideoReader(self.path, threads)
        self._decoded = self._reader.frames()
        try:
            first = next(self._decoded, None)
        except Exception as exc:  # noqa: BLE001 - e.g. a pixel format that does not convert
            self._reader.close()
            raise InputError(f"video {self.path}: expected a video FFmpeg can decode, got {type(exc).__name__}: "
                             f"{exc}; check the file with ffprobe") from None
        if first is None:
            self._reader.close()
            raise InputError(f"video {self.path}: expected a video FFmpeg can decode, got no decodable frame "
                             "(corrupt, truncated or unsupported file); check the file with ffprobe")
        reader = self._reader
        self.info = SourceInfo("video", self.path.name, reader.fps, (first[0].shape[1], first[0].shape[0]),
                               reader.frame_count, time_base=reader.time_base, has_audio=reader.has_audio,
                               codec=reader.codec)
        self._queue = queue.Queue(maxsize=queue_depth(self.info.size, queue_size))
        self._first = first
        self._start(self._run, "fer-video-reader")

    @property
    def lost(self) -> list:
        """``LostFrame``s (position, time_ms) that could not be decoded (the first 1000)."""
        return self._reader.lost

    @property
    def lost_frames(self) -> int:
        return self._reader.lost_count

    @property
    def concealed_frames(self) -> int:
        """Frames FFmpeg decoded with errors concealed (kept, but visibly damaged)."""
        return self._reader.concealed

    def _produce(self):
        first, self._first = self._first, None
        try:
            image, time_ms, position, decode_ms = first
            yield image, None, decode_ms, position, time_ms
            for image, time_ms, position, decode_ms in self._decoded:
                if self._stop.is_set():
                    return
                yield image, None, decode_ms, position, time_ms
        finally:
            self._reader.close()

    def close(self) -> None:
        super().close()
        if self._thread is None or not self._thread.is_alive():
            self._reader.close()


class ImageSource(_QueuedSource):
    """Still images: one file, or every image of a folder and its sub-folders (searched as ``batch`` searches:
    ``folder_walk.walk_files``; ``exclude`` leaves a folder out, e.g. the output folder inside the input one).
    Each frame's ``name`` is the file's path relative to the folder (POSIX, e.g. ``trip/a.jpg``; ``names``).

    Files that are not images or fail to decode are skipped with ``warn(message)``.
    Images are decoded with ``cv2.imdecode(..., IMREAD_COLOR)``, so grey, 16-bit and
    RGBA files arrive as (H, W, 3) uint8 BGR (alpha dropped) and EXIF rotation is applied.

    Raises:
        InputError: the path is missing, a single file is not a readable image, or a
            folder holds no readable image at all.
    """

    def __init__(self, path: str | Path, max_frames: int | None = None, warn: Callable[[str], None] | None = None,
                 queue_size: int = 4, exclude: Path | None = None):
        super().__init__(max_frames, queue_size)
        self.path = Path(path)
        self.warn = warn or (lambda message: warnings.warn(message, stacklevel=2))
        self.skipped: list[Path] = []
        if not self.path.exists():
            raise InputError(f"image: expected an image file or a folder of images, got no file at {self.path}; "
                             "check the path")
        folder = self.path.is_dir()
        if folder:
            from .folder_walk import walk_files

            self.files = walk_files(self.path, exclude=exclude)
            first = self._first_readable()
            if first is None:
                raise InputError(f"image folder {self.path}: expected at least one readable image, got none among "
                                 f"{len(self.files)} files; add .jpg/.png files")
        else:
            check_file(self.path, "image")
            self.files = [self.path]
            image = read_image(self.path)
            if image is None:
                raise InputError(f"image {self.path}: expected an image OpenCV can decode, got an unreadable or "
                                 "non-image file; pass a .jpg/.png/.bmp/.webp/.tif file")
            first = (0, image)
        self.names = [f.relative_to(self.path).as_posix() if folder else f.name for f in self.files]
        self._first = first
        height, width = first[1].shape[:2]
        self.info = SourceInfo("images", self.path.name, 1.0, (width, height), None)
        self._start(self._run, "fer-image-reader")

    def _first_readable(self) -> tuple[int, np.ndarray] | None:
        for position, file in enumerate(self.files):
            image = self._read_or_skip(file)
            if image is not None:
                return position, image
        return None

    def _read_or_skip(self, file: Path) -> np.ndarray | None:
        image = read_image(file)
        if image is None:
            self.skipped.append(file)
            self.warn(f"skipping {file}: not an image OpenCV can decode")
        return image

    def _time_ms(self, index: int) -> float:
        return 0.0

    def _produce(self):
        position, image = self._first
        self._first = None
        yield image, self.names[position], 0.0
        for file, name in zip(self.files[position + 1:], self.names[position + 1:]):
            if self._stop.is_set():
                return
            start = time.perf_counter()
            image = self._read_or_skip(file)
            if image is not None:
                yield image, name, (time.perf_counter() - start) * 1e3


def read_image(path: str | Path) -> np.ndarray | None:
    """Decode an image file to (H, W, 3) uint8 BGR; None when it is not a decodable image.

    Reads the bytes with numpy (so non-ASCII paths work everywhere) and skips files
    whose extension is not an image one without reading them.
    """
    import cv2

    path = Path(path)
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return None
    try:
        data = np.fromfile(str(path), np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return None if image is None else to_bgr(image)


class CameraSource(_Source):
    """A camera, stream URL or video file read on a thread that keeps only the newest frame.

    Args:
        target: camera index (int or digit string), URL ("rtsp://...", "http://..."), or a video path.
        pace: for files, sleep so frames arrive at the file's fps like a camera (default True for files).
        stall_timeout_s: end with reason "stalled" when no new frame arrives for this long (a hung
            device); reads that keep failing for min(1 s, half of it) end with "stream ended".
        max_frames: stop after yielding this many frames.

    Raises:
        InputError: the camera does not open, the file is missing/undecodable.

    Frames a slow consumer could not take in time are dropped (``SourceFrame.dropped``
    counts them), so the consumer always gets the freshest frame.
    """

    def __init__(self, target: int | str | Path, pace: bool | None = None, stall_timeout_s: float = 5.0,
                 max_frames: int | None = None):
        super().__init__(max_frames)
        self.target, self.is_file = parse_camera_target(target)
        self.stall_timeout_s = float(stall_timeout_s)
        self.pace = self.is_file if pace is None else bool(pace)
        self._cap, first = _open_first_frame(self.target, "camera")
        if first is None:
            raise InputError(camera_error(self.target, self.is_file))
        name = f"camera {self.target}" if isinstance(self.target, int) else Path(str(self.target)).name
        self.info = _capture_info(self._cap, "video" if self.is_file else "camera", name, first)
        if not self.is_file:
            self.info.frame_count = None
        self._cond = threading.Condition()
        self._latest: SourceFrame | None = None
        self._seq = 0
        self._ended = ""
        self._t0 = time.perf_counter()
        self._pending_first = to_bgr(first)
        self._started = False  # the reader starts on the first frames() call, so model loading costs no frames

    def _publish(self, image: np.ndarray, decode_ms: float) -> None:
        now = time.perf_counter()
        with self._cond:
            self._seq += 1
            self._latest = SourceFrame(self._seq - 1, (now - self._t0) * 1e3 if not self.is_file
                                       else (self._seq - 1) * 1000.0 / self.info.fps, image, None, now, decode_ms)
            self._cond.notify_all()

    def _run(self) -> None:
        cap, period = self._cap, 1.0 / self.info.fps
        image, next_due = self._pending_first, time.perf_counter()
        self._pending_first = None
        reason, last_ok = "eof", time.perf_counter()
        try:
            if self.is_file:  # a live camera's first frame is stale by now (read when it was opened)
                self._publish(image, 0.0)
            while not self._stop.is_set():
                if self.pace:  # like a camera: one frame per period, never a burst to catch up
                    next_due = max(next_due + period, time.perf_counter())
                    delay = next_due - time.perf_counter()
                    if delay > 0:
                        self._stop.wait(delay)
                start = time.perf_counter()
                ok, image = cap.read()
                if not ok or image is None:
                    if self.is_file:
                        break
                    if start - last_ok > min(1.0, self.stall_timeout_s / 2):  # devices may fail a read or two
                        reason = "stream ended (the camera stopped delivering frames)"
                        break
                    self._stop.wait(0.01)
                    continue
                last_ok = time.perf_counter()
                self._publish(to_bgr(image), (last_ok - start) * 1e3)
        except Exception as exc:
            reason = f"error: {type(exc).__name__}: {exc}"
        finally:
            cap.release()
            with self._cond:
                self._ended = "stopped" if self._stop.is_set() else reason
                self._cond.notify_all()

    def frames(self, stop: threading.Event | None = None) -> Iterator[SourceFrame]:
        """Yield the newest frame each time one newer than the last yielded arrives."""
        if not self._started:
            self._started = True
            self._t0 = time.perf_counter()
            self._start(self._run, "fer-camera-reader")
        last_seq, yielded = 0, 0
        while True:
            deadline = time.perf_counter() + self.stall_timeout_s
            with self._cond:
                while self._seq == last_seq and not self._ended:
                    if stop is not None and stop.is_set():
                        self.end_reason = "stopped"
                        return
                    remaining = deadline - time.perf_counter()
                    if remaining <= 0:
                        self.end_reason = f"stalled (no frame for {self.stall_timeout_s:g} s)"
                        return
                    self._cond.wait(min(0.05, remaining))
                if self._seq == last_seq:
                    self.end_reason = self._ended
                    return
                frame, frame.dropped = self._latest, self._seq - last_seq - 1
                last_seq, self._latest = self._seq, None
            if self.max_frames is not None and yielded >= self.max_frames:
                self.end_reason = "max_frames"
                return
            if stop is not None and stop.is_set():
                self.end_reason = "stopped"
                return
            yielded += 1
            self.frames_read += 1
            yield frame


def parse_camera_target(target) -> tuple[int | str, bool]:
    """Split a --camera value into (index or path/URL, is_file).

    Raises InputError for a path that does not exist (a URL is passed through).
    """
    if isinstance(target, int):
        return target, False
    text = str(target).strip()
    if text.lstrip("-").isdigit():
        return int(text), False
    if "://" in text:
        return text, False
    path = Path(text)
    check_file(path, "camera stand-in video")
    return str(path), True


def camera_error(target, is_file: bool) -> str:
    """The one-line message for a camera/stream/file that does not open."""
    if isinstance(target, int):
        other = 1 if target == 0 else 0
        return (f"camera {target}: expected a camera at index {target}, got none that opens or delivers a frame; "
                f"check it is connected and not in use, or try another index (e.g. --camera {other})")
    what = "video" if is_file else "stream"
    return (f"{what} {target}: expected a {what} OpenCV/FFmpeg can decode, got no decodable frame; "
            "check the path/URL and that the file is not corrupt")
