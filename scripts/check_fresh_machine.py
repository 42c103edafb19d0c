"""Run the README's set-up commands as a newcomer would: in a fresh clone and a fresh virtual environment.

    python scripts/check_fresh_machine.py               # clone HEAD, make a venv, run both commands, print exit codes
    python scripts/check_fresh_machine.py --print-commands   # only show the commands read from README.md

The commands are read from the first ```bash block of README.md (every line that is not empty and not a comment),
so this check cannot drift from what the README says. The clone (a local ``git clone`` of this checkout's HEAD:
committed files only) goes into a temporary folder beside a ``shared`` link to this checkout's ``../shared``, so
the README's ``../shared/data/...`` paths resolve as they do here. Each command runs with ``bash -c`` in the clone
with the fresh venv first on PATH; its output streams through, then one line per command gives its exit code and
time. Exit status: 0 when every command exited 0, else 1. Needs network for pip and takes several minutes (the
second command runs the whole test suite); it is not part of CI.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands(readme: Path) -> list[str]:
    """The command lines of README.md's first ```bash block, in order (comments and blank lines left out)."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "```bash")
    except StopIteration:
        raise SystemExit(f"check_fresh_machine: expected a ```bash block in {readme}, found none") from None
    commands = []
    for line in lines[start + 1:]:
        if line.strip() == "```":
            return commands
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
    raise SystemExit(f"check_fresh_machine: the first ```bash block of {readme} is not closed")


def fresh_checkout(workdir: Path) -> Path:
    """Clone this checkout's HEAD into ``workdir/realtime-fer`` beside ``workdir/shared`` (a link to ../shared)."""
    shared = ROOT.parent / "shared"
    if shared.exists():
        (workdir / "shared").symlink_to(shared.resolve(), target_is_directory=True)
    else:
        print(f"check_fresh_machine: no {shared}: the data tier will skip", flush=True)
    clone = workdir / "realtime-fer"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    return clone


def fresh_env(venv: Path) -> dict[str, str]:
    """A new virtual environment (``python -m venv``) and the environment that puts it first on PATH."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "REALTIME_FER_WHEEL")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print-commands", action="store_true", help="print the README's commands and stop")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args()
    commands = readme_commands(ROOT / "README.md")
    if args.print_commands:
        print("\n".join(f"{i}. {c}" for i, c in enumerate(commands, 1)))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="fer-fresh-"))
    print(f"check_fresh_machine: working in {workdir}", flush=True)
    results = []
    try:
        clone = fresh_checkout(workdir)
        env = fresh_env(workdir / "venv")
        for i, command in enumerate(commands, 1):
            print(f"\n=== command {i}: {command}", flush=True)
            start = time.monotonic()
            code = subprocess.run(["bash", "-c", command], cwd=clone, env=env).returncode
            results.append((i, code, time.monotonic() - start))
    finally:
        print()
        for i, code, seconds in results:
            print(f"command {i}: exit {code} ({seconds:.0f} s)")
        if args.keep:
            print(f"check_fresh_machine: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if len(results) == len(commands) and all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
