"""Make the brief-expression clip set: spliced clips from the sample videos, with per-frame ABAW labels.

    python benchmarks/make_brief_clips.py [--out out/brief_clips] [--samples ../shared/data/samples]

Writes, into ``--out`` (default ``out/brief_clips``, ignored by git: never commit the media), one H.264 ``.mp4``
and one ABAW EXPR annotation ``.txt`` per clip (header ``Neutral,...,Other``, one label per frame, -1 = not
labelled), plus ``clips.json``: per clip its source, the frame ranges spliced and the brief stretch
(``brief``: first frame, end frame (exclusive), ABAW class), for ``benchmarks/bench_temporal.py --clips``.
Score every temporal setting over the set with one command::

    realtime-fer eval out/brief_clips out/brief_clips --compare

The clips (each part: a stretch of frames of one source video, same face, same frame rate):

* ``pex_*``: ``WolfgangLanger_Pexels.mp4`` (23.976 fps); labels from its annotation (sad 0-139, happy 248-471).
  A 0.4-1 s stretch of happy inserted into sad and of sad into happy, and clips that end 0.5 s after a change.
* ``w2_*``: ``woman2.mp4`` (29.97 fps; a woman talking and smiling), labelled by eye for this set
  (``WOMAN2_LABELS``: broad smiles happy, talking without a smile neutral, the rest -1). A 0.4-1 s smile
  inserted into neutral talking, and a clip that ends 0.5 s into a smile.
* ``pexels_full`` and ``woman2_full``: the two whole videos (long expressions), with the same labels.

Frame counts are chosen so a stretch lasts what its name says at the source rate (0.4 s = 10 frames at 23.976
fps, 12 at 29.97). Only the labelled source frames are used, so every frame of a spliced clip is labelled.
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "data" / "samples"
ABAW_HEADER = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"
NEUTRAL, HAPPY, SAD = 0, 4, 5
PEXELS, WOMAN2 = "WolfgangLanger_Pexels.mp4", "woman2.mp4"

WOMAN2_LABELS = ((16, 46, HAPPY), (88, 105, HAPPY), (120, 141, HAPPY), (448, 464, HAPPY),
                 (204, 235, NEUTRAL), (284, 303, NEUTRAL), (396, 427, NEUTRAL))
"""woman2.mp4 by eye: (first frame, end frame exclusive, ABAW class); every other frame -1 (talking, half smiles,
winks: not sure)."""

# name: (source, [(first, end exclusive), ...], index of the brief part or None)
CLIPS = {
    "pex_happy0.4_in_sad": (PEXELS, [(20, 80), (320, 330), (80, 128)], 1),
    "pex_happy0.7_in_sad": (PEXELS, [(20, 80), (340, 357), (80, 128)], 1),
    "pex_happy1.0_in_sad": (PEXELS, [(20, 80), (360, 384), (80, 128)], 1),
    "pex_sad0.5_in_happy": (PEXELS, [(300, 360), (90, 102), (360, 420)], 1),
    "pex_sad0.8_in_happy": (PEXELS, [(380, 440), (100, 119), (440, 472)], 1),
    "pex_sad_then_happy0.5_end": (PEXELS, [(30, 100), (400, 412)], 1),
    "pex_happy_then_sad0.5_end": (PEXELS, [(300, 372), (40, 52)], 1),
    "w2_smile0.4_in_neutral": (WOMAN2, [(396, 427), (90, 102), (204, 235)], 1),
    "w2_smile0.7_in_neutral": (WOMAN2, [(396, 427), (120, 141), (204, 235), (284, 303)], 1),
    "w2_smile1.0_in_neutral": (WOMAN2, [(204, 235), (16, 46), (396, 427)], 1),
    "w2_neutral_then_smile0.5_end": (WOMAN2, [(396, 427), (284, 303), (120, 135)], 2),
    "pexels_full": (PEXELS, [(0, 472)], None),
    "woman2_full": (WOMAN2, [(0, 464)], None),
}


def source_labels(samples: Path, source: str, frames: int) -> np.ndarray:
    """(frames,) int64 ABAW label per source frame (-1 = not labelled)."""
    if source == PEXELS:
        lines = (samples / "annotations" / "WolfgangLanger_Pexels.txt").read_text().split()
        labels = np.array([int(v) for v in lines[1:]], np.int64)
        return np.concatenate([labels, np.full(max(0, frames - len(labels)), -1, np.int64)])[:frames]
    labels = np.full(frames, -1, np.int64)
    for first, end, label in WOMAN2_LABELS:
        labels[first:end] = label
    return labels


def read_video(path: Path) -> tuple[list[np.ndarray], Fraction]:
    """Every frame of ``path`` as (H, W, 3) uint8 BGR, and the stream's average frame rate."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="bgr24") for frame in container.decode(stream)]
        return frames, Fraction(stream.average_rate)


def write_video(path: Path, frames: list[np.ndarray], rate: Fraction) -> None:
    """H.264 (yuv420p, CRF 18: close to the source) at ``rate``, frame i at time i / rate."""
    import av

    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def make_clips(samples: Path, out: Path) -> dict:
    """Write every clip of ``CLIPS`` and its annotation into ``out``; returns the manifest (also ``clips.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    cache: dict[str, tuple] = {}
    manifest = {}
    for name, (source, parts, brief_part) in CLIPS.items():
        if source not in cache:
            frames, rate = read_video(samples / "videos" / source)
            cache[source] = (frames, rate, source_labels(samples, source, len(frames)))
        frames, rate, labels = cache[source]
        images, truth, brief, start = [], [], None, 0
        for k, (first, end) in enumerate(parts):
            images += frames[first:end]
            truth.append(labels[first:end])
            if k == brief_part:
                values = np.unique(labels[first:end])
                assert len(values) == 1 and values[0] >= 0, f"{name}: the brief part must have one label"
                brief = [start, start + end - first, int(values[0])]
            start += end - first
        write_video(out / f"{name}.mp4", images, rate)
        truth = np.concatenate(truth)
        (out / f"{name}.txt").write_text(ABAW_HEADER + "\n" + "\n".join(str(int(v)) for v in truth) + "\n")
        manifest[name] = {"source": source, "fps": float(rate), "parts": parts, "frames": len(images),
                          "brief": brief, "brief_s": None if brief is None else (brief[1] - brief[0]) / float(rate)}
    (out / "clips.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "out" / "brief_clips"))
    parser.add_argument("--samples", default=str(SAMPLES))
    args = parser.parse_args()
    samples = Path(args.samples)
    for source in (PEXELS, WOMAN2):
        if not (samples / "videos" / source).is_file():
            raise SystemExit(f"make_brief_clips: expected {samples / 'videos' / source}, got no such file; "
                             "pass --samples ../shared/data/samples")
    manifest = make_clips(samples, Path(args.out))
    for name, clip in manifest.items():
        brief = "" if clip["brief"] is None else f", brief frames {clip['brief'][0]}-{clip['brief'][1] - 1} " \
            f"({clip['brief_s']:.2f} s, ABAW {clip['brief'][2]})"
        print(f"{name}: {clip['frames']} frames at {clip['fps']:.3f} fps{brief}")
    print(f"written to {args.out}; score with: realtime-fer eval {args.out} {args.out} --compare")


if __name__ == "__main__":
    main()
