"""A layer without spatial axes (dense, logits, global pooling) as a bar chart.

Drawn as a mosaic, such a layer is a grid of one-pixel tiles: unreadable. As bars
it reads at once: one bar per unit, in unit order (the x axis is the unit's
index, or its class name when the units are the classes), height = activation.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal

POSITIVE, NEGATIVE = (31, 119, 180), (214, 96, 77)
SELECTED_PEN = pg.mkPen((20, 20, 20), width=2)
BAR_WIDTH = 0.8
MAX_NAMED_TICKS = 20  # more classes than this: index ticks, names in the readout


class VectorBars(pg.PlotWidget):
    """One bar per unit of a vector activation; click a bar to pick its unit.

    Signals:
        unit_clicked(int): the index of the bar clicked.
        unit_hovered(int): the index of the bar under the mouse.
    """

    unit_clicked = pyqtSignal(int)
    unit_hovered = pyqtSignal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.showGrid(x=False, y=True, alpha=0.3)
        self.setLabel("left", "activation")
        self.setLabel("bottom", "unit")
        for side in ("left", "bottom"):
            self.getAxis(side).enableAutoSIPrefix(False)
        self.setMenuEnabled(False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH)
        self.addItem(self.bars)
        self.highlight = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, pen=SELECTED_PEN)
        self.addItem(self.highlight)
        self.values = np.zeros(0, dtype=np.float32)
        self.scene().sigMouseClicked.connect(self._on_clicked)
        self._proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=60, slot=self._on_moved)

    def show_vector(self, values: np.ndarray, names: tuple[str, ...] = ()) -> None:
        """Draw ``values`` ``(C,)`` as C bars; ``names`` (one per unit) label the x axis."""
        self.values = np.asarray(values, dtype=np.float32).reshape(-1)
        xs = np.arange(len(self.values))
        brushes = [pg.mkBrush(POSITIVE if v >= 0 else NEGATIVE) for v in self.values]
        # Outlines would paint a thousand thin bars black: fill only.
        self.bars.setOpts(x=xs, height=self.values, width=BAR_WIDTH, brushes=brushes, pen=None)
        axis = self.getAxis("bottom")
        if names and len(names) == len(self.values) and len(names) <= MAX_NAMED_TICKS:
            axis.setTicks([list(enumerate(names))])
            self.setLabel("bottom", "class")
        else:
            axis.setTicks(None)
            self.setLabel("bottom", "unit (index)")
        self.highlight.setOpts(x=[], height=[])
        self.setXRange(-0.6, len(self.values) - 0.4, padding=0)
        low, high = min(0.0, float(self.values.min(initial=0))), float(self.values.max(initial=0))
        self.setYRange(low, max(high, low + 1e-12), padding=0.05)

    def select(self, unit: int) -> None:
        """Outline bar ``unit``."""
        if 0 <= unit < len(self.values):
            self.highlight.setOpts(x=[unit], height=[self.values[unit]], brush=None)

    def unit_at(self, x: float) -> int | None:
        """The unit whose bar spans data coordinate ``x``, or None."""
        unit = round(x)
        if 0 <= unit < len(self.values) and abs(x - unit) <= BAR_WIDTH / 2:
            return unit
        return None

    def _unit_at_scene(self, scene_pos) -> int | None:
        view_box = self.getViewBox()
        if not view_box.sceneBoundingRect().contains(scene_pos):
            return None
        return self.unit_at(view_box.mapSceneToView(scene_pos).x())

    def _on_clicked(self, event) -> None:
        unit = self._unit_at_scene(event.scenePos())
        if unit is not None:
            self.unit_clicked.emit(unit)

    def _on_moved(self, event: tuple) -> None:
        unit = self._unit_at_scene(event[0])
        if unit is not None:
            self.unit_hovered.emit(unit)
