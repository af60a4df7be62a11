"""The Units tab as a student meets it: the natural data set by default, every top crop in
sight at 1366x768, faces counted, the selectivity measures shown, and Show me."""

from __future__ import annotations

import numpy as np
import pytest

from gui.jobs.units_jobs import BUNDLED_SETS, DEFAULT_DATA
from inspector.render.unit_sheets import grid_layout
from inspector.units.concepts import ConceptSet
from tests.gui.views.test_units_view import (
    WAIT_MS,
    mine_and_wait,
    provider,
    seeded_images,
    wait_idle,
)

FACES, OTHERS = 24, 24


def tiny_face_concepts(shape, progress=None) -> ConceptSet:
    """Stand-in face photos at the tiny model's input: a dark "eye" pair on the first
    FACES images (their eye and face masks), natural non-faces after them."""
    size, channels = shape[0], shape[2]
    rng = np.random.default_rng(7)
    images = rng.uniform(0.4, 0.9, (FACES + OTHERS, size, size, channels)).astype(np.float32)
    eye = np.zeros((FACES + OTHERS, size, size), bool)
    eye[:FACES, 6:10, 4:9] = eye[:FACES, 6:10, 15:20] = True
    images[eye] = 0.05
    face = np.zeros_like(eye)
    face[:FACES, 3:21, 2:22] = True
    negatives = np.arange(FACES + OTHERS) >= FACES
    every = np.ones(FACES + OTHERS, bool)
    return ConceptSet(
        images,
        {"eye": eye, "face": face},
        {"eye": every, "face": every},
        {"eye": "part", "face": "face"},
        negatives,
        natural=negatives,
    )


@pytest.fixture
def showcase(open_window, tmp_path):
    """The window at 1366x740 on the tiny model; data: 40 seeded images whose odd ones
    play the faces; face concepts: the stand-ins above."""
    window = open_window
    asked: list[str] = []
    controller = window.units_controller
    controller.images = provider(seeded_images(40), asked)
    controller.concepts = tiny_face_concepts
    controller.cache_dir = tmp_path / "cache"
    window.resize(1366, 740)
    window.show()  # laid out as on a screen: the sizes below are real
    window.tabs.setCurrentWidget(window.units_view)
    return window, asked


def test_the_default_data_set_is_the_natural_one(qtbot, showcase):
    window, asked = showcase
    view = window.units_view
    names = [view.data_combo.itemData(i) for i in range(view.data_combo.count())]
    assert names == [*BUNDLED_SETS, ""]  # "" is Folder…
    assert view.data() == DEFAULT_DATA == "bundled-natural"
    view.mine_button.click()
    qtbot.waitUntil(lambda: view.mined is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert asked == ["bundled-natural"] and view.mined.data == "bundled-natural"


def test_all_nine_crops_are_in_sight_at_1366x768_with_the_faces_counted(qtbot, showcase):
    window, asked = showcase
    view = window.units_view
    mine_and_wait(qtbot, window)
    assert asked == ["bundled-natural"]
    assert view.select_unit("edges", 2)
    qtbot.waitUntil(lambda: not view.sheet.pixmap().isNull(), timeout=WAIT_MS)
    sheet, pixmap = view.sheet, view.sheet.pixmap()
    # Every crop in sight: no scrolling, the picture inside the widget, the widget
    # inside the window.
    assert pixmap.width() <= sheet.width() and pixmap.height() <= sheet.height()
    right = sheet.mapTo(window, sheet.rect().bottomRight()).x()
    assert right < window.width() <= 1366
    columns, cell = grid_layout(9, sheet.width(), sheet.height())
    rows = -(-9 // columns)
    assert cell >= 40  # legible: not thumbnails in one long row
    assert pixmap.width() == columns * 2 * cell + (columns - 1) * 8
    assert pixmap.height() >= rows * cell
    units = view.mined.result.layer("edges")
    faces = int((units.images[2] % 2 == 1).sum())  # the odd images play the faces
    assert f"{faces} of its top 9</b> are face photos" in view.title.text()
    window.resize(1366, 1000)  # taller: every crop redrawn larger, still in sight
    qtbot.waitUntil(lambda: view.sheet.pixmap().height() > pixmap.height(), timeout=5000)
    assert view.sheet.pixmap().height() <= view.sheet.height()
    assert grid_layout(9, view.sheet.width(), view.sheet.height())[1] > cell


def test_dissect_shows_each_units_scores_against_the_random_bar_and_the_verdict(qtbot, showcase):
    window, _ = showcase
    view = window.units_view
    mine_and_wait(qtbot, window)
    view.dissect_button.click()
    qtbot.waitUntil(lambda: view.dissection is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    report = view.dissection.selectivity
    assert report is not None and [s.layer for s in report.layers] == ["edges", "parts"]
    view.select_unit("parts", 1)
    layer = report.layer("parts")
    stats = view.stats.text()
    assert "Detects" in stats and f"vs {layer.thresholds['face']:.2f}" in stats
    assert f"AUC <b>{layer.trained.face_auc[1]:.2f}</b>" in stats
    # The chart draws the detector lines (trained solid, random dashed) and the verdict.
    drawn = [item.name() for item in view.chart.getPlotItem().listDataItems()]
    assert [n for n in drawn if n] == ["edge", "part", "face"]
    assert len(drawn) == 6  # three dashed random-init lines, unnamed
    assert view.verdict.text().startswith("<b>Hierarchy")
    view.chart_mode.setCurrentIndex(view.chart_mode.findData("labels"))
    drawn = {item.name() for item in view.chart.getPlotItem().listDataItems()}
    assert drawn == {"edge", "part", "face", "none"} and "Network Dissection" in view.verdict.text()
    # The Hierarchy tab labels its tiles and columns with the same measures.
    strip = window.hierarchy_view.strip
    footer = strip.footer(strip.shown_names[1])  # the "parts" column
    found = layer.fractions("trained")
    assert footer.startswith(f"edge {100 * found['edge']:.0f}%")
    assert "detects" in window.hierarchy_view.caption.text()


def test_show_me_measures_first_then_jumps_to_the_unit_on_the_face_photos(qtbot, showcase):
    window, asked = showcase
    view, controller = window.units_view, window.units_controller
    view.show_me.activated.emit(view.show_me.findData("eye"))  # before any dissection
    qtbot.waitUntil(lambda: view.dissection is not None, timeout=WAIT_MS)
    best = view.dissection.exemplars["eye"][0]
    qtbot.waitUntil(
        lambda: view.mined is not None and view.mined.data == "bundled-faces", timeout=WAIT_MS
    )
    wait_idle(qtbot, window)
    assert asked == ["bundled-faces"] and view.data() == "bundled-faces"
    assert (view.layer(), view.channel()) == (best.layer, best.channel)
    assert view.status_label.text() == best.text
    assert view.show_me.currentIndex() == 0  # back to the prompt: every pick is a jump
    # Now the list names each kind's unit; a second pick jumps at once, no new job.
    item = view.show_me.findData("face")
    assert view.show_me.itemText(item).startswith("a face unit: ")
    view.show_me.activated.emit(item)
    face = view.dissection.exemplars["face"][0]
    qtbot.waitUntil(lambda: view.mined.data == "bundled-natural", timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert (view.layer(), view.channel()) == (face.layer, face.channel)
    assert not controller.jobs.is_running("units/dissect")


def test_the_chart_overlays_a_second_networks_dissection(qtbot, showcase, tmp_path):
    import keras

    from inspector.engine.model_loading import save_model
    from tests.gui.conftest import LABELS, tiny_cnn

    window, _ = showcase
    view, controller = window.units_view, window.units_controller
    keras.utils.set_random_seed(5)  # the same layers, other weights
    other = tmp_path / "other.keras"
    save_model(tiny_cnn(), other, LABELS)
    controller.networks = lambda: {"other": other}
    view.dissect_button.click()
    qtbot.waitUntil(lambda: view.dissection is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    texts = [view.compare_combo.itemText(i) for i in range(view.compare_combo.count())]
    assert texts == ["nothing", "bundled other (dissects it first)"]
    view.compare_combo.activated.emit(1)  # the user picks it: dissected, then drawn dotted
    qtbot.waitUntil(lambda: view.overlay is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    theirs = view.overlay.selectivity
    mine = view.dissection.selectivity
    items = view.chart.getPlotItem().listDataItems()
    assert len(items) == 9  # per group: the model, its random copies, the other network
    dotted = items[2::3]
    for group, item in zip(("edge", "part", "face"), dotted, strict=True):
        expected = [f[group] for f in theirs.fractions("trained")]
        np.testing.assert_allclose(item.yData, expected)
        assert item.opts["pen"].dashPattern() == [1.0, 2.0]
    assert theirs.fractions("trained") != mine.fractions("trained")  # two networks, two lines
    legend = [label.text for _, label in view.chart.getPlotItem().legend.items]
    assert "other (dotted)" in legend
    assert "other: edge" in view.layer_chart.hover_text(1.0)
    # Both dissections are kept: the other network is now offered by name.
    assert view.compare_combo.currentText() == "other"
    view.compare_combo.activated.emit(0)  # "nothing"
    assert view.overlay is None and len(view.chart.getPlotItem().listDataItems()) == 6


def test_an_overlay_with_no_layer_in_common_is_refused_in_words(qtbot, showcase, tmp_path):
    import keras

    from inspector.engine.model_loading import save_model
    from tests.gui.conftest import LABELS, SIZE

    window, _ = showcase
    view, controller = window.units_view, window.units_controller
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="elsewhere")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    other = tmp_path / "stranger.keras"
    save_model(keras.Model(inputs, keras.layers.Dense(len(LABELS))(x)), other, LABELS)
    controller.networks = lambda: {"stranger": other}
    view.dissect_button.click()
    qtbot.waitUntil(lambda: view.dissection is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    view.compare_combo.activated.emit(1)
    qtbot.waitUntil(lambda: "no layer names" in view.status_label.text(), timeout=WAIT_MS)
    assert view.overlay is None and view.compare_combo.currentIndex() == 0
    assert len(view.chart.getPlotItem().listDataItems()) == 6
