"""The Units view's hierarchy chart: concept fractions per layer, named on a fitting axis.

Network Dissection (Bau, Zhou, Khosla, Oliva & Torralba, CVPR 2017, section 4.1)
summarises a network by the fraction of each layer's units labelled with each
concept group, first layer to last. A 7-layer model has room for every layer's
name under its point; MobileNetV2 has 52 conv layers, whose names written side
by side would overlap into one unreadable line. ``LayerAxis`` therefore names
only as many layers as fit at the axis' current width, spread evenly, the first
and the last always; hovering the chart names the nearest layer and its
fractions, and a dashed line marks the layer whose unit the view shows.

Two charts share the axis (``LayerChart.paint``'s ``mode``): ``detectors``, the
headline, draws per group the fraction of each layer's units that the
selectivity measures count as detectors, the model solid and its random-init
copies dashed (``inspector.units.selectivity``); ``labels`` draws Network
Dissection's labels, the second view.

The detectors chart can overlay a second model's dissection (``overlay``), its
lines dotted, matched layer by layer by name: the face detector beside the face
recogniser, which share their layer names up to the head.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFont, QFontMetrics
from PyQt6.QtWidgets import QToolTip

from gui.views.units.concept_words import (
    DETECTOR_GROUPS,
    GROUP_ORDER,
    detectors_text,
    fractions_text,
)

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#7f7f7f")  # edge, part, face, none
GROUP_COLOURS = dict(zip(GROUP_ORDER, COLOURS, strict=True))
LABEL_GAP = 12  # pixels of white space between two neighbouring layer names
MAX_LABEL = 140  # pixels: a longer name is shortened in its middle ("block_…_project")
TITLE = "Units labelled per layer (Network Dissection)"
DETECTOR_TITLE = "Detectors per layer"
DETECTORS, LABELS = "detectors", "labels"


def spread_ticks(first: int, last: int, pixels_per_layer: float, label_pixels: float) -> list[int]:
    """The most layer indices in ``first..last`` whose centred names do not overlap.

    Args:
        first, last: the first and last layer index that may be named.
        pixels_per_layer: the distance between two neighbouring layers on screen.
        label_pixels: the width one name needs, gap included.

    Returns:
        Indices from ``first`` to ``last`` as evenly spread as whole layers allow,
        ``first`` and ``last`` always among them when two names fit; ``[first]``
        when only one does, ``[]`` when ``last < first``.
    """
    if last < first:
        return []
    span = last - first
    if span == 0 or pixels_per_layer <= 0:
        return [first]
    # Names are centred on their layer: neighbours need label_pixels between centres.
    count = min(span + 1, int(span * pixels_per_layer // label_pixels) + 1)
    while count >= 2:
        chosen = np.unique(np.rint(np.linspace(first, last, count)).astype(int))
        if np.diff(chosen).min() * pixels_per_layer >= label_pixels:
            return chosen.tolist()
        count -= 1
    return [first]


class LayerAxis(pg.AxisItem):
    """A bottom axis with a layer name at each whole x that fits (see ``spread_ticks``).

    Every name is written in full when all of them fit; otherwise names longer than
    ``MAX_LABEL`` px are shortened in the middle and as many as fit are shown.
    """

    def __init__(self) -> None:
        super().__init__("bottom")
        self.font = QFont()  # measured and drawn with the same font
        self.setStyle(tickFont=self.font)
        self.names: list[str] = []
        self._short: list[str] = []
        self._shown: list[str] = []  # the labels of the last tickValues: full or short
        self._named: set[int] = set()  # the layers named by the last tickValues

    def set_names(self, names: list[str]) -> None:
        """The layers at x = 0, 1, …"""
        metrics = QFontMetrics(self.font)
        self.names = list(names)
        self._short = [
            metrics.elidedText(n, Qt.TextElideMode.ElideMiddle, MAX_LABEL) for n in self.names
        ]
        self._shown = self._short
        self.picture = None  # pyqtgraph's cached drawing of the ticks
        self.update()

    def label_pixels(self, labels: list[str] | None = None) -> int:
        """The width of the widest of ``labels`` (default: the short ones), gap included."""
        labels = self._short if labels is None else labels
        if not labels:
            return 0
        metrics = QFontMetrics(self.font)
        return max(metrics.horizontalAdvance(s) for s in labels) + LABEL_GAP

    def padding(self, pixels: float) -> float:
        """Layers of room left and right of the ends so half a name fits beyond each.

        With ``n`` layers over ``pixels``, the first name's centre sits ``pad`` layers
        in, at ``pad * pixels / (n - 1 + 2 pad)`` px; solving for half a label width
        gives ``pad = w (n - 1) / (2 (pixels - w))`` (at least half a layer). The
        full names are used when they all fit that way, else the short ones.
        """
        span = max(len(self.names) - 1, 0)
        for labels in (self.names, self._short):
            half = self.label_pixels(labels) / 2
            if pixels <= 2 * half:
                continue
            pad = max(0.5, half * span / (pixels - 2 * half))
            if labels is self._short or pixels / (span + 2 * pad) >= 2 * half:
                return pad
        return 0.5

    def tickValues(self, minVal, maxVal, size):  # pyqtgraph's names
        if not self.names or maxVal <= minVal:
            return []
        per_layer = size / (maxVal - minVal)
        for labels in (self.names, self._short):
            width = self.label_pixels(labels)
            # Only layers whose centred name stays inside the axis (pyqtgraph drops the rest).
            margin = (width - LABEL_GAP) / 2 / per_layer
            first = max(0, math.ceil(minVal + margin))
            last = min(len(self.names) - 1, math.floor(maxVal - margin))
            chosen = spread_ticks(first, last, per_layer, width)
            self._shown = labels
            if len(chosen) == len(self.names):  # every full name fits: no shortening
                break
        self._named = set(chosen)
        # A second level marks every other layer with a tick (and grid line), unnamed.
        visible = range(max(0, math.ceil(minVal)), min(len(self.names) - 1, math.floor(maxVal)) + 1)
        others = [float(i) for i in visible if i not in self._named]
        return [(1.0, [float(i) for i in chosen]), (1.0, others)]

    def tickStrings(self, values, scale, spacing):
        return [self._shown[round(v)] if round(v) in self._named else "" for v in values]


class LayerChart:
    """Paints a ``DissectionReport`` on a plot from ``make_plot``, with the fitting axis.

    Args:
        plot: the view's chart; its bottom axis is replaced by a ``LayerAxis``.
    """

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        item = plot.getPlotItem()
        old = item.getAxis("bottom")
        self.axis = LayerAxis()
        item.setAxisItems({"bottom": self.axis})
        self.axis.setLabel(old.labelText)
        self.axis.setGrid(old.grid)
        self.axis.enableAutoSIPrefix(False)
        # Top left, on white: the detector lines rise with depth, so the left top is
        # the emptiest corner, and the lines under the legend stay hidden, not mixed in.
        item.legend.anchor((0, 0), (0, 0), offset=(8, 8))
        item.legend.setBrush(pg.mkBrush(255, 255, 255, 215))
        # A chart of categories: dragging or zooming it only hides layers.
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.report = None
        self.overlay, self.overlay_label = None, ""
        self.mode = DETECTORS
        # The layer of the unit shown, named at the top (its tick may be unnamed).
        self.marker = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen("#d62728", width=1, dash=[4, 4]),
            label="",
            labelOpts={"position": 0.97, "color": "#d62728", "fill": (255, 255, 255, 200)},
        )
        item.vb.sigResized.connect(self.fit_range)
        self._proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=30, slot=self._hover)
        self._hovered = -1

    def paint(self, report, mode: str = DETECTORS, overlay=None, overlay_label: str = "") -> None:
        """One line per group across ``report``'s layers (None: an empty chart).

        Args:
            report: a ``DissectionReport``.
            mode: ``DETECTORS`` (needs ``report.selectivity``; else the labels are
                drawn) or ``LABELS``.
            overlay: another model's ``DissectionReport`` (with selectivity), drawn
                dotted on the detectors chart at the layers of the same name; None:
                none. ``overlay_label`` names it in the legend and the tooltip.
        """
        item = self.plot.getPlotItem()
        item.clear()
        item.legend.clear()
        self.report = report
        self.overlay = overlay if getattr(overlay, "selectivity", None) is not None else None
        self.overlay_label = overlay_label
        selectivity = getattr(report, "selectivity", None)
        self.mode = DETECTORS if mode == DETECTORS and selectivity is not None else LABELS
        names = [d.layer for d in report.layers] if report is not None else []
        self.axis.set_names(names)
        self.plot.setToolTip("")
        if report is None:
            return
        if self.mode == DETECTORS:
            top = self._paint_detectors(selectivity)
            item.setYRange(-0.02, top, padding=0)
            item.setTitle(DETECTOR_TITLE)
        else:
            self._paint_labels(report)
            item.setYRange(-0.03, 1.03, padding=0)  # room for the "0" and "1" tick labels
            item.setTitle(TITLE)
        item.addItem(self.marker, ignoreBounds=True)
        self.fit_range()

    def _line(self, y, colour: str, name: str | None, style: str = "solid") -> None:
        """One group's line: ``"solid"`` (the model), ``"dashed"`` (its random-init
        copies) or ``"dotted"`` (the overlaid model; NaN where it has no such layer)."""
        count = len(self.axis.names)
        width = 3 if count <= 20 else 2
        pen = pg.mkPen(colour, width=1.5 if style == "dashed" else width)
        if style != "solid":
            pen.setDashPattern([4, 3] if style == "dashed" else [1, 2])
        symbol = {"solid": "o", "dotted": "t"}.get(style)
        self.plot.getPlotItem().plot(
            np.arange(count),
            np.asarray(y, dtype=float),
            pen=pen,
            symbol=symbol,
            symbolBrush=colour if style == "solid" else "w",
            symbolPen=colour,
            symbolSize=7 if count <= 20 else 4,  # 52 big dots would hide the lines
            name=name,
            connect="finite",
        )

    def _paint_labels(self, report) -> None:
        scored = getattr(report, "scored", GROUP_ORDER)
        for group, colour in GROUP_COLOURS.items():
            if group != "none" and group not in scored:
                continue  # no masks for it: a line at 0 would read as "measured none"
            self._line([d.fractions.get(group, 0.0) for d in report.layers], colour, group)

    def _paint_detectors(self, selectivity) -> float:
        """The trained and random lines of each group; returns the y range's top."""
        trained, random = selectivity.fractions("trained"), selectivity.fractions("random")
        other = self.overlay_fractions()
        for group in DETECTOR_GROUPS:
            colour = GROUP_COLOURS[group]
            self._line([f[group] for f in trained], colour, group)
            self._line([f[group] for f in random], colour, None, style="dashed")
            if other is not None:
                self._line([f.get(group, np.nan) for f in other], colour, None, style="dotted")
        legend = self.plot.getPlotItem().legend
        grey = pg.mkPen("#555", width=1.5)
        grey.setDashPattern([4, 3])
        legend.addItem(pg.PlotDataItem(pen=grey), "random-init (dashed)")
        if other is not None:
            dots = pg.mkPen("#555", width=2)
            dots.setDashPattern([1, 2])
            legend.addItem(pg.PlotDataItem(pen=dots), f"{self.overlay_label} (dotted)")
        values = [f[g] for f in trained + random for g in DETECTOR_GROUPS]
        values += [v for f in other or () for v in f.values() if np.isfinite(v)]
        highest = max(values, default=0.0)
        return min(1.03, max(0.25, math.ceil(highest * 10 + 0.5) / 10))

    def overlay_fractions(self) -> list[dict] | None:
        """The overlaid model's detector fractions at each of this chart's layers
        (group -> fraction; empty where it has no layer of that name), or None."""
        if self.overlay is None or self.report is None:
            return None
        theirs = {s.layer: s for s in self.overlay.selectivity.layers}
        return [
            theirs[d.layer].fractions("trained") if d.layer in theirs else {}
            for d in self.report.layers
        ]

    def fit_range(self) -> None:
        """The whole report in view with room for the end names (on every resize)."""
        if not self.axis.names:
            return
        pad = self.axis.padding(self.plot.getPlotItem().vb.width())
        self.plot.getPlotItem().setXRange(-pad, len(self.axis.names) - 1 + pad, padding=0)

    def mark(self, layer: str) -> None:
        """Put the dashed marker on ``layer`` (hidden if the report has no such layer)."""
        names = self.axis.names
        self.marker.setVisible(layer in names)
        if layer in names:
            self.marker.setValue(names.index(layer))
            self.marker.label.setFormat(layer)

    def hover_text(self, x: float) -> str:
        """What hovering at ``x`` (view coordinates) says: the nearest layer, its fractions."""
        if self.report is None or not self.report.layers:
            return ""
        index = int(np.clip(round(x), 0, len(self.report.layers) - 1))
        layer = self.report.layers[index]
        count = len(self.report.layers)
        head = f"<b>{html.escape(layer.layer)}</b> (layer {index + 1} of {count}): "
        if self.mode == DETECTORS:
            text = head + detectors_text(self.report.selectivity.layers[index])
            other = self.overlay_fractions()
            if other is not None:
                said = " · ".join(f"{g} {100 * v:.0f}%" for g, v in other[index].items())
                text += f"<br>{html.escape(self.overlay_label)}: {said or 'no such layer'}"
            return text
        return (
            head
            + fractions_text(layer, scored=getattr(self.report, "scored", None))
            + f"<br>Concepts scored: {html.escape(self.report.concepts)}."
        )

    def _hover(self, event) -> None:
        vb = self.plot.getPlotItem().vb
        position = event[0]
        if self.report is None or not vb.sceneBoundingRect().contains(position):
            self._hovered = -1
            return
        x = vb.mapSceneToView(position).x()
        index = round(x)
        if index != self._hovered:
            self._hovered = index
            QToolTip.showText(
                self.plot.mapToGlobal(self.plot.mapFromScene(position)),
                self.hover_text(x),
                self.plot,
            )
