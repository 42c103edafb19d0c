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
    tags = [(x, y, x + w, y + h) for (x, y), (w, h) in zip(where.tags, tag_sizes)]
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
    for k, tag in enumerate(tags):
        assert 0 <= tag[1] and tag[3] <= height and tag[0] >= 0
        others = [b for j, b in enumerate(boxes) if j != k]
        if any(overlap(tag, b) for b in others):  # allowed only when every candidate spot collides
            taken = others + [t for j, t in enumerate(tags) if j != k] + [hud]
            for spot in _tag_spots(boxes[k], tag_sizes[k], width, height, 2):
                assert inside(spot, width, height) and any(overlap(spot, o) for o in taken), (k, spot)
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
