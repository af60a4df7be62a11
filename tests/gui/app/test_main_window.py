"""The main window end to end: session jobs on the worker, views, menus, errors, closing."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QMimeData, QPointF, Qt, QThread, QUrl
from PyQt6.QtGui import QDragEnterEvent, QDropEvent
from PyQt6.QtWidgets import QMessageBox

from gui.app.recent_files import RecentFiles
from tests.gui.conftest import running_qthreads

WAIT_MS = 30000


@pytest.fixture
def message_boxes(monkeypatch):
    """Record QMessageBox.critical calls instead of opening modal boxes."""
    shown = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a: shown.append((title, text))
    )
    return shown


def test_open_model_and_image_fills_every_view(open_window, image_path):
    window = open_window
    state = window.session.state
    inspection = state.inspection
    assert inspection.model_name == "tiny_cnn"
    assert Path(inspection.source) == image_path
    assert window.model_panel.item("edges").text(1) == "Conv2D"
    assert window.feature_view.layer_name == "edges"
    assert window.model_panel.selected_layer() == "edges"
    assert window.hierarchy_view.column_names == ["edges", "parts"]
    assert window.backprop_view.profile[-1][0] == "input"
    assert window.prediction_panel.shown_classes[0] == inspection.predicted_label
    assert "tiny_cnn" in window.status_label.text()
    assert not window.busy_bar.isVisible()


def test_work_runs_off_the_gui_thread_with_busy_indicator(
    qtbot, window, tiny_model_path, image_path
):
    busy = []
    window.session.worker.busy_changed.connect(busy.append)
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.session.open_model(tiny_model_path)
        window.session.open_image(image_path)
        assert window.session.state is None  # submit returned before any result
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)
    assert busy[0] is True and busy[-1] is False
    assert all(a != b for a, b in itertools.pairwise(busy))  # changes only, no repeats


def test_selecting_a_layer_in_the_model_panel_shows_its_grid(open_window):
    open_window.model_panel.select_layer("parts")
    assert open_window.feature_view.layer_name == "parts"
    assert open_window.feature_view.channel_count == 6


def test_target_picker_runs_a_new_inspection_for_that_target(qtbot, open_window):
    window = open_window
    before = window.session.state.inspection
    target = (before.target + 1) % 3
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as blocker:
        window.prediction_panel.select_target(target)
    state = blocker.args[0]
    assert state.request.target == target
    assert state.inspection.target == target
    assert state.inspection.target_label in window.backprop_view.title.text()
    # A new gradient: d logit[target] / d logits is one-hot on the new target.
    logits = state.inspection.layer("classes.logits").gradient
    np.testing.assert_array_equal(logits, np.eye(3, dtype=np.float32)[target])
    assert window.prediction_panel.target_combo.currentData() == target


def test_superseded_requests_are_dropped(qtbot, open_window):
    window = open_window
    shown = []
    window.state_shown.connect(shown.append)
    window.session.set_target(0)
    window.session.set_target(1)
    window.session.set_target(2)
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)
    assert [s.inspection.target for s in shown] == [2]


def test_bad_image_shows_message_and_keeps_state(qtbot, open_window, image_dir, message_boxes):
    window = open_window
    before = window.session.state
    with qtbot.waitSignal(window.session.error, timeout=WAIT_MS):
        window.open_image_file(image_dir / "not_an_image.png")
    assert len(message_boxes) == 1
    title, text = message_boxes[0]
    assert "not_an_image.png" in title and "not_an_image.png" in text
    assert window.session.state is before
    assert window.session.requested == before.request
    assert window.feature_view.layer_name == "edges"
    assert not any(path.name == "not_an_image.png" for _, path in window.recent.entries())


def test_bad_model_shows_message_and_keeps_state(qtbot, open_window, model_dir, message_boxes):
    window = open_window
    before = window.session.state
    with qtbot.waitSignal(window.session.error, timeout=WAIT_MS):
        window.open_model_file(model_dir / "broken.keras")
    assert "broken.keras" in message_boxes[0][1]
    assert window.session.state is before
    # The previous model still answers: a new target works without reloading.
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as blocker:
        window.session.set_target(1)
    assert blocker.args[0].inspection.model_name == "tiny_cnn"


def test_lambda_model_is_refused_unless_the_user_trusts_it(
    qtbot, open_window, model_dir, monkeypatch
):
    window = open_window
    answers = []

    def fake_warning(parent, title, text, buttons, default):
        answers.append((title, text, default))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "warning", fake_warning)
    before = window.session.state
    with qtbot.waitSignal(window.session.unsafe_model_refused, timeout=WAIT_MS):
        window.open_model_file(model_dir / "lambda.keras")
    title, text, default = answers[0]
    assert "Python code" in title and "doubler" in text
    assert default == QMessageBox.StandardButton.No  # nothing unsafe by default
    assert window.session.state is before

    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as blocker:
        window.open_model_file(model_dir / "lambda.keras")
    assert blocker.args[0].inspection.model_name == "lambda_model"
    assert blocker.args[0].request.unsafe is True


def test_nested_model_tree_in_the_window(qtbot, open_window, nested_model_path):
    with qtbot.waitSignal(open_window.state_shown, timeout=WAIT_MS):
        open_window.open_model_file(nested_model_path)
    backbone = open_window.model_panel.item("backbone")
    assert backbone.childCount() == 2 and backbone.isExpanded()
    assert open_window.feature_view.layer_name == "backbone/conv_a"


def _drop(window, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPointF(10, 10).toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)


def test_drag_and_drop_of_an_image_file(qtbot, open_window, image_dir):
    with qtbot.waitSignal(open_window.state_shown, timeout=WAIT_MS) as blocker:
        _drop(open_window, [image_dir / "c_other.png"])
    assert Path(blocker.args[0].inspection.source).name == "c_other.png"


def test_drag_and_drop_of_model_and_image_together(
    qtbot, open_window, image_dir, nested_model_path
):
    with qtbot.waitSignal(open_window.state_shown, timeout=WAIT_MS) as blocker:
        _drop(open_window, [image_dir / "c_other.png", nested_model_path])
    state = blocker.args[0]
    assert state.inspection.model_name == "with_backbone"
    assert Path(state.inspection.source).name == "c_other.png"


def test_dropping_an_unknown_file_says_so(open_window, tmp_path, message_boxes):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("x")
    _drop(open_window, [text_file])
    assert "notes.txt" in message_boxes[0][1]


def test_recent_files_are_remembered_and_reopen(qtbot, open_window, image_dir, settings):
    window = open_window
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.open_image_file(image_dir / "c_other.png")
    entries = RecentFiles(settings).entries()  # read back from the settings file
    assert entries[0] == ("image", (image_dir / "c_other.png").resolve())
    actions = [a for a in window.recent_menu.actions() if "c_other.png" in a.text()]
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.session.open_image(image_dir / "a_small.png")
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as blocker:
        actions[0].trigger()
    assert Path(blocker.args[0].inspection.source).name == "c_other.png"


def test_recent_files_order_limit_and_missing_files(settings, tmp_path):
    recent = RecentFiles(settings, limit=3)
    files = []
    for name in "abcd":
        path = tmp_path / f"{name}.png"
        path.write_bytes(b"x")
        files.append(path)
        recent.add("image", path)
    recent.add("image", files[1])  # again: moves to the top, no duplicate
    assert [p.name for _, p in recent.entries()] == ["b.png", "d.png", "c.png"]
    files[3].unlink()
    assert [p.name for _, p in recent.entries()] == ["b.png", "c.png"]
    with pytest.raises(ValueError, match="kind"):
        recent.add("movie", files[0])


def test_sample_images_menu_opens_a_sample(qtbot, open_window):
    names = [a.text() for a in open_window.samples_menu.actions()]
    assert names == ["a_small.png", "b_wide.png", "c_other.png", "not_an_image.png"]
    with qtbot.waitSignal(open_window.state_shown, timeout=WAIT_MS) as blocker:
        open_window.samples_menu.actions()[2].trigger()
    assert Path(blocker.args[0].inspection.source).name == "c_other.png"


def test_big_image_is_cropped_automatically_and_user_crop_applies(qtbot, open_window, image_dir):
    window = open_window
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as blocker:
        window.open_image_file(image_dir / "b_wide.png")
    state = blocker.args[0]
    # No face in the test picture: the centre square of the 60x40 image.
    assert state.crop_kind in ("centre", "face")
    if state.crop_kind == "centre":
        assert state.crop == (10, 0, 50, 40)
    assert state.original.shape == (40, 60, 3)
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as blocker:
        window.session.set_crop((0, 0, 30, 30))
    state = blocker.args[0]
    assert (state.crop_kind, state.crop) == ("user", (0, 0, 30, 30))
    assert any("cropped to box (0, 0, 30, 30)" in step for step in state.inspection.preprocessing)


def test_a_crop_outside_the_image_is_an_error(qtbot, open_window, message_boxes):
    before = open_window.session.state
    with qtbot.waitSignal(open_window.session.error, timeout=WAIT_MS):
        open_window.session.set_crop((500, 500, 600, 600))
    assert "crop box" in message_boxes[0][1]
    assert open_window.session.state is before


def test_close_event_stops_and_joins_the_worker_and_training(qtbot, open_window, monkeypatch):
    window = open_window
    stopped = []
    tab = window.training_tab
    if tab is not None:
        monkeypatch.setattr(tab, "stop", lambda timeout_ms=0: stopped.append(timeout_ms) or True)
    started = threading.Event()

    def slow_job():
        started.set()
        QThread.msleep(300)
        return "done"

    window.session.worker.submit("slow", slow_job)
    assert started.wait(5)
    window.close()
    assert window.session.worker.active_thread_count() == 0
    if tab is not None:
        assert stopped, "closeEvent did not stop the training tab"


def test_thread_check_sees_a_running_qthread(qtbot):
    """The autouse fixture's detector must find a QThread left running."""
    thread = QThread()
    thread.start()
    try:
        qtbot.waitUntil(thread.isRunning, timeout=5000)
        assert thread in running_qthreads()
    finally:
        thread.quit()
        thread.wait(5000)
    assert thread not in running_qthreads()


@pytest.mark.slow
def test_app_opens_the_bundled_model_on_a_sample(qtbot):
    from gui.app.application import open_window
    from gui.jobs.engine_cache import bundled_paths

    assert bundled_paths()[0] is not None  # shipped: a missing model fails, never skips
    window = open_window()
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.state_shown, timeout=120000) as blocker:
            pass
        state = blocker.args[0]
        assert state.inspection.spatial_layers
        assert window.hierarchy_view.column_names
    finally:
        window.close()


def test_export_menu_writes_the_current_view(open_window, tmp_path):
    menu_texts = [a.text() for a in open_window.export_menu.actions()]
    assert any("PNG or SVG" in text for text in menu_texts)
    written = open_window.export_controller.export_view(tmp_path / "view.png")
    assert written is not None and written.stat().st_size > 0


def test_failed_export_shows_message_and_keeps_state(open_window, tmp_path, message_boxes):
    before = open_window.session.state
    open_window.export_controller.export_view(tmp_path / "view.bmp")  # not PNG/SVG
    assert len(message_boxes) == 1
    assert "view.bmp" in message_boxes[0][1]
    assert open_window.session.state is before


def test_file_dialogs_open_a_model_and_an_image(
    qtbot, window, tiny_model_path, image_dir, monkeypatch
):
    from PyQt6.QtWidgets import QFileDialog

    answers = iter([(str(tiny_model_path), ""), (str(image_dir / "c_other.png"), "")])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: next(answers))
    window.choose_model()
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as blocker:
        window.choose_image()
    state = blocker.args[0]
    assert state.inspection.model_name == "tiny_cnn"
    assert Path(state.inspection.source).name == "c_other.png"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    submitted = []
    monkeypatch.setattr(window.session, "open_image", lambda *a, **k: submitted.append(a))
    window.choose_image()  # cancelled: nothing requested
    assert submitted == []


def test_crop_view_rectangle_drives_the_inspection(qtbot, open_window, image_dir):
    crop_view = open_window.crop_view
    with qtbot.waitSignal(open_window.state_shown, timeout=WAIT_MS):
        open_window.open_image_file(image_dir / "b_wide.png")
    assert crop_view.box() == open_window.session.state.crop
    with qtbot.waitSignal(open_window.state_shown, timeout=WAIT_MS) as blocker:
        crop_view.crop_changed.emit((5, 5, 35, 35))
    assert (blocker.args[0].crop_kind, blocker.args[0].crop) == ("user", (5, 5, 35, 35))
    with qtbot.waitSignal(open_window.state_shown, timeout=WAIT_MS) as blocker:
        crop_view.auto_crop_requested.emit()
    assert blocker.args[0].crop_kind != "user"


def test_loading_message_replaces_empty_tabs_until_the_first_answer(
    qtbot, window, tiny_model_path, image_path
):
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.session.open_model(tiny_model_path)
        window.session.open_image(image_path)
        assert window.central.currentWidget() is window.loading_label
    assert window.central.currentWidget() is window.tabs


def test_startup_opens_default_model_but_yields_to_the_user(
    qtbot, window, tiny_model_path, image_path, monkeypatch
):
    from gui.jobs import engine_cache

    monkeypatch.setattr(engine_cache, "bundled_paths", lambda: (tiny_model_path, None))
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as blocker:
        window.session.start(None, image_path)
    assert blocker.args[0].request.model_path == tiny_model_path
    # A file opened while the engine is still starting wins over the default.
    window.session.start(None, image_path)
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as blocker:
        window.open_image_file(image_path.parent / "c_other.png")
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)
    assert Path(window.session.state.inspection.source).name == "c_other.png"


def test_without_a_bundled_model_the_window_says_what_to_do(qtbot, window, monkeypatch):
    from gui.jobs import engine_cache

    monkeypatch.setattr(engine_cache, "bundled_paths", lambda: (None, None))
    with qtbot.waitSignal(window.session.notice, timeout=WAIT_MS):
        window.session.start()
    assert "Open a model" in window.status_label.text()
    assert window.central.currentWidget() is window.tabs
    assert window.session.state is None


@pytest.mark.slow
def test_closing_the_window_during_training_stops_and_joins_it(qtbot, open_window, tmp_path):
    tab = open_window.training_tab
    tab._train = "tests.gui.tiny_runs:tiny_train"  # the tiny net: only the plumbing matters
    tab.runs_root = tmp_path
    tab.run_dir_edit.setText(str(tmp_path / "run"))
    tab.epochs_spin.setValue(500)
    with qtbot.waitSignal(tab.training_started, timeout=240_000):
        assert tab.start()
    assert tab.is_running
    open_window.close()
    assert not tab.is_running
    assert running_qthreads() == []
