"""Training configurations: one TOML file per recipe (``configs/default.toml``, ``configs/paper.toml``).

A config selects everything that differs between recipes (data folder, classes via
the prepared data, architecture, optimiser, augmentation, loss), so the paper's
recipe and the shipped model's recipe run through the same code.

Unknown keys are an error (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "resnet"
    widths: tuple[int, ...] = (16, 32, 64, 128)
    blocks: tuple[int, ...] = (1, 2, 2)
    dropout: float = 0.3
    #: arch "faceres" only: the TF.js backbone JSON (sha256-checked), the input side, how many of its
    #: leading convolutions stay frozen (0 = none; counted in the order conv1, dw_1, pw_1, ... pw_13),
    #: and an optional ``.npz`` (kernel (1024, K), bias (K,)) that starts the head (a linear probe).
    backbone: str = ""
    input_size: int = 160
    freeze: int = 0
    head_init: str = ""


@dataclass(frozen=True)
class AugmentConfig:
    """Online, per-batch augmentation of the (already prepared) training images.

    flip: probability of a horizontal flip. rotate: max |degrees|. shift: max |shift| as a
    fraction of the side. scale: max relative zoom (0.1 = 0.9..1.1). erase: probability of
    random erasing (one rectangle of 2-20 % of the area, filled with noise).
    mixup: Beta(alpha, alpha) mixup of image pairs and their one-hot labels (0 = off).
    gray: probability of turning a colour image grey (BT.601 luma in all three channels).
    blur, jpeg, noise, light: probabilities of the deployment-like photometric effects of
    ``train.photometric`` (Gaussian blur, JPEG re-compression, sensor noise, low/uneven light).
    """

    flip: float = 0.0
    rotate: float = 0.0
    shift: float = 0.0
    scale: float = 0.0
    erase: float = 0.0
    mixup: float = 0.0
    gray: float = 0.0
    blur: float = 0.0
    jpeg: float = 0.0
    noise: float = 0.0
    light: float = 0.0


@dataclass(frozen=True)
class TrainConfig:
    """One training recipe.

    data: prepared-data folder (see ``train.prepare``); prepare: the command that makes it (documentation).
    class_weight_power: the loss weight of class k is ``w_k ** power`` with ``w_k`` the balanced
        weight from ``meta.json`` (1 = balanced, 0.5 = its square root, 0 = unweighted).
    max_minutes: wall-clock budget; the cosine schedule is stretched over
        ``min(epochs, what fits in max_minutes)`` and training stops when it is spent.
    eval_flip: validate on the mean of the image and its mirror (test-time flip).
    init_from: a ``.keras`` checkpoint of the same architecture whose weights start this run
        (a warm restart: fresh optimiser, schedule and history); "" = random initialisation.
    precision: Keras dtype policy while training: "float32", or "mixed_bfloat16" (bf16 compute,
        float32 weights; 1.34x the images/s of float32 for the default net on this AVX512-BF16 CPU).
        Checkpoints keep the policy; ``train.export`` rebuilds the model in float32 before export.
    """

    name: str = "default"
    data: str = "prepared/fer7"
    prepare: str = ""
    out: str = "runs/default"
    backend: str = "tensorflow"
    seed: int = 0
    epochs: int = 60
    batch_size: int = 128
    optimizer: str = "adamw"
    lr: float = 3e-3
    weight_decay: float = 0.05
    momentum: float = 0.9
    warmup_frac: float = 0.03
    schedule: str = "cosine"
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5
    max_minutes: float = 0.0
    eval_flip: bool = False
    init_from: str = ""
    precision: str = "float32"
    #: arch "faceres" only: copies of each ExpW train face in an epoch (FER2013 has ~8x as many faces).
    expw_repeat: int = 3
    #: arch "faceres" only: the share of FER2013 Training faces kept in every epoch (an evenly spaced,
    #: fixed subset; 1 = all). Lower it to weight the in-the-wild ExpW faces more in a late stage.
    fer_fraction: float = 1.0
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _build(cls, data: dict, where: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(known)}")
    kwargs = {}
    for key, value in data.items():
        if key == "model":
            value = _build(ModelConfig, value, f"{where}.model")
        elif key == "augment":
            value = _build(AugmentConfig, value, f"{where}.augment")
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def config_from_dict(data: dict, where: str = "config") -> TrainConfig:
    """Build a TrainConfig from a nested dict (the parsed TOML); raise ValueError on unknown keys."""
    return _build(TrainConfig, dict(data), where)


def load_config(path: str | Path, overrides: dict | None = None) -> TrainConfig:
    """Read a TOML config; ``overrides`` (flat top-level keys) replace values after parsing.

    Raises:
        FileNotFoundError: no such file.  ValueError: bad TOML or unknown keys.
    """
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config {path}: expected valid TOML, got a parse error ({exc})") from None
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return config_from_dict(data, where=f"config {path}")
