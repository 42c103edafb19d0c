"""Encode BGR frames into a video file with PyAV (FFmpeg), carrying the input's audio over.

* Video: H.264 (``libx264``) by default for .mp4/.m4v/.mov/.mkv, MJPEG for .avi; any FFmpeg
  encoder by name (``mpeg4``, ``h264_nvenc``, ``libx265``...).  Frames get presentation
  times from the caller (``time_ms``), so a variable-frame-rate input keeps its timing.
  H.264/MPEG-4 need even sizes: an odd width/height loses its last column/row.
* Audio: the first audio stream of ``audio_from`` is stream-copied (no quality loss, almost
  no CPU); when the output container cannot hold that codec (or, for .mp4/.m4v/.mov, holds
  it but players do not play it, e.g. PCM) it is re-encoded to AAC (MP3 for .avi).  Audio is
  muxed alongside the video as it is written; ``close(full_audio=False)``
  stops the audio at the end of the last written frame (an interrupted run), ``True`` copies
  it to its end.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..core.faces import DEFAULT_FPS
from ..errors import InputError
from .av_reader import require_av
from .output_paths import CAUSES, cause_of, remove_output

DEFAULT_CODEC = "libx264"
CODEC_BY_SUFFIX = {".mp4": DEFAULT_CODEC, ".m4v": DEFAULT_CODEC, ".mov": DEFAULT_CODEC, ".mkv": DEFAULT_CODEC,
                   ".avi": "mjpeg"}
DEFAULT_PRESET = {"libx264": "veryfast", "libx265": "ultrafast", "h264_nvenc": "p4", "hevc_nvenc": "p4"}
"""x264 presets trade speed for file size at equal quality (CRF); see docs/video-files.md for measurements."""
DEFAULT_QUALITY = {"libx264": 23, "libx265": 28, "h264_nvenc": 23, "hevc_nvenc": 28, "mpeg4": 4, "mjpeg": 4}
"""``crf``: CRF for libx264/libx265 (0-51, lower = better), CQ for NVENC, qscale (1-31) for mpeg4/mjpeg."""
QSCALE_CODECS = ("mpeg4", "mjpeg", "msmpeg4", "mpeg2video", "mpeg1video")
CRF_CODECS = ("libx264", "libx265")
QUALITY_SCALES = {"crf": (0, 51), "cq": (0, 51), "qscale": (1, 31)}
"""The ``crf`` each quality setting takes: libx264/libx265's CRF, NVENC's CQ, MPEG qscale."""
DEFAULT_TIME_BASE = Fraction(1, 90000)
MP4_FAMILY = ("mp4", "mov", "ipod")
PLAYABLE_IN_MP4 = ("aac", "mp3", "ac3", "eac3", "alac", "opus", "flac")
"""Audio codecs stream-copied into .mp4/.m4v/.mov (where the container takes them); others, e.g.
PCM, which the container holds but browsers and most players do not play, are re-encoded to AAC."""


def default_codec(path: str | Path) -> str:
    """The encoder used for an output file name (by suffix); InputError for unknown suffixes."""
    suffix = Path(path).suffix.lower()
    if suffix not in CODEC_BY_SUFFIX:
        raise InputError(f"output video {path}: expected a name ending in {', '.join(CODEC_BY_SUFFIX)}, got "
                         f"{suffix or 'no suffix'!r}; use .mp4 (H.264) or .avi (MJPEG)")
    return CODEC_BY_SUFFIX[suffix]


def quality_setting(codec: str) -> str | None:
    """How ``crf`` reaches ``codec``: "crf" (libx264/libx265), "cq" (any ``*_nvenc``), "qscale" (``QSCALE_CODECS``),
    or None (an encoder without a quality setting here)."""
    if codec in CRF_CODECS:
        return "crf"
    if codec.endswith("_nvenc"):
        return "cq"
    return "qscale" if codec in QSCALE_CODECS else None


def quality_range(codec: str | None) -> tuple[int, int] | None:
    """The (low, high) ``crf`` ``codec`` takes in its own scale, None when it has no quality setting here;
    ``codec`` None (not known yet): the loosest range, which every encoder's values lie in."""
    if codec is None:
        return min(low for low, _ in QUALITY_SCALES.values()), max(high for _, high in QUALITY_SCALES.values())
    setting = quality_setting(codec)
    return QUALITY_SCALES[setting] if setting else None


def check_quality(codec: str | None, crf: float | None) -> None:
    """InputError unless ``crf`` (None: the encoder's default) is in ``codec``'s range (``quality_range``; ``codec``
    None: the loosest, for a check before the encoder is known)."""
    if crf is None:
        return
    span = quality_range(codec)
    if span is None:
        raise InputError(f"--crf: expected an encoder with a quality setting ({', '.join(CRF_CODECS)}, *_nvenc, "
                         f"{', '.join(QSCALE_CODECS)}), got --codec {codec}, which has none here; drop --crf")
    low, high = span
    if not low <= crf <= high:
        raise InputError(f"--crf: expected {low}-{high} for {codec or 'any encoder'} (lower = better quality, bigger "
                         f"files), got {crf:g}; try {DEFAULT_QUALITY.get(codec or DEFAULT_CODEC, low)}")


def encoder_opens(name: str, size: tuple[int, int] = (256, 144)) -> bool:
    """True when FFmpeg's encoder ``name`` exists and opens here (e.g. h264_nvenc needs an NVIDIA GPU + driver)."""
    av = require_av()
    try:
        context = av.CodecContext.create(name, "w")
        context.width, context.height = size
        context.pix_fmt = "yuvj420p" if name == "mjpeg" else "yuv420p"
        context.time_base = Fraction(1, 25)
        context.framerate = Fraction(25)
        context.open()
        return True
    except (av.FFmpegError, ValueError, TypeError, av.codec.codec.UnknownCodecError):
        return False


def resolve_codec(codec: str | None, path: str | Path, provider: str | None = None) -> str:
    """The encoder to use: ``codec`` by name, the suffix's default for None, and for ``"auto"``
    ``h264_nvenc`` when ``provider`` is CUDA/TensorRT and that encoder opens, else the default.

    Raises InputError for an encoder FFmpeg does not have.
    """
    fallback = default_codec(path)
    if codec is None:
        return fallback
    if codec == "auto":
        if provider in ("cuda", "tensorrt", "CUDAExecutionProvider", "TensorrtExecutionProvider") and \
                fallback == DEFAULT_CODEC and encoder_opens("h264_nvenc"):
            return "h264_nvenc"
        return fallback
    av = require_av()
    try:
        av.codec.Codec(codec, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):
        raise InputError(f"--codec: expected an FFmpeg video encoder (libx264, mpeg4, h264_nvenc, auto), got "
                         f"{codec!r}, which this FFmpeg does not have; use libx264") from None
    return codec


def _error(path, what: str, exc: BaseException) -> InputError:
    if isinstance(exc, OSError) and exc.errno in CAUSES:  # the place, not the encoder
        return InputError(f"output video {path}: expected a place it can write a file, got {cause_of(exc)}; "
                          "choose another output path")
    return InputError(f"output video {path}: expected {what}, got {type(exc).__name__}: {str(exc)[:200]}; "
                      "try another --codec or container (.mp4, .mkv)")


class AudioCarry:
    """The first audio stream of ``source`` into ``container``: stream copy, or re-encoded when it must be.

    ``mux_until(seconds)`` writes the audio packets that start before ``seconds`` (None: all).
    ``copied`` is True for stream copy; ``errors`` counts audio packets skipped as damaged.
    """

    @classmethod
    def open(cls, source: str | Path, container) -> AudioCarry | None:
        """An AudioCarry for ``source``'s first audio stream; None when it has none."""
        av = require_av()
        media = av.open(str(source), metadata_errors="ignore")
        if not media.streams.audio:
            media.close()
            return None
        try:
            return cls(media, container)
        except BaseException:
            media.close()
            raise

    def __init__(self, media, container):
        av = require_av()
        self.container = container
        self.input = media
        self.stream_in = media.streams.audio[0]
        name, codec_in = container.format.name, self.stream_in.codec_context.codec.canonical_name
        self.copied = (codec_in in PLAYABLE_IN_MP4 or name not in MP4_FAMILY) and _can_copy(name, self.stream_in)
        self.errors = 0
        self.resampler = None
        if self.copied:
            self.stream_out = container.add_stream_from_template(self.stream_in)
        else:
            codec = "libmp3lame" if container.format.name == "avi" else "aac"
            rate = self.stream_in.codec_context.sample_rate or 48000
            self.stream_out = container.add_stream(codec, rate=rate)
            channels = self.stream_in.codec_context.channels or 2
            standard = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 8: "7.1"}
            layout = standard.get(channels, "stereo")  # PCM may say "1 channels" (no order), which AAC refuses
            self.stream_out.layout = layout
            self.resampler = av.AudioResampler(format=self.stream_out.format.name, layout=layout, rate=rate)
        self._packets = self.input.demux(self.stream_in)
        self._pending = None
        self._done = False

    def _next(self):
        av = require_av()
        while True:
            try:
                return next(self._packets)
            except StopIteration:
                return None
            except av.FFmpegError:
                self.errors += 1
                if self.errors > 1000:
                    return None

    def mux_until(self, seconds: float | None) -> None:
        while not self._done:
            packet = self._pending or self._next()
            self._pending = None
            if packet is None:
                self._done = True
                break
            if packet.dts is None and not packet.size:  # the demuxer's end-of-stream marker
                self._write(None)
                continue
            stamp = packet.pts if packet.pts is not None else packet.dts
            if seconds is not None and stamp is not None and float(stamp * packet.time_base) >= seconds:
                self._pending = packet
                return
            self._write(packet)

    def _write(self, packet) -> None:
        av = require_av()
        if self.copied:
            if packet is not None and packet.dts is not None:
                packet.stream = self.stream_out
                self.container.mux(packet)
            return
        try:
            frames = packet.decode() if packet is not None else self.stream_in.codec_context.decode(None)
        except (av.FFmpegError, EOFError):
            self.errors += 1
            return
        for frame in frames:
            frame.pts = None
            for converted in self.resampler.resample(frame):
                self.container.mux(self.stream_out.encode(converted))

    def close(self, seconds: float | None) -> None:
        """Write the audio up to ``seconds`` (None: to its end), flush a re-encoder, close the input."""
        try:
            self.mux_until(seconds)
            if not self.copied:
                for converted in self.resampler.resample(None):
                    self.container.mux(self.stream_out.encode(converted))
                self.container.mux(self.stream_out.encode(None))
        finally:
            self.input.close()


def _can_copy(format_name: str, stream) -> bool:
    """True when a ``format_name`` container takes ``stream``'s codec as is (tried on an in-memory file)."""
    av = require_av()
    try:
        with av.open(io.BytesIO(), "w", format=format_name) as trial:
            trial.add_stream_from_template(stream)
            trial.start_encoding()
        return True
    except (av.FFmpegError, ValueError):
        return False


class AvVideoWriter:
    """An output video file: frames in, H.264 (or ``codec``) out, plus the input's audio.

    Args:
        path: output file (container from the suffix).
        fps: nominal frame rate (timestamps come from ``write(..., time_ms)``; this one is
            used for frames written without a time and for rate control).
        size: (width, height) of the frames; odd values are rounded down to even for codecs
            that need it.
        codec: FFmpeg encoder name (see ``resolve_codec``); preset / crf: see DEFAULT_PRESET /
            DEFAULT_QUALITY (None: those defaults; ignored by encoders without them).
        time_base: seconds per pts tick (use the input's to keep its timestamps exactly).
        audio_from: a media file whose first audio stream is carried over (None: no audio).

    Raises:
        InputError: the encoder or container does not open (before any frame is written).
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], *, codec: str = DEFAULT_CODEC,
                 preset: str | None = None, crf: float | None = None, time_base: Fraction | None = None,
                 audio_from: str | Path | None = None):
        av = require_av()
        check_quality(codec, crf)
        self.path, self.codec = Path(path), codec
        self.fps = float(fps) if fps and fps > 0 else DEFAULT_FPS
        width, height = int(size[0]), int(size[1])
        if codec not in ("mjpeg", "rawvideo"):
            width, height = width - width % 2, height - height % 2
        self.size = (width, height)
        self.time_base = Fraction(time_base) if time_base else DEFAULT_TIME_BASE
        self.frames_written = 0
        self.audio = None
        self._last_pts: int | None = None
        self._last_end_s = 0.0
        try:
            self.container = av.open(str(self.path), "w")
        except (av.FFmpegError, ValueError) as exc:
            raise _error(self.path, "a container FFmpeg can write", exc) from None
        try:
            self._add_video(codec, preset, crf)
        except (av.FFmpegError, ValueError, TypeError) as exc:
            self.discard()
            raise _error(self.path, f"a {codec} encoder that opens for {width}x{height}", exc) from None
        try:
            if audio_from is not None:
                self.audio = AudioCarry.open(audio_from, self.container)
        except (av.FFmpegError, ValueError, TypeError) as exc:
            self.discard()
            raise InputError(f"output video {self.path}: expected to carry the audio of {audio_from} over, got "
                             f"{type(exc).__name__}: {str(exc)[:160]}; pass --no-audio to leave it out") from None
        try:
            self.container.start_encoding()
        except (av.FFmpegError, ValueError, TypeError) as exc:
            self.discard()
            raise _error(self.path, f"a {codec} encoder{' and audio' if self.audio else ''} that open for "
                                    f"{width}x{height}", exc) from None

    def _add_video(self, codec: str, preset: str | None, crf: float | None) -> None:
        rate = Fraction(self.fps).limit_denominator(1001 * 1000)
        stream = self.stream = self.container.add_stream(codec, rate=rate)
        stream.width, stream.height = self.size
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.time_base = self.time_base
        stream.codec_context.time_base = self.time_base
        quality = crf if crf is not None else DEFAULT_QUALITY.get(codec)
        options = {}
        preset = preset or DEFAULT_PRESET.get(codec)
        if preset and codec in DEFAULT_PRESET:
            options["preset"] = str(preset)
        setting = quality_setting(codec)
        if quality is not None:
            if setting == "crf":
                options["crf"] = f"{quality:g}"
            elif setting == "cq":
                options.update({"rc": "vbr", "cq": f"{quality:g}", "b": "0"})
            elif setting == "qscale":
                stream.codec_context.qscale = True
                stream.codec_context.global_quality = int(round(float(quality) * 118))  # FF_QP2LAMBDA
        stream.options = options

    def write(self, image: np.ndarray, time_ms: float | None = None) -> None:
        """Encode one (H, W, 3) uint8 BGR frame of ``size`` shown at ``time_ms`` (None: after the last one)."""
        av = require_av()
        width, height = self.size
        if image.shape[1] != width or image.shape[0] != height:
            image = image[:height, :width]
        frame = self._to_frame(av, np.ascontiguousarray(image))
        tick = 1.0 / (self.fps * self.time_base)
        if time_ms is None:
            pts = 0 if self._last_pts is None else self._last_pts + max(1, int(round(tick)))
        else:
            pts = int(round(time_ms / 1000.0 / self.time_base))
            if self._last_pts is not None and pts <= self._last_pts:
                pts = self._last_pts + 1  # timestamps must increase
        frame.pts, frame.time_base = pts, self.time_base
        self._last_pts = pts
        self.container.mux(self.stream.encode(frame))
        self.frames_written += 1
        self._last_end_s = float((pts + tick) * self.time_base)
        if self.audio is not None:
            self.audio.mux_until(self._last_end_s)

    def _to_frame(self, av, image: np.ndarray):
        """(H, W, 3) uint8 BGR -> av.VideoFrame; yuv420p through OpenCV's SIMD conversion (measured 0.27 vs
        1.33 ms per 640x360 frame, 1.4 vs 8.5 ms per 1080p frame against swscale's bgr24 -> yuv420p)."""
        if self.stream.pix_fmt == "yuv420p":
            import cv2

            return av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
        return av.VideoFrame.from_ndarray(image, format="bgr24")

    def close(self, full_audio: bool = False) -> None:
        """Flush the encoder, write the audio (to the end of the last frame, or all of it), finalize the file."""
        if self.container is None:
            return
        try:
            self.container.mux(self.stream.encode(None))
            if self.audio is not None:
                self.audio.close(None if full_audio else self._last_end_s)
        finally:
            container, self.container = self.container, None
            container.close()

    def discard(self) -> None:
        """Close without finishing and delete the file (a failed run: the file is not a result)."""
        container, self.container = self.container, None
        try:
            if container is not None:
                container.close()
        except Exception:  # noqa: BLE001 - the open error is what matters
            pass
        if self.audio is not None:
            self.audio.input.close()
        remove_output(self.path)
