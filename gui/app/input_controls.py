"""How the input is read: the preprocessing preset selector and File > Load labels….

The preset in use is always shown: the status line names it (``describe_state``)
and the selector's tooltip repeats it. The selector lists
``inspector.engine.preprocessing.PRESETS``; it is filled once the engine is
imported (the window appears before TensorFlow). Choosing a preset or a labels
file is one more session request, so an error leaves the app as it was.
"""

from __future__ import annotations

from PyQt6.QtWidgets import QComboBox, QFileDialog, QLabel, QWidget

LABELS_FILTER = "Class names (*.txt *.json)"
PRESET_TIP = (
    "How pixels are scaled for the model: auto recognises keras.applications families; "
    "tf = -1..1, torch = ImageNet mean/std, caffe = BGR minus the ImageNet mean, "
    "0-1, 0-255 or none (raw)."
)


class InputControls:
    """The preset selector (in the status bar) and the labels chooser of a window.

    Args:
        window: the ``MainWindow``; its session receives the requests.
    """

    def __init__(self, window) -> None:
        self.window = window
        self.session = window.session
        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip(PRESET_TIP)
        self.preset_combo.setEnabled(False)
        self.preset_combo.currentTextChanged.connect(self._on_preset_chosen)
        self.session.engine_ready.connect(lambda _info: self.fill_presets())
        self.session.state_changed.connect(self.show_state)

    def widgets(self) -> list[QWidget]:
        """What goes into the status bar, left to right."""
        return [QLabel("Input scaling:"), self.preset_combo]

    def fill_presets(self) -> None:
        from inspector.engine.preprocessing import PRESETS

        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        self.preset_combo.addItems(PRESETS)
        self.preset_combo.setCurrentText(self.session.requested.preprocess)
        self.preset_combo.blockSignals(False)
        self.preset_combo.setEnabled(True)

    def choose_labels(self) -> None:
        """File > Load labels…: class names for the open model (.txt or .json)."""
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Class names, one per line (.txt) or a JSON list", "", LABELS_FILTER
        )
        if path:
            self.session.set_labels(path)

    def show_state(self, state) -> None:
        """Select the preset the state was computed with; the tooltip names it."""
        if self.preset_combo.count() == 0:  # an answer means the engine is imported
            self.fill_presets()
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentText(state.request.preprocess)
        self.preset_combo.blockSignals(False)
        used = state.inspection.preprocess
        self.preset_combo.setToolTip(
            f"In use: {used.words()}. {PRESET_TIP}" if used is not None else PRESET_TIP
        )

    def _on_preset_chosen(self, preset: str) -> None:
        session = self.session
        if preset and session.state is not None and preset != session.requested.preprocess:
            session.set_preprocess(preset)
