"""Overlay drawing: boxes in track colours, tags, probability bars, HUD, frame edges."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_fer.core.faces import Faces, FrameResult
from realtime_fer.apps.render.overlay import BAR_BACK, PALETTE, UNTRACKED, Overlay, color_for, hud_lines

LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def _result(boxes, track_ids, probs=None) -> FrameResult:
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    n = len(boxes)
    if probs is None:
        probs = np.tile(np.array([0.05, 0.05, 0.05, 0.6, 0.1, 0.1, 0.05], np.float32), (n, 1))
    faces = Faces(boxes, np.full(n, 0.9), np.zeros((n, 2, 2)), track_ids, probs, probs)
    return FrameResult(0, 0.0, faces, LABELS, {})


def _has_color(region: np.ndarray, color) -> int:
    return int(np.all(region == np.array(color, np.uint8), axis=-1).sum())


def test_box_tag_and_bars_are_drawn_in_place():
    image = np.full((360, 640, 3), 255, np.uint8)
    color = color_for(3)
    out = Overlay(LABELS).draw(image, _result([[200, 120, 300, 220]], [3]))
    assert out is image
    # the four box edges carry the track colour
    assert _has_color(image[120:222, 199:203], color) > 80  # left edge
    assert _has_color(image[120:222, 298:302], color) > 80  # right edge
    assert _has_color(image[218:222, 200:300], color) > 80  # bottom edge
    # the filled tag sits above the box, in the box colour
    assert _has_color(image[95:119, 200:300], color) > 300
    # the probability panel is right of the box; the top class bar (happy) uses the track colour
    panel = image[120:220, 302:420]
    assert _has_color(panel, BAR_BACK) > 500
    assert _has_color(panel, color) > 20
    # nothing drawn far away from the face
    assert _has_color(image[300:360, 0:640], (255, 255, 255)) == 60 * 640


def test_colours_follow_track_ids_and_untracked_is_grey():
    assert color_for(1) == PALETTE[1] and color_for(1 + len(PALETTE)) == PALETTE[1]
    assert color_for(-1) == UNTRACKED
    image = np.zeros((200, 300, 3), np.uint8)
    Overlay(LABELS, bars=False).draw(image, _result([[20, 60, 80, 120], [150, 60, 210, 120]], [-1, 2]))
    assert _has_color(image[60:122, 19:23], UNTRACKED) > 40
    assert _has_color(image[60:122, 149:153], PALETTE[2]) > 40


@pytest.mark.parametrize("box", [[560, 0, 640, 80], [-30, -20, 60, 50], [0, 300, 100, 360], [600, 330, 700, 400]])
def test_faces_at_the_frame_edges_stay_inside(box):
    image = np.zeros((360, 640, 3), np.uint8)
    Overlay(LABELS).draw(image, _result([box], [1]))  # no exception, panel/tag clipped or moved
    assert _has_color(image, color_for(1)) > 50
    assert _has_color(image, BAR_BACK) > 200


def test_panel_moves_left_when_there_is_no_room_on_the_right():
    image = np.zeros((360, 640, 3), np.uint8)
    Overlay(LABELS).draw(image, _result([[520, 100, 630, 210]], [1]))
    assert _has_color(image[100:210, 380:518], BAR_BACK) > 500
    assert _has_color(image[100:210, 632:640], BAR_BACK) == 0


def test_sizes_scale_with_the_frame():
    small, large = Overlay(LABELS).metrics(640, 360), Overlay(LABELS).metrics(3840, 2160)
    assert large.thickness > small.thickness and large.row_h > small.row_h
    image = np.zeros((2160, 3840, 3), np.uint8)
    Overlay(LABELS).draw(image, _result([[1000, 800, 1600, 1400]], [4]))
    assert _has_color(image[800:1400, 995:1010], color_for(4)) > 600 * 3


def test_hud_draws_lines_top_left():
    lines = hud_lines(29.84, 7.12, 1, "CPUExecutionProvider")
    assert lines == ["29.8 fps  7.1 ms", "1 face  CPU"]
    assert hud_lines(None, None, 3) == ["3 faces"]
    image = np.full((360, 640, 3), 255, np.uint8)
    Overlay(LABELS).draw(image, _result(np.zeros((0, 4)), []), lines)
    assert _has_color(image[0:20, 0:60], (0, 0, 0)) > 200  # dark HUD box with text
    assert _has_color(image[100:, 200:], (255, 255, 255)) == 260 * 440


def test_no_probabilities_draws_only_boxes():
    faces = Faces(np.array([[50, 50, 100, 100]]), np.array([0.9]), np.zeros((1, 2, 2)), np.array([5]))
    image = np.zeros((200, 200, 3), np.uint8)
    Overlay(LABELS).draw(image, FrameResult(0, 0.0, faces, LABELS))
    assert _has_color(image, color_for(5)) > 100 and _has_color(image, BAR_BACK) == 0


def test_a_held_label_says_so_in_its_tag():
    """The temporal stage may show a label whose bar is not the longest (held on other frames' evidence): the tag
    then ends in "held" (a wider tag in the track colour); a label that is the argmax does not."""
    box, color = [[200, 120, 300, 220]], color_for(3)
    probs = np.array([[0.05, 0.05, 0.05, 0.1, 0.1, 0.6, 0.05]], np.float32)  # sad leads this frame
    widths = {}
    for name, label in (("argmax", 5), ("held", 3)):
        result = _result(box, [3], probs)
        result = FrameResult(0, 0.0, result.faces.replace(label_ids=[label]), LABELS, {})
        assert result.faces.held.tolist() == [name == "held"]
        image = np.full((360, 640, 3), 255, np.uint8)
        Overlay(LABELS, bars=False).draw(image, result)
        tag_rows = image[90:116]  # above the box line (y 119-121)
        columns = np.flatnonzero(np.all(tag_rows == np.array(color, np.uint8), axis=-1).any(axis=0))
        widths[name] = columns.max() - columns.min()
    # "#3 sad 0.60" vs "#3 happy 0.10 held": longer by "ppy" and " held" (~8 characters)
    assert widths["held"] > widths["argmax"] + 25
