"""Drawing recognizer results onto BGR frames, cheaply and in place.

Per face: a box in the track's colour, a tag ``#<track id> <label> <confidence>``
(``... held`` when the temporal stage holds a label that is not the largest bar: ``Faces.held``)
above it, and a small panel with one probability bar per class next to it.  A HUD
in the top-left corner shows caller-supplied lines (fps, latency, provider).

Coordinates are frame pixels (x right, y down), colours BGR.  Sizes scale with the
frame (``min(width, height) / 480``, clipped to [0.6, 4]) so 4K output stays legible.
Everything is OpenCV primitives (rectangles and Hershey text): about 0.1 ms per face
at 640x360.  Nothing is allocated per frame except the text strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ...core.faces import FrameResult

PALETTE = (  # BGR, saturated and distinct; index = track_id % len
    (0, 200, 255), (255, 128, 0), (60, 220, 60), (200, 60, 255), (0, 80, 255),
    (255, 220, 0), (160, 0, 200), (0, 255, 180), (255, 0, 140), (120, 180, 255),
)
UNTRACKED = (200, 200, 200)
FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_DARK, TEXT_LIGHT = (0, 0, 0), (255, 255, 255)
BAR_BACK, BAR_FILL = (40, 40, 40), (170, 170, 170)


@lru_cache(maxsize=2048)
def text_size(text: str, font_scale: float) -> tuple[tuple[int, int], int]:
    """``cv2.getTextSize`` for FONT at thickness 1, cached (tags repeat from frame to frame)."""
    return cv2.getTextSize(text, FONT, font_scale, 1)


def color_for(track_id: int) -> tuple[int, int, int]:
    """The BGR colour of a track's box (grey for untracked faces, id -1)."""
    return UNTRACKED if track_id < 0 else PALETTE[int(track_id) % len(PALETTE)]


@dataclass(frozen=True)
class _Metrics:
    """Pixel sizes derived from the frame size (cached per size)."""

    scale: float
    thickness: int
    font_scale: float
    text_h: int
    pad: int
    bar_w: int
    row_h: int
    abbrev_w: int


class Overlay:
    """Draws ``FrameResult``s.

    Args:
        labels: class names (model order); bars are labelled with their first 3 letters.
        bars: draw the per-class probability panel.
        hud: draw the HUD lines passed to ``draw``.
    """

    def __init__(self, labels, bars: bool = True, hud: bool = True):
        self.labels = tuple(labels)
        self.abbrevs = tuple(name[:3] for name in self.labels)
        self.bars, self.hud = bars, hud
        self._metrics: dict = {}  # (width, height) -> _Metrics, ("panel", _Metrics) -> pre-rendered panel

    def metrics(self, width: int, height: int) -> _Metrics:
        key = (width, height)
        if key not in self._metrics:
            s = float(np.clip(min(width, height) / 480.0, 0.6, 4.0))
            font_scale = 0.45 * s
            (_, text_h), _ = cv2.getTextSize("Ag", FONT, font_scale, 1)
            small = 0.7 * font_scale
            abbrev_w = max((cv2.getTextSize(a, FONT, small, 1)[0][0] for a in self.abbrevs), default=0)
            self._metrics[key] = _Metrics(s, max(1, round(2 * s)), font_scale, text_h, max(2, round(3 * s)),
                                          round(60 * s), max(6, round(11 * s)), abbrev_w)
        return self._metrics[key]

    def draw(self, image: np.ndarray, result: FrameResult, hud_lines=()) -> np.ndarray:
        """Draw every face of ``result`` (and ``hud_lines``) onto ``image`` in place.

        Args:
            image: (H, W, 3) uint8 BGR, the frame ``result`` was computed on.
            result: boxes in ``image`` pixels, track ids, probabilities.
            hud_lines: strings drawn top-left, one per line.

        Returns:
            ``image`` itself.
        """
        height, width = image.shape[:2]
        m = self.metrics(width, height)
        faces = result.faces
        top = result.top()
        probs = faces.shown_probs
        # per-frame array work once for all faces; the loop only draws
        boxes = np.rint(faces.boxes).astype(np.int64).tolist()
        track_ids = faces.track_ids.tolist()
        held = faces.held.tolist()  # the label is held on other frames' evidence: say so, its bar may not be longest
        bar_lengths = best_classes = None
        if self.bars and probs is not None and len(faces):
            bar_lengths = np.rint(np.clip(probs, 0.0, 1.0) * m.bar_w).astype(np.int64).tolist()
            shown = faces.label_ids if faces.label_ids is not None else np.argmax(probs, axis=1)
            best_classes = shown.tolist()
        for k, (x1, y1, x2, y2) in enumerate(boxes):
            color = color_for(track_ids[k])
            cv2.rectangle(image, (x1, y1), (x2, y2), color, m.thickness, cv2.LINE_8)
            tag = f"#{track_ids[k]}" if track_ids[k] >= 0 else "#?"
            if k < len(top):
                tag += f" {top[k][0]} {top[k][1]:.2f}" + (" held" if held[k] else "")
            self._tag(image, tag, x1, y1, y2, color, m)
            if bar_lengths is not None:
                self._bars(image, bar_lengths[k], best_classes[k], (x1, y1, x2, y2), color, m)
        if self.hud and hud_lines:
            self._hud(image, hud_lines, m)
        return image

    def _tag(self, image, text, x1, y1, y2, color, m: _Metrics) -> None:
        """Filled label in the box colour above the box (below it when there is no room)."""
        (tw, th), base = text_size(text, m.font_scale)
        box_h = th + base + 2 * m.pad
        top = y1 - box_h if y1 - box_h >= 0 else min(y2, image.shape[0] - box_h)
        left = min(max(x1, 0), max(image.shape[1] - tw - 2 * m.pad, 0))
        cv2.rectangle(image, (left, top), (left + tw + 2 * m.pad, top + box_h), color, -1)
        cv2.putText(image, text, (left + m.pad, top + m.pad + th), FONT, m.font_scale, TEXT_DARK, 1, cv2.LINE_AA)

    def _panel(self, m: _Metrics) -> np.ndarray:
        """The bar panel without bars: (h, w, 3) uint8 BGR, dark with the class abbreviations (cached per size)."""
        key = ("panel", m)
        if key not in self._metrics:
            width = m.abbrev_w + m.pad * 3 + m.bar_w
            panel = np.empty((m.row_h * len(self.abbrevs) + m.pad, width, 3), np.uint8)
            panel[:] = BAR_BACK
            for c, abbrev in enumerate(self.abbrevs):
                baseline = m.pad + c * m.row_h + m.row_h - m.pad
                cv2.putText(panel, abbrev, (m.pad, baseline), FONT, 0.7 * m.font_scale, TEXT_LIGHT, 1, cv2.LINE_AA)
            self._metrics[key] = panel
        return self._metrics[key]

    def _bars(self, image, lengths: list[int], best: int, box, color, m: _Metrics) -> None:
        """One horizontal bar per class, right of the box (left if no room, clipped to the frame).

        ``lengths``: bar length in pixels per class; ``best``: the class drawn in the track colour.
        The panel with its labels is pre-rendered once per frame size and copied in; only the
        bars are drawn per face.
        """
        height, width = image.shape[:2]
        panel = self._panel(m)
        panel_h, panel_w = panel.shape[:2]
        x1, y1, x2, _ = box
        left = x2 + m.pad if x2 + m.pad + panel_w <= width else x1 - m.pad - panel_w
        left = min(max(left, 0), max(width - panel_w, 0))
        top = min(max(y1, 0), max(height - panel_h, 0))
        visible_h, visible_w = min(panel_h, height - top), min(panel_w, width - left)
        image[top:top + visible_h, left:left + visible_w] = panel[:visible_h, :visible_w]
        bar_x = left + m.abbrev_w + 2 * m.pad
        for c, length in enumerate(lengths):
            if length > 0:
                row_top = top + m.pad + c * m.row_h
                cv2.rectangle(image, (bar_x, row_top + 1), (bar_x + length, row_top + m.row_h - 2),
                              color if c == best else BAR_FILL, -1)

    def _hud(self, image, lines, m: _Metrics) -> None:
        """Dark box with light text lines at the top-left corner."""
        line_h = m.text_h + 2 * m.pad
        widths = [cv2.getTextSize(line, FONT, m.font_scale, 1)[0][0] for line in lines]
        cv2.rectangle(image, (0, 0), (max(widths) + 2 * m.pad, line_h * len(lines) + m.pad), (0, 0, 0), -1)
        for i, line in enumerate(lines):
            cv2.putText(image, line, (m.pad, (i + 1) * line_h), FONT, m.font_scale, TEXT_LIGHT, 1, cv2.LINE_AA)


def hud_lines(fps: float | None, latency_ms: float | None, faces: int, provider: str | None = None) -> list[str]:
    """The standard HUD text: ``["29.8 fps  7.1 ms", "1 face  CPU"]`` (None parts are left out)."""
    first = []
    if fps is not None:
        first.append(f"{fps:.1f} fps")
    if latency_ms is not None:
        first.append(f"{latency_ms:.1f} ms")
    second = f"{faces} face" + ("" if faces == 1 else "s")
    if provider:
        second += "  " + provider.replace("ExecutionProvider", "")
    return ["  ".join(first), second] if first else [second]
