"""The Units tab in the window: mining, crops, visualisation, dissection, Cancel, stale answers."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from PIL import Image
from PyQt6.QtWidgets import QFileDialog

from gui.jobs.units_jobs import LAYER_JOB, MINE_JOB
from inspector.engine.errors import CancelledError

WAIT_MS = 180_000


def seeded_images(count: int, seed: int = 0) -> np.ndarray:
    """uint8 ``(count, 24, 24, 3)``: the test's "bundled" data set."""
    return np.random.default_rng(seed).integers(0, 256, (count, 24, 24, 3), dtype=np.uint8)


def provider(images: np.ndarray, asked: list | None = None):
    """The bundled sets' provider for the test: every set is ``images``, the odd ones
    playing the face photos; ``asked`` records the names asked for."""

    def provide(name: str, shape, progress=None):
        if asked is not None:
            asked.append(name)
        return SimpleNamespace(images=images, is_face=np.arange(len(images)) % 2 == 1)

    return provide


@pytest.fixture
def units_window(open_window, tmp_path):
    """The window on the tiny model, its Units data = 40 seeded images, cache in tmp."""
    images = seeded_images(40)
    controller = open_window.units_controller
    controller.images = provider(images)
    controller.concepts = None  # edges only: the bundled face masks take a minute to build
    controller.cache_dir = tmp_path / "cache"
    open_window.tabs.setCurrentWidget(open_window.units_view)
    return open_window, images


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)


def mine_and_wait(qtbot, window) -> None:
    view = window.units_view
    view.mine_button.click()
    qtbot.waitUntil(lambda: view.details.get(view.layer()) is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)


def test_mining_shows_the_true_top_images_crops_and_visualisation(qtbot, units_window):
    window, images = units_window
    view = window.units_view
    assert view.layer_combo.count() == 2  # the tiny model's conv layers: edges, parts
    mine_and_wait(qtbot, window)
    assert view.select_unit("edges", 1)
    units = view.mined.result.layer("edges")
    # Independent answer: Keras's own sub-model, max over positions, best images first.
    model = window.session._cache.context().model
    probe = keras.Model(model.inputs, model.get_layer("edges").output)
    maxima = np.asarray(probe([images.astype(np.float32)])).max(axis=(1, 2))[:, 1]
    expected = np.argsort(-maxima, kind="stable")[: units.images.shape[1]]
    np.testing.assert_array_equal(units.images[1], expected)
    np.testing.assert_allclose(units.scores[1], maxima[expected], rtol=1e-4, atol=1e-5)
    qtbot.waitUntil(lambda: view.details.get("edges") is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    detail = view.details["edges"]
    assert len(detail.crops.crops[1]) == units.images.shape[1]
    assert not view.sheet.pixmap().isNull()
    assert "Mean activation" in view.stats.text() and "Synthetic image" in view.stats.text()
    assert view.histogram.getPlotItem().items  # the bars
    assert "edges" in view.title.text() and "channel <b>1</b>" in view.title.text()


def test_a_feature_map_click_selects_the_unit(qtbot, units_window):
    window, _ = units_window
    view = window.units_view
    window.feature_view.channel_selected.emit("parts", 4)
    assert (view.layer(), view.channel()) == ("parts", 4)
    window.feature_view.channel_selected.emit("pool", 1)  # not a conv layer: said, not shown
    assert view.layer() == "parts" and "not a conv layer" in view.status_label.text()


def test_browsing_layers_elsewhere_starts_no_layer_job(qtbot, units_window):
    window, _ = units_window
    view, controller = window.units_view, window.units_controller
    mine_and_wait(qtbot, window)
    assert "parts" not in view.details
    window.tabs.setCurrentWidget(window.feature_view)
    window.feature_view.channel_selected.emit("parts", 2)  # a click in Feature maps
    assert (view.layer(), view.channel()) == ("parts", 2)  # followed, but not computed
    assert not controller.jobs.is_running(LAYER_JOB)
    assert "when this tab is open" in view.sheet.text()
    window.tabs.setCurrentWidget(view)  # shown again: it computes what it is missing
    assert controller.jobs.is_running(LAYER_JOB)
    qtbot.waitUntil(lambda: view.details.get("parts") is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert not view.sheet.pixmap().isNull()


def test_cached_results_open_instantly_after_a_reopen(qtbot, units_window):
    window, _ = units_window
    mine_and_wait(qtbot, window)
    first = window.units_view.mined.result
    controller = window.units_controller
    controller.mined.clear()  # forget the in-memory answer: the disk cache must answer
    window.units_view.mine_button.click()
    qtbot.waitUntil(lambda: window.units_view.mined is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    np.testing.assert_array_equal(
        window.units_view.mined.result.layers[0].images, first.layers[0].images
    )


def test_cancel_stops_mining_and_the_app_still_answers(qtbot, units_window):
    window, _ = units_window
    view, controller = window.units_view, window.units_controller
    big = seeded_images(6000, seed=3)
    controller.images = provider(big)
    view.mine_button.click()
    qtbot.waitUntil(
        lambda: view.progress.maximum() > 0 and view.progress.value() > 0, timeout=WAIT_MS
    )
    view.cancel_button.click()
    assert view.status_label.text() == "Cancelled." and not view.cancel_button.isEnabled()
    wait_idle(qtbot, window)
    assert view.mined is None and not controller.jobs.is_running(MINE_JOB)
    # Stopped inside the core, not just hidden: the big set was never completed.
    assert not list(controller.cache_dir.rglob("complete.json"))
    small = seeded_images(20, seed=4)
    controller.images = provider(small)
    controller.cache_dir = controller.cache_dir.parent / "other_cache"
    mine_and_wait(qtbot, window)
    assert view.mined.result.images == 20


def test_a_newer_data_set_supersedes_the_older_one(qtbot, units_window, image_dir, monkeypatch):
    window, _ = units_window
    view = window.units_view
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(image_dir))
    view.mine_button.click()  # the bundled data first ...
    view.data_combo.activated.emit(view.data_combo.findData(""))  # ... then a folder at once
    qtbot.waitUntil(lambda: view.mined is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert view.mined.data == str(image_dir)  # the bundled answer never showed
    assert view.mined.result.skipped == 1  # the text file named .png
    assert view.data() == str(image_dir)


def test_stale_layer_answer_is_kept_but_not_painted(qtbot, units_window):
    window, _ = units_window
    view, controller = window.units_view, window.units_controller
    mine_and_wait(qtbot, window)
    detail = view.details[view.layer()]
    stale = type(detail)(
        (("another", "model", "data"), detail.layer), detail.layer, detail.crops, detail.visuals
    )
    view.details.clear()
    controller._asked_layer = None
    request_id = controller.jobs.submit(LAYER_JOB, lambda c, ctl: stale)
    qtbot.waitUntil(lambda: stale.key in controller.details, timeout=WAIT_MS)
    assert request_id and view.details.get(detail.layer) is not stale
    wait_idle(qtbot, window)


def mine_and_dissect(qtbot, window) -> None:
    """Mine, then Dissect, as a user would, and wait until the app is idle."""
    view = window.units_view
    mine_and_wait(qtbot, window)
    view.dissect_button.click()
    qtbot.waitUntil(lambda: view.dissection is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)


def test_dissection_labels_units_and_draws_the_chart(qtbot, units_window):
    window, _ = units_window
    view = window.units_view
    mine_and_dissect(qtbot, window)
    names = [d.layer for d in view.dissection.layers]
    assert names == ["edges", "parts"]
    # The units window has no face masks: edges were scored, parts and faces were not.
    assert view.dissection.scored == ("edge",)
    drawn = {item.name() for item in view.chart.getPlotItem().listDataItems()}
    assert drawn == {"edge", "none"}
    assert "concept" in view.title.text()
    for layer in view.dissection.layers:
        assert abs(sum(layer.fractions.values()) - 1.0) < 1e-9


def test_exports_write_the_sheet_the_chart_and_the_json(qtbot, units_window, tmp_path, monkeypatch):
    window, _ = units_window
    view = window.units_view
    mine_and_dissect(qtbot, window)
    saves = (
        ("sheet", "sheet.png", ""),
        ("sheet", "sheet", "SVG drawing (*.svg)"),  # no suffix typed: the filter's is added
        ("chart", "chart.svg", ""),
        ("json", "units.json", ""),
    )
    for what, name, chosen in saves:
        answer = (str(tmp_path / name), chosen)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, r=answer, **k: r)
        view.export_actions[what].trigger()
    for name in ("sheet.png", "sheet.svg", "chart.svg", "units.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    # The SVG sheet embeds the very picture the PNG holds, at its size.
    png = Image.open(tmp_path / "sheet.png")
    (image,) = ET.parse(tmp_path / "sheet.svg").getroot().iter("{http://www.w3.org/2000/svg}image")
    assert (image.get("width"), image.get("height")) == tuple(str(v) for v in png.size)
    document = json.loads((tmp_path / "units.json").read_text())
    channel = document["layers"]["edges"]["channels"][0]
    assert set(channel) >= {"channel", "mean", "fraction_active", "top", "concept"}
    assert len(channel["top"]) == 9 and len(channel["top"][0]["box"]) == 4
    assert (tmp_path / "chart.svg").read_text().lstrip().startswith("<?xml")
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_cancel_stops_a_running_dissection(qtbot, units_window, monkeypatch):
    import threading

    from inspector.units.dissection import Dissector

    window, _ = units_window
    view, started, stopped = window.units_view, threading.Event(), threading.Event()

    def until_cancelled(self, concepts, seed=0, cancelled=None, **options):
        started.set()
        # Without the view's cancel check wired in, this job would run for the timeout.
        for _ in range(2000):
            if cancelled is not None and cancelled():
                stopped.set()
                return Dissector.real_dissect(self, concepts, seed, cancelled, **options)
            threading.Event().wait(0.01)
        return []

    monkeypatch.setattr(Dissector, "real_dissect", Dissector.dissect, raising=False)
    monkeypatch.setattr(Dissector, "dissect", until_cancelled)
    view.dissect_button.click()
    qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
    view.cancel_button.click()
    wait_idle(qtbot, window)
    assert stopped.is_set() and view.dissection is None
    assert "Cancelled" in view.status_label.text()


def test_the_chosen_channel_gets_its_crops_then_its_synthetic_image_first(
    qtbot, units_window, monkeypatch
):
    from gui.app import units_controller as module
    from gui.jobs.units_jobs import VISUAL_JOB

    window, _ = units_window
    view, controller = window.units_view, window.units_controller
    batches = []
    real = module.layer_visuals

    def recorded(context, control, mined, layer, channels):
        batches.append((layer, [int(c) for c in channels]))
        return real(context, control, mined, layer, channels)

    crop_calls = []
    real_crops = module.layer_crops

    def recorded_crops(*args):
        crop_calls.append(args[-1])  # the channels asked for (None: all)
        return real_crops(*args)

    monkeypatch.setattr(module, "layer_visuals", recorded)
    monkeypatch.setattr(module, "layer_crops", recorded_crops)
    assert view.select_unit("edges", 2)
    mine_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: not controller.jobs.is_running(VISUAL_JOB), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    channels = view.mined.result.layer("edges").channels
    # the chosen channel's crops alone first, then every channel's
    assert crop_calls[:2] == [[2], None]
    assert view.details["edges"].cropped is None
    # its synthetic image alone first, then its neighbours nearest first; each once
    assert batches[0] == ("edges", [2])
    assert batches[1][1][:2] == [1, 3]
    done = [c for _, batch in batches for c in batch]
    assert sorted(done) == list(range(channels))
    detail = view.details["edges"]
    assert list(detail.visuals.channels) == list(range(channels))
    assert "Synthetic (feature visualisation)" in view.synthetic_caption.text()


def test_cancel_clears_computing_and_a_new_pick_resumes(qtbot, units_window, monkeypatch):
    from gui.app import units_controller as module
    from gui.jobs.units_jobs import VISUAL_JOB

    window, _ = units_window
    view, controller = window.units_view, window.units_controller
    real = module.layer_visuals

    def slow(context, control, mined, layer, channels):
        for _ in range(200):  # a slow ascent that listens for Cancel
            if control.cancelled():
                raise CancelledError("cancelled")
            time.sleep(0.01)
        return real(context, control, mined, layer, channels)

    monkeypatch.setattr(module, "layer_visuals", slow)
    assert view.select_unit("edges", 1)
    view.mine_button.click()
    qtbot.waitUntil(lambda: controller.jobs.is_running(VISUAL_JOB), timeout=WAIT_MS)
    assert "computing" in view.synthetic_caption.text()
    view.cancel_button.click()
    assert "stopped by Cancel" in view.synthetic_caption.text()
    wait_idle(qtbot, window)
    assert not controller.jobs.is_running(VISUAL_JOB)
    monkeypatch.setattr(module, "layer_visuals", real)
    assert view.select_unit("edges", 0)  # a new pick computes again
    qtbot.waitUntil(lambda: view.details["edges"].visual(0) is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)


def test_a_folder_with_no_images_leaves_the_picker_as_it_was(qtbot, units_window, tmp_path):
    from gui.app import units_controller as module

    window, _ = units_window
    view, controller = window.units_view, window.units_controller
    mine_and_wait(qtbot, window)
    before = view.data()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    shown = []
    controller.show_error = lambda title, message: shown.append(message)
    controller.images = module.bundled_images  # a folder is read from disk, not the stub
    view.add_folder(str(empty))
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert view.data() == before  # not the folder that failed
    assert view.data_combo.findData(str(empty)) < 0
