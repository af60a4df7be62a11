"""Pillow figures: upsampling, channel order, grids and overlays, with known colours."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inspector.engine.inspection import LayerRecord
from inspector.render.colormaps import lookup_table
from inspector.render.drawing import fit_text, printable, split_text, text_width
from inspector.render.figures import (
    as_maps,
    attribution_overlay,
    channel_order,
    feature_map_grid,
    gradient_grid,
    scale_maps,
    upsample,
)


def record(activation: np.ndarray, gradient: np.ndarray | None = None, name="outer/conv"):
    activation = np.asarray(activation, dtype=np.float32)
    gradient = np.zeros_like(activation) if gradient is None else gradient.astype(np.float32)
    return LayerRecord(name, "Conv2D", activation.shape, activation, gradient)


CELL = 32  # pixels; a cell covers CELL * CELL pixels, the colour bar only ~20 per entry


def has_colour(image: Image.Image, colour) -> bool:
    """Whether ``colour`` fills at least half a cell (so the colour bar alone does not count)."""
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    return int(np.all(rgb == np.asarray(colour), axis=1).sum()) >= CELL * CELL // 2


def test_upsample_repeats_each_unit_as_a_block():
    values = np.array([[1, 2], [3, 4]])
    expected = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    np.testing.assert_array_equal(upsample(values, (4, 4)), expected)


def test_upsample_shrinks_by_averaging_blocks():
    values = np.arange(16, dtype=np.float32).reshape(4, 4)
    expected = np.array([[2.5, 4.5], [10.5, 12.5]])  # means of the 2x2 blocks
    np.testing.assert_allclose(upsample(values, (2, 2)), expected)


def test_upsample_keeps_channels_and_smooth_stays_in_range():
    maps = np.random.default_rng(0).random((3, 5, 2)).astype(np.float32)
    assert upsample(maps, (6, 10)).shape == (6, 10, 2)
    smooth = upsample(maps[..., 0], (12, 20), smooth=True)
    assert smooth.shape == (12, 20)
    assert maps[..., 0].min() - 1e-6 <= smooth.min() and smooth.max() <= maps[..., 0].max() + 1e-6


def test_as_maps_views_every_rank_as_h_w_c():
    assert as_maps(np.zeros(7)).shape == (1, 1, 7)
    assert as_maps(np.zeros((5, 7))).shape == (1, 5, 7)
    assert as_maps(np.zeros((4, 5, 7))).shape == (4, 5, 7)


def test_channel_order_by_mean_and_by_max():
    activation = np.zeros((2, 2, 3), np.float32)
    activation[..., 0] = 1.0  # mean 1, max 1
    activation[0, 0, 1] = 8.0  # mean 2, max 8
    activation[..., 2] = 1.5  # mean 1.5, max 1.5
    np.testing.assert_array_equal(channel_order(activation, "mean"), [1, 2, 0])
    np.testing.assert_array_equal(channel_order(activation, "max"), [1, 2, 0])
    activation[..., 2] = 3.0  # mean 3 beats channel 1's mean 2, not its max 8
    np.testing.assert_array_equal(channel_order(activation, "mean"), [2, 1, 0])
    np.testing.assert_array_equal(channel_order(activation, "max"), [1, 2, 0])


def test_channel_order_ties_keep_index_order_and_bad_key_is_refused():
    np.testing.assert_array_equal(channel_order(np.ones((2, 2, 4)), "mean"), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="by='mean'"):
        channel_order(np.ones((2, 2, 4)), "median")


def test_scale_maps_per_channel_per_layer_and_signed():
    maps = np.stack([np.array([[0.0, 2.0]]), np.array([[1.0, 5.0]])], axis=-1)  # (1, 2, 2)
    per_channel, _, _ = scale_maps(maps, "channel", signed=False)
    np.testing.assert_allclose(per_channel[0, :, 0], [0, 1])
    np.testing.assert_allclose(per_channel[0, :, 1], [0, 1])
    per_layer, note, ends = scale_maps(maps, "layer", signed=False)
    np.testing.assert_allclose(per_layer[0, :, 1], [0.2, 1.0])
    assert ends == ("0", "5") and "0 .. 5" in note
    signed, _, _ = scale_maps(maps - 1.0, "layer", signed=True)  # values -1..4
    np.testing.assert_allclose(signed[0, :, 0], [0.5 - 0.5 / 4, 0.5 + 0.5 / 4])


def test_grid_per_layer_shows_each_constant_channel_in_its_own_colour():
    activation = np.zeros((3, 3, 4), np.float32)
    for k in range(4):
        activation[..., k] = k  # layer range 0..3: table entries 0, 85, 170, 255
    grid = feature_map_grid(record(activation), normalise="layer", colormap="magma", cell=CELL)
    table = lookup_table("magma")
    for entry in (0, 85, 170, 255):
        assert has_colour(grid, table[entry])
    only_first = feature_map_grid(
        record(activation),
        normalise="layer",
        colormap="magma",
        order=[0],
        max_channels=1,
        cell=CELL,
    )
    assert not has_colour(only_first, table[255]) and has_colour(only_first, table[0])


def test_grid_per_channel_stretches_each_map_and_flat_maps_stay_dark():
    activation = np.zeros((4, 4, 2), np.float32)
    activation[1, 2, 1] = 0.01  # a faint hot spot in channel 1 alone
    table = lookup_table("viridis")
    grid = feature_map_grid(record(activation), normalise="channel", cell=CELL)
    assert has_colour(grid, table[0])
    hot_spot = np.asarray(grid).reshape(-1, 3)
    assert np.all(hot_spot == table[255], axis=1).sum() >= (CELL // 4) ** 2  # one unit of 4x4
    flat = feature_map_grid(record(activation[..., :1]), normalise="channel", cell=CELL)
    assert not has_colour(flat, table[255])


def test_grid_grows_with_channels_and_cell_size():
    small = feature_map_grid(record(np.random.default_rng(0).random((5, 5, 4))), cell=32)
    more = feature_map_grid(record(np.random.default_rng(0).random((5, 5, 16))), cell=32)
    bigger = feature_map_grid(record(np.random.default_rng(0).random((5, 5, 16))), cell=128)
    assert more.size[1] > small.size[1]
    assert bigger.size[0] > more.size[0] and bigger.size[1] > more.size[1]


def test_grid_order_by_name_sorts_and_bad_order_is_refused():
    activation = np.random.default_rng(1).random((4, 4, 6)).astype(np.float32)
    sorted_grid = feature_map_grid(record(activation), order="mean", cell=32)
    explicit = feature_map_grid(record(activation), order=channel_order(activation), cell=32)
    unsorted = feature_map_grid(record(activation), cell=32)
    # Same cells in the same order; only the title's wording (and width) differs.
    cells = (slice(60, -40), slice(0, 120))
    np.testing.assert_array_equal(np.asarray(sorted_grid)[cells], np.asarray(explicit)[cells])
    assert not np.array_equal(np.asarray(sorted_grid)[cells], np.asarray(unsorted)[cells])
    with pytest.raises(ValueError, match="channel indices"):
        feature_map_grid(record(activation), order=[0, 9])


def test_dense_layer_grid_has_one_square_per_unit():
    units = np.arange(10, dtype=np.float32)
    grid = feature_map_grid(record(units, name="dense"), colormap="gray", cell=CELL)
    for value in (0, 255):  # per-layer scale even when "channel" is asked
        assert has_colour(grid, (value, value, value))


def test_gradient_grid_is_white_at_zero_and_symmetric():
    gradient = np.zeros((3, 3, 3), np.float32)
    gradient[..., 1] = 2.0
    gradient[..., 2] = -2.0
    grid = gradient_grid(record(np.ones_like(gradient), gradient), normalise="layer", cell=CELL)
    table = lookup_table("diverging")
    assert has_colour(grid, table[128]) and has_colour(grid, table[255])
    assert has_colour(grid, table[0])
    zero = gradient_grid(record(np.ones((3, 3, 2)), np.zeros((3, 3, 2))), cell=CELL)
    assert not has_colour(zero, table[0]) and not has_colour(zero, table[255])


def test_overlay_alpha_zero_is_the_picture_and_one_is_the_heatmap():
    picture = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    heatmap = np.linspace(0, 1, 48, dtype=np.float32).reshape(6, 8)
    np.testing.assert_array_equal(
        np.asarray(attribution_overlay(picture, heatmap, alpha=0.0, min_side=1)), picture
    )
    full = np.asarray(attribution_overlay(picture, heatmap, alpha=1.0, colormap="gray", min_side=1))
    np.testing.assert_array_equal(full[0, 0], [0, 0, 0])
    np.testing.assert_array_equal(full[-1, -1], [255, 255, 255])
    half = np.asarray(attribution_overlay(picture, heatmap, alpha=0.5, colormap="gray", min_side=1))
    expected = np.floor(0.5 * picture[2, 3] + 0.5 * full[2, 3] + 0.5)
    np.testing.assert_array_equal(half[2, 3], expected)


def test_overlay_upsamples_a_coarse_map_and_centres_signed_maps():
    picture = np.full((12, 12, 3), 100, np.uint8)
    heatmap = np.array([[-1.0, 1.0], [0.0, 0.0]], np.float32)
    overlay = attribution_overlay(picture, heatmap, alpha=1.0, signed=True, min_side=1)
    assert overlay.size == (12, 12)
    rgb = np.asarray(overlay)
    table = lookup_table("diverging")
    np.testing.assert_array_equal(rgb[0, 0], table[0])  # -max: the blue end
    np.testing.assert_array_equal(rgb[0, -1], table[255])  # +max: the red end
    np.testing.assert_array_equal(rgb[-1, 6], table[128])  # zero: white
    with pytest.raises(ValueError, match="alpha"):
        attribution_overlay(picture, heatmap, alpha=1.5)


def test_overlay_of_a_small_input_is_enlarged_by_a_whole_factor():
    picture = np.random.default_rng(1).integers(0, 256, (32, 24, 3), dtype=np.uint8)
    overlay = attribution_overlay(picture, np.zeros((32, 24), np.float32), alpha=0.0)
    assert overlay.size == (24 * 11, 32 * 11)  # shorter side 24 -> 264 >= 256
    # Each input pixel became an 11 x 11 block of the same colour.
    np.testing.assert_array_equal(np.asarray(overlay)[::11, ::11], picture)


def test_text_helpers_spell_missing_glyphs_and_shorten_to_fit():
    assert printable("\U0010fffd") == "?"  # no font draws a private-use character
    assert printable("plain ascii") == "plain ascii"
    long_name = "block_12_depthwise_conv_with_a_long_name"
    short = fit_text(long_name, 80, 11)
    assert "..." in short and text_width(short, 11) <= 80
    assert short.startswith("block") and short.endswith("e")


def test_split_text_fills_lines_and_shortens_the_last():
    name = "block_13_depthwise_relu"
    lines = split_text(name, 60, 10, lines=2)
    assert len(lines) == 2 and all(text_width(line, 10) <= 60 for line in lines)
    assert lines[0] and name.startswith(lines[0])
    assert split_text("conv", 60, 10, lines=3) == ["conv", "", ""]
    whole = split_text(name, 60, 10, lines=6)
    assert "".join(whole) == name  # enough lines: nothing is dropped
