"""The views at real-model scale: 150+ layers, blocks, nested names, vector layers.

A 157-layer functional model (52 conv layers in MobileNetV2-style ``block_<i>_*``
blocks, then a dense head) at 8x8 input is inspected once; the views are driven
through their own methods and checked against the Inspection's own numbers.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QWheelEvent
from PyQt6.QtWidgets import QApplication

from gui.jobs.model_summary import summarise
from gui.views.layers.backprop import BackpropView, label_step, profile_ticks, short_name
from gui.views.layers.hierarchy import HierarchyView
from gui.views.panels.model_tree import ModelPanel, format_count
from gui.widgets.layer_groups import layer_group, name_in_group

BLOCKS = 52


def deep_cnn() -> keras.Model:
    """Conv1, then 51 blocks conv -> BN -> ReLU named ``block_<i>_*``, GAP, Dense(3)."""
    inputs = keras.Input((8, 8, 3), name="pixels")
    x = keras.layers.Conv2D(4, 3, padding="same", name="Conv1")(inputs)
    for i in range(1, BLOCKS):
        x = keras.layers.Conv2D(4, 3, padding="same", name=f"block_{i}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"block_{i}_bn")(x)
        x = keras.layers.ReLU(name=f"block_{i}_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, name="classes")(x)
    return keras.Model(inputs, outputs, name="deep_cnn")


@pytest.fixture(scope="module")
def deep():
    """``(ModelSummary, Inspection)`` of the deep model on a seeded random image."""
    from inspector import Inspector

    keras.utils.set_random_seed(3)
    model = deep_cnn()
    image = np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    return summarise(model), Inspector(model).inspect(image)


def conv_names(inspection) -> list[str]:
    return [r.name for r in inspection.layers if r.is_spatial and "Conv" in r.class_name]


# --- names -> blocks ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "group", "rest"),
    [
        ("block_3_expand", "block_3", "expand"),
        ("block_16_depthwise_BN", "block_16", "depthwise_BN"),
        ("conv2_block1_1_conv", "conv2_block1", "1_conv"),
        ("block2a_expand_conv", "block2a", "expand_conv"),
        ("mobilenetv2_1.00_224/block_3_expand", "mobilenetv2_1.00_224/block_3", "expand"),
        ("backbone/conv_a", "backbone", "conv_a"),
        ("Conv1", None, "Conv1"),
        ("expanded_conv_project", None, "expanded_conv_project"),
    ],
)
def test_layer_group_and_the_name_left_under_its_header(name, group, rest):
    assert layer_group(name) == group
    assert name_in_group(name, group) == rest


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0"),
        (864, "864"),
        (9_999, "9,999"),
        (10_000, "10 k"),
        (24_576, "24.6 k"),
        (999_999, "1 M"),
        (1_281_000, "1.28 M"),
        (3_538_984, "3.54 M"),
        (2_500_000_000, "2.5 G"),
    ],
)
def test_format_count_is_short_and_never_truncated(count, text):
    assert format_count(count) == text


# --- hierarchy --------------------------------------------------------------------------
def shown_on_deep(qtbot, view, deep):
    """``view`` on screen at 1000x700, showing the deep model's inspection."""
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_inspection(deep[1])
    QApplication.processEvents()
    return view


@pytest.fixture
def hierarchy(qtbot, deep):
    return shown_on_deep(qtbot, HierarchyView(), deep)


def wheel(widget, dy: int) -> None:
    """Send one vertical wheel turn of ``dy`` eighths of a degree to ``widget``."""
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        centre,
        widget.mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, dy),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_hierarchy_scrolls_through_every_conv_layer_and_the_wheel_scrolls(hierarchy, deep):
    inspection = deep[1]
    assert hierarchy.column_names == conv_names(inspection)
    assert len(hierarchy.column_names) == BLOCKS
    bar = hierarchy.strip.scroll.horizontalScrollBar()
    assert bar.maximum() > 0  # 52 columns do not fit in 1000 px: it scrolls
    last = hierarchy.strip.picture(hierarchy.strip.shown_names[-1])
    size = last.pixmap().size()
    wheel(hierarchy.strip.scroll.viewport(), -240)  # two notches down
    assert bar.value() == 240  # ... scroll sideways
    assert last.pixmap().size() == size  # and zoom nothing away
    wheel(hierarchy.strip.scroll.viewport(), 120)
    assert bar.value() == 120


def test_hierarchy_filters_groups_and_reaches_any_layer_in_two_actions(qtbot, hierarchy, deep):
    strip = hierarchy.strip
    assert strip.groups == [f"block_{i}" for i in range(1, BLOCKS)]
    # Action 1: pick the block; every layer of it is on screen, named without its prefix.
    strip.set_block("block_30")
    assert hierarchy.column_names == ["block_30_conv"]
    assert strip.shown_names == ["block_30_relu"]  # the block's output, after its ReLU
    assert strip.picture("block_30_relu").isVisible()
    # Action 2: click it.
    with qtbot.waitSignal(hierarchy.layer_selected) as blocker:
        qtbot.mouseClick(strip.picture("block_30_relu"), Qt.MouseButton.LeftButton)
    assert blocker.args == ["block_30_relu"]
    # Every spatial layer, BatchNorm included, is listed in "Go to" once "all" is shown.
    strip.set_block(None)
    strip.set_mode("all")
    spatial = [r.name for r in deep[1].layers if r.is_spatial]
    assert strip.shown_names == spatial and len(spatial) == 3 * BLOCKS - 2
    jump = [strip.jump_combo.itemData(i) for i in range(strip.jump_combo.count())]
    assert jump == spatial


def test_go_to_scrolls_the_column_into_view(hierarchy):
    strip = hierarchy.strip
    name = strip.shown_names[40]
    picture = strip.picture(name)
    viewport = strip.scroll.viewport()
    assert not viewport.rect().contains(picture.mapTo(viewport, QPoint(0, 0)))
    strip.go_to(name)
    left = picture.mapTo(viewport, QPoint(0, 0)).x()
    assert left >= 0 and left + picture.width() <= viewport.width()
    assert "#e02828" in picture.styleSheet()  # outlined


# --- backprop -----------------------------------------------------------------------------
@pytest.fixture
def backprop(qtbot, deep):
    return shown_on_deep(qtbot, BackpropView(), deep)


def test_backprop_strip_opens_on_conv_layers_for_a_large_model(backprop, deep):
    inspection = deep[1]
    assert backprop.strip.mode == "conv"
    assert backprop.strip.shown_names == [*reversed(conv_names(inspection)), "input"]
    backprop.strip.set_mode("all")
    assert len(backprop.strip.shown_names) == 3 * BLOCKS - 2 + 1


def test_backprop_log_axis_has_no_si_factor_and_labels_do_not_overlap(backprop):
    for side in ("left", "bottom"):
        axis = backprop.plot.getAxis(side)
        assert axis.autoSIPrefix is False
        assert "(x" not in axis.labelString()
    major = backprop.plot.getAxis("bottom")._tickLevels[0]
    positions = [p for p, _ in major]
    names = [short_name(n) for n, _ in backprop.profile]
    assert len(positions) < len(names)  # thinned out: 158 labels cannot fit 1000 px
    step = positions[1] - positions[0]
    metrics = backprop.fontMetrics()
    widest = max(metrics.horizontalAdvance(n) for n in names)
    pixels_per_layer = backprop.plot.getViewBox().width() / len(names)
    # Labels alternate rows: same-row neighbours are 2 steps apart and must not touch.
    assert 2 * step * pixels_per_layer >= widest
    assert {t.strip() for _, t in major} <= set(names)


def test_label_step_and_ticks_known_answers():
    assert label_step(10, 1000, 50) == 1
    assert label_step(158, 1000, 50) == 8
    assert label_step(0, 1000, 50) == 1
    ticks = profile_ticks(["a", "b", "c", "d", "e"], 2)
    assert ticks == [(0, "a"), (2, "\nc"), (4, "e")]


def test_backprop_hover_names_the_layer_and_clears_on_a_new_inspection(backprop, deep):
    index = 17
    name, value = backprop.profile[index]
    backprop.hover_layer(index)
    assert name in backprop.readout.text() and f"{value:.3g}" in backprop.readout.text()
    xs, ys = backprop.marker.getData()
    assert list(xs) == [index] and ys[0] == pytest.approx(np.log10(value))
    backprop.set_inspection(deep[1])
    assert name not in backprop.readout.text()
    assert len(backprop.marker.getData()[0]) == 0


# --- model tree ---------------------------------------------------------------------------
@pytest.fixture
def panel(qtbot, deep):
    view = ModelPanel()
    qtbot.addWidget(view)
    view.set_summary(*deep)
    return view


def test_model_tree_search_narrows_to_matching_names(panel, deep):
    assert len(panel.visible_names()) == len(deep[1].layers)
    panel.set_filter("block_3_")
    assert panel.visible_names() == ["block_3_conv", "block_3_bn", "block_3_relu"]
    assert "3 of" in panel.count_label.text()
    panel.set_filter("batchnorm")  # a type matches too, case-insensitively
    assert len(panel.visible_names()) == BLOCKS - 1
    panel.set_filter("")
    assert len(panel.visible_names()) == len(deep[1].layers)


def test_model_tree_hides_batchnorm_and_activations(panel, deep):
    panel.set_filter("", hide_plumbing=True)
    shown = panel.visible_names()
    assert not [n for n in shown if n.endswith(("_bn", "_relu"))]
    assert "block_7_conv" in shown and "classes" in shown
    assert len(shown) == len(deep[1].layers) - 2 * (BLOCKS - 1)


def test_model_tree_search_opens_nested_models(qtbot, nested_model_path):
    from inspector.engine.model_loading import load_model

    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_summary(summarise(load_model(nested_model_path)))
    panel.item("backbone").setExpanded(False)
    panel.set_filter("conv_b")
    assert panel.visible_names() == ["backbone", "backbone/conv_b"]
    assert panel.item("backbone").isExpanded()


def test_model_tree_params_compact_with_the_exact_count_in_the_tooltip(qtbot):
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(400, 3, name="wide")(inputs)  # 3*3*3*400 + 400 = 11,200
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(40, name="head")(x))  # 14,400*40 + 40
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.resize(420, 300)
    panel.show()
    panel.set_summary(summarise(model))
    wide, head = panel.item("wide"), panel.item("head")
    assert (wide.text(3), wide.toolTip(3)) == ("11.2 k", "11,200 parameters")
    assert (head.text(3), head.toolTip(3)) == ("576 k", "576,040 parameters")
    # The column is as wide as its longest number: nothing is cut off.
    header = panel.tree.header()
    needed = panel.tree.fontMetrics().horizontalAdvance("576 k")
    assert header.sectionSize(3) > needed


@pytest.mark.parametrize("width", [330, 420, 900])
def test_model_tree_columns_fit_or_make_way_for_names(qtbot, deep, width):
    from gui.views.panels.model_tree import NAME_COLUMN_MIN

    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.resize(width, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_summary(*deep)
    QApplication.processEvents()
    tree, header = panel.tree, panel.tree.header()
    # A search removes the vertical scroll bar, clearing it brings it back: the
    # viewport changes width without the panel being resized.
    panel.set_filter("block_3_")
    QApplication.processEvents()
    panel.set_filter("")
    QApplication.processEvents()
    assert tree.verticalScrollBar().isVisible()
    shown = [i for i in range(tree.columnCount()) if not tree.isColumnHidden(i)]
    assert header.sectionSize(0) >= NAME_COLUMN_MIN
    # Every visible column is inside the viewport: none is cut at its edge...
    assert sum(header.sectionSize(i) for i in shown) <= tree.viewport().width() + 1
    # ... and every number column is as wide as its longest text.
    for column in (2, 3):
        assert header.sectionSize(column) >= tree.sizeHintForColumn(column)
    if width >= 900:
        assert panel.hidden_columns() == []
    else:
        assert "Field" in panel.hidden_columns()  # the optional column went first
    # A hidden value is still in the row's tooltip.
    assert "receptive field" in panel.item("block_5_conv").toolTip(0)


@pytest.mark.slow
def test_mobilenetv2_hierarchy_groups_its_blocks_and_the_tree_finds_them(qtbot):
    """The real architecture (weights=None): 52 conv columns in 16 named blocks."""
    from inspector import Inspector

    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    image = np.random.default_rng(0).uniform(-1, 1, (96, 96, 3)).astype(np.float32)
    inspection = Inspector(model).inspect(image)
    view = HierarchyView()
    qtbot.addWidget(view)
    view.set_inspection(inspection)
    assert len(view.column_names) == 52
    assert view.strip.groups == [f"block_{i}" for i in range(1, 17)]
    view.strip.set_block("block_3")
    assert view.column_names == ["block_3_expand", "block_3_depthwise", "block_3_project"]
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_summary(summarise(model), inspection)
    panel.set_filter("block_3_", hide_plumbing=True)
    assert panel.visible_names() == [
        "block_3_expand",
        "block_3_pad",
        "block_3_depthwise",
        "block_3_project",
    ]
    assert panel.item("Conv1").text(3) == "864"  # 3x3x3x32, the number the issue saw as "8"


def test_model_tree_shortens_long_names_at_underscores_keeping_the_block(qtbot):
    """A middle elide showed "block_1…e_relu" for block 13; the tree's names keep
    the block number and the role, and what is painted fits the cell."""
    from PyQt6.QtWidgets import QStyleOptionViewItem

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 3, name="block_13_depthwise_convolution")(inputs)
    x = keras.layers.ReLU(name="block_13_depthwise_convolution_relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(keras.layers.Flatten()(x)))
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.resize(330, 300)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_summary(summarise(model))
    QApplication.processEvents()
    tree = panel.tree
    for name in ("block_13_depthwise_convolution", "block_13_depthwise_convolution_relu"):
        index = tree.indexFromItem(panel.item(name), 0)
        option = QStyleOptionViewItem()
        option.initFrom(tree)
        option.rect = tree.visualRect(index)
        tree.itemDelegateForColumn(0).initStyleOption(option, index)
        painted = option.text
        assert painted != name, "the narrow cell should shorten the name"
        assert painted.startswith("block_13") and painted.endswith(name.rsplit("_", 1)[1])
        assert option.fontMetrics.horizontalAdvance(painted) <= option.rect.width()
        assert panel.item(name).toolTip(0).startswith(name)  # whole in the tooltip


def test_hierarchy_titles_fit_their_column_line_by_line(qtbot):
    """Wide early layers ("112×112×144") and long classes ("after BatchNormalization")
    were cut at the column's edge; every line of every title fits now."""
    import re

    from inspector import Inspector

    inputs = keras.Input((112, 112, 3))
    x = keras.layers.Conv2D(144, 11, padding="same", use_bias=False, name="block_1_expand")(inputs)
    x = keras.layers.BatchNormalization(name="block_1_expand_BN")(x)
    x = keras.layers.Conv2D(8, (7, 3), padding="same", name="block_1_project")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    image = np.random.default_rng(0).uniform(-1, 1, (112, 112, 3)).astype(np.float32)
    view = shown_on_deep(qtbot, HierarchyView(), (None, Inspector(model).inspect(image)))
    titles = view.strip._titles
    assert titles
    texts = []
    for title in titles.values():
        metrics = title.fontMetrics()
        for line in title.text().split("<br>")[1:]:  # the name's own line may wrap
            plain = re.sub("<[^>]+>", "", line)
            texts.append(plain)
            assert metrics.horizontalAdvance(plain) <= title.width(), plain
    assert "112×112×144" in texts and "after BN" in texts
    assert "sees 11 px" in texts and "sees 17×13 px" in texts
