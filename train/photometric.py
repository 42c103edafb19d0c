"""Photometric augmentation that mimics deployment: blur, JPEG artefacts, sensor noise, low and uneven light.

Webcam and web-photo faces reach the model after BlazeFace, eye alignment and a resize to the
model's input (48x48 grey for the default model): they are softer, blockier, noisier and less evenly
lit than FER2013's crops.  Each effect fires with its own probability (``AugmentConfig.blur``,
``jpeg``, ``noise``, ``light``; 0 = off) on one image at a time.
"""

from __future__ import annotations

import numpy as np


def photometric(img: np.ndarray, cfg, rng: np.random.Generator) -> np.ndarray:
    """Return an augmented copy of ``img``.

    Args:
        img: (H, W, C) float32 in [0, 1] (grey C = 1 or BGR C = 3).
        cfg: ``train.config.AugmentConfig`` (uses ``blur``, ``jpeg``, ``noise``, ``light``).
        rng: the batch's generator (results are reproducible per seed).
    Returns:
        (H, W, C) float32 in [0, 1].
    """
    import cv2

    h, w, c = img.shape
    out = np.array(img, np.float32, copy=True)
    if cfg.light > 0 and rng.random() < cfg.light:
        gamma = float(np.exp(rng.uniform(np.log(0.6), np.log(1.8))))  # > 1 darkens
        contrast = rng.uniform(0.6, 1.15)
        out = np.clip(out, 0, 1) ** gamma
        out = (out - out.mean()) * contrast + out.mean() + rng.uniform(-0.12, 0.08)
        if rng.random() < 0.5:  # uneven light: a linear ramp across the face in a random direction
            angle = rng.uniform(0, 2 * np.pi)
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            ramp = ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle))
            out = out * (1.0 + rng.uniform(0.2, 0.7) * ramp)[..., None]
    if cfg.blur > 0 and rng.random() < cfg.blur:
        out = cv2.GaussianBlur(out, (0, 0), sigmaX=rng.uniform(0.4, 1.3)).reshape(h, w, c)
    if cfg.noise > 0 and rng.random() < cfg.noise:
        out = out + rng.normal(0.0, rng.uniform(0.01, 0.05), out.shape).astype(np.float32)
    out = np.clip(out, 0.0, 1.0)
    if cfg.jpeg > 0 and rng.random() < cfg.jpeg:
        quality = int(rng.integers(25, 85))
        u8 = (out * 255 + 0.5).astype(np.uint8)
        ok, data = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            flag = cv2.IMREAD_GRAYSCALE if c == 1 else cv2.IMREAD_COLOR
            out = cv2.imdecode(data, flag).reshape(h, w, c).astype(np.float32) / np.float32(255)
    return out.astype(np.float32)
