"""The sidecar JSON that travels with every expression model.

``train/`` writes it next to the ONNX file (``expression-faceres.onnx`` ->
``expression-faceres.json``); the runtime reads and validates it before the first
frame, so training and inference cannot disagree silently about labels, input
size, channels, colour order, normalisation or the face crop.

Preprocessing contract (what ``ExpressionClassifier`` does to an aligned crop):
    crop (n, H, W, C) uint8 in ``color`` order -> float32 ``crop * scale``,
    then ``(x - mean) / std`` per channel, fed as NHWC (or NCHW if ``layout`` says so).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .align import CropSpec
from ..errors import ModelError

FORMAT = "realtime-fer-model/1"
COLORS = ("gray", "bgr", "rgb")
LAYOUTS = ("NHWC", "NCHW")


@dataclass(frozen=True)
class InputSpec:
    """The classifier's input tensor and how crops are turned into it."""

    name: str = "input"
    height: int = 48
    width: int = 48
    channels: int = 1
    color: str = "gray"
    layout: str = "NHWC"
    scale: float = 1.0 / 255.0
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)


@dataclass(frozen=True)
class ModelCard:
    """Everything the runtime must know about an expression model."""

    labels: tuple[str, ...]
    input: InputSpec = InputSpec()
    output_name: str = "probs"
    output_kind: str = "probabilities"  # or "logits" (the runtime applies softmax)
    crop: CropSpec = CropSpec()
    alignment: str = "eyes-level"
    sha256: str = ""
    model_file: str = ""
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        data["crop"] = self.crop.to_dict()
        return json.dumps({"format": FORMAT, **data}, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict, source: str = "sidecar") -> "ModelCard":
        if data.get("format") != FORMAT:
            raise ModelError(f"{source}: expected format {FORMAT!r}, got {data.get('format')!r}; "
                             "re-export the model with `python -m train.export`")
        try:
            spec = InputSpec(**{**data["input"], "mean": tuple(data["input"]["mean"]), "std": tuple(data["input"]["std"])})
            card = cls(labels=tuple(data["labels"]), input=spec, output_name=data["output_name"],
                       output_kind=data["output_kind"], crop=CropSpec.from_dict(data.get("crop", {})),
                       alignment=data.get("alignment", "eyes-level"), sha256=data.get("sha256", ""),
                       model_file=data.get("model_file", ""), training=data.get("training", {}),
                       metrics=data.get("metrics", {}))
        except (KeyError, TypeError) as exc:
            raise ModelError(f"{source}: expected a complete model card, missing or malformed field {exc}; "
                             "re-export the model with `python -m train.export`") from None
        card.validate(source)
        return card

    def validate(self, source: str = "sidecar") -> None:
        """Raise ModelError unless the card is self-consistent."""
        spec = self.input
        problems = []
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            problems.append(f"labels must be >= 2 distinct names, got {list(self.labels)}")
        if spec.color not in COLORS:
            problems.append(f"input.color must be one of {COLORS}, got {spec.color!r}")
        if spec.layout not in LAYOUTS:
            problems.append(f"input.layout must be one of {LAYOUTS}, got {spec.layout!r}")
        if spec.channels != (1 if spec.color == "gray" else 3):
            problems.append(f"input.channels={spec.channels} does not fit color={spec.color!r}")
        if len(spec.mean) not in (1, spec.channels) or len(spec.std) not in (1, spec.channels):
            problems.append("input.mean/std need 1 or `channels` values")
        if self.output_kind not in ("probabilities", "logits"):
            problems.append(f"output_kind must be 'probabilities' or 'logits', got {self.output_kind!r}")
        if problems:
            raise ModelError(f"{source}: invalid model card ({'; '.join(problems)}); fix or re-export the sidecar")


def sidecar_path(model_path: str | Path) -> Path:
    """``models/expression-faceres.onnx`` -> ``models/expression-faceres.json``."""
    return Path(model_path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_card(model_path: str | Path, card_path: str | Path | None = None, check_hash: bool = True) -> ModelCard:
    """Read and validate the sidecar of ``model_path``.

    Raises:
        ModelError: the model or sidecar is missing, unreadable, malformed, or the
            model's sha256 differs from the one recorded in the sidecar.
    """
    model_path = Path(model_path)
    card_path = Path(card_path) if card_path else sidecar_path(model_path)
    if not model_path.is_file():
        raise ModelError(f"expression model: expected an ONNX file, got no file at {model_path}; "
                         "pass --model PATH or reinstall realtime-fer to restore models/")
    if not card_path.is_file():
        raise ModelError(f"model sidecar: expected {card_path} next to {model_path.name}, got no file; "
                         "export the model with `python -m train.export`, which writes both")
    try:
        data = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model sidecar {card_path}: expected JSON, got unreadable content ({exc}); "
                         "re-export the model with `python -m train.export`") from None
    if not isinstance(data, dict):
        raise ModelError(f"model sidecar {card_path}: expected a JSON object, got {type(data).__name__}; "
                         "re-export the model with `python -m train.export`")
    card = ModelCard.from_dict(data, source=f"model sidecar {card_path}")
    if check_hash and card.sha256:
        actual = file_sha256(model_path)
        if actual != card.sha256:
            raise ModelError(f"expression model {model_path}: expected sha256 {card.sha256[:12]}… from its sidecar, "
                             f"got {actual[:12]}…; the model and its sidecar do not belong together")
    return card
