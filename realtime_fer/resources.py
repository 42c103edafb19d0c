"""Where the files that ship with the package live (the one place that knows).

Two layouts, one answer:

* installed from a wheel: the model files are package data, ``realtime_fer/models/``
  (pyproject maps the repository's ``models/`` there);
* a checkout (``PYTHONPATH=.``, or ``pip install -e .``): the repository's ``models/``,
  next to the ``realtime_fer/`` folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_MARKER = "face_detection_short_range.tflite"


def _models_dir() -> Path:
    packaged = Path(str(resources.files("realtime_fer") / "models"))
    if (packaged / _MARKER).is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "models"


#: Folder of the vendored BlazeFace files and the default expression models (+ sidecars).
MODELS_DIR = _models_dir()
