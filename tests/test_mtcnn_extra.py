"""``--detector mtcnn`` has its own extra (the mtcnn package and TensorFlow, which mtcnn 1.0 imports when it loads),
and the error a missing TensorFlow raises names that extra, not the whole training set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def requirement_names(requirements: list[str]) -> set[str]:
    from packaging.requirements import Requirement

    return {Requirement(r).name for r in requirements}


def test_the_mtcnn_extra_holds_mtcnn_and_tensorflow_only():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert requirement_names(extras["mtcnn"]) == {"mtcnn", "tensorflow-cpu", "tensorflow"}
    assert requirement_names(extras["mtcnn"]) < requirement_names(extras["train"])  # train still detects with it


def test_a_missing_tensorflow_names_the_mtcnn_extra():
    # A fresh interpreter where TensorFlow cannot be imported (None in sys.modules makes every import of it fail),
    # as on a machine with only the [cpu] extra: the real mtcnn package fails on its own `import tensorflow`.
    code = ("import sys; sys.modules['tensorflow'] = None\n"
            "from realtime_fer.core.detect import create_detector\n"
            "from realtime_fer.errors import MissingDependencyError\n"
            "try:\n    create_detector('mtcnn')\nexcept MissingDependencyError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    message = done.stdout.strip()
    assert "pip install 'realtime-fer[mtcnn]'" in message and "tensorflow" in message, message
    assert "[train]" not in message
