"""Native libraries' log lines (MediaPipe / LiteRT / XNNPACK write them straight to file descriptor 2).

Loading a BlazeFace model prints ~50 INFO/WARNING lines, the first detection and closing a few more; none of them
concerns a user. The library hides them around those calls unless they are asked for: set the ``realtime_fer``
logger to DEBUG (``logging.getLogger("realtime_fer").setLevel(logging.DEBUG)``) or the environment variable
``REALTIME_FER_NATIVE_LOGS=1``; the CLI's ``--verbose`` shows them too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys


def native_logs_wanted() -> bool:
    """True when native log lines should reach stderr (DEBUG on the ``realtime_fer`` logger, or
    ``REALTIME_FER_NATIVE_LOGS=1``)."""
    return os.environ.get("REALTIME_FER_NATIVE_LOGS") == "1" or logging.getLogger("realtime_fer").isEnabledFor(
        logging.DEBUG)


def quiet_native():
    """``native_stderr_silenced`` unless ``native_logs_wanted()``: wrap calls into MediaPipe with it."""
    return native_stderr_silenced(not native_logs_wanted())


@contextlib.contextmanager
def native_stderr_silenced(enabled: bool):
    """Send file descriptor 2 to /dev/null meanwhile, keeping Python's ``sys.stderr`` on the real stderr.

    MediaPipe/LiteRT/FFmpeg write log lines straight to fd 2 (dozens at model load, one at
    the first inference, more at close). Python's own ``sys.stderr`` keeps working meanwhile (it is
    pointed at a copy of the real fd 2), so warnings and errors raised meanwhile are still seen.
    """
    if not enabled:
        yield
        return
    try:
        python_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. pytest's capture: leave sys.stderr alone
        python_fd = None
    sys.stderr.flush()
    try:
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    original = sys.stderr
    if python_fd == 2:
        sys.stderr = open(os.dup(saved), "w", encoding=original.encoding or "utf-8", errors="backslashreplace",
                          buffering=1)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        if sys.stderr is not original:
            sys.stderr.flush()
            sys.stderr.close()
            sys.stderr = original
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
