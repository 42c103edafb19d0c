"""The expression classifier on the faceres backbone, and the prepared data it trains on.

``build_classifier`` puts a dropout + dense head on :func:`train.backbone.load_backbone`;
``load_prepared`` reads ``train.faceres_data``'s folder as ``train.prepared.Prepared`` whose ``train_x`` is
a :class:`MixedImages` (images made per batch from uint8 arrays), so ``train.fit.fit`` trains it like any
other prepared set: checkpoints, resume, time budget, history.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

#: Trainable convolutions of the backbone in order, for ``ModelConfig.freeze``.
CONV_ORDER = ("conv1", *[f"conv_{kind}_{i}" for i in range(1, 14) for kind in ("dw", "pw")])


def build_classifier(model_cfg, n_classes: int, name: str = "faceres_fer"):
    """The backbone (weights from ``model_cfg.backbone``) + dropout + a dense head giving logits.

    Args:
        model_cfg: ``train.config.ModelConfig`` with arch "faceres".
    Returns:
        keras.Model: (n, S, S, 3) float32 BGR in [0, 1] -> (n, K) float32 logits.
    """
    import keras
    from keras import layers

    from train.backbone import load_backbone

    if not model_cfg.backbone:
        raise ValueError("config model.backbone: expected the path of faceres.json for arch 'faceres', got none")
    size = int(model_cfg.input_size)
    backbone = load_backbone(model_cfg.backbone, size)
    for layer_name in CONV_ORDER[:max(0, int(model_cfg.freeze))]:
        backbone.get_layer(layer_name).trainable = False
    inputs = keras.Input(shape=(size, size, 3), name="input")
    x = backbone(inputs)
    if model_cfg.dropout > 0:
        x = layers.Dropout(model_cfg.dropout, name="dropout")(x)
    head = layers.Dense(n_classes, name="logits")
    logits = head(x)
    if model_cfg.head_init:
        values = np.load(model_cfg.head_init)
        head.set_weights([values["kernel"].astype(np.float32), values["bias"].astype(np.float32)])
    return keras.Model(inputs, logits, name=name)


class MixedImages:
    """Indexable like an (N, S, S, 3) float32 BGR array in [0, 1]: FER2013 faces first, then ExpW.

    FER2013 faces (48x48 grey uint8) are resized to S (bilinear, as ``train.evaluate`` reads them) and
    repeated to three channels when indexed; ExpW crops are stored at S. ``expw_repeat`` lists each ExpW face that many times.
    """

    def __init__(self, fer_x: np.ndarray, expw_x: np.ndarray, expw_repeat: int = 1):
        self.fer_x, self.expw_x, self.repeat = fer_x, expw_x, int(expw_repeat)
        self.size = int(expw_x.shape[1])

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self), self.size, self.size, 3)

    def __len__(self) -> int:
        return len(self.fer_x) + len(self.expw_x) * self.repeat

    def __getitem__(self, index) -> np.ndarray:
        import cv2

        if isinstance(index, slice):
            index = np.arange(*index.indices(len(self)))
        index = np.asarray(index)
        out = np.empty((len(index), self.size, self.size, 3), np.float32)
        n_fer = len(self.fer_x)
        for row, i in enumerate(index):
            if i < n_fer:
                grey = cv2.resize(self.fer_x[i, :, :, 0], (self.size, self.size), interpolation=cv2.INTER_LINEAR)
                out[row] = grey[:, :, None]
            else:
                out[row] = self.expw_x[(i - n_fer) % len(self.expw_x)]
        np.clip(out, 0, 255, out=out)
        return out * np.float32(1 / 255)


def fer_subset(n: int, fraction: float) -> np.ndarray:
    """Indices of an evenly spaced ``fraction`` of ``n`` FER2013 faces (all of them at 1.0).

    Raises:
        ValueError: ``fraction`` outside (0, 1].
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"config fer_fraction: expected a share of FER2013 faces in (0, 1], got {fraction}")
    keep = max(1, int(round(n * fraction)))
    return np.unique(np.round(np.linspace(0, n - 1, keep)).astype(np.int64))


def load_prepared(folder: str | Path, size: int, expw_repeat: int = 3, fer_fraction: float = 1.0):
    """``train.faceres_data``'s folder at side ``size`` as a ``train.prepared.Prepared`` (val = ExpW dev).

    ``fer_fraction`` keeps that share of the FER2013 faces (:func:`fer_subset`); every ExpW train face is kept.

    Raises:
        FitError: the folder lacks the files for ``size``.
    """
    from train.prepared import FitError, Prepared

    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    needed = ["fer_x.npy", "fer_y.npy", f"expw_{size}.npy", "expw_y.npy", f"dev_{size}.npy", "dev_y.npy"]
    missing = [f for f in needed if not (folder / f).is_file()]
    if missing:
        raise FitError(f"prepared data {folder}: expected {', '.join(needed)}, missing {', '.join(missing)}; run "
                       f"python -m train.faceres_data with --sizes {size}")
    fer_x, fer_y = np.load(folder / "fer_x.npy"), np.load(folder / "fer_y.npy")
    if fer_fraction != 1.0:
        keep = fer_subset(len(fer_x), fer_fraction)
        fer_x, fer_y = fer_x[keep], fer_y[keep]
    expw_x, expw_y = np.load(folder / f"expw_{size}.npy"), np.load(folder / "expw_y.npy")
    train_y = np.concatenate([fer_y] + [expw_y] * int(expw_repeat)).astype(np.float32)
    mass = train_y.sum(axis=0)
    meta = {**meta, "size": [size, size], "channels": 3, "expw_repeat": int(expw_repeat),
            "fer_fraction": float(fer_fraction),
            "class_weights": {c: float(w) for c, w in zip(meta["classes"], mass.sum() / (len(mass) * mass))}}
    val_x = np.load(folder / f"dev_{size}.npy").astype(np.float32) / np.float32(255)
    return Prepared(train_x=MixedImages(fer_x, expw_x, expw_repeat), train_y=train_y, val_x=val_x,
                    val_y=np.load(folder / "dev_y.npy"), meta=meta)
