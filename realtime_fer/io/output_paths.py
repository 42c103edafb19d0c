"""Can an output be written there? Checked before any work, so a run never fails half-way on a bad path.

``writable_problem(path, folder=False)`` answers with None (files can be created there: in ``path`` itself for
a folder, else in its parent folder, or in the nearest existing folder above when those do not exist yet and
would be created) or the cause in a few words ("permission denied", "read-only file system", "/a/b is not a
folder", ...). It asks the file system itself (creates and removes a hidden empty file), because the
permission bits do not tell: root may write anywhere the bits forbid, but not into an immutable folder, a
read-only mount or ``/proc``.

``remove_output(path)`` deletes what a failed run left at ``path`` (a file or a link; never a folder or a
device); ``remove_outputs(paths, made_folders)`` deletes all a failed run wrote, then the folders it made.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

CAUSES = {errno.EACCES: "permission denied", errno.EPERM: "operation not permitted (a locked or immutable folder)",
          errno.EROFS: "read-only file system", errno.ENOTDIR: "not a folder", errno.ENOENT: "a folder where files cannot be created",
          errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
          errno.EISDIR: "a folder where the file should be"}
"""The causes an unwritable place gives (OSError numbers that blame the place, not the data or the encoder), in the
words the error messages use."""


def cause_of(exc: OSError) -> str:
    """A few words for why ``exc`` (an OSError from creating or writing a file) happened."""
    return CAUSES.get(exc.errno, (exc.strerror or str(exc)).lower())


def _nearest_existing(path: Path) -> Path:
    while not os.path.lexists(path) and path.parent != path:
        path = path.parent
    return path


def writable_problem(path: str | Path, *, folder: bool = False) -> str | None:
    """None when an output can be created at ``path`` (a folder with ``folder``), else the cause.

    An existing file at ``path`` must itself be writable (it is replaced in place).
    """
    path = Path(path)
    target = path if folder else path.parent
    existing = _nearest_existing(target)
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not folder and path.exists() and not path.is_dir() and not os.access(path, os.W_OK):
        return f"the existing file cannot be written ({cause_of(OSError(errno.EACCES, ''))})"
    try:
        handle, probe = tempfile.mkstemp(prefix=".realtime-fer-probe-", dir=existing)
    except OSError as exc:
        where = "" if existing == target else f" (in {existing}, where {target} would be created)"
        return cause_of(exc) + where
    os.close(handle)
    os.unlink(probe)
    return None


def remove_output(path: str | Path) -> None:
    """Delete the file or link a failed run wrote at ``path`` (nothing when it is missing, a folder or a device)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        try:
            os.unlink(path)
        except OSError:
            pass


def remove_outputs(paths, made_folders=()) -> None:
    """Delete the files a failed run wrote (``remove_output`` each of ``paths``), then each of ``made_folders`` (the
    folders it created) that is left empty, the deepest first."""
    for path in paths:
        remove_output(path)
    for folder in sorted(set(map(Path, made_folders)), key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass
