"""Per-mode defaults, in one table: what each CLI mode does with the options left out.

Modes: ``camera`` and ``image`` (streams and stills: causal, detection on the main thread; the camera's CenterFace
discovery passes on a thread beside it) and the file modes ``video``, ``batch``, ``eval`` and ``bench`` (the offline
temporal filter, detection every 2nd frame and a discovery pass every 10th on a look-ahead thread). ``bench``
measures the ``--video`` path, so it has ``--video``'s defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from ...core.presets import PHOTO_SETTINGS, VIDEO_SETTINGS, DiscoverySettings


@dataclass(frozen=True)
class ModeDefaults:
    """What a mode uses for an option left out.

    Attributes:
        detector: the face detector (why: ``DETECTOR_NOTE``).
        detector_range: BlazeFace range (why: ``RANGE_NOTE``).
        detect_every: detection cadence in frames (why: ``CADENCE_NOTE``).
        files: frames come from a file, so the offline temporal filter (which needs the future) is allowed and is
            the default (why: ``TEMPORAL_NOTE``); otherwise the live one, and detection runs on the main thread,
            so the classifier may borrow a second core (``classifier_threads``).
        min_hits: frames in a row a new face must be found in before it is shown (why: ``MIN_HITS_NOTE``).
        min_face: faces narrower than this many pixels are dropped (why: ``MIN_FACE_NOTE``).
        media: "photo" or "video": which shipped expression model runs without ``--model`` (why: ``MODEL_NOTE``).
        discovery: the slow small-face detector run now and then beside the fast one while ``--detector`` is left
            out (``core.discovery``; why: ``DISCOVERY_NOTE``), None: none.
        classify_limit: at most this many faces classified per frame, the others keep their last reading (0: all;
            why: ``DISCOVERY_NOTE``).
    """

    detector: str
    detector_range: str
    detect_every: int
    files: bool
    min_hits: int
    min_face: float
    media: str = "video"
    discovery: DiscoverySettings | None = None
    classify_limit: int = 0

    @property
    def temporal(self) -> str:
        """The default temporal mode: "offline" for files, "live" otherwise."""
        return "offline" if self.files else "live"


def _preset(settings: dict, detect_every: int, files: bool) -> ModeDefaults:
    discovery = settings.get("discovery")
    if discovery is not None and files:
        discovery = replace(discovery, period_s=0.0)  # files: every ``every`` frames, on the look-ahead thread
    return ModeDefaults(settings["detector"], settings["detector_range"], detect_every, files, settings["min_hits"],
                        settings["min_size"], settings["media"], discovery, settings.get("classify_limit", 0))


_FILE = _preset(VIDEO_SETTINGS, 2, True)
MODE_DEFAULTS = {"camera": _preset(VIDEO_SETTINGS, 1, False),
                 "image": _preset(PHOTO_SETTINGS, 1, False),
                 "video": _FILE, "batch": _FILE, "eval": _FILE, "bench": _FILE}
"""The detection settings of ``camera`` and ``image`` are ``core.presets``' ``VIDEO_SETTINGS`` and
``PHOTO_SETTINGS``, the presets of ``Recognizer.for_video()`` / ``for_photos()``, so the Python API and the command
line agree."""

MODEL_NOTE = """Measured on the talking-face set (benchmarks/bench_talking.py, 51 scored clips of 38 people) and on
ExpW (docs/models.md): the photo model (expression-faceres.int8.onnx, the most accurate on ExpW and FER+ photos)
shows calm talking as neutral on 21 % of frames and gets the clip's label most shown on 39 % of clips; the video model
(expression-compact-talking.onnx: the compact CNN with log-prior offsets fitted on talking frames) 89 % and 90 %,
each person's clips scored with offsets fitted on the other people's. So --image keeps the photo model and every mode
that reads video (--camera, --video, batch, eval, bench) runs the video model; --model overrides both."""

MIN_FACE_NOTE = """Measured with benchmarks/eval_detect.py (docs/detection.md): CenterFace at 640 px finds 0.959 of FDDB
with 0.09 unmatched detections per image with no minimum and with 10 px, but only 0.938 with 20 px (FDDB labels many
news-photo faces 20-25 px high, and detector boxes are smaller than FDDB's). So stills drop faces under 10 px only
(too small to classify: the classifier sees 48-64 px crops). Streams and files drop faces under 20 px: BlazeFace short
never returns one that small on these sets (the same table row with and without it), so it costs nothing there and
keeps a --detector centerface or --range full run from labelling specks."""

DETECTOR_NOTE = """Chosen on the detection table (docs/detection.md, benchmarks/eval_detect.py): CenterFace finds far
more faces (small, turned, partly covered) than BlazeFace but costs ~10x more on a CPU, so stills, where a second
per image is fine, use it; --camera and --video track with BlazeFace short and find the small faces with CenterFace
discovery passes (DISCOVERY_NOTE)."""

DISCOVERY_NOTE = """Chosen on the video table (docs/detection.md, benchmarks/eval_video_faces.py: labelled photos shown
1 s each in a 1280x720, 25 fps video through --video, recall on each photo's middle frame). BlazeFace short alone
found 0.101 of the group-photo faces and 0.624 of FDDB's; CenterFace alone (--detector centerface --detector-size
640) finds 0.975 and 0.928 but at about half the speed (85 fps against 163 on FDDB). So the video modes track with
BlazeFace short and run CenterFace as a discovery pass (core.discovery) that finds the same 0.975 and 0.928: files
every 10th frame on the look-ahead thread (a new face is found within 0.4 s at 25 fps; every 5th cost speed for no
recall, every 20th lost recall), at half the frame's longest
side (at least 320 px: 640 for 720p, ~20 ms on one core here); the camera on a thread beside the frame loop at most
every 0.25 s, never waited for. Faces only CenterFace finds are carried between passes; a face BlazeFace has found is
BlazeFace's to keep. Crowds: at most 8 faces are classified per frame (new tracks first, then those read longest
ago; the others keep their last reading), so a 50-face frame costs what 8 faces cost. --detector picks one detector
alone (no discovery). The cadence and size were chosen on these same sets (the group photos and every 4th FDDB photo of
folds 01-05), so their recall figures are those of the data that chose them."""

MIN_HITS_NOTE = """A face found in only a frame or two in a row is mostly a false one: on no_face.mp4 (an animation)
BlazeFace short fires on cloud lettering in frames 87 and 89-91 (score >= 0.5), at --video's cadence (every 2nd frame)
only in frame 90, which the tracker carries to frame 91: 2 frames. So a track is shown once it was present 3 frames
in a row. Files (--video, batch, bench) wait for that decision (core/persist.py) and then show a real face from
its first frame; --camera cannot wait: a new face appears 3 detections (0.1 s at 30 fps) late, and the lettering of
frames 89-91 still shows for one frame there. Stills show every face (one frame)."""

RANGE_NOTE = """Why these defaults (measured on this 2-core CPU, first 200 frames of each sample clip):

* Pexels clip (640x360, one face): short 2.4 ms median per frame, face in 200/200 frames;
  full 5.8 ms (2.4x), face in 192/200; auto 2.4 ms, 200/200.
* no_face.mp4 (cartoon): short 2.5 ms, 4/95 false detections; full 6.6 ms, 22/95; auto
  8.0 ms median (short + full on every empty frame), 22/95.

Full range costs ~2.4x and, for faces that fill a webcam or video frame, finds no more and
fires more on non-faces; auto keeps short's speed only where faces are present.  So
--camera and --video default to short; stills default to CenterFace (DETECTOR_NOTE), and with
--detector blazeface to "both" (short + full, union) because speed hardly matters there and group
photos have small faces.  Use --range full/auto/both for small or distant faces in video."""

CADENCE_NOTE = """Measured on the Pexels clip (2-core CPU, int8 model): ``bench`` ran at 259 fps with detection
on every frame (ratio 0.42 to one-thread decode+encode) and 445 fps every 2nd frame (0.65),
with 99.6 % of labels and a median box IoU of 1.0 (5th percentile 0.93) equal to the
every-frame run.  Live mode detects every frame: its latency target is met either way."""

TEMPORAL_NOTE = """Files (``--video``, ``batch``, ``eval``) use the offline filter: with ``lag_s`` of look-ahead it
measures better than the causal one on the sample clips (benchmarks/bench_temporal.py: more frames right, switches no more
often, turns happy earlier) and, written in one pass, keeps the promise that an interrupted run leaves a playable
file. Streams (camera) can only be causal; ``bench`` measures the ``--video`` path, so it runs its default too
(``bench --temporal live`` measures the causal filter)."""


def classifier_threads(mode: str, cores: int | None = None) -> int:
    """Default ONNX Runtime intra-op threads of the classifier for a CLI mode.

    --camera and --image detect on the main thread, so the classifier may borrow a second
    core while it runs: on this 2-core CPU the int8 model's batch of 5 faces took 1.0 ms
    with 2 threads against 1.8 ms with 1, which brings the live latency of 5 faces from
    1.74x to ~1.5x that of one.  The file modes keep 1: their look-ahead detection uses that core.
    """
    cores = (os.cpu_count() or 1) if cores is None else cores
    return 2 if not MODE_DEFAULTS[mode].files and cores >= 2 else 1
