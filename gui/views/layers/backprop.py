"""Backprop: the gradient of the target score as it flows back through the layers.

Top: for each spatial layer, from the output side to the input, where the
gradient is large (the norm over channels of d score / d activation at each
position, each map on its own scale), on a ``ColumnStrip`` that scrolls, filters
and groups blocks. Bottom: one number per layer, the RMS of that gradient, on a
log scale (no SI factor: the values are dimensionless), from the class logits
back to the input; the x labels thin out to fit and a hover names every point.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from gui.widgets.column_strip import ColumnStrip, StripColumn
from gui.widgets.elided_label import ElidedLabel
from gui.widgets.image_helpers import caption_label, colorize, normalise
from gui.widgets.layer_groups import layer_group

if TYPE_CHECKING:
    from inspector import Inspection

MAP_COLORMAP = "inferno"
LINE_COLOUR = (31, 119, 180)
HOVER_COLOUR = (220, 40, 40)
MAP_WIDTH = 96  # on-screen width of each gradient map in the strip
LABEL_MARGIN = 8  # screen pixels between neighbouring x labels
MAX_COLUMNS_SHOWN_ALL = 40  # more spatial layers than this: the strip opens on conv layers
CONV, ALL = "conv", "all"
MODES = [("conv layers", CONV), ("all spatial layers", ALL)]
HOVER_HINT = "Hover a point of the plot to read its layer."


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


def map_columns(inspection: Inspection) -> dict[str, list[StripColumn]]:
    """The maps strip's columns for each "Show" choice, output side first, input last."""
    maps = [r for r in reversed(inspection.spatial_layers) if r.reaches_target]
    chosen = {CONV: [r for r in maps if "Conv" in r.class_name], ALL: maps}
    input_column = StripColumn(
        name="input",
        title=shape_text(inspection.input_gradient.shape),
        group=None,
        tooltip="∂score/∂input: the gradient on the input pixels",
        paint=lambda: map_picture(inspection.input_gradient),
    )
    return {
        mode: [
            StripColumn(
                name=r.name,
                title=shape_text(r.output_shape),
                group=layer_group(r.name),
                tooltip=f"{r.name} ({r.class_name}): norm over channels of ∂score/∂activation",
                paint=lambda r=r: map_picture(r.gradient),
            )
            for r in records
        ]
        + [input_column]
        for mode, records in chosen.items()
    }


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def map_picture(gradient: np.ndarray) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` of a ``(H, W, C)`` gradient's magnitude, on its own scale."""
    return colorize(magnitude_unit(gradient_magnitude_map(gradient)), MAP_COLORMAP)


def label_step(visible: float, pixels: float, label_pixels: float) -> int:
    """Label every k-th layer so that labels are ``label_pixels`` apart on screen.

    Args:
        visible: how many layers the visible x range spans.
        pixels: the plot's width on screen.
        label_pixels: room one label needs on screen; the labels alternate between two
            rows, so half the widest label plus a margin is enough.
    """
    if visible <= 0 or pixels <= 0:
        return 1
    return max(1, math.ceil(visible * label_pixels / pixels))


def profile_ticks(names: list[str], step: int) -> list[tuple[int, str]]:
    """Every ``step``-th name (and the last), every other one a line lower."""
    chosen = [i for i in range(len(names)) if i % step == 0 or i == len(names) - 1]
    return [(i, names[i] if k % 2 == 0 else "\n" + names[i]) for k, i in enumerate(chosen)]


class BackpropView(QWidget):
    """Per-layer gradient maps on a scrolling strip, and the gradient magnitude per layer.

    Signals:
        layer_selected(name): a layer's column was clicked (as in the Hierarchy view);
            the input's column names no layer and emits nothing.
    """

    layer_selected = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.strip = ColumnStrip(MODES, MAP_WIDTH)
        self.plot = pg.PlotWidget()
        self.plot.setLogMode(x=False, y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setLabel("left", "RMS of ∂score/∂activation")
        self.plot.setLabel("bottom", "layer, from the output (left) back to the input (right)")
        # The values are dimensionless: no "(x0.001)" SI factor on the log axis.
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.setTitle("How strong the gradient is at each layer")
        self.plot.getAxis("bottom").setHeight(62)  # two rows of layer names + the label
        self.curve = self.plot.plot(
            pen=pg.mkPen(LINE_COLOUR, width=2), symbol="o", symbolSize=6, symbolBrush=LINE_COLOUR
        )
        self.marker = pg.ScatterPlotItem(size=13, pen=pg.mkPen(HOVER_COLOUR, width=2), brush=None)
        self.plot.addItem(self.marker)
        self.readout = ElidedLabel(HOVER_HINT)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.strip)
        plot_panel = QWidget()
        plot_layout = QVBoxLayout(plot_panel)
        plot_layout.setContentsMargins(0, 0, 0, 0)
        plot_layout.addWidget(self.plot, 1)
        plot_layout.addWidget(self.readout)
        splitter.addWidget(plot_panel)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([250, 400])
        self.caption = caption_label(
            "Top: where the gradient of the target score is large in each layer (norm over "
            "channels, each map on its own scale; bright = large). Read it left to right to "
            "follow backpropagation from the score down to the input pixels. Bottom: hover a "
            "point to read its layer; drag or wheel to zoom into a range of layers."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.caption)
        self.profile: list[tuple[str, float]] = []
        self._names: list[str] = []
        self._column_names: tuple[str, ...] = ()
        self._layer_names: frozenset[str] = frozenset()
        self.strip.column_clicked.connect(self._on_column_clicked)
        view_box = self.plot.getViewBox()
        view_box.sigXRangeChanged.connect(self._update_ticks)
        view_box.sigResized.connect(self._update_ticks)
        self._proxy = pg.SignalProxy(
            self.plot.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved
        )
        self.clear()

    def set_inspection(self, inspection: Inspection) -> None:
        columns = map_columns(inspection)
        names = tuple(c.name for c in columns[ALL])
        mode = None  # the same model: keep the reader's choice
        if names != self._column_names:  # another model: the default for its size
            self._column_names = names
            mode = ALL if len(names) <= MAX_COLUMNS_SHOWN_ALL else CONV
        self.strip.set_columns(columns, mode=mode)
        self._layer_names = frozenset(inspection.layer_names)
        self.profile = gradient_profile(inspection)
        positive = [(i, v) for i, (_, v) in enumerate(self.profile) if v > 0]
        xs = np.array([i for i, _ in positive], dtype=float)
        ys = np.array([v for _, v in positive], dtype=float)
        self.curve.setData(xs, ys)
        self._names = [short_name(name) for name, _ in self.profile]
        self.hover_layer(None)
        self.plot.enableAutoRange(axis="y")
        # Half a step of room on each side, so the end labels are not clipped.
        self.plot.setXRange(-0.5, len(self._names) - 0.5, padding=0)
        self._update_ticks()
        self.title.setText(
            f"<b>Backprop</b> · gradient of the <b>{inspection.target_label}</b> logit "
            f"(score {inspection.score:.3g}) through {len(self.profile) - 1} layers"
        )

    def clear(self) -> None:
        self.strip.clear()
        self._layer_names = frozenset()
        self.curve.setData([], [])
        self.profile = []
        self._names = []
        self.hover_layer(None)
        self.title.setText("<b>Backprop</b> · no image inspected yet")

    def _on_column_clicked(self, name: str) -> None:
        if name in self._layer_names:
            self.layer_selected.emit(name)

    def hover_layer(self, index: int | None) -> None:
        """Mark profile point ``index`` and name its layer in the readout (None clears)."""
        if index is None or not 0 <= index < len(self.profile):
            self.marker.setData([], [])
            self.readout.setText(HOVER_HINT)
            return
        name, value = self.profile[index]
        if value > 0:
            self.marker.setData([index], [math.log10(value)])
        else:
            self.marker.setData([], [])
        self.readout.setText(f"{index}: {name} · RMS of ∂score/∂activation {value:.3g}")

    def _update_ticks(self, *_args) -> None:
        if not self._names:
            self.plot.getAxis("bottom").setTicks([[]])
            return
        (low, high), _ = self.plot.getViewBox().viewRange()
        metrics = QFontMetrics(self.plot.getAxis("bottom").font())
        widest = max(metrics.horizontalAdvance(name) for name in self._names)
        # Two staggered rows: neighbours on one row are two steps apart.
        step = label_step(high - low, self.plot.getViewBox().width(), widest / 2 + LABEL_MARGIN)
        self.plot.getAxis("bottom").setTicks([profile_ticks(self._names, step), []])

    def _on_mouse_moved(self, event: tuple) -> None:
        view_box = self.plot.getViewBox()
        if not self.profile or not view_box.sceneBoundingRect().contains(event[0]):
            return
        x = view_box.mapSceneToView(event[0]).x()
        self.hover_layer(round(min(max(x, 0), len(self.profile) - 1)))
