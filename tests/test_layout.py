"""Overlay layout geometry on generated scenes: no panel covers a face or another label, tags cover no other face
where the frame has room, everything stays inside the frame; text height follows the frame size."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_fer.apps.render.layout import _tag_spots, inside, overlap, plan
from realtime_fer.apps.render.overlay import Overlay, text_color, text_height

LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def _scene(rng, width, height, faces):
    """Non-overlapping square face boxes of random sizes (what a detector after NMS returns)."""
    boxes = []
    while len(boxes) < faces:
        side = int(rng.integers(min(width, height) // 12, min(width, height) // 4))
        x, y = int(rng.integers(-side // 4, width - side // 2)), int(rng.integers(-side // 4, height - side // 2))
        box = (x, y, x + side, y + side)
        if all(overlap(box, b) == 0 for b in boxes):
            boxes.append(box)
    return boxes


def _rects(where, boxes, tag_sizes, panel_size):
    tags = [None if t is None else (t[0], t[1], t[0] + w, t[1] + h) for t, (w, h) in zip(where.tags, tag_sizes)]
    panels = [None if p is None else (p[0], p[1], p[0] + panel_size[0], p[1] + panel_size[1]) for p in where.panels]
    return tags, panels


@pytest.mark.parametrize("seed", range(40))
def test_generated_scenes_panels_cover_no_face_and_nothing_stacks(seed):
    rng = np.random.default_rng(seed)
    width, height = [(640, 360), (1280, 720), (1920, 1080), (600, 600)][seed % 4]
    boxes = _scene(rng, width, height, int(rng.integers(1, 9)))
    text_h = text_height(width, height)
    tag_sizes = [(int(rng.integers(5, 9)) * text_h, text_h + 8) for _ in boxes]
    panel_size, hud_size = (6 * text_h, 9 * text_h), (9 * text_h, 3 * text_h)
    where = plan(width, height, boxes, tag_sizes, panel_size, hud_size)
    tags, panels = _rects(where, boxes, tag_sizes, panel_size)
    hud = (*where.hud, where.hud[0] + hud_size[0], where.hud[1] + hud_size[1])
    placed = [r for r in tags + panels if r is not None] + [hud]
    for k, panel in enumerate(panels):
        if panel is None:
            continue
        assert 0 <= panel[0] and 0 <= panel[1] and panel[2] <= width and panel[3] <= height
        assert all(overlap(panel, box) == 0 for box in boxes), (k, panel, boxes)
        assert all(overlap(panel, other) == 0 for other in placed if other is not panel)
        assert _next_to(panel, boxes[k], tags[k], width, height, slack=2), (k, panel, boxes[k])
    for k, tag in enumerate(tags):
        if tag is None:
            continue
        assert inside(tag, width, height)
        assert all(overlap(tag, other) == 0 for other in placed if other is not tag), (k, tag)
        others = [b for j, b in enumerate(boxes) if j != k]
        if any(overlap(tag, b) for b in others):  # allowed only when every candidate spot collides
            taken = others + [t for j, t in enumerate(tags) if j != k] + [hud]
            for spot in _tag_spots(boxes[k], tag_sizes[k], width, height, 2):
                assert any(overlap(spot, o) for o in taken), (k, spot)
    assert sum(t is not None for t in tags) >= max(1, len(boxes) * 3 // 4)  # sparse scenes keep most faces labelled
    assert sum(p is not None for p in panels) >= 1 or len(boxes) > 3  # a few faces always leave room for one


def test_hud_moves_to_a_free_corner():
    where = plan(640, 360, [(0, 0, 200, 200)], [(80, 20)], None, (120, 40))
    assert where.hud == (520, 0)
    assert plan(640, 360, [(300, 100, 400, 200)], [(80, 20)], None, (120, 40)).hud == (0, 0)


def test_no_room_means_label_only():
    where = plan(320, 240, [(0, 0, 320, 240)], [(100, 20)], (80, 120), None)
    assert where.panels == [None] and where.tags[0][1] >= 0


def test_text_is_at_least_12_px_at_360p_and_not_huge_at_4k():
    assert text_height(640, 360) >= 12 and text_height(320, 240) >= 12
    assert 20 <= text_height(1920, 1080) <= 30 and text_height(3840, 2160) <= 40
    overlay = Overlay(LABELS)
    assert overlay.metrics(640, 360).text_h >= 12
    assert overlay.metrics(3840, 2160).text_h <= 42


def test_tag_text_contrasts_with_its_background():
    assert text_color((255, 128, 0)) == (255, 255, 255)  # BGR blue: white text
    assert text_color((0, 255, 180)) == (0, 0, 0)  # bright green: black text


def _result(boxes, track_ids, top=("surprise", 0.99)):
    from realtime_fer.core.faces import Faces, FrameResult

    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    n = len(boxes)
    probs = np.full((n, len(LABELS)), 0.01, np.float32)
    probs[:, LABELS.index(top[0])] = top[1]
    faces = Faces(boxes, np.full(n, 0.9), np.zeros((n, 2, 2)), np.asarray(track_ids), probs, probs)
    return FrameResult(0, 0.0, faces, LABELS, {})


def _next_to(panel, box, tag, width, height, slack=4):
    """The panel touches the face (its box, or its box with its own tag) along a side and runs alongside the face
    for at least half of the shorter of its own side and the box's (parts inside the frame)."""
    clip = lambda r: (max(r[0], 0), max(r[1], 0), min(r[2], width), min(r[3], height))  # noqa: E731
    unit = box if tag is None else (min(box[0], tag[0]), min(box[1], tag[1]), max(box[2], tag[2]), max(box[3], tag[3]))
    box, unit = clip(box), clip(unit)
    for axis in (0, 1):  # 0: beside (left/right), 1: above/below
        a, b = (0, 2) if axis == 0 else (1, 3)  # the axis the panel is off the face along
        c, d = (1, 3) if axis == 0 else (0, 2)  # the axis they must share
        touching = any(0 <= max(r[a] - panel[b], panel[a] - r[b]) <= slack for r in (box, unit))
        shared = min(unit[d], panel[d]) - max(unit[c], panel[c])
        if touching and shared >= min(box[d] - box[c], panel[d] - panel[c]) // 2:
            return True
    return False


def _check_overlay(width, height, boxes, track_ids, hud=("30.0 fps  7.0 ms", "20 faces")):
    """Draw-time rectangles of a crowded frame: every tag and panel inside the frame, no two of tags, panels and the
    HUD overlapping, every panel next to its face and on no face; returns the rectangles."""
    rects = Overlay(LABELS).rects(width, height, _result(boxes, track_ids), list(hud))
    drawn = [t for t in rects["tags"] if t is not None] + rects["panels"] + rects["hud"]
    for r in drawn:
        assert inside(r, width, height), (r, width, height)
    for i, a in enumerate(drawn):
        for b in drawn[i + 1:]:
            assert overlap(a, b) == 0, (a, b)
    return rects


def _crowd(columns, rows, side, spacing, left=0, top=0):
    return [(left + c * (side + spacing), top + r * (side + spacing), left + c * (side + spacing) + side,
             top + r * (side + spacing) + side) for r in range(rows) for c in range(columns)]


@pytest.mark.parametrize("columns, rows, side, spacing", [(5, 4, 48, 40), (7, 3, 40, 24), (10, 2, 30, 30)])
def test_a_crowd_gets_tags_that_never_overlap_and_panels_only_beside_their_faces(columns, rows, side, spacing):
    width, height = 640, 360
    boxes = _crowd(columns, rows, side, spacing, left=30, top=40)
    track_ids = list(range(100, 100 + len(boxes)))  # three-digit ids: wide tags
    rects = _check_overlay(width, height, boxes, track_ids)
    assert sum(t is not None for t in rects["tags"]) >= len(boxes) * 3 // 4  # shrinking keeps most faces labelled
    tags = rects["tags"]
    for panel in rects["panels"]:
        assert all(overlap(panel, b) == 0 for b in boxes)
        assert any(_next_to(panel, b, t, width, height) for b, t in zip(boxes, tags)), panel


@pytest.mark.parametrize("width, height", [(112, 120), (120, 360), (640, 90)])
def test_faces_at_every_border_keep_their_tags_inside_the_frame(width, height):
    # "#1234 surprise 0.99" is ~150 px of 12 px text: wider than the two narrow frames, so it must shrink there
    side = min(width, height) // 4
    boxes = [(-side // 3, -side // 3, side - side // 3, side - side // 3),            # top-left, partly outside
             (width - side + side // 3, -side // 3, width + side // 3, side - side // 3),  # top-right
             (-side // 3, height - side + side // 3, side - side // 3, height + side // 3),  # bottom-left
             (width - side + side // 3, height - side + side // 3, width + side // 3, height + side // 3)]
    rects = _check_overlay(width, height, boxes, [1234, 5678, 9012, 3456], hud=())
    assert all(tag is not None for tag in rects["tags"]), rects["tags"]  # every face keeps a (shrunk) tag
    for tag in rects["tags"]:
        assert inside(tag, width, height), tag


def test_a_tag_with_no_room_at_full_size_shrinks_instead_of_covering_another_tag():
    # two faces side by side filling the frame's height, each full tag nearly as wide as the frame: the first takes
    # the strip above both; the second's full tag has no spot left that covers no tag, so it shrinks
    width, height, forms = 220, 70, [(200, 20), (60, 14)]
    boxes = [(10, 20, 60, 70), (64, 20, 114, 70)]
    where = plan(width, height, boxes, [forms, forms], None, None)
    assert where.sizes == [0, 1]
    tags = [(x, y, x + forms[i][0], y + forms[i][1]) for (x, y), i in zip(where.tags, where.sizes)]
    assert overlap(*tags) == 0 and all(inside(t, width, height) for t in tags)
    assert overlap(tags[1], boxes[0]) == 0


def test_a_panel_with_no_room_beside_its_face_is_left_out_not_drawn_far_away():
    # face 0 boxed in by faces on all four sides; plenty of room further away
    width, height, side = 640, 480, 60
    centre = (290, 210, 350, 270)
    ring = [(290, 140, 350, 205), (290, 275, 350, 340), (215, 210, 285, 270), (355, 210, 425, 270),
            (215, 140, 285, 205), (355, 140, 425, 205), (215, 275, 285, 340), (355, 275, 425, 340)]
    boxes = [centre] + ring
    sizes = [(40, 12)] * len(boxes)
    where = plan(width, height, boxes, sizes, (90, 130), None)
    panel = where.panels[0]
    assert panel is None, f"the centre face's panel went to {panel}, away from its face"
    for k, corner in enumerate(where.panels):
        if corner is not None:
            rect = (corner[0], corner[1], corner[0] + 90, corner[1] + 130)
            tag = (*where.tags[k], where.tags[k][0] + 40, where.tags[k][1] + 12)
            assert _next_to(rect, boxes[k], tag, width, height), (k, rect)
