"""How a folder input is searched, the same for ``--image FOLDER`` and ``batch FOLDER``.

Recursively: every sub-folder (symbolic links to folders followed), files of a folder before those of its
sub-folders, each level sorted by name; names starting with "." (hidden files and folders) are skipped, and so is
an ``exclude`` folder (the output folder, when it lies inside the input one).
"""

from __future__ import annotations

import os
from pathlib import Path


def under(path: Path, folder: Path | None) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (False for no ``folder``)."""
    return folder is not None and (path == folder or folder in path.parents)


def walk_files(folder: str | Path, suffixes=None, exclude: Path | None = None) -> list[Path]:
    """The files under ``folder`` (paths that start with ``folder``), in the order above; ``suffixes``: keep only
    these (lower-case, with the dot; None: every file); ``exclude``: an absolute folder left out."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and not under((here / d).absolute(), exclude))
        for name in sorted(filenames):
            if not name.startswith(".") and (suffixes is None or Path(name).suffix.lower() in suffixes):
                found.append(here / name)
    return found
