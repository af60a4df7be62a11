"""Keyboard shortcuts: tabs, next/previous layer and channel, and their help page.

Layer and channel steps use Alt+arrows rather than bare keys, so that they never
steal a keystroke from a text field (the model panel's search, the run folder).
They walk the layers the model panel shows (its filter applies) and the channels
of the feature-map view.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

NEXT_LAYER, PREVIOUS_LAYER = "Alt+Down", "Alt+Up"
NEXT_CHANNEL, PREVIOUS_CHANNEL = "Alt+Right", "Alt+Left"
HELP_KEY = "F1"
FREEZE_KEY, STEP_KEY = "Space", "."
MENU_KEYS = (
    ("Ctrl+O", "Open a model"),
    ("Ctrl+I", "Open an image"),
    (FREEZE_KEY, "Live: freeze the shown frame, or resume"),
    (STEP_KEY, "Live: the video's next frame (frozen)"),
    ("Ctrl+Q", "Quit"),
)


def tab_key(index: int) -> str:
    """The shortcut of the tab at ``index`` (0-based): Ctrl+1 … Ctrl+9."""
    return f"Ctrl+{index + 1}"


def shortcut_rows(tab_titles: list[str]) -> list[tuple[str, str]]:
    """(keys, what they do) for every shortcut, in the order the help lists them."""
    rows = [(tab_key(i), f"Show the {title} tab") for i, title in enumerate(tab_titles[:9])]
    rows += [
        (f"{NEXT_LAYER} / {PREVIOUS_LAYER}", "Next / previous layer (of those the tree shows)"),
        (f"{NEXT_CHANNEL} / {PREVIOUS_CHANNEL}", "Next / previous channel of the layer"),
        *MENU_KEYS,
        (HELP_KEY, "This list"),
    ]
    return rows


def help_html(tab_titles: list[str]) -> str:
    """The shortcuts as an HTML table for the help dialog."""
    body = "".join(
        f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{what}</td></tr>"
        for keys, what in shortcut_rows(tab_titles)
    )
    return f"<h3>Keyboard shortcuts</h3><table>{body}</table>"


def stepped(names: list[str], current: str | None, step: int) -> str | None:
    """The name ``step`` places after ``current`` in ``names``, clamped to the ends;
    the first name when ``current`` is not in the list, None for no names."""
    if not names:
        return None
    if current not in names:
        return names[0]
    index = min(max(names.index(current) + step, 0), len(names) - 1)
    return names[index]


class ShortcutsDialog(QDialog):
    """A non-modal page listing every shortcut (Help > Keyboard shortcuts)."""

    def __init__(self, tab_titles: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.label = QLabel(help_html(tab_titles))
        self.label.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)


def install_shortcuts(window) -> list[QShortcut]:
    """Tab, layer and channel shortcuts on ``window`` (a ``MainWindow``)."""
    made = []

    def add(keys: str, slot) -> None:
        shortcut = QShortcut(QKeySequence(keys), window)
        shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        shortcut.activated.connect(slot)
        made.append(shortcut)

    for index in range(min(window.tabs.count(), 9)):
        add(tab_key(index), lambda i=index: window.tabs.setCurrentIndex(i))
    add(NEXT_LAYER, lambda: step_layer(window, 1))
    add(PREVIOUS_LAYER, lambda: step_layer(window, -1))
    add(NEXT_CHANNEL, lambda: step_channel(window, 1))
    add(PREVIOUS_CHANNEL, lambda: step_channel(window, -1))
    add(FREEZE_KEY, lambda: window.live_controller.toggle_freeze())
    add(STEP_KEY, lambda: window.live_controller.step())
    return made


def step_layer(window, step: int) -> None:
    """Select the next (step 1) or previous (-1) layer the model tree shows."""
    state = window.session.state
    if state is None:
        return
    recorded = [record.name for record in state.inspection.layers]
    panel = window.model_panel
    visible = set(panel.visible_names()) if hasattr(panel, "visible_names") else set(recorded)
    names = [name for name in recorded if name in visible] or recorded
    name = stepped(names, window.feature_view.layer_name, step)
    if name is not None:
        panel.select_layer(name)
        window.feature_view.set_layer(name)


def step_channel(window, step: int) -> None:
    """Select the next (step 1) or previous (-1) channel of the feature-map layer."""
    view = window.feature_view
    count = view.channel_count
    if view.layer_name is None or count < 1:
        return
    view.select_channel(min(max(view.channel + step, 0), count - 1))
