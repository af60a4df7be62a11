"""The prediction panel at 1000 classes: ordered rows that fit, and a searchable picker."""

from types import SimpleNamespace

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from gui.views.panels.prediction import MAX_BARS, PredictionPanel, top_classes
from inspector.render.probability import format_probability

CLASSES = 1000
QUAIL = 85


def fake_inspection(probabilities, predicted, target, rule="softmax"):
    """The attributes the panel reads, as an Inspection has them (no TensorFlow needed)."""
    labels = tuple(f"class {i}" for i in range(len(probabilities)))
    if len(labels) > QUAIL:
        labels = (*labels[:QUAIL], "quail", *labels[QUAIL + 1 :])
    return SimpleNamespace(
        probabilities=np.asarray(probabilities, np.float32),
        probability_rule=rule,
        labels=labels,
        predicted=predicted,
        predicted_label=labels[predicted],
        target=target,
        target_label=labels[target],
        score=1.5,
        score_kind="value" if rule == "none" else "logit",
        output_name="head",
    )


def imagenet_like(seed=0):
    probabilities = np.random.default_rng(seed).dirichlet(np.full(CLASSES, 0.05))
    return probabilities


@pytest.fixture
def panel(qtbot):
    widget = PredictionPanel()
    qtbot.addWidget(widget)
    return widget


def test_top_classes_put_the_predicted_first_and_keep_the_target():
    probabilities = np.array([0.1, 0.4, 0.4, 0.05, 0.05])
    # A tie broken the other way by the logits: the predicted class still leads.
    assert top_classes(probabilities, 3, first=2).tolist() == [2, 1, 0]
    assert top_classes(probabilities, 3, first=1, keep=4).tolist() == [1, 2, 4]
    assert top_classes(probabilities, 3, first=1, keep=0).tolist() == [1, 2, 0]
    assert top_classes(probabilities, 10).tolist() == [1, 2, 0, 3, 4]


def test_1000_classes_show_the_predicted_one_first_then_by_probability(panel):
    probabilities = imagenet_like()
    predicted = int(np.argmax(probabilities))
    panel.set_inspection(fake_inspection(probabilities, predicted, predicted))
    order = np.argsort(-probabilities)[:MAX_BARS]
    assert panel.shown_classes == [panel._labels[i] for i in order]
    assert panel.shown_classes[0] == panel._labels[predicted]
    assert "Predicted <b>" + panel._labels[predicted] in panel.headline.text()
    values = [row[2].text() for row in panel.rows]
    assert values == [format_probability(probabilities[i]) for i in order]
    assert panel.target_combo.count() == 1 + CLASSES


def test_a_picked_target_outside_the_top_rows_is_still_listed(panel):
    probabilities = imagenet_like(1)
    predicted = int(np.argmax(probabilities))
    least = int(np.argmin(probabilities))
    panel.set_inspection(fake_inspection(probabilities, predicted, least), automatic=False)
    assert len(panel.shown_classes) == MAX_BARS
    assert panel.shown_classes[0] == panel._labels[predicted]
    assert panel.shown_classes[-1] == panel._labels[least]
    assert panel.target_combo.currentData() == least


def test_rows_keep_their_size_with_long_names_and_few_classes(panel):
    panel.set_inspection(fake_inspection([0.9997, 0.0003], 0, 0))
    assert panel.shown_classes == ["class 0", "class 1"]
    assert [row[0].isHidden() for row in panel.rows] == [False, False] + [True] * (MAX_BARS - 2)
    # Never a certain-looking 100 % or an impossible 0 %.
    assert [row[2].text() for row in panel.rows[:2]] == [">99.9 %", "<0.1 %"]
    long_name = "a very long class name " * 8
    inspection = fake_inspection(imagenet_like(2), 0, 0)
    inspection.labels = (long_name, *inspection.labels[1:])
    inspection.predicted_label = long_name
    panel.set_inspection(inspection)
    name = panel.rows[0][0]
    assert name.text() != long_name and name.text().endswith("…")
    assert name.toolTip() == long_name


def test_raw_outputs_are_shown_as_numbers(panel):
    panel.set_inspection(fake_inspection([2.5, -1.25], 0, 0, rule="none"))
    assert [row[2].text() for row in panel.rows[:2]] == ["2.5", "-1.25"]
    assert "%" not in panel.headline.text()
    assert "gives values, not class probabilities" in panel.headline.text()
    # Bars of values: |value| against the largest, so -1.25 is half the length of 2.5.
    assert [row[1].value() for row in panel.rows[:2]] == [1000, 500]
    # A vector of values (box offsets) keeps its unit order, whatever the sizes.
    panel.set_inspection(fake_inspection([0.1, 3.0, -2.0], 1, 2, rule="none"))
    assert panel.shown_classes == ["class 0", "class 1", "class 2"]


def test_typing_part_of_a_name_finds_it_and_picking_it_emits_once(panel, qtbot):
    probabilities = imagenet_like(3)
    panel.set_inspection(fake_inspection(probabilities, 0, 0))
    assert panel.search_target("QUAI") == [f"{QUAIL}: quail"]
    panel.show()
    qtbot.waitExposed(panel)
    line = panel.target_combo.lineEdit()
    line.setFocus()
    line.selectAll()
    emitted = []
    panel.target_selected.connect(emitted.append)
    qtbot.keyClicks(line, "quai")
    popup = panel.target_combo.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    with qtbot.waitSignal(panel.target_selected) as blocker:
        qtbot.keyClick(popup, Qt.Key.Key_Down)
        qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert blocker.args == [QUAIL]
    assert emitted == [QUAIL]
    assert panel.target_combo.currentData() == QUAIL
