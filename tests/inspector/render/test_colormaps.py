"""Colour tables: shape, ends, perceptual ordering, and the value mapping."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.render.colormaps import (
    DIVERGING,
    SEQUENTIAL,
    apply_colormap,
    colormap_names,
    is_diverging,
    lookup_table,
    normalise,
)


def lightness(rgb: np.ndarray) -> np.ndarray:
    """CIE L* of sRGB colours ``(..., 3)`` uint8 (D65), from the standard formulas."""
    c = rgb.astype(np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = linear @ np.array([0.2126, 0.7152, 0.0722])
    f = np.where(y > (6 / 29) ** 3, np.cbrt(y), y / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f - 16


@pytest.mark.parametrize("name", colormap_names())
def test_every_table_is_256_by_3_uint8_and_read_only(name):
    table = lookup_table(name)
    assert table.shape == (256, 3) and table.dtype == np.uint8
    with pytest.raises(ValueError):
        table[0, 0] = 1


@pytest.mark.parametrize("name", SEQUENTIAL)
def test_sequential_maps_get_lighter_all_the_way(name):
    values = lightness(lookup_table(name))
    # Neighbours may round to the same uint8 colour, but L* never falls, and it
    # rises strictly over every 4 entries.
    assert np.all(np.diff(values) >= 0)
    assert np.all(np.diff(values[::4]) > 0)
    assert values[-1] - values[0] > 70  # a wide lightness range, dark to light


def test_gray_is_the_identity_ramp():
    table = lookup_table("gray")
    np.testing.assert_array_equal(table, np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, 1))


@pytest.mark.parametrize("name", DIVERGING)
def test_diverging_map_is_lightest_at_zero_and_balanced(name):
    values = lightness(lookup_table(name))
    centre = int(np.argmax(values))
    assert 120 <= centre <= 135
    assert np.all(np.diff(values[:centre]) > 0) and np.all(np.diff(values[centre + 1 :]) < 0)
    # The two ends are about equally dark, so neither sign looks stronger.
    assert abs(values[0] - values[-1]) < 3
    assert lookup_table(name)[0, 2] > lookup_table(name)[0, 0]  # blue end negative
    assert lookup_table(name)[-1, 0] > lookup_table(name)[-1, 2]  # red end positive


def test_apply_colormap_maps_range_ends_and_clips():
    values = np.array([[-5.0, 0.0, 5.0, 10.0, 99.0]])
    rgb = apply_colormap(values, "viridis", 0.0, 10.0)
    table = lookup_table("viridis")
    assert rgb.shape == (1, 5, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[0, 0], table[0])  # clipped below
    np.testing.assert_array_equal(rgb[0, 1], table[0])
    np.testing.assert_array_equal(rgb[0, 2], table[128])  # 0.5 * 255 rounds to 128
    np.testing.assert_array_equal(rgb[0, 3], table[255])
    np.testing.assert_array_equal(rgb[0, 4], table[255])  # clipped above


def test_zero_width_range_gives_low_end_or_white_centre():
    flat = np.full((2, 2), 3.0)
    np.testing.assert_array_equal(
        apply_colormap(flat, "magma", 3, 3)[0, 0], lookup_table("magma")[0]
    )
    centre = apply_colormap(flat, "diverging", 3, 3)[0, 0]
    np.testing.assert_array_equal(centre, lookup_table("diverging")[128])


def test_normalise_keeps_nan_and_aliases_resolve():
    unit = normalise(np.array([0.0, np.nan, 2.0]), 0.0, 2.0)
    assert unit[0] == 0 and np.isnan(unit[1]) and unit[2] == 1
    np.testing.assert_array_equal(lookup_table("grey"), lookup_table("gray"))
    assert is_diverging("bwr") and not is_diverging("viridis")


def test_unknown_name_says_what_was_expected():
    with pytest.raises(ValueError, match=r"Expected a colormap name.*Received: 'jet'"):
        apply_colormap(np.zeros((1, 1)), "jet", 0, 1)
