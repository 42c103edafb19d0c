"""Annotate a corpus of videos: one machine (worker processes) or a Ray cluster.

``run_batch(inputs, out_dir, ...)`` (``runner.py``) is the Python entry point and what
``realtime-fer batch`` calls; ``inputs.py`` expands the inputs and mirrors their names,
``manifest.py`` keeps the resumable record and the lock, ``job.py`` is the one function a
worker runs per video, ``local.py`` and ``ray_backend.py`` spread those jobs.
"""

from .inputs import collect_inputs
from .runner import run_batch

__all__ = ["collect_inputs", "run_batch"]
