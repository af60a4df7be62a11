"""Unit sheets: a small field drawn in its context with its box, its gradient alone."""

from __future__ import annotations

import numpy as np

from inspector.render.unit_sheets import FRAME_COLOUR, _gradient, _grey, crop_grid

CELL = 64


def yellow(picture) -> np.ndarray:
    """bool (H, W): where the picture is the frame's colour."""
    return np.all(np.asarray(picture) == FRAME_COLOUR, axis=-1)


def test_the_crop_shows_the_box_of_the_field_in_its_context():
    crop = np.full((16, 16, 1), 128.0, np.float32)
    frame = (6, 6, 9, 9)  # a 3-px field in a 16-px window
    picture = _grey(crop, "0-255", CELL, frame=frame)
    found = np.argwhere(yellow(picture))
    scale = CELL / 16
    assert len(found)  # drawn...
    top, left = found.min(axis=0)
    bottom, right = found.max(axis=0)
    # ... exactly round the field, not round the whole crop.
    assert (left, top) == (6 * scale, 6 * scale)
    assert (right, bottom) == (9 * scale - 1, 9 * scale - 1)
    # Without a frame, or with the whole crop as the frame, nothing is drawn.
    assert not yellow(_grey(crop, "0-255", CELL)).any()
    assert not yellow(_grey(crop, "0-255", CELL, frame=(0, 0, 16, 16))).any()


def test_the_gradient_shows_the_field_alone_magnified():
    grad = np.zeros((16, 16, 1), np.float32)
    grad[6:9, 6:9, 0] = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]  # zero outside: unseen
    picture = np.asarray(_gradient(grad, CELL, frame=(6, 6, 9, 9)))
    third = CELL // 3
    middle = third // 2
    # The 3x3 field fills the cell: red (positive) left, white middle, blue right.
    left_px = picture[CELL // 2, middle]
    centre_px = picture[CELL // 2, third + middle]
    right_px = picture[CELL // 2, 2 * third + middle]
    assert left_px[0] > left_px[2] and right_px[2] > right_px[0]
    assert np.all(centre_px > 240)
    assert yellow(picture)[0].all()  # outlined as the field, in the frame's colour
    # Without a frame the same gradient fills the crop: the field is a small patch.
    whole = np.asarray(_gradient(grad, CELL))
    assert np.all(whole[2, 2] > 240) and not yellow(whole).any()


def test_a_grid_passes_each_crop_its_frame():
    crops = [np.full((16, 16, 1), 100.0, np.float32)] * 2
    grads = [np.zeros((16, 16, 1), np.float32)] * 2
    framed = crop_grid(crops, grads, ["a", "b"], "0-255", cell=CELL, columns=2,
                       frames=[(6, 6, 9, 9), (0, 0, 16, 16)])  # fmt: skip
    plain = crop_grid(crops, grads, ["a", "b"], "0-255", cell=CELL, columns=2)
    assert yellow(framed).any() and not yellow(plain).any()


def test_a_long_caption_shrinks_instead_of_widening_its_pair():
    from inspector.render.unit_sheets import _pair

    crop = np.full((16, 16, 1), 100.0, np.float32)
    grad = np.zeros((16, 16, 1), np.float32)
    for cell in (40, 55, 80):
        pair = _pair(crop, grad, "9.31 · face · border", "0-255", cell, size=13)
        assert pair.size[0] == 2 * cell  # the grid's arithmetic counts on it
