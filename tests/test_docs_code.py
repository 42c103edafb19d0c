"""Every ```python block of README.md and docs/*.md runs as written, in a fresh interpreter from the repository
root (the root the README's commands run from), and prints nothing to stderr but, rarely, a MediaPipe/LiteRT
native log line mid-stream (``NATIVE``: the library hides those of loading, the first inference and closing, but
LiteRT can log an input-alignment warning on a later frame, straight to file descriptor 2).

Blocks that read the samples in ../shared/data skip, with the reason, when that folder is absent. A block that
talks to a running ``realtime-fer serve`` (it names ``127.0.0.1:8000``) gets one started for it, on that port.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
SERVER = "127.0.0.1:8000"
NATIVE = re.compile(r"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\] .*|WARNING: (?:Logging before InitGoogle\(\)|All log "
                    r"messages before absl::InitializeLog\(\) is called) .*)$")
"""absl's native log line (``W0000 00:00:1796642909.329607   21256 file.cc:1433] ...``) and its one-time header."""


def blocks() -> list:
    found = []
    for path in DOCS:
        for number, match in enumerate(BLOCK.finditer(path.read_text(encoding="utf-8")), start=1):
            found.append(pytest.param(match.group(1), id=f"{path.relative_to(REPO)}#{number}"))
    return found


def test_only_native_log_lines_are_let_through():
    seen = ["WARNING: Logging before InitGoogle() is written to STDERR",
            "W0000 00:00:1796642909.329607   21256 inference_runner_litert.cc:1433] Input tensor memory is not aligned"]
    assert all(NATIVE.match(line) for line in seen)
    assert not any(NATIVE.match(line) for line in ("Traceback (most recent call last):", "UserWarning: x",
                                                    "realtime-fer: warning: something"))


def test_the_docs_have_python_blocks_to_run():
    assert len(blocks()) >= 4  # README's snippet, getting started, the Python API page


@pytest.mark.slow
@pytest.mark.parametrize("code", blocks())
def test_python_block_runs_as_written(code, tmp_path):
    if "../shared/data" in code and not (REPO.parent / "shared" / "data").is_dir():
        pytest.skip("data tier: the block reads ../shared/data, which is absent")
    server = _serve() if SERVER in code else None
    try:
        script = tmp_path / "block.py"
        script.write_text(code, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run([sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=300,
                              env=env)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    assert done.returncode == 0, done.stderr[-3000:]
    written = [line for line in done.stderr.splitlines() if line.strip() and not NATIVE.match(line)]
    assert not written, f"the block wrote to stderr:\n{done.stderr[-3000:]}"


def _serve():
    """A ``realtime-fer serve`` on ``SERVER``, once it answers /healthz (skips when the serve extra is missing)."""
    import time
    import urllib.request

    pytest.importorskip("uvicorn", reason="the serve extra is not installed (pip install -e '.[serve]')")
    host, port = SERVER.split(":")
    server = subprocess.Popen([sys.executable, "-m", "realtime_fer", "serve", "--host", host, "--port", port],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{SERVER}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    pytest.fail(f"realtime-fer serve did not answer on {SERVER} within 60 s")
