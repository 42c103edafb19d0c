"""Where the files that ship with the package live (the one place that knows)."""

from __future__ import annotations

from pathlib import Path

#: Folder of the vendored BlazeFace files and the default expression models (+ sidecars).
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
