"""The preprocessing preset selector and File > Load labels… in the window."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtWidgets import QFileDialog, QMessageBox

WAIT_MS = 30000


@pytest.fixture
def message_boxes(monkeypatch):
    shown = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a: shown.append((title, text))
    )
    return shown


def test_the_preset_selector_rescales_the_input_and_names_the_preset(qtbot, open_window):
    from inspector.engine.preprocessing import PRESETS

    window = open_window
    combo = window.input_controls.preset_combo
    qtbot.waitUntil(combo.isEnabled, timeout=WAIT_MS)
    assert [combo.itemText(i) for i in range(combo.count())] == list(PRESETS)
    before = window.session.state.inspection
    assert combo.currentText() == "auto"
    assert f"input {before.preset}" in window.status_label.text()
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as shown:
        combo.setCurrentText("0-1")
    state = shown.args[0]
    assert (state.request.preprocess, state.inspection.preset) == ("0-1", "0-1")
    # The tiny model rescales by 1/255 itself: its auto preset feeds 0..255.
    np.testing.assert_allclose(state.inspection.image * 255.0, before.image, atol=1e-3)
    assert "input 0-1" in window.status_label.text()
    assert "In use: 0-1" in combo.toolTip()


def test_load_labels_renames_the_classes_or_says_why_not(
    qtbot, open_window, tmp_path, monkeypatch, message_boxes
):
    window = open_window
    good, bad = tmp_path / "names.txt", tmp_path / "two.json"
    good.write_text("apple\nbanana\ncherry\n")
    bad.write_text('["one", "two"]')
    answers = iter([(str(good), ""), (str(bad), "")])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: next(answers))
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as shown:
        window.input_controls.choose_labels()
    assert shown.args[0].inspection.labels == ("apple", "banana", "cherry")
    assert window.prediction_panel.shown_classes[0] in ("apple", "banana", "cherry")
    kept = window.session.state
    window.input_controls.choose_labels()
    qtbot.waitUntil(lambda: bool(message_boxes), timeout=WAIT_MS)
    assert "Expected 3 class names" in message_boxes[0][1]
    assert window.session.state is kept
