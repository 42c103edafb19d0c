"""Face recall in video: labelled photos shown one after another as a video, run through the real ``--video`` path.

    python benchmarks/eval_video_faces.py [--data ../shared/data] [--sets groups fddb] [--fddb-every N]
        [--seconds 1] [--fps 25] [--size 1280x720] [--work DIR] [-- OPTIONS FOR realtime-fer --video ...]

Each photo of a set (``group_photos``: 36 photos, 119 faces; ``fddb``: folds 01-05, every N-th photo) is
letterboxed into a ``--size`` frame (scaled to fit, centred on black) and shown for ``--seconds`` at ``--fps``;
its labelled boxes are mapped into the frame the same way. The videos (H.264, kept in ``--work`` and reused; never
commit them) then run through ``realtime-fer --video VIDEO --jsonl OUT`` with the options after ``--``, exactly as a
user runs it (a subprocess: the CLI's own defaults, threads and look-ahead). On each photo's middle frame the faces
the run wrote are matched to the labelled boxes with ``realtime_fer.apps.engine.detect_eval``'s rule (IoU >= 0.3,
or the detection's centre in the box at 0.2-2.5x its area; one detection per face).

Prints one row per set: recall (found / faces), unmatched detections per photo (on FDDB, where every face is
labelled, false faces; on the group photos mostly real unlabelled faces), and the run's frames per second as the
CLI reports it (decode, detection, tracking, classification, the offline filter and the table; no video encode).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime_fer.apps.engine.detect_eval import RecallResult, load_boxes, tally  # noqa: E402


def letterbox(width: int, height: int, frame_w: int, frame_h: int) -> tuple[float, float, float]:
    """(scale, dx, dy): a width x height photo scaled to fit a frame_w x frame_h frame, centred."""
    scale = min(frame_w / width, frame_h / height)
    return scale, (frame_w - round(width * scale)) / 2, (frame_h - round(height * scale)) / 2


def map_boxes(boxes: np.ndarray, scale: float, dx: float, dy: float) -> np.ndarray:
    """(n, 4) xyxy photo pixels -> the same boxes in frame pixels."""
    return np.asarray(boxes, np.float32) * scale + np.array([dx, dy, dx, dy], np.float32)


def middle_frame(photo: int, frames_per_photo: int) -> int:
    """The index of photo ``photo``'s middle frame (0-based photos, each ``frames_per_photo`` frames long)."""
    return photo * frames_per_photo + frames_per_photo // 2


def score(truths: list[np.ndarray], boxes_by_frame: dict[int, np.ndarray], frames_per_photo: int) -> RecallResult:
    """Match each photo's labelled boxes (frame pixels) with the boxes the run wrote on its middle frame
    (``boxes_by_frame``: frame index -> (m, 4) xyxy; a frame missing there had no face); ``images`` are the photos,
    ``ms`` is 0 (the run's speed is its fps)."""
    none = np.zeros((0, 4), np.float32)
    pairs = ((truth, boxes_by_frame.get(middle_frame(photo, frames_per_photo), none))
             for photo, truth in enumerate(truths))
    return RecallResult(len(truths), *tally(pairs), 0.0)


def read_jsonl(path: Path) -> dict[int, np.ndarray]:
    """frame index -> (m, 4) float32 xyxy boxes of a ``--jsonl`` table."""
    rows: dict[int, list] = {}
    with open(path) as handle:
        for line in handle:
            row = json.loads(line)
            rows.setdefault(int(row["frame"]), []).append([row["x1"], row["y1"], row["x2"], row["y2"]])
    return {frame: np.array(boxes, np.float32) for frame, boxes in rows.items()}


def build_video(photos: list[tuple[Path, np.ndarray]], path: Path, size: tuple[int, int], fps: int,
                frames_per_photo: int) -> list[np.ndarray]:
    """Write the photos as an H.264 video at ``path`` (unless it exists); each photo's boxes in frame pixels."""
    import cv2

    truths, frames = [], []
    for photo, boxes in photos:
        image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"{photo}: expected an image, got nothing readable")
        scale, dx, dy = letterbox(image.shape[1], image.shape[0], *size)
        truths.append(map_boxes(boxes, scale, dx, dy))
        frames.append((image, scale, dx, dy))
    if path.is_file():
        return truths
    import av

    temporary = path.with_suffix(".part.mp4")
    with av.open(str(temporary), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        index = 0
        for image, scale, dx, dy in frames:
            canvas = np.zeros((size[1], size[0], 3), np.uint8)
            shown = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                               interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            top, left = int(dy), int(dx)
            canvas[top:top + shown.shape[0], left:left + shown.shape[1]] = shown
            frame = av.VideoFrame.from_ndarray(canvas, format="bgr24")
            for _ in range(frames_per_photo):
                frame.pts = index
                index += 1
                container.mux(stream.encode(frame))
        container.mux(stream.encode())
    temporary.rename(path)
    return truths


def photo_set(data: Path, name: str, every: int) -> list[tuple[Path, np.ndarray]]:
    folder = data / ("group_photos" if name == "groups" else "fddb")
    chosen = list(load_boxes(folder / "labels.csv").items())
    return chosen[::every] if name == "fddb" else chosen


def run_cli(video: Path, table: Path, options: list[str]) -> tuple[float, float]:
    """(fps the CLI reported, wall seconds of the whole command) of ``realtime-fer --video video --jsonl table``."""
    command = [sys.executable, "-m", "realtime_fer", "--video", str(video), "--jsonl", str(table), "--overwrite",
               *options]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"eval_video_faces: {' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    fps = re.search(r"([\d.]+) fps", done.stdout + done.stderr)
    return (float(fps.group(1)) if fps else float("nan")), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--sets", nargs="+", choices=("groups", "fddb"), default=["groups", "fddb"])
    parser.add_argument("--fddb-every", type=int, default=4, metavar="N", help="every N-th FDDB photo (default 4)")
    parser.add_argument("--seconds", type=float, default=1.0, help="how long each photo is shown (default 1)")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--size", default="1280x720", help="frame size WxH (default 1280x720)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fer-video-faces"), help="where the videos are kept")
    parser.add_argument("--json", type=Path, help="append one JSON line per set here")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="-- then options for realtime-fer --video")
    args = parser.parse_args()
    options = args.options[1:] if args.options[:1] == ["--"] else args.options
    size = tuple(int(v) for v in args.size.lower().split("x"))
    frames_per_photo = max(round(args.seconds * args.fps), 1)
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; options: {' '.join(options) or '(defaults)'}")
    print("| set | photos | recall | unmatched / photo | fps (CLI) | wall s |\n|---|---|---|---|---|---|", flush=True)
    for name in args.sets:
        photos = photo_set(args.data, name, args.fddb_every)
        tag = f"{name}{args.fddb_every if name == 'fddb' else ''}_{size[0]}x{size[1]}_{args.fps}x{frames_per_photo}"
        truths = build_video(photos, args.work / f"{tag}.mp4", size, args.fps, frames_per_photo)
        table = args.work / f"{tag}.{os.getpid()}.jsonl"
        fps, wall = run_cli(args.work / f"{tag}.mp4", table, options)
        result = score(truths, read_jsonl(table), frames_per_photo)
        table.unlink()
        label = "group_photos" if name == "groups" else f"FDDB 01-05, every {args.fddb_every}"
        print(f"| {label} | {result.images} | {result.recall:.3f} ({result.found}/{result.faces}) | "
              f"{result.unmatched_per_image:.2f} | {fps:.1f} | {wall:.1f} |", flush=True)
        if args.json:
            with open(args.json, "a") as handle:
                handle.write(json.dumps({"set": name, "options": options, "photos": result.images,
                                         "faces": result.faces, "found": result.found, "unmatched": result.unmatched,
                                         "recall": round(result.recall, 4), "fps": fps, "wall_s": round(wall, 1),
                                         "fddb_every": args.fddb_every, "size": args.size}) + "\n")


if __name__ == "__main__":
    main()
