"""Keyboard shortcuts and what the app remembers between runs (temporary QSettings)."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QSettings

from gui.app.remembered import Remembered, load_remembered, save_remembered
from gui.app.shortcuts import help_html, shortcut_rows, stepped, tab_key

WAIT_MS = 30000


def _press(window, keys: str) -> None:
    """Trigger the window's shortcut for ``keys`` as Qt would on that key press."""
    matches = [s for s in window.shortcuts if s.key().toString() == keys]
    assert matches, f"no shortcut {keys}"
    matches[0].activated.emit()


def test_stepped_walks_and_clamps():
    names = ["a", "b", "c"]
    assert stepped(names, "a", 1) == "b"
    assert stepped(names, "c", 1) == "c"
    assert stepped(names, "a", -1) == "a"
    assert stepped(names, "zzz", 1) == "a"
    assert stepped([], "a", 1) is None


def test_every_tab_has_a_shortcut_and_the_help_lists_them(open_window):
    window = open_window
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    for index in range(window.tabs.count()):
        _press(window, tab_key(index))
        assert window.tabs.currentIndex() == index
    page = help_html(titles)
    for keys, _ in shortcut_rows(titles):
        assert keys in page
    help_actions = [a for a in window.menuBar().actions() if a.text() == "&Help"]
    texts = [a.text() for a in help_actions[0].menu().actions()]
    assert "&Keyboard shortcuts" in texts
    window.show_shortcuts()
    assert window.shortcuts_dialog.isVisible()
    assert "Alt+Down" in window.shortcuts_dialog.label.text()
    window.shortcuts_dialog.close()


def test_layer_and_channel_shortcuts_step_through_the_model(open_window):
    window = open_window
    assert window.feature_view.layer_name == "edges"
    _press(window, "Alt+Down")
    names = [r.name for r in window.session.state.inspection.layers]
    visible = set(window.model_panel.visible_names())
    following = [n for n in names[names.index("edges") + 1 :] if n in visible]
    assert window.feature_view.layer_name == following[0]
    _press(window, "Alt+Up")
    assert window.feature_view.layer_name == "edges"
    assert window.model_panel.selected_layer() == "edges"
    window.feature_view.select_channel(0)
    _press(window, "Alt+Right")
    assert window.feature_view.channel == 1
    _press(window, "Alt+Left")
    _press(window, "Alt+Left")  # clamped at the first channel
    assert window.feature_view.channel == 0


def test_remembered_round_trip_and_forgets_missing_files(tmp_path, image_path, tiny_model_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert load_remembered(settings) == Remembered()
    chosen = Remembered(tiny_model_path, image_path, (1, 2, 20, 21), "parts", 3)
    save_remembered(settings, chosen)
    again = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert load_remembered(again) == chosen
    save_remembered(
        settings, Remembered(tmp_path / "gone.keras", tmp_path / "gone.png", (1, 2, 3, 4))
    )
    assert load_remembered(settings) == Remembered()  # gone files, and their crop, forgotten


def test_the_window_remembers_model_image_crop_layer_and_tab(
    qtbot, open_window, settings, image_dir, tiny_model_path
):
    window = open_window
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.open_image_file(image_dir / "b_wide.png")
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.session.set_crop((5, 5, 35, 35))
    window.model_panel.select_layer("parts")
    window.tabs.setCurrentIndex(2)
    remembered = load_remembered(settings)
    assert remembered == Remembered(
        tiny_model_path, image_dir / "b_wide.png", (5, 5, 35, 35), "parts", 2
    )


def test_a_new_window_starts_where_the_last_one_stopped(
    qtbot, settings, image_dir, engine_cache, tiny_model_path
):
    from gui.app.main_window import MainWindow
    from gui.app.session import Session

    save_remembered(
        settings, Remembered(tiny_model_path, image_dir / "b_wide.png", (5, 5, 35, 35), "parts", 4)
    )
    window = MainWindow(
        session=Session(cache=engine_cache), settings=settings, sample_dir=image_dir
    )
    qtbot.addWidget(window)
    try:
        remembered = load_remembered(settings)
        window.restore(remembered)
        assert window.tabs.currentIndex() == 4
        with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS) as shown:
            window.session.start(remembered.model, remembered.image, crop=remembered.crop)
        state = shown.args[0]
        assert Path(state.request.model_path) == tiny_model_path
        assert (state.crop_kind, state.crop) == ("user", (5, 5, 35, 35))
        assert window.feature_view.layer_name == "parts"
    finally:
        window.close()
