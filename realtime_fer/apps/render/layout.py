"""Where the overlay's labels, bar panels and HUD go, so that none of them covers a face (no drawing here).

Rectangles are ``(x1, y1, x2, y2)`` integer frame pixels, x right, y down, exclusive of ``x2``/``y2``.

Rules, in the order they are applied:

1. The HUD goes to the frame corner that overlaps the faces least (top-left when it is free).
2. Faces are served largest first. Each face's label tag goes above its box (left-aligned, centred, right-aligned),
   else below it, else inside the top or bottom of its own box (every spot moved into the frame): the first spot
   that overlaps no other face's box and nothing placed before; when every spot collides (a crowd), the one that
   covers the least of the other faces, then of the labels.
3. Each face's bar panel goes right of its box, else left, else below, else above, sliding along that side in
   steps up to two panel lengths past the box; only a spot inside the frame that touches no face box (its own included) and nothing placed before
   is taken. When there is none the face shows its label only (``None``).

So panels never cover a face nor stack on each other, and labels cover another face only when the frame leaves
no other room (e.g. a face filling the frame edge to edge with others inside it).
"""

from __future__ import annotations

from dataclasses import dataclass

Rect = tuple[int, int, int, int]


def overlap(a: Rect, b: Rect) -> int:
    """Area of the intersection of two rectangles (0 when they only touch)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0


def inside(rect: Rect, width: int, height: int) -> bool:
    return rect[0] >= 0 and rect[1] >= 0 and rect[2] <= width and rect[3] <= height


@dataclass(frozen=True)
class Plan:
    """Top-left corners: ``tags[k]`` of face k's label, ``panels[k]`` of its bar panel (None: left out),
    ``hud`` of the HUD (None when there is none)."""

    tags: list
    panels: list
    hud: tuple[int, int] | None


def _clamp_x(x: int, w: int, width: int) -> int:
    return min(max(x, 0), max(width - w, 0))


def _tag_spots(box: Rect, size: tuple[int, int], width: int, height: int, gap: int) -> list[Rect]:
    """Above the box (left-aligned, centred, right-aligned), the same below, then inside its own box's top and
    bottom; each moved into the frame."""
    w, h = size
    xs = [_clamp_x(x, w, width) for x in (box[0], (box[0] + box[2] - w) // 2, box[2] - w)]
    ys = (box[1] - h - gap, box[3] + gap, box[1] + gap, box[3] - h - gap)
    ys = [min(max(y, 0), max(height - h, 0)) for y in ys]
    spots = [(x, y, x + w, y + h) for y in ys[:2] for x in xs]
    return spots + [(xs[0], y, xs[0] + w, y + h) for y in ys[2:]]


def _panel_spots(box: Rect, size: tuple[int, int], width: int, height: int, gap: int) -> list[Rect]:
    """Right, left, below, above the box; along each side from the box's near corner outward, in steps of a
    quarter panel, at most two panel lengths past the box's ends (further, a panel no longer reads as its face's)."""
    w, h = size
    step = max(h // 4, 1)
    spots = []
    start = min(max(box[1], 0), max(height - h, 0))
    ys = range(max(box[1] - 2 * h, 0), min(box[3] + 2 * h, height - h) + 1, step)
    for x in (box[2] + gap, box[0] - gap - w):
        spots += [(x, y, x + w, y + h) for y in sorted(ys, key=lambda y: abs(y - start))]
    start = _clamp_x(box[0], w, width)
    xs = range(max(box[0] - 2 * w, 0), min(box[2] + 2 * w, width - w) + 1, step)
    for y in (box[3] + gap, box[1] - gap - h):
        spots += [(x, y, x + w, y + h) for x in sorted(xs, key=lambda x: abs(x - start))]
    return spots


def _hud_spot(size: tuple[int, int], faces: list[Rect], width: int, height: int) -> Rect:
    w, h = size
    corners = [(0, 0), (width - w, 0), (0, height - h), (width - w, height - h)]
    rects = [(max(x, 0), max(y, 0), max(x, 0) + w, max(y, 0) + h) for x, y in corners]
    return min(rects, key=lambda r: sum(overlap(r, f) for f in faces))  # min keeps the first (top-left) on ties


def plan(width: int, height: int, boxes, tag_sizes, panel_size: tuple[int, int] | None = None,
         hud_size: tuple[int, int] | None = None, gap: int = 2) -> Plan:
    """Place every face's tag and panel and the HUD (rules in the module docstring).

    Args:
        width, height: the frame's size in pixels.
        boxes: per face (x1, y1, x2, y2) frame pixels (ints or floats).
        tag_sizes: per face (w, h) of its label tag; panel_size: (w, h) of a bar panel (None: no panels);
        hud_size: (w, h) of the HUD (None: no HUD).
        gap: pixels kept between a face's box and its own tag or panel.
    """
    faces = [tuple(int(round(v)) for v in box) for box in boxes]
    placed: list[Rect] = []
    hud = None
    if hud_size is not None:
        rect = _hud_spot(hud_size, faces, width, height)
        placed.append(rect)
        hud = rect[:2]
    tags: list = [None] * len(faces)
    panels: list = [None] * len(faces)
    order = sorted(range(len(faces)), key=lambda k: -(faces[k][2] - faces[k][0]) * (faces[k][3] - faces[k][1]))
    for k in order:
        others = [f for j, f in enumerate(faces) if j != k]
        spots = _tag_spots(faces[k], tag_sizes[k], width, height, gap)
        free = [r for r in spots if not any(overlap(r, o) for o in others + placed)]
        tag = free[0] if free else min(spots, key=lambda r: (sum(overlap(r, o) for o in others),
                                                             sum(overlap(r, o) for o in placed)))
        tags[k] = tag[:2]
        placed.append(tag)
    if panel_size is not None:
        for k in order:
            for r in _panel_spots(faces[k], panel_size, width, height, gap):
                if inside(r, width, height) and not any(overlap(r, o) for o in faces + placed):
                    panels[k] = r[:2]
                    placed.append(r)
                    break
    return Plan(tags, panels, hud)
