"""The prediction: class probabilities, and the target class every gradient view uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from inspector import Inspection

MAX_BARS = 10  # the top classes shown; the picker still lists every class
BAR_COLOUR = (31, 119, 180)
TARGET_COLOUR = (255, 127, 14)
AUTO_TEXT = "predicted class (automatic)"


def top_classes(probabilities: np.ndarray, count: int = MAX_BARS) -> np.ndarray:
    """Indices of the ``count`` most probable classes, most probable first."""
    return np.argsort(-np.asarray(probabilities), kind="stable")[:count]


class PredictionPanel(QWidget):
    """Bar chart of the top classes and a target picker.

    Signals:
        target_selected(object): the class (int) the user picked, or None for
            "the predicted class". The session then runs a new inspection.
    """

    target_selected = pyqtSignal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "probability")
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.getViewBox().invertY(True)
        self.plot.setMinimumHeight(120)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=[], width=[])
        self.plot.addItem(self.bars)
        self.target_combo = QComboBox()
        self.target_combo.setToolTip("The class whose score every gradient view differentiates")
        self.target_combo.activated.connect(self._on_activated)
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Gradients of:"))
        picker.addWidget(self.target_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.headline)
        layout.addWidget(self.plot, 1)
        layout.addLayout(picker)
        self._labels: tuple[str, ...] = ()
        self.clear()

    def set_inspection(self, inspection: Inspection, automatic: bool = True) -> None:
        """Show ``inspection``'s probabilities; ``automatic`` = target was not picked."""
        probabilities = np.asarray(inspection.probabilities, dtype=float)
        if inspection.labels != self._labels:
            self._fill_combo(inspection.labels)
        shown = top_classes(probabilities)
        colours = [TARGET_COLOUR if i == inspection.target else BAR_COLOUR for i in shown]
        self.bars.setOpts(
            x0=np.zeros(len(shown)),
            y=np.arange(len(shown)),
            height=0.7,
            width=probabilities[shown],
            brushes=[pg.mkBrush(c) for c in colours],
            pens=[pg.mkPen(None)] * len(shown),
        )
        axis = self.plot.getAxis("left")
        axis.setTicks([[(k, inspection.labels[i]) for k, i in enumerate(shown)]])
        self.plot.setYRange(-0.6, len(shown) - 0.4, padding=0)
        self.plot.show()
        self.target_combo.setCurrentIndex(0 if automatic else inspection.target + 1)
        self.headline.setText(
            f"Predicted <b>{inspection.predicted_label}</b> "
            f"({probabilities[inspection.predicted]:.1%}). Gradients of "
            f"<span style='color:#e67300'><b>{inspection.target_label}</b></span> "
            f"(logit {inspection.score:.3g})."
        )

    def clear(self) -> None:
        self.bars.setOpts(x0=[], y=[], height=[], width=[])
        self.plot.hide()  # an empty chart would only show bare axes
        self.headline.setText("<b>Prediction</b> · no image inspected yet")
        self._fill_combo(())

    def select_target(self, target: int | None) -> None:
        """Pick a target as the user would (emits ``target_selected``)."""
        self.target_combo.setCurrentIndex(0 if target is None else target + 1)
        self._on_activated(self.target_combo.currentIndex())

    @property
    def shown_classes(self) -> list[str]:
        """Labels of the bars, top first."""
        ticks = self.plot.getAxis("left")._tickLevels
        return [label for _, label in ticks[0]] if ticks else []

    def _fill_combo(self, labels: tuple[str, ...]) -> None:
        self._labels = tuple(labels)
        self.target_combo.clear()
        self.target_combo.addItem(AUTO_TEXT, None)
        for index, label in enumerate(labels):
            self.target_combo.addItem(f"{index}: {label}", index)

    def _on_activated(self, index: int) -> None:
        self.target_selected.emit(self.target_combo.itemData(index))
