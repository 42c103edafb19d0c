"""Expand batch inputs (files, folders, globs, list files) and mirror them under the output folder.

Each input gets a ``key``: its path relative to the root of the argument that named it,
without the suffix (``folder/a/b.mp4`` given as ``folder`` -> ``a/b``; a file given by
itself or listed in a text file -> its stem; a glob -> relative to the glob's fixed
leading folders). Outputs are ``OUT/<key>.csv``, ``.jsonl``, ``.annotated.mp4``.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError
from ...io.folder_walk import under

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv",
                            ".ts", ".mts", ".3gp"})
"""Suffixes a folder or glob picks up (case-insensitive); files named explicitly may have any suffix."""
LIST_SUFFIXES = frozenset({".txt", ".lst"})


@dataclass(frozen=True)
class BatchInput:
    """One video of the corpus: ``path`` (absolute, may not exist: it then fails as a job) and
    ``key`` (the mirrored output stem, POSIX-style, relative to the output folder)."""

    path: Path
    key: str


def _is_glob(text: str) -> bool:
    return glob.has_magic(text)


def _glob_root(pattern: str) -> Path:
    """The leading folders of ``pattern`` that hold no wildcard."""
    fixed = []
    for part in Path(pattern).parts:
        if _is_glob(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _key(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def _from_folder(folder: Path, exclude: Path | None) -> list[BatchInput]:
    """The videos under ``folder``, searched as ``--image`` searches a folder (``io.folder_walk``)."""
    from ...io.folder_walk import walk_files

    return [BatchInput(path.absolute(), _key(path, folder)) for path in walk_files(folder, VIDEO_SUFFIXES, exclude)]


def _from_list(list_file: Path) -> list[BatchInput]:
    items = []
    for line in list_file.read_text(encoding="utf-8").splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        path = Path(entry) if Path(entry).is_absolute() else list_file.parent / entry
        path = path.absolute()
        root = list_file.parent.absolute()
        items.append(BatchInput(path, _key(path, root) if under(path, root) else path.stem))
    return items


def collect_inputs(arguments, out_dir: str | Path | None = None) -> list[BatchInput]:
    """The corpus named by ``arguments`` (each a video file, folder, glob or ``.txt`` list), in order.

    Folders are searched recursively for ``VIDEO_SUFFIXES`` (hidden entries and anything under
    ``out_dir`` are left out); a path that exists nowhere is kept, so it is recorded as a failed
    input. The same file reached twice under the same output name (a folder and a glob over it) is
    kept once; links or copies under other names are inputs of their own.

    Raises:
        InputError: no arguments, a glob or folder that matches no video, or two inputs whose
            keys collide after mirroring (before any work starts).
    """
    if not arguments:
        raise InputError("batch: expected at least one input (video file, folder, glob or .txt list), got none")
    exclude = Path(out_dir).absolute() if out_dir is not None else None
    items: list[BatchInput] = []
    for argument in map(str, arguments):
        path = Path(argument)
        if path.is_dir():
            found = _from_folder(path, exclude)
            if not found:
                raise InputError(f"batch input {argument}: expected a folder holding videos "
                                 f"({', '.join(sorted(VIDEO_SUFFIXES))}), got none; check the folder")
            items += found
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            items += _from_list(path)
        elif not path.exists() and _is_glob(argument):
            root = _glob_root(argument)
            matches = [Path(m) for m in sorted(glob.glob(argument, recursive=True))]
            matches = [m for m in matches if m.is_file() and m.suffix.lower() in VIDEO_SUFFIXES
                       and not under(m.absolute(), exclude)]
            if not matches:
                raise InputError(f"batch input {argument}: expected a glob matching video files, got no match; "
                                 "quote the pattern and check it")
            items += [BatchInput(m.absolute(), _key(m, root)) for m in matches]
        else:
            items.append(BatchInput(path.absolute(), path.stem))
    return check_keys(_dedupe(items))


def _dedupe(items: list[BatchInput]) -> list[BatchInput]:
    seen, unique = set(), []
    for item in items:
        ident = (os.path.realpath(item.path), item.key.casefold())
        if ident not in seen:
            seen.add(ident)
            unique.append(item)
    return unique


def check_keys(items: list[BatchInput]) -> list[BatchInput]:
    """Refuse two different inputs that would write the same outputs (InputError), else return ``items``."""
    owners: dict[str, Path] = {}
    for item in items:
        folded = item.key.casefold()  # case-insensitive file systems (macOS, Windows shares) would collide too
        if folded in owners:
            raise InputError(f"batch inputs {owners[folded]} and {item.path}: expected distinct output names, got "
                             f"both mapped to '{item.key}' under the output folder; rename one, or pass their "
                             "common parent folder so sub-folders are mirrored")
        owners[folded] = item.path
    return items
