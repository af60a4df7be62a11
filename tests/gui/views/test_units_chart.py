"""The Units chart's layer names never overlap; the layer sheet also saves as SVG."""

from __future__ import annotations

import base64
import io
import itertools
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PyQt6.QtCore import QPointF
from PyQt6.QtGui import QPainter, QPicture
from PyQt6.QtWidgets import QToolTip

from gui.jobs.units_jobs import DissectionReport
from gui.views.units.chart import LayerChart, spread_ticks
from gui.views.units.export import save_picture
from gui.widgets.curve_helpers import make_plot

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


@pytest.mark.parametrize("layers", [2, 7, 52, 150])
@pytest.mark.parametrize("pixels_per_layer", [3.0, 11.5, 40.0, 200.0])
def test_spread_ticks_never_overlap_and_keep_both_ends(layers, pixels_per_layer):
    label = 90.0
    chosen = spread_ticks(0, layers - 1, pixels_per_layer, label)
    gaps = np.diff(chosen) * pixels_per_layer
    assert np.all(gaps >= label)  # centred names this far apart cannot overlap
    span = (layers - 1) * pixels_per_layer
    if span >= label:  # two names fit: the first and the last layer are both named
        assert chosen[0] == 0 and chosen[-1] == layers - 1
    else:
        assert chosen == [0]
    # Not needlessly sparse: at least half as many names as the width could hold.
    assert len(chosen) >= min(layers, int(span // label) + 1) // 2


def fake_report(count: int) -> DissectionReport:
    """``count`` layers with MobileNetV2-like names and seeded fractions summing to 1."""
    rng = np.random.default_rng(count)
    layers = []
    for i in range(count):
        shares = rng.dirichlet(np.ones(4))
        fractions = dict(zip(("edge", "part", "face", "none"), shares.tolist(), strict=True))
        layers.append(SimpleNamespace(layer=f"block_{i}_depthwise_conv", fractions=fractions))
    return DissectionReport(("model",), tuple(layers), "test concepts")


def drawn_labels(chart: LayerChart) -> list[tuple]:
    """The (rect, text) of every layer name pyqtgraph would draw on the axis now."""
    picture = QPicture()
    painter = QPainter(picture)
    try:
        _, _, texts = chart.axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return sorted(((r, t) for r, _, t in texts if t), key=lambda pair: pair[0].left())


@pytest.mark.parametrize("count", [7, 52])
@pytest.mark.parametrize("width", [360, 700, 1000, 1400])
def test_chart_names_fit_at_every_width(qtbot, count, width):
    plot = make_plot("chart", x_label="layer, first to last", y_label="fraction of units")
    qtbot.addWidget(plot)
    chart = LayerChart(plot)
    report = fake_report(count)
    chart.paint(report)
    plot.resize(width, 300)
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.wait(50)
    labels = drawn_labels(chart)
    rects = [rect for rect, _ in labels]
    for a, b in itertools.pairwise(rects):
        assert a.right() <= b.left(), (a, b)  # left to right, none overlapping
    texts = [text for _, text in labels]
    names = [d.layer for d in report.layers]
    assert texts[0] == chart.axis.tickStrings([0.0], 1, 1)[0]  # the first layer is named
    assert texts[-1] == chart.axis.tickStrings([count - 1.0], 1, 1)[0]  # and the last
    assert len(texts) >= 2
    if width == 1400 and count == 7:
        assert texts == names  # room for every name: all of them, in full
    assert chart.axis.label.toPlainText().strip() == "layer, first to last"
    # Hovering names the nearest layer in full, with its fractions.
    hover = chart.hover_text(2.4)
    assert names[2] in hover and f"{100 * report.layers[2].fractions['edge']:.0f}%" in hover
    # The mouse over layer 2's point shows that tooltip.
    vb = plot.getPlotItem().vb
    chart._hover((vb.mapViewToScene(QPointF(2.0, 0.5)),))
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=2000)
    assert QToolTip.text() == chart.hover_text(2.0)
    chart.mark(names[count // 2])
    assert chart.marker.isVisible() and chart.marker.value() == count // 2
    assert chart.marker.label.toPlainText() == names[count // 2]  # named even if its tick isn't
    chart.mark("not a layer")
    assert not chart.marker.isVisible()


def test_the_layer_sheet_saves_as_an_svg_with_its_pixels(tmp_path):
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (23, 37, 3), dtype=np.uint8)  # not square: w, h can't swap
    sheet = Image.fromarray(pixels, "RGB")
    target = tmp_path / "sheet.svg"
    save_picture(target, sheet)
    root = ET.parse(target).getroot()  # a well-formed XML document
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == ("37", "23")
    (image,) = root.iter(f"{SVG}image")
    assert (image.get("width"), image.get("height")) == ("37", "23")
    prefix = "data:image/png;base64,"
    href = image.get(f"{XLINK}href")
    assert href.startswith(prefix)
    embedded = Image.open(io.BytesIO(base64.b64decode(href[len(prefix) :])))
    assert embedded.format == "PNG"
    np.testing.assert_array_equal(np.asarray(embedded.convert("RGB")), pixels)
    assert not list(tmp_path.glob(".*"))  # written under a temporary name, then renamed


def test_groups_without_masks_are_not_drawn_and_read_not_scored(qtbot):
    """An edges-only dissection (face masks that do not fit the model) measured no
    part or face unit: the chart draws no line at 0 for them and the text says so."""
    from dataclasses import replace

    plot = make_plot("chart", x_label="layer, first to last", y_label="fraction of units")
    qtbot.addWidget(plot)
    chart = LayerChart(plot)
    report = fake_report(7)
    chart.paint(report)
    every = {item.name() for item in plot.getPlotItem().listDataItems()}
    assert every == {"edge", "part", "face", "none"}
    edges_only = replace(report, scored=("edge",))
    chart.paint(edges_only)
    assert {item.name() for item in plot.getPlotItem().listDataItems()} == {"edge", "none"}
    hover = chart.hover_text(3.0)
    assert "part not scored" in hover and "face not scored" in hover and "edge " in hover
