"""A real window (screen fit, no-display message) and state that stays true at startup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6.QtWidgets import QMessageBox

from gui.app.display import NO_DISPLAY_MESSAGE, missing_display
from gui.training.job import TrainingOutcome

WAIT_MS = 30000
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def message_boxes(monkeypatch):
    shown = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a: shown.append((title, text))
    )
    return shown


def run_python(args: list[str], environ: dict) -> subprocess.CompletedProcess:
    """``python ARGS`` in the repository with ``environ``, output captured."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


# --- a real window ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("environ", "platform", "missing"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ":97"}, "linux", True),  # no X server answers there
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "minimal"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),  # xcb needs an X server
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_missing_display_knows_when_a_window_cannot_open(environ, platform, missing):
    assert (missing_display(environ, platform) is not None) is missing


def test_a_display_that_answers_is_used(tmp_path):
    import socket

    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "X0"))
    server.listen(1)
    try:
        assert missing_display({"DISPLAY": f"{tmp_path / 'X0'}:0"}, "linux") is None
    finally:
        server.close()
    gone = missing_display({"DISPLAY": f"{tmp_path / 'X0'}:0"}, "linux")
    assert "Expected an X server at DISPLAY=" in gone and "Received: no answer" in gone


def test_app_with_a_dead_display_says_so_in_one_line_and_exits_2():
    """No Qt abort (exit 134) blaming a missing library: one line, exit 2."""
    environ = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",)}
    environ.pop("QT_QPA_PLATFORM", None)
    environ["DISPLAY"] = ":97"
    done = run_python(["-m", "layer_inspector"], environ)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISPLAY=:97" in lines[0], done.stderr


def test_app_without_a_display_says_so_in_one_line_and_exits_2():
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environ.pop("QT_QPA_PLATFORM", None)
    # Also reports whether TensorFlow or a QApplication was touched on the way.
    script = (
        "import sys; from layer_inspector.console import main; code = main([]); "
        "print('tensorflow' in sys.modules, 'PyQt6.QtWidgets' in sys.modules); sys.exit(code)"
    )
    done = run_python(["-c", script], environ)
    assert done.returncode == 2
    assert done.stderr.strip() == NO_DISPLAY_MESSAGE
    assert "inspect" in done.stderr and "needs a display" in done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_first_paint_fits_the_screen(window):
    # Offscreen, the screen is 800x800: smaller than the 1366x768 the app is made for.
    available = window.screen().availableGeometry()
    window.show()
    assert window.width() <= available.width() and window.height() <= available.height()
    minimum = window.minimumSizeHint()
    assert minimum.width() <= available.width() and minimum.height() <= available.height()


def test_no_message_widens_the_window(qtbot, open_window):
    """A long status line is elided (full text in the tooltip), never a wider window.
    (The offscreen screen is 800 px wide, below the 1366 the app is laid out for.)"""
    open_window.show()
    qtbot.wait(50)
    width = open_window.width()
    message = "Expected something else entirely. Received: " + "a very long reason, " * 40
    for label in (
        open_window.status_label,
        open_window.trust_view.status_label,
        open_window.units_view.status_label,
    ):
        label.setText(message)
        assert label.toolTip() == message
    qtbot.wait(50)
    assert open_window.width() == width <= 1366


# --- state that stays true ------------------------------------------------------------
def test_a_failed_startup_model_falls_back_to_the_bundled_one(
    qtbot, window, model_dir, tiny_model_path, monkeypatch, message_boxes
):
    from gui.jobs import engine_cache

    monkeypatch.setattr(engine_cache, "bundled_paths", lambda: (tiny_model_path, None))
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as shown:
        window.session.start(model_dir / "broken.keras")
    assert shown.args[0].request.model_path == tiny_model_path
    assert len(message_boxes) == 1
    title, text = message_boxes[0]
    assert "broken.keras" in title and "Showing the bundled model instead" in text
    assert "tiny_cnn" in window.status_label.text()


def test_a_refused_startup_model_falls_back_when_not_trusted(
    qtbot, window, model_dir, tiny_model_path, monkeypatch
):
    from gui.app import main_window
    from gui.jobs import engine_cache

    monkeypatch.setattr(engine_cache, "bundled_paths", lambda: (tiny_model_path, None))
    monkeypatch.setattr(main_window, "ask_to_trust_model", lambda *a: False)
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as shown:
        window.session.start(model_dir / "lambda.keras")
    assert shown.args[0].request.model_path == tiny_model_path


def test_without_anything_to_fall_back_to_the_window_stops_saying_loading(
    qtbot, window, model_dir, monkeypatch, message_boxes
):
    from gui.jobs import engine_cache

    monkeypatch.setattr(engine_cache, "bundled_paths", lambda: (None, None))
    window.session.start(model_dir / "broken.keras")
    qtbot.waitUntil(lambda: bool(message_boxes), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)
    assert "Loading" not in window.status_label.text()
    assert "Nothing open" in window.model_panel.header.text()
    assert window.central.currentWidget() is window.tabs


def test_engine_ready_never_contradicts_loading(qtbot, window, tiny_model_path, monkeypatch):
    from gui.jobs import engine_cache

    monkeypatch.setattr(engine_cache, "bundled_paths", lambda: (tiny_model_path, None))
    seen = []
    window.session.engine_ready.connect(lambda _: seen.append(window.status_label.text()))
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.session.start()
    assert seen and "loading" in seen[0].lower()
    assert window.central.currentWidget() is window.tabs


def test_a_cancelled_run_leaves_weight_updates_on_the_run_it_showed(open_window, tmp_path):
    view = open_window.weight_updates_view
    before = view.run
    open_window.training_tab.training_finished.emit(
        TrainingOutcome(tmp_path / "stub_run", cancelled=True, epochs_done=0)
    )
    assert view.run is before
    assert "cancelled" in open_window.status_label.text().lower()


def test_training_tab_is_told_whether_the_open_model_can_be_trained(qtbot, open_window):
    tab = open_window.training_tab
    qtbot.waitUntil(lambda: "tiny.keras" in tab.model_combo.itemText(1), timeout=WAIT_MS)
    tab.model_combo.setCurrentIndex(1)
    qtbot.waitUntil(
        lambda: "sparse_categorical_crossentropy" in tab.plan_label.text(), timeout=WAIT_MS
    )
    assert tab.start_button.isEnabled()
    assert not tab.start()  # no data folder chosen: it says so instead of starting
    assert "subfolder per class" in tab.status_label.text()


def test_app_with_a_truncated_image_names_the_image_in_one_line(tmp_path):
    from PIL import Image

    good = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 64), (200, 10, 10)).save(good)
    broken = tmp_path / "truncated.jpg"
    broken.write_bytes(good.read_bytes()[:200])
    environ = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = run_python(["-m", "layer_inspector", "app", "--image", str(broken)], environ)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "truncated.jpg" in lines[0] and "model" not in lines[0], lines
