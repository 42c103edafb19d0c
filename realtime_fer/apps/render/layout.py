"""Where the overlay's labels, bar panels and HUD go, so that none of them covers a face (no drawing here).

Rectangles are ``(x1, y1, x2, y2)`` integer frame pixels, x right, y down, exclusive of ``x2``/``y2``.

Rules, in the order they are applied:

1. The HUD goes to the frame corner that overlaps the faces least (top-left when it is free).
2. Faces are served largest first. Each face's label tag goes above its box (left-aligned, centred, right-aligned),
   else below it, else beside it (right, left), else inside the top or bottom of its own box (every spot moved into
   the frame; a spot that still does not fit inside it is no spot). A tag may come in several sizes, largest first
   (e.g. shorter text, smaller text): the first size and spot that overlap no other face's box and nothing placed
   before are taken; when every one covers another face (a crowd), the one that covers the least of the other
   faces, then the larger size, among those that overlap nothing placed. When every size and spot overlaps
   something placed, the face shows no tag (``None``).
3. Each face's bar panel goes right of the face (its box with its own tag), else left, else below, else above,
   sliding along that side in steps from the box's near corner while it still runs alongside at least half of
   the face's side (or of its own, when that is shorter); only a spot inside the frame that touches no face box
   (its own included) and nothing placed before is taken. When there is none the face shows its label only
   (``None``): a panel that cannot sit next to its face is left out, not drawn far away.

So tags, panels and the HUD never overlap each other and stay inside the frame, panels sit next to their own face
and cover none, and labels cover another face only when the frame leaves no other room (e.g. a face filling the
frame edge to edge with others inside it).
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
    """Top-left corners: ``tags[k]`` of face k's label, ``panels[k]`` of its bar panel (each None: left out),
    ``hud`` of the HUD (None when there is none); ``sizes[k]``: which of face k's tag sizes was taken (None: no
    tag)."""

    tags: list
    panels: list
    hud: tuple[int, int] | None
    sizes: list | None = None


def _clamp_x(x: int, w: int, width: int) -> int:
    return min(max(x, 0), max(width - w, 0))


def _tag_spots(box: Rect, size: tuple[int, int], width: int, height: int, gap: int) -> list[Rect]:
    """Above the box (left-aligned, centred, right-aligned), the same below, right and left of it (top-aligned),
    then inside its own box's top and bottom; each moved into the frame, and left out when it does not fit in it."""
    w, h = size
    xs = [_clamp_x(x, w, width) for x in (box[0], (box[0] + box[2] - w) // 2, box[2] - w)]
    ys = (box[1] - h - gap, box[3] + gap, box[1], box[1] + gap, box[3] - h - gap)
    ys = [min(max(y, 0), max(height - h, 0)) for y in ys]
    spots = [(x, y, x + w, y + h) for y in ys[:2] for x in xs]
    spots += [(x, ys[2], x + w, ys[2] + h) for x in (box[2] + gap, box[0] - gap - w)]
    spots += [(xs[0], y, xs[0] + w, y + h) for y in ys[3:]]
    return [r for r in spots if inside(r, width, height)]


def _size_options(size) -> list[tuple[int, int]]:
    """A tag's sizes, largest first: ``(w, h)`` alone or a sequence of them."""
    return [tuple(size)] if len(size) == 2 and not isinstance(size[0], (tuple, list)) else [tuple(s) for s in size]


def _place_tag(box: Rect, sizes: list[tuple[int, int]], others: list[Rect], placed: list[Rect], width: int,
               height: int, gap: int) -> tuple[int, Rect] | None:
    """(index into ``sizes``, rectangle) of one face's tag by rule 2; None when every spot overlaps ``placed``."""
    crowded = []
    for index, size in enumerate(sizes):
        for rect in _tag_spots(box, size, width, height, gap):
            if any(overlap(rect, p) for p in placed):
                continue
            covered = sum(overlap(rect, o) for o in others)
            if covered == 0:
                return index, rect
            crowded.append((covered, index, rect))
    return min(crowded)[1:] if crowded else None


def _panel_spots(box: Rect, tag: Rect | None, size: tuple[int, int], width: int, height: int,
                 gap: int) -> list[Rect]:
    """Right, left, below, above the face (off its box, else off its box with its own ``tag``); along each side
    from the box's near corner outward, in steps of a quarter panel, as long as the panel runs alongside the face
    (box and tag) for at least half of the shorter of the box's side and its own (further, a panel no longer reads
    as its face's)."""
    w, h = size
    unit = box if tag is None else (min(box[0], tag[0]), min(box[1], tag[1]), max(box[2], tag[2]),
                                    max(box[3], tag[3]))
    step = max(h // 4, 1)
    spots = []
    ys = _slide(unit[1], unit[3], box[1], box[3], h, height, step)
    for x in dict.fromkeys((box[2] + gap, unit[2] + gap, box[0] - gap - w, unit[0] - gap - w)):
        spots += [(x, y, x + w, y + h) for y in ys]
    xs = _slide(unit[0], unit[2], box[0], box[2], w, width, step)
    for y in dict.fromkeys((box[3] + gap, unit[3] + gap, box[1] - gap - h, unit[1] - gap - h)):
        spots += [(x, y, x + w, y + h) for x in xs]
    return spots


def _slide(lo: int, hi: int, near: int, far: int, length: int, limit: int, step: int) -> list[int]:
    """Starts of a ``length``-long span in [0, ``limit``) that shares, with the face's side [``lo``, ``hi``) (its box
    with its tag), at least half of the shorter of itself and the box's side [``near``, ``far``) (their parts inside
    [0, ``limit``)): a grid of ``step`` from two lengths before the box's edge ``near``, nearest ``near`` first."""
    if min(far, limit) <= max(near, 0):
        return []
    need = max(1, min(length, min(far, limit) - max(near, 0)) // 2)
    first, last = max(lo + need - length, 0), min(min(hi, limit) - need, limit - length)
    grid = [v for v in range(max(near - 2 * length, 0), last + 1, step) if v >= first]
    if not grid and first <= last:
        grid = [min(max(near, first), last)]
    start = min(max(near, 0), max(limit - length, 0))
    return sorted(grid, key=lambda v: abs(v - start))


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
        tag_sizes: per face (w, h) of its label tag, or a sequence of them, largest first (the sizes it may
            shrink to); panel_size: (w, h) of a bar panel (None: no panels);
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
    sizes: list = [None] * len(faces)
    sizes_of: list = [None] * len(faces)  # (w, h) of each placed tag
    panels: list = [None] * len(faces)
    order = sorted(range(len(faces)), key=lambda k: -(faces[k][2] - faces[k][0]) * (faces[k][3] - faces[k][1]))
    for k in order:
        others = [f for j, f in enumerate(faces) if j != k]
        taken = _place_tag(faces[k], _size_options(tag_sizes[k]), others, placed, width, height, gap)
        if taken is not None:
            sizes[k], tags[k] = taken[0], taken[1][:2]
            sizes_of[k] = taken[1][2] - taken[1][0], taken[1][3] - taken[1][1]
            placed.append(taken[1])
    if panel_size is not None:
        for k in order:
            tag = None if tags[k] is None else (*tags[k], tags[k][0] + sizes_of[k][0], tags[k][1] + sizes_of[k][1])
            for r in _panel_spots(faces[k], tag, panel_size, width, height, gap):
                if inside(r, width, height) and not any(overlap(r, o) for o in faces + placed):
                    panels[k] = r[:2]
                    placed.append(r)
                    break
    return Plan(tags, panels, hud, sizes)
