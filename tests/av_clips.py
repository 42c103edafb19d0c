"""Generated test videos written with PyAV (audio tracks, variable frame rate, rotation, damage),
and the helpers the video-file tests share (``run_cli``, ``rows_of``, ``streams_of``).

Every clip shows ``conftest.face_frame`` (the astronaut's face drifting right) so the real
detector finds a face; sizes are (width, height) of the stored picture.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import csv

import av
import numpy as np

from tests.conftest import face_frame

AUDIO_RATE = 48000


def _add_audio(container, codec: str, seconds: float):
    """Add a mono 440 Hz tone of ``seconds`` to ``container``; returns a function that writes it."""
    stream = container.add_stream(codec, rate=AUDIO_RATE)
    stream.layout = "mono"
    sample_format = "s16" if codec == "pcm_s16le" else "fltp"

    def write() -> None:
        total, chunk, done = int(round(seconds * AUDIO_RATE)), 1024, 0
        while done < total:
            n = min(chunk, total - done)
            t = (np.arange(done, done + n) / AUDIO_RATE).astype(np.float32)
            tone = 0.3 * np.sin(2 * np.pi * 440 * t)
            samples = (tone * 32767).astype(np.int16) if sample_format == "s16" else tone.astype(np.float32)
            frame = av.AudioFrame.from_ndarray(samples[None, :], format=sample_format, layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, done, Fraction(1, AUDIO_RATE)
            container.mux(stream.encode(frame))
            done += n
        container.mux(stream.encode(None))

    return write


def write_clip(path: Path, frames: int = 24, fps: float = 12.0, size=(640, 360), *, codec: str = "libx264",
               audio: str | None = None, times_ms: list[float] | None = None, rotation: int | None = None,
               gop: int | None = None, image=None) -> Path:
    """Write a clip of ``face_frame``s (or ``image(i)``) and return its path.

    Args:
        codec: video encoder; audio: audio encoder ("aac", "pcm_s16le"...) for a 440 Hz tone as long
            as the video, or None; times_ms: presentation times of the frames (variable frame rate;
            the stream's time base is then 1 ms); rotation: display-matrix angle (counter-clockwise
            degrees, as ``VideoFrame.rotation`` reports it); gop: keyframe interval.
    """
    image = image or (lambda i: face_frame(i, size))
    container = av.open(str(path), "w")
    stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    time_base = Fraction(1, 1000) if times_ms is not None else 1 / Fraction(fps).limit_denominator(1000)
    stream.time_base = stream.codec_context.time_base = time_base
    options = {"preset": "ultrafast"} if codec == "libx264" else {}
    if gop:
        stream.codec_context.gop_size = gop
    stream.options = options
    if rotation is not None:
        stream.set_display_rotation(rotation)
    seconds = (times_ms[-1] / 1000 + 1 / fps) if times_ms is not None else frames / fps
    write_audio = _add_audio(container, audio, seconds) if audio else None
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(image(i), format="bgr24")
        frame.pts = int(round(times_ms[i])) if times_ms is not None else i
        frame.time_base = time_base
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    if write_audio:
        write_audio()
    container.close()
    return Path(path)


def damage_packets(path: Path, packets: list[int], out: Path, seed: int = 0) -> Path:
    """Copy ``path`` to ``out`` with the payload of the video packets numbered ``packets``
    (0-based, in file order) overwritten by random bytes (the container's index stays intact)."""
    with av.open(str(path)) as container:
        places = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    data = bytearray(Path(path).read_bytes())
    rng = np.random.default_rng(seed)
    for k in packets:
        pos, size = places[k]
        data[pos:pos + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    Path(out).write_bytes(bytes(data))
    return Path(out)


def streams_of(path: Path) -> dict:
    """{"video": (codec, frames decoded, (w, h), rotation), "audio": (codec, seconds) or None,
    "video_times_ms": [presentation time of each decoded frame]}."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        times, count, rotation, size = [], 0, 0, None
        for frame in container.decode(video):
            count += 1
            times.append(float(frame.time * 1000))
            rotation, size = frame.rotation, (frame.width, frame.height)
        audio = None
        if container.streams.audio:
            stream = container.streams.audio[0]
            samples, rate, start = 0, stream.codec_context.sample_rate, None
            container.seek(0)
            for frame in container.decode(stream):
                start = frame.time if start is None else start
                samples += frame.samples
            audio = (stream.codec_context.codec.canonical_name, samples / rate)
        return {"video": (video.codec_context.codec.canonical_name, count, size, rotation), "audio": audio,
                "video_times_ms": times}


def run_cli(capsys, *args) -> tuple[int, str]:
    """(exit code, stderr) of the in-process CLI; never a traceback."""
    from realtime_fer.apps.cli import main

    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def rows_of(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
