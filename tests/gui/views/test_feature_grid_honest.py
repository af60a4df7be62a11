"""Feature maps that say what they show: channel numbers, bars for vectors, a colour
bar, a selection box on its tile at any size, a readout that never goes stale and a
layout that does not jump with text length."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtWidgets import QApplication

from gui.views.layers.feature_maps import (
    HOVER_HINT,
    PER_CHANNEL_LABEL,
    FeatureMapView,
    selection_rect,
)
from gui.widgets.colour_bar import colour_bar_range
from gui.widgets.image_helpers import lookup_table, mosaic_layout
from gui.widgets.tile_labels import MIN_TILE_PIXELS


@pytest.fixture(scope="module")
def other_inspection(tiny_model_path, image_dir):
    """The tiny model on another image (a new image for the same view)."""
    from inspector import Inspector, load_image
    from inspector.engine.model_loading import load_model

    model = load_model(tiny_model_path)
    return Inspector(model).inspect(load_image(image_dir / "c_other.png", model))


@pytest.fixture
def view(qtbot, tiny_inspection):
    widget = FeatureMapView()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_inspection(tiny_inspection)
    QApplication.processEvents()
    return widget


def test_every_tile_carries_its_channel_number(view, tiny_inspection):
    view.set_layer("parts")
    view.set_sort("mean")
    QApplication.processEvents()
    layout = view.mosaic_layout
    labels = view.tile_numbers.labels()
    means = tiny_inspection.layer("parts").activation.mean(axis=(0, 1))
    assert [channel for channel, _, _ in labels] == list(np.argsort(-means, kind="stable"))
    for position, (_channel, x, y) in enumerate(labels):
        assert (y, x) == layout.tile_origin(position)
    # 12x12 tiles in a 1000x700 window are large enough on screen for their number.
    assert view.tile_numbers.tile_screen_width() >= MIN_TILE_PIXELS
    assert view.tile_numbers.numbers_visible()
    # Zoomed far out the numbers would hide the tiles, so they are not drawn; zooming
    # back in (what the caption tells the reader to do) brings them back.
    height, width = layout.shape
    view.grid_box.setRange(xRange=(0, 20 * width), yRange=(0, 20 * height), padding=0)
    QApplication.processEvents()
    assert not view.tile_numbers.numbers_visible()
    view.grid_box.autoRange(padding=0.01)
    QApplication.processEvents()
    assert view.tile_numbers.numbers_visible()


def test_a_vector_layer_is_a_bar_chart_in_unit_order(qtbot, view, tiny_inspection):
    record = tiny_inspection.layer("gap")
    view.set_layer("gap")
    assert view.is_vector and view.grid_stack.currentWidget() is view.bars
    np.testing.assert_array_equal(view.bars.values, record.activation)
    xs = view.bars.bars.opts["x"]
    np.testing.assert_array_equal(xs, np.arange(record.activation.size))
    assert "units" in view.title.text()
    # The class logits are labelled with the class names.
    view.set_layer("classes.logits")
    ticks = view.bars.getAxis("bottom")._tickLevels[0]
    assert [t for _, t in ticks] == list(tiny_inspection.labels)
    view.hover_unit(2, 0, 0)
    assert f"class {tiny_inspection.labels[2]!r}" in view.readout.text()
    # Clicking a bar opens that unit.
    view.set_layer("gap")
    QApplication.processEvents()
    box = view.bars.getViewBox()
    target = box.mapViewToScene(QPointF(4, float(record.activation[4]) / 2))
    with qtbot.waitSignal(view.channel_selected) as blocker:
        qtbot.mouseClick(
            view.bars.viewport(), Qt.MouseButton.LeftButton, pos=view.bars.mapFromScene(target)
        )
    assert blocker.args == ["gap", 4]
    view.hover_unit(4, 0, 0)
    assert view.readout.text().startswith("unit 4:")
    # Back to a spatial layer: the grid again.
    view.set_layer("edges")
    assert view.grid_stack.currentWidget() is view.graphics


def test_colour_bar_shows_the_scale_and_the_colormap(view, tiny_inspection):
    maps = tiny_inspection.layer("edges").activation
    view.set_layer("edges")
    assert colour_bar_range(view.colour_bar) == (0.0, 1.0)
    assert view.colour_bar.getAxis("left").labelText == PER_CHANNEL_LABEL
    view.set_per_channel(False)
    assert colour_bar_range(view.colour_bar) == pytest.approx((maps.min(), maps.max()))
    assert view.colour_bar.getAxis("left").labelText == "activation"
    view.set_colormap("magma")
    table = view.colour_bar.colorMap().getLookupTable(0.0, 1.0, 256, alpha=False)
    np.testing.assert_allclose(table, lookup_table("magma"), atol=1)


@pytest.mark.parametrize("size", [(420, 320), (1000, 700), (1700, 1050)])
def test_selection_box_lines_up_with_its_tile_at_any_size(qtbot, view, size):
    view.set_layer("parts")
    view.resize(*size)
    QApplication.processEvents()
    view.grid_box.autoRange(padding=0.01)
    QApplication.processEvents()
    layout = view.mosaic_layout
    for channel in (layout.order[0], layout.order[-1]):
        view.select_channel(channel)
        top, left = layout.tile_origin(layout.order.index(channel))
        tile = QRectF(left, top, layout.tile_w, layout.tile_h)
        # Both rectangles on screen, through the items' own transforms.
        box = view.selection_item.mapRectToScene(view.selection_item.rect())
        drawn = view.grid_item.mapRectToScene(tile)
        assert box.center().x() == pytest.approx(drawn.center().x(), abs=0.5)
        assert box.center().y() == pytest.approx(drawn.center().y(), abs=0.5)
        assert box.contains(drawn)
        gap_on_screen = drawn.width() / layout.tile_w * layout.gap
        assert box.width() - drawn.width() == pytest.approx(gap_on_screen, abs=0.5)


def test_selection_rect_known_answer_with_and_without_gaps():
    layout = mosaic_layout((4, 6), np.array([2, 0, 1]), columns=2)  # gap 1
    assert selection_rect(layout, 0) == QRectF(6.5, -0.5, 7, 5)  # second tile
    tight = mosaic_layout((2, 2), np.array([0, 1]), columns=2)  # tiles of 2 px: no gap
    assert selection_rect(tight, 1) == QRectF(2, 0, 2, 2)


def test_hover_readout_clears_when_the_layer_or_the_image_changes(
    view, tiny_inspection, other_inspection
):
    view.set_layer("parts")
    view.hover_unit(1, 2, 3)
    assert "unit (2, 3)" in view.readout.text()
    assert view.channel_view.receptive_field_rect() is not None
    view.set_layer("edges")  # another layer
    assert view.readout.text() == HOVER_HINT
    assert view.channel_view.receptive_field_rect() is None
    view.hover_unit(0, 1, 1)
    view.set_inspection(other_inspection)  # another image (or model)
    assert view.readout.text() == HOVER_HINT
    assert view.channel_view.receptive_field_rect() is None
    view.hover_unit(0, 1, 1)
    view.clear()
    assert view.readout.text() == HOVER_HINT


def test_layout_does_not_jump_with_text_length(view):
    view.set_layer("edges")
    QApplication.processEvents()
    combo_x = view.sort_combo.mapTo(view, view.sort_combo.rect().topLeft()).x()
    grid_width = view.graphics.width()
    view.title.setText("x" * 400)  # a very long layer name
    view.readout.setText("y" * 600)  # a very long readout
    QApplication.processEvents()
    assert view.sort_combo.mapTo(view, view.sort_combo.rect().topLeft()).x() == combo_x
    assert view.graphics.width() == grid_width
    assert view.title.elided_text().endswith("…")
    assert view.readout.toolTip() == "y" * 600  # the full text stays reachable


def test_large_channel_view_keeps_its_layout_across_layers_and_channels(view):
    large = view.channel_view
    view.set_layer("edges")
    QApplication.processEvents()
    geometry = (large.graphics.width(), large.graphics.height(), large.stats.width())
    for layer in ("parts", "gap", "classes.logits", "edges_bn"):
        view.set_layer(layer)
        view.select_channel(view.channel_count - 1)
        QApplication.processEvents()
        assert (large.graphics.width(), large.graphics.height(), large.stats.width()) == geometry
    # A very long layer name (nested models: "outer/inner/…") stays on one elided line.
    record = view._inspection.layer("parts")
    long_named = dataclasses.replace(record, name="backbone_with_a_long_name/" * 12 + "parts")
    large.show_channel(view._inspection, long_named, 0)
    QApplication.processEvents()
    assert (large.graphics.width(), large.graphics.height(), large.stats.width()) == geometry
    assert large.title.elided_text().endswith("…")
