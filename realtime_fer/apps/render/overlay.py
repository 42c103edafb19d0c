"""Drawing recognizer results onto BGR frames, cheaply and in place.

Per face: a box in the track's colour, a tag ``#<track id> <label> <confidence>``
(``... held`` when the temporal stage holds a label that is not the largest bar: ``Faces.held``;
the track colour with black or white text, whichever contrasts more) and a panel with
one probability bar per class. A HUD shows caller-supplied lines (fps, latency,
provider). ``layout.plan`` decides where tags, panels and the HUD go: outside every
face box where there is room, never over each other nor past the frame's edge. A tag with
no room at its full size shrinks (``#3 sad``, then smaller text, then ``sad``); a face whose
panel cannot sit next to it shows its tag only, and one whose tag fits nowhere its box only.

Coordinates are frame pixels (x right, y down), colours BGR.  Text height follows the
frame: ``text_height`` (12 px at 360p, 23 px at 1080p, 35 px at 4K).  Everything is
OpenCV primitives (rectangles and Hershey text).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ...core.faces import FrameResult
from .layout import plan

PALETTE = (  # BGR, saturated and distinct; index = track_id % len
    (0, 200, 255), (255, 128, 0), (60, 220, 60), (200, 60, 255), (0, 80, 255),
    (255, 220, 0), (160, 0, 200), (0, 255, 180), (255, 0, 140), (120, 180, 255),
)
UNTRACKED = (200, 200, 200)
FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_DARK, TEXT_LIGHT = (0, 0, 0), (255, 255, 255)
BAR_BACK, BAR_FILL = (24, 24, 24), (170, 170, 170)
MIN_TEXT_PX = 12
SHRUNK_TEXT_PX = 9  # a crowded face's shrunk tag: still legible, for when a 12 px one has no room


def text_height(width: int, height: int) -> int:
    """Cap height of the overlay's text in pixels for a frame size: 12 at 360p, growing as the 0.6th power of
    the frame's shorter side (23 at 1080p, 35 at 2160p), never under 12 (readable without zoom)."""
    return max(MIN_TEXT_PX, round(MIN_TEXT_PX * (min(width, height) / 360.0) ** 0.6))


def text_color(background) -> tuple[int, int, int]:
    """Black or white, whichever contrasts more with a BGR ``background`` (luma, ITU-R BT.601)."""
    b, g, r = background
    return TEXT_DARK if 0.114 * b + 0.587 * g + 0.299 * r >= 140 else TEXT_LIGHT


@lru_cache(maxsize=2048)
def text_size(text: str, font_scale: float, thickness: int = 1) -> tuple[tuple[int, int], int]:
    """``cv2.getTextSize`` for FONT, cached (tags repeat from frame to frame)."""
    return cv2.getTextSize(text, FONT, font_scale, thickness)


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
        """The sizes for a frame of ``width`` x ``height`` (text height ``text_height``)."""
        return self._sized(text_height(width, height))

    def _sized(self, wanted: int) -> _Metrics:
        """The sizes for text ``wanted`` px high (cached)."""
        key = ("text", wanted)
        if key not in self._metrics:
            font_scale = wanted / cv2.getTextSize("H", FONT, 1.0, 1)[0][1]
            (_, text_h), _ = cv2.getTextSize("H", FONT, font_scale, 1)
            s = wanted / MIN_TEXT_PX
            abbrev_w = max((cv2.getTextSize(a, FONT, font_scale, 1)[0][0] for a in self.abbrevs), default=0)
            self._metrics[key] = _Metrics(s, max(1, round(1.5 * s)), font_scale, text_h, max(2, round(3 * s)),
                                          round(50 * s), text_h + max(4, round(5 * s)), abbrev_w)
        return self._metrics[key]

    def weight(self, m: _Metrics) -> int:
        """Stroke thickness of text: 2 from ~20 px text up, so large text does not look thin."""
        return 1 if m.text_h < 20 else 2

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
        tags, where = self._place(width, height, m, boxes, track_ids, top, held, bar_lengths is not None, hud_lines)
        for k, (x1, y1, x2, y2) in enumerate(boxes):
            cv2.rectangle(image, (x1, y1), (x2, y2), color_for(track_ids[k]), m.thickness, cv2.LINE_8)
        for k in range(len(boxes)):
            color = color_for(track_ids[k])
            if where.panels[k] is not None:
                self._bars(image, bar_lengths[k], best_classes[k], where.panels[k], color, m)
            if where.tags[k] is not None:
                text, size, tag_m = tags[k][where.sizes[k]]
                self._tag(image, text, where.tags[k], size, color, tag_m)
        if where.hud is not None:
            self._hud(image, hud_lines, where.hud, m)
        return image

    def _place(self, width, height, m: _Metrics, boxes, track_ids, top, held, panels: bool, hud_lines):
        """(per face its tag's forms, ``layout.Plan``) of one frame's faces; a form is (text, (w, h), metrics),
        largest first, and ``Plan.sizes[k]`` says which one face k shows."""
        tags = [self._tag_forms(track_ids[k], top[k] if k < len(top) else None, held[k], self._tag_metrics(box, m))
                for k, box in enumerate(boxes)]
        panel = self._panel(m) if panels else None
        hud_size = self._hud_size(hud_lines, m) if self.hud and hud_lines else None
        t = m.thickness  # the drawn box line reaches ~t px outside the box: keep labels off it
        outlines = [(x1 - t, y1 - t, x2 + t + 1, y2 + t + 1) for x1, y1, x2, y2 in boxes]
        where = plan(width, height, outlines, [[size for _, size, _ in forms] for forms in tags],
                     panel.shape[1::-1] if panel is not None else None, hud_size, gap=1)
        return tags, where

    def _tag_forms(self, track_id: int, top, held: bool, m: _Metrics) -> list:
        """A tag's forms, largest first: ``#3 sad 0.50`` (`` held`` added when held), ``#3 sad``, the same in
        ``SHRUNK_TEXT_PX`` text, then ``sad`` alone; ``#3`` when there is no label. Each (text, (w, h), metrics)."""
        ident = f"#{track_id}" if track_id >= 0 else "#?"
        small = self._sized(SHRUNK_TEXT_PX) if m.text_h > SHRUNK_TEXT_PX else m
        if top is None:
            wanted = [(ident, m), (ident, small)]
        else:
            note = " held" if held else ""
            short = f"{ident} {top[0]}{note}"
            wanted = [(f"{ident} {top[0]} {top[1]:.2f}{note}", m), (short, m), (short, small), (top[0], small)]
        forms, seen = [], set()
        for text, metrics in wanted:
            if (text, id(metrics)) not in seen:
                seen.add((text, id(metrics)))
                forms.append((text, self._tag_size(text, metrics), metrics))
        return forms

    def rects(self, width: int, height: int, result: FrameResult, hud_lines=()) -> dict[str, list]:
        """Where ``draw`` puts things on a ``width`` x ``height`` frame: ``{"tags": [...], "panels": [...],
        "hud": [...]}``, each a list of xyxy pixel rectangles (exclusive ends). ``tags[k]`` is face k's (None when it
        shows no tag); panels left out are absent."""
        m = self.metrics(width, height)
        faces = result.faces
        boxes = np.rint(faces.boxes).astype(np.int64).tolist()
        panels = self.bars and faces.shown_probs is not None and len(faces) > 0
        tags, where = self._place(width, height, m, boxes, faces.track_ids.tolist(), result.top(),
                                  faces.held.tolist(), panels, hud_lines)
        grow = lambda corner, size: (corner[0], corner[1], corner[0] + size[0], corner[1] + size[1])  # noqa: E731
        panel_size = self._panel(m).shape[1::-1]
        return {"tags": [None if c is None else grow(c, forms[i][1])
                         for c, i, forms in zip(where.tags, where.sizes, tags)],
                "panels": [grow(c, panel_size) for c in where.panels if c is not None],
                "hud": [grow(where.hud, self._hud_size(hud_lines, m))] if where.hud is not None else []}

    def _tag_metrics(self, box, m: _Metrics) -> _Metrics:
        """The frame's sizes, or smaller ones (text down to ``MIN_TEXT_PX``) for a face less than 3 lines of
        text high: in a crowd, labels as tall as the faces would cover each other."""
        face_h = box[3] - box[1]
        if face_h >= 3 * m.text_h:
            return m
        return self._sized(max(MIN_TEXT_PX, face_h // 3))

    def _tag_size(self, text: str, m: _Metrics) -> tuple[int, int]:
        """(w, h) of a tag: the text plus padding."""
        (tw, th), base = text_size(text, m.font_scale, self.weight(m))
        return tw + 2 * m.pad, th + base + 2 * m.pad

    def _tag(self, image, text, corner, size, color, m: _Metrics) -> None:
        """Filled label in the box colour at ``corner`` (top-left), text black or white for contrast."""
        left, top = corner
        cv2.rectangle(image, (left, top), (left + size[0] - 1, top + size[1] - 1), color, -1)
        cv2.putText(image, text, (left + m.pad, top + m.pad + m.text_h), FONT, m.font_scale, text_color(color),
                    self.weight(m), cv2.LINE_AA)

    def _panel(self, m: _Metrics) -> np.ndarray:
        """The bar panel without bars: (h, w, 3) uint8 BGR, dark with the class abbreviations (cached per size)."""
        key = ("panel", m)
        if key not in self._metrics:
            width = m.abbrev_w + m.pad * 3 + m.bar_w
            panel = np.empty((m.row_h * len(self.abbrevs) + m.pad, width, 3), np.uint8)
            panel[:] = BAR_BACK
            for c, abbrev in enumerate(self.abbrevs):
                baseline = m.pad + c * m.row_h + m.row_h - m.pad
                cv2.putText(panel, abbrev, (m.pad, baseline), FONT, m.font_scale, TEXT_LIGHT, self.weight(m),
                            cv2.LINE_AA)
            self._metrics[key] = panel
        return self._metrics[key]

    def _bars(self, image, lengths: list[int], best: int, corner, color, m: _Metrics) -> None:
        """The bar panel at ``corner`` (top-left; ``layout.plan`` keeps it inside the frame): one horizontal bar
        per class. ``lengths``: bar length in pixels per class; ``best``: the class drawn in the track colour.
        The panel with its labels is pre-rendered once per frame size and copied in; only the bars are drawn."""
        panel = self._panel(m)
        panel_h, panel_w = panel.shape[:2]
        left, top = corner
        image[top:top + panel_h, left:left + panel_w] = panel
        bar_x = left + m.abbrev_w + 2 * m.pad
        for c, length in enumerate(lengths):
            if length > 0:
                row_top = top + m.pad + c * m.row_h
                cv2.rectangle(image, (bar_x, row_top + 2), (bar_x + length, row_top + m.row_h - 3),
                              color if c == best else BAR_FILL, -1)

    def _hud_size(self, lines, m: _Metrics) -> tuple[int, int]:
        widths = [text_size(line, m.font_scale, self.weight(m))[0][0] for line in lines]
        return max(widths) + 2 * m.pad, (m.text_h + 2 * m.pad) * len(lines) + 2 * m.pad

    def _hud(self, image, lines, corner, m: _Metrics) -> None:
        """Black box with white text lines at ``corner`` (top-left)."""
        left, top = corner
        width, height = self._hud_size(lines, m)
        cv2.rectangle(image, (left, top), (left + width - 1, top + height - 1), (0, 0, 0), -1)
        line_h = m.text_h + 2 * m.pad
        for i, line in enumerate(lines):
            cv2.putText(image, line, (left + m.pad, top + m.pad + (i + 1) * line_h - m.pad), FONT, m.font_scale,
                        TEXT_LIGHT, self.weight(m), cv2.LINE_AA)


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
