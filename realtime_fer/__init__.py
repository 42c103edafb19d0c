"""realtime-fer: real-time facial expression recognition.

Quick use::

    from realtime_fer import Recognizer
    with Recognizer() as recognizer:
        result = recognizer.process(frame_bgr)      # (H, W, 3) uint8 BGR
        for (label, confidence), box in zip(result.top(), result.faces.boxes):
            ...

Heavy modules (mediapipe, onnxruntime) load on first use, not on import.
"""

from .errors import FerError, InputError, MissingDependencyError, ModelError, ProviderError
from .core.faces import Faces, FrameResult

__all__ = ["Recognizer", "Faces", "FrameResult", "FerError", "InputError", "ModelError", "ProviderError",
           "MissingDependencyError"]
__version__ = "0.1.0"


def __getattr__(name):
    if name == "Recognizer":
        from .core.pipeline import Recognizer

        return Recognizer
    raise AttributeError(name)
