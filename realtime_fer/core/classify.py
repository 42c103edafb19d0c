"""Expression classification of aligned face crops with an ONNX model and its sidecar."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .align import CropSpec
from ..resources import MODELS_DIR
from ..errors import ModelError
from .model_card import ModelCard, load_card
from .onnx_session import Session, create_session, resolve_provider

DEFAULT_MODEL = MODELS_DIR / "expression-faceres.onnx"
"""The float32 photo model (the face-pretrained MobileNet, 160x160 BGR): what GPU providers run on photos, and the
master the int8 file is made from."""
DEFAULT_CPU_MODEL = MODELS_DIR / "expression-faceres.int8.onnx"
"""Its int8 twin: ~2.5x faster on x86 CPUs at the same accuracy (see ``models/MODELS.md``)."""
VIDEO_MODEL = MODELS_DIR / "expression-compact-talking.onnx"
"""The video model: the compact 48x48 grey CNN (``expression-compact.onnx``) with log-prior offsets fitted on
talking faces (``train.talking_prior``). The photo model, trained on still photos, reads calm talking as disgust,
sad or surprise (21 % of calm-talking frames shown neutral against 90 % here; docs/models.md), so cameras and
video files run this one on every provider; it is also ~3.5x cheaper per face."""
MEDIA = ("photo", "video")


def default_model(provider: str, media: str = "photo") -> Path:
    """The shipped model for ``media`` ("photo": still images; "video": cameras, streams and video files) and an
    ONNX Runtime provider name (e.g. ``CPUExecutionProvider``).

    Video gets ``VIDEO_MODEL`` on every provider. Photos on CPU get the int8 file when it is there; CUDA and
    TensorRT get the float32 one (ONNX Runtime's CUDA provider would run the int8 graph's Q/DQ nodes as extra work).
    """
    if media not in MEDIA:
        raise ValueError(f"media: expected one of {', '.join(MEDIA)}, got {media!r}")
    if media == "video":
        return VIDEO_MODEL
    if provider == "CPUExecutionProvider" and DEFAULT_CPU_MODEL.is_file():
        return DEFAULT_CPU_MODEL
    return DEFAULT_MODEL


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, C) float32 logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class ExpressionClassifier:
    """Runs an expression model on batches of aligned crops.

    Args:
        model_path: ONNX file; its sidecar is the same path with ``.json``.  None: the
            shipped model for ``media`` and the provider that will run (``default_model``).
        media: "photo" or "video": which shipped model ``model_path=None`` means.
        provider: auto | cpu | cuda | tensorrt (see ``onnx_session``).
        intra_op_threads: ONNX Runtime intra-op threads (0 = its default).

    Attributes:
        card: the validated ModelCard; ``labels``: class names in output order;
        ``provider``: the ONNX Runtime provider that runs the model.
    """

    def __init__(self, model_path: str | Path | None = None, provider: str = "auto", intra_op_threads: int = 1,
                 card_path: str | Path | None = None, media: str = "photo"):
        self.model_path = (Path(model_path) if model_path is not None
                           else default_model(resolve_provider(provider), media))
        self.card: ModelCard = load_card(self.model_path, card_path)
        self.session: Session = create_session(self.model_path, provider, intra_op_threads)
        self._check_contract()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    @property
    def provider(self) -> str:
        return self.session.provider

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the crops the model takes."""
        return self.card.input.width, self.card.input.height

    @property
    def grayscale(self) -> bool:
        return self.card.input.color == "gray"

    @property
    def crop(self) -> CropSpec:
        return self.card.crop

    def _check_contract(self) -> None:
        """Compare the ONNX graph's input/output with the sidecar; raise ModelError on mismatch."""
        spec, where = self.card.input, f"expression model {self.model_path}"
        inputs = {i.name: i for i in self.session.inputs()}
        outputs = {o.name: o for o in self.session.outputs()}
        if spec.name not in inputs:
            raise ModelError(f"{where}: expected input {spec.name!r} from the sidecar, got inputs {sorted(inputs)}; "
                             "the model and its sidecar do not belong together")
        if self.card.output_name not in outputs:
            raise ModelError(f"{where}: expected output {self.card.output_name!r} from the sidecar, got {sorted(outputs)}; "
                             "the model and its sidecar do not belong together")
        expected = ([None, spec.height, spec.width, spec.channels] if spec.layout == "NHWC"
                    else [None, spec.channels, spec.height, spec.width])
        shape = list(inputs[spec.name].shape)
        fixed = [d if isinstance(d, int) else None for d in shape]
        if len(shape) != 4 or any(e is not None and f is not None and e != f for e, f in zip(expected, fixed)):
            raise ModelError(f"{where}: expected input shape {['N', *expected[1:]]} ({spec.layout}) from the sidecar, "
                             f"got {shape}; the model and its sidecar do not belong together")
        out_shape = list(outputs[self.card.output_name].shape)
        if len(out_shape) != 2 or (isinstance(out_shape[1], int) and out_shape[1] != len(self.labels)):
            raise ModelError(f"{where}: expected output shape [N, {len(self.labels)}] for labels {list(self.labels)}, "
                             f"got {out_shape}; the model and its sidecar do not belong together")

    def preprocess(self, crops: np.ndarray) -> np.ndarray:
        """(n, H, W, C) uint8 crops in the model's colour order -> the model's float32 input tensor."""
        spec = self.card.input
        x = crops.astype(np.float32) * np.float32(spec.scale)
        if any(m != 0.0 for m in spec.mean) or any(s != 1.0 for s in spec.std):
            x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
        return x if spec.layout == "NHWC" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def predict(self, crops: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch.

        Args:
            crops: (n, H, W, C) uint8, C and colour order as the sidecar says (see ``grayscale``).

        Returns:
            (n, len(labels)) float32 probabilities, rows summing to 1; (0, len(labels)) for n = 0.
        """
        if len(crops) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        out = self.session.run([self.card.output_name], {self.card.input.name: self.preprocess(crops)})[0]
        out = np.asarray(out, np.float32)
        return softmax(out) if self.card.output_kind == "logits" else out
