"""Unit gradients against finite differences, and the crops they are shown on."""

from __future__ import annotations

import numpy as np

from inspector.units.probe import LayerProbe
from inspector.units.run import mine_units
from inspector.units.sources import ArraySource
from inspector.units.unit_gradients import UnitGradients, top_crops
from tests.inspector.units.planted import PLANTED, noise_images, paste, planted_model


def test_gradient_matches_finite_differences():
    probe = LayerProbe(planted_model())
    rng = np.random.default_rng(3)
    images = rng.uniform(0.2, 0.8, (2, 32, 32, 1)).astype(np.float32)
    units = np.array([[4, 5, 2], [7, 7, 3]], np.int32)  # (row, col, channel) on "random"
    grads, _ = UnitGradients(probe).gradients("random", images, units)
    step = 1e-2
    for n in range(2):
        for pixel in [(8, 10, 0), (14, 14, 0), (12, 9, 0)]:
            plus, minus = images.copy(), images.copy()
            plus[(n, *pixel)] += step
            minus[(n, *pixel)] -= step
            act_plus = np.asarray(probe.forward(plus)[1], np.float64)[
                n, units[n, 0], units[n, 1], units[n, 2]
            ]
            act_minus = np.asarray(probe.forward(minus)[1], np.float64)[
                n, units[n, 0], units[n, 1], units[n, 2]
            ]
            assert abs((act_plus - act_minus) / (2 * step) - grads[(n, *pixel)]) < 2e-3


def test_top_crops_are_the_pasted_pattern_with_the_filter_as_gradient():
    probe = LayerProbe(planted_model())
    source = ArraySource(paste(noise_images(40), PLANTED))
    result = mine_units(probe, source, k=3, batch_size=16, cache_dir=False)
    gradients = UnitGradients(probe)
    from tests.inspector.units.planted import PATTERN

    # context=0: the field's box alone, as mined.
    crops = top_crops(result.layer("detector"), source, gradients, context=0)
    for crop, grad in zip(crops.crops[0], crops.gradients[0], strict=True):
        np.testing.assert_array_equal(crop[..., 0], PATTERN)
        # The unit is linear in its window above the ReLU: its gradient is the kernel.
        np.testing.assert_allclose(grad[..., 0], PATTERN - 0.5, atol=1e-6)
    # With context: the same box inside a larger crop, the gradient zero around it.
    wide = top_crops(result.layer("detector"), source, gradients, context=15)
    for crop, grad, frame in zip(wide.crops[0], wide.gradients[0], wide.frames[0], strict=True):
        left, top, right, bottom = frame
        assert crop.shape[:2] == (15, 15) and (right - left, bottom - top) == (7, 7)
        np.testing.assert_array_equal(crop[top:bottom, left:right, 0], PATTERN)
        np.testing.assert_allclose(grad[top:bottom, left:right, 0], PATTERN - 0.5, atol=1e-6)
        outside = np.ones(grad.shape[:2], bool)
        outside[top:bottom, left:right] = False
        assert not np.any(grad[outside])


def test_small_fields_get_a_context_margin_with_their_box_and_centre_kept():
    from inspector.units.unit_gradients import context_side, context_window

    assert context_side(64, 64) == 16 and context_side(224, 224) == 56
    # A 3-px field in the middle of a 64-px image: a 16-px window about it.
    assert context_window((30, 30, 33, 33), 64, 64, 16) == (23, 23, 39, 39)
    # At the border the window moves inside the image instead of shrinking.
    assert context_window((0, 62, 3, 64), 64, 64, 16) == (0, 48, 16, 64)
    # A field already wider than the context is left as it is.
    assert context_window((5, 5, 45, 45), 64, 64, 16) == (5, 5, 45, 45)
    # Default context on a real mining: the crops are at least a quarter of the image
    # and the mark (the field's centre) lands inside the frame (the field's box).
    probe = LayerProbe(planted_model())
    source = ArraySource(noise_images(40))
    units = mine_units(probe, source, k=4, batch_size=16, cache_dir=False).layer("detector")
    crops = top_crops(units, source, UnitGradients(probe))
    for c in range(units.channels):
        for crop, frame, (x, y) in zip(
            crops.crops[c], crops.frames[c], crops.marks[c], strict=True
        ):
            h, w = crop.shape[:2]
            assert h >= 8 and w >= 8  # 32-px images: 8 px at least
            left, top, right, bottom = frame
            assert left <= x * w <= right and top <= y * h <= bottom


def test_the_ring_marks_the_field_centre_even_in_a_clipped_crop():
    probe = LayerProbe(planted_model())
    source = ArraySource(noise_images(40))  # noise: maxima anywhere, borders included
    units = mine_units(probe, source, k=9, batch_size=16, cache_dir=False).layer("random")
    size = units.layer.field.size
    seen = {"whole": 0, "clipped": 0}
    for c in range(units.channels):
        marks = units.centres_in_boxes(c)
        for (left, top, right, bottom), (x, y) in zip(units.boxes[c], marks, strict=True):
            if (right - left, bottom - top) == (size[1], size[0]):
                assert (x, y) == (0.5, 0.5)  # an odd field, not clipped: its middle
                seen["whole"] += 1
            else:  # cut by the image's edge: the centre moves towards the cut side
                assert 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0
                if right - left < size[1]:
                    assert x < 0.5 if left == 0 else x > 0.5
                if bottom - top < size[0]:
                    assert y < 0.5 if top == 0 else y > 0.5
                seen["clipped"] += 1
    assert seen["whole"] and seen["clipped"]


def test_units_whose_field_reaches_into_the_padding_are_named():
    """A box clipped by the image's edge while the field fits in the image: the unit
    saw the zeros of "same" padding (what an early unit's border maxima are)."""
    probe = LayerProbe(planted_model())
    source = ArraySource(noise_images(40))  # noise: maxima anywhere, borders included
    units = mine_units(probe, source, k=9, batch_size=16, cache_dir=False).layer("detector")
    rows, cols = units.layer.field.size
    seen = set()
    for c in range(units.channels):
        padded = units.sees_padding(c, (32, 32))
        widths = units.boxes[c, :, 2] - units.boxes[c, :, 0]
        heights = units.boxes[c, :, 3] - units.boxes[c, :, 1]
        np.testing.assert_array_equal(padded, (widths < cols) | (heights < rows))
        seen |= set(padded.tolist())
    assert seen == {True, False}
    # A field larger than a quarter of the image often reaches past an edge while it
    # looks at the picture: not flagged.
    assert not units.sees_padding(0, (4 * rows - 1, 4 * cols - 1)).any()
