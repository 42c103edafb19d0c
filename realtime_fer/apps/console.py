"""Console concerns of both command lines (``realtime-fer`` and ``realtime-fer batch``), in one place.

The program name, the exit codes, the one-line error and warning messages on stderr, SIGINT/SIGTERM
handling, quieting the native libraries' log output, and what a terminal allows (width, live displays).
The library below (``engine``, ``batch``, ``render``) never prints: only ``cli`` calls the printing helpers
here; batch workers call ``quiet_libraries`` to keep their processes as quiet as the driver.

Exit codes:
    0   success (also when a truncated or damaged video lost frames: a warning says how many and where);
    1   runtime failure: a camera/stream stopped delivering frames mid-run, a video file's reader failed
        (outputs are finalized), some batch inputs failed, or an unexpected internal error;
    2   bad usage or input: missing/corrupt file, camera that does not open, bad or mismatched model,
        unavailable provider, missing dependency, existing output without --overwrite;
    130 / 143  interrupted by Ctrl-C / SIGTERM (outputs finalized up to the last frame).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading

from ..core.native_logs import native_stderr_silenced  # noqa: F401  (the CLI wraps a whole run in it)

PROG = "realtime-fer"
EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
WIDE = 200
"""Columns of tables and progress lines written to a file or pipe (no terminal to fit: nothing is cut)."""


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr, flush=True)


def say(message: str) -> None:
    """A one-line summary on stderr (``realtime-fer: ...``)."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def rich_console(stderr: bool = False):
    """A rich ``Console`` for stdout or stderr: the terminal's width there, ``WIDE`` columns into a file or pipe
    (CI logs, ``2> log``), so tables are never cut to 80 columns with "…"."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if is_terminal(stream):
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=max(WIDE, shutil.get_terminal_size((WIDE, 24)).columns), soft_wrap=False)


class StopOnSignal:
    """SIGINT/SIGTERM set ``event`` (the loop stops after the current frame and finalizes);
    a second SIGINT raises KeyboardInterrupt. Restores the previous handlers on exit."""

    def __init__(self):
        self.event = threading.Event()
        self.signum: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, _frame):
        if self.event.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        self.event.set()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def quiet_libraries(verbose: bool) -> None:
    """Silence OpenCV/FFmpeg logging (our own messages say what went wrong)."""
    if verbose:
        return
    if "cv2" not in sys.modules:
        os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    with contextlib.suppress(Exception):
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


