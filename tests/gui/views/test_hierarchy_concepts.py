"""The Hierarchy strip with Network Dissection: each column's fractions, each tile's label."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtGui import QImage

from gui.jobs.units_jobs import DissectionReport
from gui.views.layers.hierarchy import (
    FOOTER_SEPARATOR,
    GAP,
    TILE,
    TOP_CHANNELS,
    HierarchyView,
    column_image,
)
from gui.views.units.concept_words import BAND, draw_tile_labels, fractions_text
from inspector.units.dissection import LayerDissection

WAIT_MS = 180_000
CONCEPTS = ("edge_0", "eye", "face")
GROUP_OF = {"edge_0": "edge", "eye": "part", "face": "face", "none": "none"}


def small_dissection(layer: str, units: int, seed: int = 0) -> LayerDissection:
    """A hand-made dissection of ``units`` units with seeded labels; fractions counted here."""
    rng = np.random.default_rng(seed)
    labels = tuple(rng.choice([*CONCEPTS, "none"], units).tolist())
    groups = tuple(GROUP_OF[label] for label in labels)
    fractions = {g: groups.count(g) / units for g in ("edge", "part", "face", "none")}
    iou = rng.random((units, len(CONCEPTS)))
    return LayerDissection(
        layer, CONCEPTS, iou, labels, groups, iou.max(axis=1), fractions, {"shuffled_masks": 0.0}
    )


def pixmap_rgb(label) -> np.ndarray:
    image = label.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    rows = np.frombuffer(bits, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).copy()


def test_fractions_text_and_labels_only_touch_the_tile_bands(qtbot):
    layer = small_dissection("conv", 8)
    text = fractions_text(layer)
    for group, fraction in layer.fractions.items():
        assert f"{group} {100 * fraction:.0f}%" in text
    column = np.full((TOP_CHANNELS * (TILE + GAP) - GAP, TILE, 3), 90, np.uint8)
    drawn = draw_tile_labels(column, ["eye"] * TOP_CHANNELS, TILE, GAP)
    changed = np.flatnonzero(np.any(drawn != column, axis=(1, 2)))
    feet = [k * (TILE + GAP) + TILE for k in range(TOP_CHANNELS)]
    bands = {row for foot in feet for row in range(foot - BAND, foot)}
    assert set(changed.tolist()) <= bands  # the picture above each band is intact
    assert all(foot - 1 in changed for foot in feet)  # every tile got its band
    np.testing.assert_array_equal(column, 90)  # the input is not changed


def test_hierarchy_shows_fractions_and_tile_labels_of_a_dissection(qtbot, tiny_inspection):
    view = HierarchyView()
    qtbot.addWidget(view)
    view.show()
    view.set_inspection(tiny_inspection)
    shown = tiny_inspection.layer("edges_relu")
    units = int(shown.output_shape[-1])
    dissected = small_dissection("edges", units)
    report = DissectionReport(("tiny",), (dissected,), "test concepts")
    plain = pixmap_rgb(view.strip.picture("edges_relu"))
    assert view.strip.footer("edges_relu") == ""
    assert "Dissection" not in view.caption.text()
    view.set_dissection(report)
    assert view.strip.footer("edges_relu") == fractions_text(dissected, FOOTER_SEPARATOR)
    assert "Network Dissection concept" in view.caption.text()  # the tile words explained
    assert view.strip.footer(view.strip.shown_names[1]) == ""  # "parts": not dissected
    # Each tile carries the label of the channel it shows, strongest mean first.
    means = np.asarray(shown.activation).mean(axis=(0, 1))
    order = np.argsort(-means, kind="stable")[:TOP_CHANNELS]
    expected = draw_tile_labels(
        column_image(shown), [f"{c}: {dissected.labels[c]}" for c in order], TILE, GAP
    )
    labelled = pixmap_rgb(view.strip.picture("edges_relu"))
    np.testing.assert_array_equal(labelled, expected)
    assert not np.array_equal(labelled, plain)
    # A report whose layer has another width (another model) is not used.
    view.set_dissection(DissectionReport(("x",), (small_dissection("edges", units + 1),), "x"))
    assert view.strip.footer("edges_relu") == ""
    view.set_dissection(None)
    assert "Dissection" not in view.caption.text()
    np.testing.assert_array_equal(pixmap_rgb(view.strip.picture("edges_relu")), plain)


@pytest.mark.slow
def test_a_dissection_in_the_units_tab_reaches_the_hierarchy(qtbot, open_window):
    window = open_window
    window.units_controller.concepts = None  # edges only: the face masks take a minute to build
    window.tabs.setCurrentWidget(window.units_view)
    with qtbot.waitSignal(window.units_controller.dissection_ready, timeout=WAIT_MS) as ready:
        window.units_view.dissect_button.click()
    report = ready.args[0]
    assert window.hierarchy_view.dissection is report is window.units_view.dissection
    window.tabs.setCurrentWidget(window.hierarchy_view)
    shown_of = {conv: shown for shown, conv in window.hierarchy_view._pairs["conv"].items()}
    for layer in report.layers:
        footer = window.hierarchy_view.strip.footer(shown_of[layer.layer])
        assert footer == fractions_text(layer, FOOTER_SEPARATOR, ("edge",))
        assert "part not scored" in footer  # edges only: no part masks were scored


def test_fractions_text_says_not_scored_for_groups_without_masks():
    layer = small_dissection("conv", 8)
    text = fractions_text(layer, scored=("edge",))
    assert f"edge {100 * layer.fractions['edge']:.0f}%" in text
    assert "part not scored" in text and "face not scored" in text
    assert f"none {100 * layer.fractions['none']:.0f}%" in text
