"""The base every face detector shares (``detect.py``, ``centerface.py``)."""

from __future__ import annotations


class Detector:
    """What every detector shares: ``detect(frame) -> Faces``, ``close()``, and use as a context manager."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
