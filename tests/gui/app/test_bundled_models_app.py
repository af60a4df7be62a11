"""File > Bundled models: the detector and the recogniser, each with its training run;
the recogniser's prediction panel names a known face and says when a face is of
nobody it knows."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from models.datasets.recognizer_data import lfw_unknown_faces, recognizer_data
from models.default_model import BUNDLED_TITLES, bundled_models, bundled_runs

WAIT_MS = 120_000


def save_grey(path, pixels: np.ndarray):
    Image.fromarray(pixels[..., 0]).save(path)
    return path


def bundled_action(window, name: str):
    actions = {a.text(): a for a in window.bundled_menu.actions()}
    return actions[BUNDLED_TITLES[name]]


def test_the_menu_lists_both_networks_the_detector_first(window):
    texts = [a.text() for a in window.bundled_menu.actions()]
    assert texts == [BUNDLED_TITLES["detector"], BUNDLED_TITLES["recognizer"]]
    assert all(a.isEnabled() for a in window.bundled_menu.actions())


@pytest.mark.slow
def test_the_recogniser_opens_with_its_run_and_says_unknown_or_names(qtbot, window, tmp_path):
    recognizer = bundled_models()["recognizer"]
    strangers = lfw_unknown_faces()
    from inspector.engine.model_loading import load_model

    model = load_model(recognizer)
    top = model.predict(strangers.astype(np.float32), verbose=0).max(axis=1)
    stranger = save_grey(tmp_path / "stranger.png", strangers[int(np.argmin(top))])
    with (
        qtbot.waitSignal(window.state_shown, timeout=WAIT_MS),
        qtbot.waitSignal(window.weight_updates_view.run_loaded, timeout=WAIT_MS),
    ):
        bundled_action(window, "recognizer").trigger()
        window.open_image_file(stranger)
    state = window.session.state
    assert state.request.model_path == recognizer
    assert state.inspection.model_name == "face_recognizer" and state.inspection.unknown
    assert window.weight_updates_view.run.path == bundled_runs()["recognizer"]
    panel = window.prediction_panel
    assert panel.headline.text().startswith("<b>Unknown person</b>")
    assert len(panel.shown_classes) == 5  # the nearest five, with their probabilities
    assert "unknown person (nearest" in window.status_label.text()
    data = recognizer_data()
    photo = data.held_out_groups.index("person_02/photo_7")
    known = save_grey(tmp_path / "person_02.png", data.held_out.images[photo])
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.open_image_file(known)
    inspection = window.session.state.inspection
    assert inspection.predicted_label == "person_02" and not inspection.unknown
    expected = float(model.predict(inspection.image[None], verbose=0)[0].max())
    assert float(inspection.probabilities[inspection.predicted]) == pytest.approx(expected, 1e-5)
    assert panel.headline.text().startswith("Predicted <b>person_02</b>")
    assert "bar for a known face" in panel.headline.text()
