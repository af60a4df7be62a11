"""The app on models as others ship them: every output reachable from the Output
picker, values said to be values, and the Units tab fed the model's own preset."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
from PIL import Image

from tests.inspector.cli.test_trained_models import (
    SIZE,
    expected_top,
    one_by_one,
    pictures,
    three_heads,
)

WAIT_MS = 120_000


def open_in(qtbot, window, model_path, image_path) -> None:
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.session.open_model(model_path)
        window.session.open_image(image_path)


def test_the_output_picker_reaches_every_head(qtbot, window, tmp_path):
    path = tmp_path / "detector.keras"
    three_heads().save(path)
    (image,) = pictures(tmp_path / "img", count=1)
    open_in(qtbot, window, path, image)
    panel = window.prediction_panel
    assert panel.output_combo.isVisibleTo(window) and panel.output_combo.count() == 3
    texts = [panel.output_combo.itemText(i) for i in range(3)]
    assert texts[0].startswith("box_head (4): values (linear: not classes)")
    assert texts[2].startswith("face_prob (1): a probability (sigmoid)")
    state = window.session.state
    assert state.inspection.output_name == "box_head"
    assert "gives values, not class probabilities" in panel.headline.text()
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        panel.output_combo.activated.emit(2)  # the user picks face_prob
    state = window.session.state
    assert state.request.output == 2 and state.inspection.output_name == "face_prob"
    assert state.inspection.layer_names[-1] == "face_prob.logits"
    assert panel.headline.text().startswith("Predicted") and "logit" in panel.headline.text()
    assert panel.output_combo.currentIndex() == 2


def test_one_output_shows_no_picker(qtbot, open_window):
    assert not open_window.prediction_panel.output_combo.isVisibleTo(open_window)


def test_the_units_tab_mines_with_the_models_own_preset(qtbot, window, tmp_path):
    kernel = np.array([[1.0, -0.5], [0.5, 1.0], [-1.0, 0.25]])
    bias = np.array([0.1, -0.2])
    path = tmp_path / "net.keras"
    one_by_one(kernel, bias).save(path)
    (tmp_path / "net.labels.json").write_text(json.dumps({"preprocess": "tf"}))
    files = pictures(tmp_path / "data", count=6)
    open_in(qtbot, window, path, files[0])
    assert "input tf (stored with the model)" in window.status_label.text()
    raw = np.stack([np.asarray(Image.open(f)) for f in files])
    controller = window.units_controller
    controller.images = lambda name, shape, progress=None: SimpleNamespace(images=raw, is_face=None)
    controller.concepts = None
    controller.cache_dir = tmp_path / "cache"
    window.tabs.setCurrentWidget(window.units_view)
    window.units_view.mine_button.click()
    qtbot.waitUntil(lambda: window.units_view.mined is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)
    units = window.units_view.mined.result.layer("conv")
    assert window.units_view.mined.result.preprocess.preset == "tf"
    as_tf = expected_top(files, kernel, bias, lambda r: r / 127.5 - 1.0)
    assert (units.images >= 0).sum(axis=1).tolist() == [6, 6]  # 6 images, 9 slots
    np.testing.assert_allclose(units.scores[:, :6].T, as_tf, rtol=1e-5, atol=1e-6)
    assert raw.shape[1] == SIZE
