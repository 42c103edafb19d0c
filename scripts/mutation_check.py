"""Plant deliberate bugs, one at a time, and check that the tests meant to catch each one fail.

    python scripts/mutation_check.py [--list scripts/mutants.toml] [--only NAME ...] [--keep]

Each mutant of the list (``scripts/mutants.toml``: ``name``, ``file``, ``original`` — an exact snippet that
must occur exactly once in that file — ``replacement`` and ``tests``, pytest node ids or files) is applied to
a temporary copy of the repository (the tracked and untracked, not ignored, files; ``../shared`` is linked
beside it so data-tier tests see the data), only its ``tests`` are run there, and the copy is restored. A mutant
is *caught* when those tests fail; it *survives* when they pass. Before any mutant, every listed test is run
once on the unchanged copy: a test that fails (or skips) there could not tell a mutant from a bug already present.
A mutant whose tests skip counts as not caught.

Output: one line per mutant, the survivors named again, and last ``N of M mutants caught``. Exit status 0 when
every mutant was caught, 1 when one survived, 2 when the list is wrong (a snippet not found, or found twice)
or the unchanged tests fail. Not part of CI (it runs each mutant's tests: a few minutes in all).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SKIPPED = -2


def load_mutants(path: Path) -> list[dict]:
    """The ``[[mutant]]`` tables of ``path``, each checked for its keys."""
    mutants = tomllib.loads(path.read_text(encoding="utf-8")).get("mutant", [])
    for number, mutant in enumerate(mutants, start=1):
        missing = [k for k in ("name", "file", "original", "replacement", "tests") if k not in mutant]
        if missing:
            raise SystemExit(f"mutation_check: mutant {number} of {path}: expected the keys name, file, original, "
                             f"replacement, tests; got no {', '.join(missing)}")
    return mutants


def copy_repository(target: Path) -> Path:
    """Copy the repository's tracked and untracked (not ignored) files to ``target/<name>``; link ../shared."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                            capture_output=True).stdout.decode().split("\0")
    copy = target / REPO.name
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name, follow_symlinks=False)
    if (REPO.parent / "shared").is_dir():
        (target / "shared").symlink_to(REPO.parent / "shared")
    return copy


def run_tests(copy: Path, tests: list[str], timeout: float) -> tuple[int, str]:
    """(pytest's exit status, its last lines) for ``tests`` run in ``copy`` with ``copy`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-rs", "-p", "no:cacheprovider", "-p", "no:warnings", *tests]
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout:.0f} s"
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    skipped = [line for line in lines if line.startswith("SKIPPED")]
    if done.returncode == 0 and skipped:  # a skipped test catches nothing: neither caught nor survived
        return SKIPPED, "\n".join(skipped)
    return done.returncode, "\n".join(lines[-15:])


def apply(copy: Path, mutant: dict) -> str:
    """Write the mutant into ``copy``; returns the original text of the file (to restore it)."""
    path = copy / mutant["file"]
    if not path.is_file():
        raise SystemExit(f"mutation_check: mutant {mutant['name']!r}: expected the file {mutant['file']}, got none; "
                         "update its 'file' in the list")
    text = path.read_text(encoding="utf-8")
    count = text.count(mutant["original"])
    if count != 1:
        raise SystemExit(f"mutation_check: mutant {mutant['name']!r}: expected its 'original' snippet exactly once in "
                         f"{mutant['file']}, found it {count} times; update the snippet (or the file) in the list")
    path.write_text(text.replace(mutant["original"], mutant["replacement"]), encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", type=Path, default=REPO / "scripts" / "mutants.toml", help="the mutant list")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only the mutants whose name starts so")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per test run (default 600)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    args = parser.parse_args(argv)
    mutants = load_mutants(args.list)
    if args.only:
        mutants = [m for m in mutants if any(m["name"].startswith(prefix) for prefix in args.only)]
    if not mutants:
        print("mutation_check: no mutant to run", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="mutation_check_"))
    try:
        copy = copy_repository(work)
        for mutant in mutants:  # every snippet is checked before anything runs
            (copy / mutant["file"]).write_text(apply(copy, mutant), encoding="utf-8")
        baseline = sorted({t for m in mutants for t in m["tests"]})
        started = time.monotonic()
        status, tail = run_tests(copy, baseline, args.timeout * 2)
        print(f"unchanged copy: {len(baseline)} test targets {'pass' if status == 0 else 'FAIL'} "
              f"({time.monotonic() - started:.0f} s)", flush=True)
        if status != 0:
            print(tail, file=sys.stderr)
            if status == SKIPPED:
                print("mutation_check: some listed tests skip here (the data tier needs ../shared/data); run the "
                      "others with --only", file=sys.stderr)
            return 2
        survivors = []
        for mutant in mutants:
            original = apply(copy, mutant)
            started = time.monotonic()
            try:
                status, tail = run_tests(copy, mutant["tests"], args.timeout)
            finally:
                (copy / mutant["file"]).write_text(original, encoding="utf-8")
            verdict = "caught" if status == 1 else "SURVIVED" if status == 0 else "skipped" if status == SKIPPED \
                else f"error (pytest exit {status})"
            print(f"{verdict:>8}  {mutant['name']}  ({time.monotonic() - started:.0f} s)", flush=True)
            if status != 1:
                survivors.append(mutant["name"])
                if status != 0:
                    print(tail, file=sys.stderr)
        for name in survivors:
            print(f"not caught: {name}")
        print(f"{len(mutants) - len(survivors)} of {len(mutants)} mutants caught")
        return 0 if not survivors else 1
    finally:
        if args.keep:
            print(f"copy kept at {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
