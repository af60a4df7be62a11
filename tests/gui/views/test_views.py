"""The views on their own: fed a real Inspection of a tiny model, driven by their methods."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtWidgets import QApplication

from gui.jobs.model_summary import summarise
from gui.views.layers.backprop import BackpropView, gradient_profile, magnitude_unit
from gui.views.layers.channel import clip_window
from gui.views.layers.feature_maps import FeatureMapView
from gui.views.layers.hierarchy import TILE, TOP_CHANNELS, HierarchyView, column_image
from gui.views.panels.model_tree import ModelPanel, format_receptive_field, receptive_field_tooltip
from gui.views.panels.prediction import PredictionPanel
from gui.widgets.image_helpers import (
    colorize,
    lookup_table,
    mosaic_layout,
    normalise,
    paint_mosaic,
    signed_unit,
)
from inspector.render.figures import as_maps, channel_order


# --- image helpers: known answers -------------------------------------------------------
def test_normalise_per_channel_and_per_layer():
    maps = np.zeros((2, 2, 2), np.float32)
    maps[..., 0] = [[0, 1], [2, 4]]
    maps[..., 1] = [[10, 10], [10, 20]]
    per_channel = normalise(maps, per_channel=True)
    np.testing.assert_allclose(per_channel[..., 0], [[0, 0.25], [0.5, 1]])
    np.testing.assert_allclose(per_channel[..., 1], [[0, 0], [0, 1]])
    per_layer = normalise(maps, per_channel=False)
    np.testing.assert_allclose(per_layer[..., 0], [[0, 0.05], [0.1, 0.2]])
    np.testing.assert_allclose(per_layer[..., 1], [[0.5, 0.5], [0.5, 1]])
    assert not np.isnan(normalise(np.ones((2, 2, 1)), True)).any()


def test_signed_unit_maps_zero_to_middle():
    np.testing.assert_allclose(signed_unit(np.array([-2.0, 0.0, 1.0])), [0.0, 0.5, 0.75])


def test_channel_order_by_mean_and_max():
    maps = np.zeros((2, 2, 3), np.float32)
    maps[..., 0] = [[1, 1], [1, 1]]  # mean 1, max 1
    maps[..., 1] = [[0, 0], [0, 9]]  # mean 2.25, max 9
    maps[..., 2] = [[3, 3], [3, 0]]  # mean 2.25, max 3 (ties keep index order)
    assert list(channel_order(maps, "mean")) == [1, 2, 0]
    assert list(channel_order(maps, "max")) == [1, 2, 0]
    assert list(channel_order(maps, "index")) == [0, 1, 2]
    with pytest.raises(ValueError, match="by="):
        channel_order(maps, "median")


def test_mosaic_layout_round_trip_and_gaps():
    layout = mosaic_layout((4, 6), np.array([2, 0, 1]), columns=2)
    assert (layout.rows, layout.columns) == (2, 2)
    assert layout.shape == (4 * 2 + 1, 6 * 2 + 1)
    assert layout.unit_at(0, 0) == (2, 0, 0)  # first tile holds channel 2
    assert layout.unit_at(7 + 5, 3) == (0, 3, 5)  # second tile, last unit
    assert layout.unit_at(6, 0) is None  # the gap column
    assert layout.unit_at(7 + 1, 5 + 1) is None  # grid cell with no tile
    assert layout.unit_at(1, 5 + 2) == (1, 2, 1)


def test_paint_mosaic_places_each_channel_colormapped():
    rng = np.random.default_rng(0)
    unit = rng.random((3, 5, 4)).astype(np.float32)
    layout = mosaic_layout((3, 5), np.array([3, 1, 0, 2]))
    mosaic = paint_mosaic(unit, layout, "viridis")
    for position, channel in enumerate(layout.order):
        top, left = layout.tile_origin(position)
        tile = mosaic[top : top + 3, left : left + 5]
        np.testing.assert_array_equal(tile, colorize(unit[..., channel], "viridis"))


def test_lookup_tables_and_unknown_name():
    assert lookup_table("viridis").shape == (256, 3)
    assert not np.array_equal(lookup_table("viridis"), lookup_table("magma"))
    assert lookup_table("inferno").dtype == np.uint8  # a pyqtgraph map
    with pytest.raises(ValueError, match="colormap"):
        lookup_table("no-such-map")


def test_as_maps_turns_vectors_into_unit_maps():
    assert as_maps(np.arange(5.0)).shape == (1, 1, 5)
    assert as_maps(np.zeros((3, 4, 2))).shape == (3, 4, 2)


# --- model panel -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def nested_inspection(nested_model_path, image_path):
    from inspector import Inspector, load_image
    from inspector.engine.model_loading import load_model

    model = load_model(nested_model_path)
    return summarise(model, str(nested_model_path)), Inspector(model).inspect(
        load_image(image_path, model)
    )


def test_model_panel_shows_nested_model_expandable(qtbot, nested_inspection):
    summary, inspection = nested_inspection
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_summary(summary, inspection)
    backbone = panel.item("backbone")
    assert backbone is not None and backbone.childCount() == 2
    assert [backbone.child(i).text(0) for i in range(2)] == ["conv_a", "conv_b"]
    conv_b = panel.item("backbone/conv_b")
    record = inspection.layer("backbone/conv_b")
    assert conv_b.text(1) == "Conv2D"
    assert conv_b.text(2) == "10×10×5"
    assert conv_b.text(3) == f"{record.param_count:,}" == "185"
    # 3x3 then 3x3 stride 2: size 3 + 2*1 = 5, stride 2.
    assert conv_b.text(4) == "5×5 px"
    assert "2 px apart" in conv_b.toolTip(4)
    assert backbone.text(3) == f"{4 * 27 + 4 + 5 * 36 + 5:,}"
    assert panel.item("with_backbone") is None  # the model itself is the header
    assert "with_backbone" in panel.header.text()


def test_model_panel_selecting_a_nested_model_selects_its_last_layer(qtbot, nested_inspection):
    summary, inspection = nested_inspection
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_summary(summary, inspection)
    with qtbot.waitSignal(panel.layer_selected) as blocker:
        panel.select_layer("backbone")
    assert blocker.args == ["backbone/conv_b"]
    with qtbot.waitSignal(panel.layer_selected) as blocker:
        panel.select_layer("gap")
    assert blocker.args == ["gap"]


def test_receptive_field_text_for_global_and_missing(tiny_inspection):
    assert format_receptive_field(tiny_inspection.layer("gap")) == "whole image"
    assert format_receptive_field(tiny_inspection.layer("edges")) == "3×3 px"
    assert "2 px apart" in receptive_field_tooltip(tiny_inspection.layer("parts"))


# --- feature maps --------------------------------------------------------------------------
@pytest.fixture
def feature_view(qtbot, tiny_inspection):
    view = FeatureMapView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_inspection(tiny_inspection)
    QApplication.processEvents()  # let the view box lay out before mapping mouse positions
    return view


def tile(view: FeatureMapView, position: int) -> np.ndarray:
    layout = view.mosaic_layout
    top, left = layout.tile_origin(position)
    return view.mosaic()[top : top + layout.tile_h, left : left + layout.tile_w]


def test_feature_grid_starts_on_first_conv_layer_with_every_channel(feature_view, tiny_inspection):
    assert feature_view.layer_name == "edges"
    means = tiny_inspection.layer("edges").activation.mean(axis=(0, 1))
    assert feature_view.channel == int(np.argmax(means))  # the strongest channel opens large
    assert feature_view.sort_combo.currentData() == "mean"
    assert feature_view.channel_count == 4
    assert len(feature_view.mosaic_layout.order) == 4
    feature_view.set_layer("parts")
    assert len(feature_view.mosaic_layout.order) == 6
    assert feature_view.mosaic().shape[:2] == feature_view.mosaic_layout.shape


def test_feature_grid_sort_by_mean_and_max(feature_view, tiny_inspection):
    maps = tiny_inspection.layer("parts").activation
    feature_view.set_layer("parts")
    feature_view.set_sort("mean")
    assert list(feature_view.mosaic_layout.order) == list(np.argsort(-maps.mean(axis=(0, 1))))
    first = feature_view.mosaic_layout.order[0]
    expected = colorize(normalise(maps, True)[..., first], "viridis")
    np.testing.assert_array_equal(tile(feature_view, 0), expected)
    feature_view.set_sort("max")
    assert list(feature_view.mosaic_layout.order) == list(
        np.argsort(-maps.max(axis=(0, 1)), kind="stable")
    )


def test_feature_grid_normalise_per_layer_and_colormap(feature_view, tiny_inspection):
    maps = tiny_inspection.layer("edges").activation
    feature_view.set_sort("index")  # tile k shows channel k
    feature_view.set_per_channel(False)
    np.testing.assert_array_equal(
        tile(feature_view, 1), colorize(normalise(maps, False)[..., 1], "viridis")
    )
    assert "one scale for the layer" in feature_view.caption.text()
    feature_view.set_colormap("magma")
    np.testing.assert_array_equal(
        tile(feature_view, 1), colorize(normalise(maps, False)[..., 1], "magma")
    )
    feature_view.set_per_channel(True)
    np.testing.assert_array_equal(
        tile(feature_view, 1), colorize(normalise(maps, True)[..., 1], "magma")
    )


def _click_point(view: FeatureMapView, x: float, y: float):
    scene_point = view.grid_item.mapToScene(QPointF(x, y))
    return view.graphics.mapFromScene(scene_point)


def test_clicking_a_tile_opens_that_channel_large(qtbot, feature_view, tiny_inspection):
    feature_view.set_layer("parts")
    QApplication.processEvents()
    layout = feature_view.mosaic_layout
    top, left = layout.tile_origin(3)
    with qtbot.waitSignal(feature_view.channel_selected) as blocker:
        qtbot.mouseClick(
            feature_view.graphics.viewport(),
            Qt.MouseButton.LeftButton,
            pos=_click_point(feature_view, left + 2.5, top + 2.5),
        )
    channel = layout.order[3]
    assert blocker.args == ["parts", channel]
    large = feature_view.channel_view
    assert large.channel == channel and large.record.name == "parts"
    record = tiny_inspection.layer("parts")
    assert f"{record.activation[..., channel].mean():.4g}" in large.stats.text()
    expected_gradient = colorize(signed_unit(record.gradient[..., channel]), "diverging")
    np.testing.assert_array_equal(large.gradient_item.image, expected_gradient)
    # The overlay covers the whole input although the map is 12x12.
    assert large.heat_item.mapRectToParent(large.heat_item.boundingRect()).width() == 24


def test_hovering_a_unit_draws_its_receptive_field(qtbot, feature_view, tiny_inspection):
    feature_view.set_layer("parts")
    field = tiny_inspection.layer("parts").receptive_field
    feature_view.hover_unit(0, 5, 7)
    expected = clip_window(field.window(5, 7), (24, 24))
    assert feature_view.channel_view.receptive_field_rect() == pytest.approx(expected)
    assert "unit (5, 7)" in feature_view.readout.text()
    feature_view.hover_unit(0, 0, 0)  # a corner unit: the window is clipped to the image
    top, left, bottom, _right = feature_view.channel_view.receptive_field_rect()
    assert (top, left) == (0.0, 0.0)
    assert bottom == pytest.approx(field.window(0, 0)[2])


def test_mouse_hover_over_grid_goes_through_signal_proxy(qtbot, feature_view, tiny_inspection):
    feature_view.set_layer("edges")
    QApplication.processEvents()
    layout = feature_view.mosaic_layout
    top, left = layout.tile_origin(2)
    point = _click_point(feature_view, left + 4.5, top + 6.5)
    with qtbot.waitSignal(feature_view.unit_hovered, timeout=2000) as blocker:
        qtbot.mouseMove(feature_view.graphics.viewport(), pos=point)
    assert blocker.args == ["edges", layout.order[2], 6, 4]
    window = tiny_inspection.layer("edges").receptive_field.window(6, 4)
    assert feature_view.channel_view.receptive_field_rect() == pytest.approx(window)


# --- hierarchy -------------------------------------------------------------------------------
def test_hierarchy_shows_conv_layers_first_to_last_after_their_relu(qtbot, tiny_inspection):
    view = HierarchyView()
    qtbot.addWidget(view)
    view.set_inspection(tiny_inspection)
    assert view.column_names == ["edges", "parts"]
    shown = tiny_inspection.layer("edges_relu")  # conv -> BN -> ReLU: the block's output
    column = column_image(shown)
    strongest = int(np.argmax(shown.activation.mean(axis=(0, 1))))
    tile = column[:TILE]
    unit = normalise(shown.activation[..., strongest : strongest + 1], True)[..., 0]
    # Nearest-neighbour enlargement: tile pixel i shows unit floor((i + 0.5) * 24 / TILE).
    source = np.floor((np.arange(TILE) + 0.5) * 24 / TILE).astype(int)
    expected = colorize(unit[source][:, source], "viridis")
    assert column.shape[0] == TOP_CHANNELS * TILE + (TOP_CHANNELS - 1) * 6
    np.testing.assert_array_equal(tile, expected)
    with qtbot.waitSignal(view.layer_selected) as blocker:
        view.select_column(1)
    assert blocker.args == ["parts"]


# --- backprop ----------------------------------------------------------------------------------
def test_backprop_profile_runs_from_output_to_input(qtbot, tiny_inspection):
    view = BackpropView()
    qtbot.addWidget(view)
    view.set_inspection(tiny_inspection)
    names = [name for name, _ in view.profile]
    assert names[0] == "classes.logits" and names[-1] == "input"
    assert names.index("parts") < names.index("edges")
    record = tiny_inspection.layer("edges")
    rms = float(np.sqrt(np.mean(np.square(record.gradient, dtype=np.float64))))
    assert dict(view.profile)["edges"] == pytest.approx(rms)
    # d logit[t] / d logits is one-hot over 3 classes: RMS = 1 / sqrt(3).
    assert gradient_profile(tiny_inspection)[0][1] == pytest.approx(1 / np.sqrt(3))
    xs, _ys = view.curve.getData()
    assert len(xs) == len(view.profile)
    assert tiny_inspection.target_label in view.title.text()


def test_constant_gradient_map_is_bright_not_black():
    np.testing.assert_array_equal(magnitude_unit(np.full((3, 3), 0.2)), np.ones((3, 3)))
    np.testing.assert_array_equal(magnitude_unit(np.zeros((3, 3))), np.zeros((3, 3)))


# --- prediction --------------------------------------------------------------------------------
def test_prediction_panel_bars_and_target_picker(qtbot, tiny_inspection):
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    panel.set_inspection(tiny_inspection)
    order = np.argsort(-tiny_inspection.probabilities)
    assert panel.shown_classes == [tiny_inspection.labels[i] for i in order]
    assert panel.target_combo.count() == 1 + len(tiny_inspection.labels)
    with qtbot.waitSignal(panel.target_selected) as blocker:
        panel.select_target(2)
    assert blocker.args == [2]
    with qtbot.waitSignal(panel.target_selected) as blocker:
        panel.select_target(None)
    assert blocker.args == [None]


def test_a_sequence_activation_is_drawn_as_the_export_draws_it(qtbot):
    """(L, C) steps x features: one row of L units per channel, in the app as in the
    exported grid (both read it through ``render.figures.as_maps``)."""
    import keras

    from inspector import Inspector

    inputs = keras.Input((4, 4, 3))
    x = keras.layers.Conv2D(2, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Reshape((16, 2), name="steps")(x)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    image = np.random.default_rng(0).random((4, 4, 3)).astype(np.float32)
    inspection = Inspector(model).inspect(image)
    record = inspection.layer("steps")
    assert record.activation.shape == (16, 2)
    view = FeatureMapView()
    qtbot.addWidget(view)
    view.set_inspection(inspection)
    view.set_layer("steps")
    layout = view.mosaic_layout
    assert (layout.tile_h, layout.tile_w) == as_maps(record.activation).shape[:2] == (1, 16)
