"""``realtime-fer --camera``: an OpenCV window, or a rich live table in the terminal when there is no display.

``run_window`` opens a window (the only place that does), shows every
annotated frame, and stops on ``q`` / Esc or when the window is closed.  ``run_table``
shows the same results (track id, label, confidence, per-class bars, fps, latency) as
a ``rich.live`` table.  Both run ``engine.loop.run`` with a ``CameraSource`` (newest frame
only, so latency never builds up) and finalize outputs on any exit.

Latency = time from the start of ``Recognizer.process`` to the overlay being drawn on
that frame ("latency" stage); "age" adds the time the frame waited after capture.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from pathlib import Path

import numpy as np

from ...core.temporal import LIVE_DEFAULT, open_stage
from ..console import EXIT_OK, EXIT_RUNTIME, EXIT_SIGNAL, StopOnSignal, say, warn
from ..engine.loop import Hooks, RunStats, Sinks, run
from ..engine.options import RunOptions
from ..render.overlay import Overlay

WINDOW_TITLE = "realtime-fer (q / Esc quits)"
QUIT_KEYS = (ord("q"), ord("Q"), 27)


def display_available() -> bool:
    """Whether a window can be opened: on Linux, an X display that accepts connections (or Wayland).

    Qt aborts the whole process when it cannot reach the display, so this checks the X
    socket first instead of letting ``cv2.namedWindow`` find out.
    """
    if not sys.platform.startswith("linux"):
        return True
    if os.environ.get("WAYLAND_DISPLAY"):
        return True
    display = os.environ.get("DISPLAY", "")
    if not display:
        return False
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    try:
        if host in ("", "unix"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1.0)
                sock.connect(f"/tmp/.X11-unix/X{number}")
        else:
            socket.create_connection((host, 6000 + int(number)), timeout=1.0).close()
    except OSError:
        return False
    return True


def median_latency(stats: RunStats, stage: str = "latency") -> float:
    """Median of a timed stage (ms) over the run: "latency" (process + draw) or "age"
    (frame captured -> overlay drawn, including the wait for the loop); NaN before the first frame."""
    samples = stats.timer.samples(stage)
    return float(np.median(samples)) if samples.size else float("nan")


class _Window:
    """``on_frame`` callback: imshow + waitKey(1); returns False to stop."""

    def __init__(self, title: str):
        import cv2

        self.cv2, self.title = cv2, title
        self.shown = False
        self.last: np.ndarray | None = None
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)

    def __call__(self, frame, result, stats) -> bool:
        cv2 = self.cv2
        cv2.imshow(self.title, frame.image)
        self.last = frame.image
        key = cv2.waitKey(1)
        if key != -1 and (key & 0xFF) in QUIT_KEYS:
            return False
        if self.shown and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            return False  # closed with the window manager's button
        self.shown = True
        return True

    def close(self) -> None:
        try:
            self.cv2.destroyWindow(self.title)
            self.cv2.waitKey(1)
        except Exception:  # noqa: BLE001 - the window may already be gone
            pass


def run_window(source, recognizer, *, temporal=LIVE_DEFAULT, video=None, tables=(), stop=None, hud: bool = True,
               save_last_frame: str | Path | None = None, title: str = WINDOW_TITLE) -> RunStats:
    """Show annotated frames of ``source`` in a window until q/Esc, window close, end of stream or ``stop``.

    Args:
        source: usually a ``CameraSource``; recognizer: ``Recognizer`` (its own temporal stage off).
        temporal: the settings of the (live) temporal stage.
        video, tables: optional sinks (see ``engine.loop.Sinks``).
        hud: draw fps / latency / faces / provider in the corner.
        save_last_frame: write the last displayed (annotated, BGR) frame to this image file.
    """
    window = _Window(title)
    overlay = Overlay(recognizer.labels)
    try:
        stats = run(source, recognizer, open_stage(temporal), Sinks(video=video, tables=tables), overlay=overlay,
                    hooks=Hooks(on_frame=window, stop=stop), hud=hud)
    finally:
        window.close()
        _save(save_last_frame, window.last)
    return stats


def _save(path, image) -> None:
    if path and image is not None:
        import cv2

        ok, data = cv2.imencode(Path(path).suffix or ".png", image)
        if ok:
            data.tofile(str(path))


LEVELS = " ▁▂▃▄▅▆▇█"


def spark(probs, labels) -> str:
    """One-line per-class bars, e.g. ``ang▁ dis  hap▇ ...`` (3-letter class, block height = probability)."""
    return " ".join(f"{name[:3]}{LEVELS[int(round(float(np.clip(p, 0, 1)) * 8))]}" for name, p in zip(labels, probs))


def results_table(result, stats: RunStats, provider: str | None = None):
    """A rich Table of one FrameResult: track id, label, confidence, box, per-class bars."""
    from rich.table import Table

    latency = stats.latency_ms or 0.0
    title = (f"{stats.fps or 0.0:.1f} fps  latency {latency:.1f} ms  frame {result.index}"
             + (f"  {provider.replace('ExecutionProvider', '')}" if provider else ""))
    table = Table(title=title, title_justify="left")
    for column in ("track", "label", "conf", "box x1,y1,x2,y2", "classes"):
        table.add_column(column, no_wrap=True)
    faces = result.faces
    probs = faces.shown_probs
    for k, (label, confidence) in enumerate(result.top()):
        box = ",".join(f"{v:.0f}" for v in faces.boxes[k])
        table.add_row(f"#{faces.track_ids[k]}", label, f"{confidence:.2f}", box,
                      spark(probs[k], result.labels) if probs is not None else "")
    if not len(faces):
        table.add_row("-", "no face", "", "", "")
    return table


class _Table:
    """``on_frame`` callback updating a rich Live display at most ``refresh_hz`` times a second."""

    def __init__(self, live, provider: str | None, refresh_hz: float = 8.0):
        self.live, self.provider = live, provider
        self.period = 1.0 / refresh_hz
        self.last_update = 0.0
        self.last_frame = None
        self.pending = None

    def __call__(self, frame, result, stats) -> bool:
        self.last_frame = frame.image
        self.pending = (result, stats)
        now = time.perf_counter()
        if now - self.last_update >= self.period:
            self.flush()
            self.last_update = now
        return True

    def flush(self) -> None:
        if self.pending is not None:
            self.live.update(results_table(*self.pending, provider=self.provider))
            self.pending = None


def run_table(source, recognizer, *, temporal=LIVE_DEFAULT, video=None, tables=(), stop=None, console=None,
              save_last_frame: str | Path | None = None) -> RunStats:
    """Like ``run_window`` but renders a live terminal table (no window); Ctrl-C stops.

    ``save_last_frame`` writes the last annotated frame (overlay included) to an image file.
    """
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    console = console or Console()
    overlay = Overlay(recognizer.labels)
    with Live(Text("waiting for the first frame..."), console=console, refresh_per_second=8,
              transient=False) as live:
        presenter = _Table(live, getattr(recognizer, "provider", None))
        try:
            stats = run(source, recognizer, open_stage(temporal), Sinks(video=video, tables=tables),
                        overlay=overlay, hooks=Hooks(on_frame=presenter, stop=stop), hud=True)
        finally:
            presenter.flush()
            _save(save_last_frame, presenter.last_frame)
    return stats


def run_camera(args, options: RunOptions, stop: StopOnSignal) -> int:
    """``realtime-fer --camera``: a window, or a terminal table without a display; the exit code."""
    from ...io.sources import CameraSource
    from ..engine.recognizer_setup import open_recognizer
    from ..engine.video_job import check_outputs, table_sinks

    outputs = options.outputs
    check_outputs((), outputs.output, outputs.csv, outputs.jsonl, overwrite=outputs.overwrite, video_output=True)
    if outputs.output:
        options.encoder.check_for(outputs.output)
    source = CameraSource(args.camera, max_frames=options.max_frames)
    window = not args.no_window and display_available()
    if not args.no_window and not window:
        warn("no display available (DISPLAY/WAYLAND_DISPLAY unset or unreachable); showing a terminal table "
             "instead (use --no-window to silence this)")
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        recognizer = stack.enter_context(open_recognizer(options.recognizer, "camera"))
        tables = table_sinks(recognizer.labels, outputs.csv, outputs.jsonl, overwrite=outputs.overwrite, stack=stack)
        video = _camera_video(source, options, recognizer, stack)
        common = dict(temporal=options.temporal, video=video, tables=tables, stop=stop.event,
                      save_last_frame=args.save_last_frame)
        if window:
            stats = run_window(source, recognizer, hud=True if args.hud is None else args.hud, **common)
        else:
            stats = run_table(source, recognizer, **common)
    say(f"{stats.frames} frames, {stats.faces} faces, {stats.mean_fps:.1f} fps, median latency "
        f"{median_latency(stats):.1f} ms (capture to overlay {median_latency(stats, 'age'):.1f} ms), "
        f"{stats.dropped} stale frames dropped")
    if stop.signum is not None:
        return EXIT_SIGNAL[stop.signum]
    if stats.end_reason.startswith(("stream ended", "stalled", "error")):
        warn(f"{source.info.name}: {stats.end_reason} after {stats.frames} frames; outputs finalized")
        return EXIT_RUNTIME
    return EXIT_OK


def _camera_video(source, options: RunOptions, recognizer, stack):
    if not options.outputs.output:
        return None
    from ...io.sinks import VideoSink

    video = VideoSink(options.outputs.output, source.info.fps, source.info.size, overwrite=options.outputs.overwrite,
                      provider=recognizer.provider, **options.encoder.sink_options())
    return stack.enter_context(video)  # an error deletes it; an interrupt or the end finalizes it
