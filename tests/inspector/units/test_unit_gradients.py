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
    crops = top_crops(result.layer("detector"), source, UnitGradients(probe))
    from tests.inspector.units.planted import PATTERN

    for crop, grad in zip(crops.crops[0], crops.gradients[0], strict=True):
        np.testing.assert_array_equal(crop[..., 0], PATTERN)
        # The unit is linear in its window above the ReLU: its gradient is the kernel.
        np.testing.assert_allclose(grad[..., 0], PATTERN - 0.5, atol=1e-6)


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
