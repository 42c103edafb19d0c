"""The wheel carries the model files as package data and no top-level ``train`` package."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    """The files of the wheel: the one ``.ci/run`` built from this checkout (``REALTIME_FER_WHEEL``, which
    ``.ci/wheel_check`` then installs: built once), else one built here."""
    built = os.environ.get("REALTIME_FER_WHEEL")
    if built:
        wheel = Path(built)
        assert wheel.is_file(), f"REALTIME_FER_WHEEL={built}: expected a wheel file, got none"
    else:
        out = tmp_path_factory.mktemp("wheel")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                        str(out), str(REPO)], check=True, capture_output=True)
        (wheel,) = out.glob("realtime_fer-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_carries_every_model_file_the_runtime_loads(wheel_names):
    from realtime_fer.core.classify import DEFAULT_CPU_MODEL, DEFAULT_MODEL, VIDEO_MODEL
    from realtime_fer.core.detect import BLAZEFACE_MODELS

    needed = [DEFAULT_MODEL, DEFAULT_CPU_MODEL, VIDEO_MODEL, *(m.with_suffix(".json") for m in
              (DEFAULT_MODEL, DEFAULT_CPU_MODEL, VIDEO_MODEL)), *BLAZEFACE_MODELS.values()]
    for path in needed:
        assert f"realtime_fer/models/{path.name}" in wheel_names
    assert "realtime_fer/models/MODELS.md" in wheel_names
    assert "realtime_fer/models/LICENSE-mediapipe-Apache-2.0.txt" in wheel_names


def test_wheel_carries_every_module_of_the_package(wheel_names):
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "realtime_fer").rglob("*.py")}
    assert modules and modules <= wheel_names, sorted(modules - wheel_names)


def test_wheel_carries_the_serve_page(wheel_names):
    page = {p.relative_to(REPO).as_posix() for p in (REPO / "realtime_fer" / "apps" / "serve" / "static").iterdir()}
    assert {"realtime_fer/apps/serve/static/index.html", "realtime_fer/apps/serve/static/app.js"} <= page
    assert page <= wheel_names, sorted(page - wheel_names)


def test_wheel_has_no_top_level_train_package(wheel_names):
    tops = {name.split("/")[0] for name in wheel_names}
    assert tops == {"realtime_fer", "realtime_fer-0.1.0.dist-info"}, tops


def test_checkout_finds_the_repository_models_folder():
    from realtime_fer.resources import MODELS_DIR

    assert MODELS_DIR == REPO / "models"
