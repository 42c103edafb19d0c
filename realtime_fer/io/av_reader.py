"""Decode a video file with PyAV (FFmpeg): true timestamps, rotation, and decoding past damage.

``AvVideoReader(path).frames()`` yields ``(image, time_ms, position, decode_ms)``:

* ``image``: (H, W, 3) uint8 **BGR**, turned upright when the stream carries rotation
  metadata (phone videos: a display matrix of +-90 / 180 degrees), so H x W is the
  size a player shows;
* ``time_ms``: the frame's presentation time from the container (``pts * time_base``,
  in ms), so variable-frame-rate files keep their timing; ``position * 1000 / fps``
  only for packets without timestamps;
* ``position``: 0-based place of the frame in presentation order **counting frames that
  could not be decoded**, so a lost frame leaves a gap (frame 15 lost: ... 14, 16 ...);
* ``decode_ms``: wall time spent demuxing + decoding + converting for this frame.

Damage: a packet the decoder rejects (``av.error.InvalidDataError`` and other FFmpeg
errors) is skipped and decoding goes on with the next one; a damaged block of the
container is skipped by resuming the demuxer.  A frame counts as lost when its packet
was demuxed but no frame with its timestamp came out (rejected packets, frames the
decoder drops because their references are gone); ``lost`` lists them (position,
time_ms), ``lost_count`` counts them, ``concealed`` counts frames FFmpeg decoded with
errors concealed (``frame.is_corrupt``: shown, but with visible damage).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ..core.faces import DEFAULT_FPS
from ..errors import InputError, MissingDependencyError

MAX_LOST_LISTED = 1000
"""``lost`` keeps the first this many lost frames; ``lost_count`` counts all of them."""
MAX_DEMUX_ERRORS = 64
"""Consecutive demuxer errors after which the rest of the file is given up."""


def require_av():
    """The ``av`` module (PyAV); MissingDependencyError when it is not installed."""
    try:
        import av
    except ImportError:  # pragma: no cover - av is a core dependency
        raise MissingDependencyError("video files: expected PyAV (the `av` package), got no module named av; "
                                     "run `pip install av`") from None
    return av


def decoder_threads(cores: int | None = None) -> int:
    """FFmpeg decoder threads for files: 0, i.e. FFmpeg's own choice (frame + slice threads).

    Measured on the 2-core CPU, ``--video IN --csv OUT`` (A/B in one run, two rounds): Pexels
    640x360 377-428 fps with FFmpeg's choice vs 358-396 with one thread; its 1080p upscale
    149-153 vs 118-119 fps.
    """
    return 0


@dataclass
class LostFrame:
    """A frame that was in the file but could not be decoded: its position and presentation time (ms)."""

    position: int
    time_ms: float


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate an (H, W, 3) image counter-clockwise by ``rotation`` degrees (a multiple of 90; others: unchanged).

    ``rotation`` is PyAV's ``VideoFrame.rotation`` (FFmpeg's display-matrix angle), so the
    result is the picture a player shows.
    """
    import cv2

    turns = int(round(rotation / 90.0)) % 4 if rotation and abs(rotation / 90.0 - round(rotation / 90.0)) < 1e-3 else 0
    if turns == 0:
        return image
    code = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}[turns]
    return cv2.rotate(image, code)


def to_bgr(frame) -> np.ndarray:
    """A decoded ``av.VideoFrame`` as (H, W, 3) uint8 BGR.

    8-bit 4:2:0 (``yuv420p``, most H.264/HEVC files) converts with OpenCV's SIMD
    ``COLOR_YUV2BGR_I420`` (BT.601, as FFmpeg's default): measured 0.8 vs 1.1 ms CPU per
    640x360 frame and 6.5 vs 8.5 ms per 1080p frame (decode included) against PyAV's
    ``to_ndarray(format="bgr24")`` (swscale); pixels differ by 1.2 grey levels on average.
    Other formats (10-bit, 4:2:2, full-range ``yuvj``) go through swscale.
    """
    import cv2

    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2BGR_I420)
    return frame.to_ndarray(format="bgr24")


class AvVideoReader:
    """The first video stream of a file, decoded by FFmpeg through PyAV.

    Args:
        path: the video file.
        threads: decoder threads (None: ``decoder_threads()``; 0: FFmpeg's choice).

    Attributes (after opening): ``fps`` (average frame rate, ``DEFAULT_FPS`` when unknown),
    ``time_base`` (Fraction, seconds per pts tick), ``frame_count`` (the container's claim or
    an estimate from its duration; None when unknown), ``codec`` (e.g. "h264"),
    ``has_audio``, and while/after reading ``lost``, ``lost_count``, ``concealed``,
    ``demux_errors``.

    Raises:
        InputError: the file does not open as a media file or has no video stream.
    """

    def __init__(self, path: str | Path, threads: int | None = None):
        av = require_av()
        self.path = Path(path)
        try:
            self.container = av.open(str(self.path), metadata_errors="ignore")
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"video {self.path}: expected a video FFmpeg can decode, got no decodable frame "
                             f"({_reason(exc)}); check the file with ffprobe (corrupt, truncated or not a video)"
                             ) from None
        if not self.container.streams.video:
            self.container.close()
            raise InputError(f"video {self.path}: expected a video stream, got none (an audio-only or non-video "
                             "file); pass a video file")
        stream = self.stream = self.container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.thread_count = decoder_threads() if threads is None else int(threads)
        self.codec = stream.codec_context.name
        self.time_base = Fraction(stream.time_base) if stream.time_base else None
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        self.fps = fps if np.isfinite(fps) and 0 < fps <= 1000 else DEFAULT_FPS
        self.frame_count = self._claimed_frames()
        self.has_audio = bool(self.container.streams.audio)
        self.lost: list[LostFrame] = []
        self.lost_count = 0
        self.concealed = 0
        self.demux_errors = 0
        self._pending: list[int] = []  # heap of demuxed packets' pts not yet seen as a frame
        self._position = 0

    def _claimed_frames(self) -> int | None:
        stream = self.stream
        if stream.frames and stream.frames > 0:
            return int(stream.frames)
        duration = None
        if stream.duration and self.time_base:
            duration = float(stream.duration * self.time_base)
        elif self.container.duration:
            duration = self.container.duration / 1e6
        return int(round(duration * self.fps)) if duration and duration > 0 else None

    def _time_ms(self, pts: int | None, position: int) -> float:
        if pts is None or self.time_base is None:
            return position * 1000.0 / self.fps
        return float(pts * self.time_base * 1000)

    def _lose(self, pts: int | None) -> None:
        if len(self.lost) < MAX_LOST_LISTED:
            self.lost.append(LostFrame(self._position, round(self._time_ms(pts, self._position), 3)))
        self.lost_count += 1
        self._position += 1

    def _place(self, pts: int | None) -> int:
        """Position of a decoded frame with ``pts``; frames demuxed before it but never decoded become lost."""
        if pts is not None and self._pending:
            while self._pending and self._pending[0] < pts:
                self._lose(heapq.heappop(self._pending))
            if self._pending and self._pending[0] == pts:
                heapq.heappop(self._pending)
        position = self._position
        self._position += 1
        return position

    def _packets(self):
        """Demuxed packets of the video stream; a damaged container block is skipped by resuming the demuxer."""
        av = require_av()
        packets, consecutive = self.container.demux(self.stream), 0
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError:
                self.demux_errors += 1
                consecutive += 1
                if consecutive > MAX_DEMUX_ERRORS:
                    return
                packets = self.container.demux(self.stream)
                continue
            consecutive = 0
            yield packet

    def frames(self) -> Iterator[tuple[np.ndarray, float, int, float]]:
        """Yield (BGR upright image, time_ms, position, decode_ms) in presentation order; see the module doc."""
        av = require_av()
        start = time.perf_counter()
        for packet in self._packets():
            if packet.size and packet.pts is not None and not packet.is_discard:
                heapq.heappush(self._pending, packet.pts)
            try:
                decoded = packet.decode()
            except av.FFmpegError:
                if packet.size and packet.pts is None:  # its frame cannot be matched later; count it now
                    self._lose(None)
                continue
            for frame in decoded:
                yield self._convert(frame, start)
                start = time.perf_counter()
        while self._pending:  # demuxed at the end but never decoded
            self._lose(heapq.heappop(self._pending))

    def _convert(self, frame, start: float) -> tuple[np.ndarray, float, int, float]:
        position = self._place(frame.pts)
        if frame.is_corrupt:
            self.concealed += 1
        image = upright(to_bgr(frame), frame.rotation)
        return image, self._time_ms(frame.pts, position), position, (time.perf_counter() - start) * 1e3

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self.container is not None:
            self.container.close()
            self.container = None


def _reason(exc: BaseException) -> str:
    """FFmpeg's short error text (``Invalid data found when processing input``), without errno and path."""
    text = getattr(exc, "strerror", None) or str(exc).split(": '", 1)[0].strip() or type(exc).__name__
    return str(text)[:160]
