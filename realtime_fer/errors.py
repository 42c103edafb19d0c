"""Exceptions raised by realtime_fer.

Every message is one line that says what was expected, what was received and
what to do about it. The CLI prints ``str(error)`` and exits non-zero; the
library itself never prints or exits.
"""

from __future__ import annotations


class FerError(Exception):
    """Base class of every error the library raises on purpose."""


class InputError(FerError):
    """A file, camera, image or video could not be opened or read."""


class ModelError(FerError):
    """A model file or its sidecar is missing, corrupt or inconsistent."""


class ProviderError(FerError):
    """An ONNX Runtime execution provider was asked for but is not available."""


class MissingDependencyError(FerError):
    """An optional dependency is not installed; the message names the pip command."""

