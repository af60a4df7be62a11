"""Backprop: the gradient of the target score as it flows back through the layers.

Top: for each spatial layer, from the output side to the input, where the
gradient is large (the norm over channels of d score / d activation at each
position, each map on its own scale). Bottom: one number per layer, the RMS of
that gradient, on a log scale, from the class logits back to the input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from gui.widgets.image_helpers import caption_label, colorize, image_box, normalise, show_rgb

if TYPE_CHECKING:
    from inspector import Inspection

MAP_COLORMAP = "inferno"
LINE_COLOUR = (31, 119, 180)


def gradient_magnitude_map(gradient: np.ndarray) -> np.ndarray:
    """``(H, W)`` L2 norm over channels of a ``(H, W, C)`` gradient."""
    gradient = np.asarray(gradient, dtype=np.float32)
    return np.sqrt(np.square(gradient).sum(axis=-1))


def magnitude_unit(magnitude: np.ndarray) -> np.ndarray:
    """Scale a non-negative map to [0, 1] by its own range; a constant, non-zero map
    (e.g. behind a global average pool) is uniformly bright, not black."""
    if magnitude.size and magnitude.max() > 0 and np.ptp(magnitude) == 0:
        return np.ones_like(magnitude)
    return normalise(magnitude[..., None], per_channel=True)[..., 0]


def short_name(name: str) -> str:
    """A layer's own name for an axis label: ``outer/conv`` -> ``conv``,
    ``dense.logits`` -> ``logits``."""
    name = name.rsplit("/", 1)[-1]
    return "logits" if name.endswith(".logits") else name


def gradient_profile(inspection: Inspection) -> list[tuple[str, float]]:
    """``(layer name, RMS of d score / d activation)`` from the output back to the input.

    Layers the score does not depend on are left out; the input comes last.
    """
    rows = [
        (record.name, float(np.sqrt(np.mean(np.square(record.gradient, dtype=np.float64)))))
        for record in inspection.layers
        if record.reaches_target and record.gradient.size
    ]
    rows.reverse()
    gradient = np.asarray(inspection.input_gradient, dtype=np.float64)
    rows.append(("input", float(np.sqrt(np.mean(np.square(gradient))))))
    return rows


def gradient_maps(inspection: Inspection) -> list[tuple[str, np.ndarray]]:
    """``(name, (H, W) gradient magnitude)`` of every spatial layer, output side first,
    then the input; layers the score does not depend on are left out."""
    maps = [
        (r.name, gradient_magnitude_map(r.gradient))
        for r in reversed(inspection.spatial_layers)
        if r.reaches_target
    ]
    maps.append(("input", gradient_magnitude_map(inspection.input_gradient)))
    return maps


class BackpropView(QWidget):
    """Per-layer gradient maps and the gradient magnitude per layer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.maps = pg.GraphicsLayoutWidget()
        self.plot = pg.PlotWidget()
        self.plot.setLogMode(x=False, y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setLabel("left", "RMS of ∂score/∂activation")
        self.plot.setLabel("bottom", "layer, from the output (left) back to the input (right)")
        self.plot.setTitle("How strong the gradient is at each layer")
        self.plot.getAxis("bottom").setHeight(62)  # two rows of layer names + the label
        self.curve = self.plot.plot(
            pen=pg.mkPen(LINE_COLOUR, width=2), symbol="o", symbolSize=7, symbolBrush=LINE_COLOUR
        )
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.maps)
        splitter.addWidget(self.plot)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([240, 420])
        self.caption = caption_label(
            "Top: where the gradient of the target score is large in each layer (norm over "
            "channels, each map on its own scale; bright = large). Read it left to right to "
            "follow backpropagation from the score down to the input pixels."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.caption)
        self._slots: list[tuple[pg.LabelItem, pg.ViewBox, pg.ImageItem]] = []
        self.profile: list[tuple[str, float]] = []
        self.clear()

    def set_inspection(self, inspection: Inspection) -> None:
        self._show_maps(inspection)
        self.profile = gradient_profile(inspection)
        positive = [(i, v) for i, (_, v) in enumerate(self.profile) if v > 0]
        xs = np.array([i for i, _ in positive], dtype=float)
        ys = np.array([v for _, v in positive], dtype=float)
        self.curve.setData(xs, ys)
        names = [short_name(name) for name, _ in self.profile]
        step = max(1, len(names) // 24)  # at most ~24 labels on two rows, or they overlap
        # Every other label one line lower, so that neighbours do not overlap.
        ticks = [
            (i, n if (i // step) % 2 == 0 else "\n" + n)
            for i, n in enumerate(names)
            if i % step == 0 or i == len(names) - 1
        ]
        self.plot.getAxis("bottom").setTicks([ticks, [(i, "") for i in range(len(names))]])
        self.plot.enableAutoRange(axis="y")
        # Half a step of room on each side, so the end labels are not clipped.
        self.plot.setXRange(-0.5, len(names) - 0.5, padding=0)
        self.title.setText(
            f"<b>Backprop</b> · gradient of the <b>{inspection.target_label}</b> logit "
            f"(score {inspection.score:.3g}) through {len(self.profile) - 1} layers"
        )

    def clear(self) -> None:
        self.maps.clear()
        self._slots = []
        self.curve.setData([], [])
        self.profile = []
        self.title.setText("<b>Backprop</b> · no image inspected yet")

    def _show_maps(self, inspection: Inspection) -> None:
        maps = gradient_maps(inspection)
        if len(self._slots) != len(maps):
            self.maps.clear()
            self._slots = []
            for col in range(len(maps)):
                label = self.maps.addLabel("", row=0, col=col)
                view, item = image_box(self.maps, 1, col)
                self._slots.append((label, view, item))
        for (name, magnitude), (label, view, item) in zip(maps, self._slots, strict=True):
            label.setText(short_name(name), size="9pt")
            show_rgb(item, colorize(magnitude_unit(magnitude), MAP_COLORMAP))
            view.autoRange(padding=0.02)
