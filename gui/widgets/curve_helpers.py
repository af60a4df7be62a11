"""Curve plots for training: labelled axes with units, a legend, optional log y.

The training tab and the weight-updates view draw many small families of
curves (one per layer, or train/validation pairs). ``make_plot`` builds a
``pg.PlotWidget`` the same way everywhere, and ``CurveGroup`` keeps one
``PlotDataItem`` per name so that live updates only call ``setData``. Two tiny
widget helpers that both views use sit at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QComboBox, QGraphicsItem, QHBoxLayout, QWidget

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

# Distinct hues for up to this many curves before colours repeat; face-model
# layer counts are well below it.
_HUES = 9


def make_plot(
    title: str,
    *,
    x_label: str,
    y_label: str,
    x_units: str | None = None,
    y_units: str | None = None,
    log_y: bool = False,
    legend_at_bottom: bool = False,
    legend_outside: bool = False,
) -> pg.PlotWidget:
    """A plot with a title, labelled axes, a legend and optional log-scale y.

    Args:
        title: shown above the plot.
        x_label, y_label: axis names, e.g. ``"step"`` and ``"‖ΔW‖ / ‖W‖"``.
        x_units, y_units: units shown in brackets; None for dimensionless values.
        log_y: True for values spanning decades (update ratios, gradient norms).
        legend_at_bottom: put the legend in the bottom-right corner instead of the
            top-right one (for curves that rise, like accuracy).
        legend_outside: put the legend in a column right of the plot area, where
            it cannot cover a curve (many curves that fill the whole area).

    Returns:
        The plot widget; its legend is ``plot.getPlotItem().legend``.
    """
    plot = pg.PlotWidget(title=title)
    plot.setBackground("w")
    item = plot.getPlotItem()
    # pyqtgraph's SI prefixes would turn "1e-3" into "m" on a dimensionless axis.
    item.setLabel("bottom", x_label, units=x_units)
    item.setLabel("left", y_label, units=y_units)
    item.getAxis("bottom").enableAutoSIPrefix(False)
    item.getAxis("left").enableAutoSIPrefix(False)
    item.showGrid(x=True, y=True, alpha=0.25)
    for side in ("left", "bottom"):
        # With the grid on, each axis item spans the whole plot, so every new
        # curve point repainted all its tick text; a cached pixmap is redrawn
        # only when the ticks change (a third of the training tab's paint time).
        item.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    if legend_outside:
        # Row 2 holds the axes and the view box; column 3 is right of the right axis.
        item.legend = pg.LegendItem(offset=None, labelTextColor="k")
        item.layout.addItem(item.legend, 2, 3)
    else:
        item.addLegend(offset=(-10, -10 if legend_at_bottom else 10), labelTextColor="k")
    item.setLogMode(x=False, y=log_y)
    plot.setMinimumHeight(160)
    return plot


def is_log_y(plot: pg.PlotWidget) -> bool:
    """Whether ``plot`` draws its y axis on a log scale."""
    return bool(plot.getPlotItem().getAxis("left").logMode)


def loggable(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Drop the points a log axis cannot show (zero, negative, NaN or infinite y).

    A zero update ratio at the first step is real data, but log10(0) is -inf and
    would make pyqtgraph draw a line to the bottom of the world.

    Returns:
        ``(x, y)`` as float64 arrays of equal length.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(ys) & (ys > 0) & np.isfinite(xs)
    return xs[keep], ys[keep]


class CurveGroup:
    """Named curves sharing one plot, each with its own colour and legend entry.

    Args:
        plot: the plot to draw into (from ``make_plot``).
        dashed: names drawn with a dashed pen (e.g. validation curves).
        marked: names drawn with a marker at each point (sparse per-epoch values).
    """

    def __init__(
        self,
        plot: pg.PlotWidget,
        *,
        dashed: Iterable[str] = (),
        marked: Iterable[str] = (),
    ) -> None:
        self.plot = plot
        self._dashed = set(dashed)
        self._marked = set(marked)
        self._items: dict[str, pg.PlotDataItem] = {}
        self._points: dict[str, tuple[list[float], list[float]]] = {}
        self._dirty: set[str] = set()

    @property
    def names(self) -> tuple[str, ...]:
        """The curve names, in the order they were first drawn."""
        return tuple(self._items)

    def item(self, name: str) -> pg.PlotDataItem:
        """The ``PlotDataItem`` drawing ``name``; KeyError if it was never drawn."""
        return self._items[name]

    def ensure(self, names: Iterable[str]) -> None:
        """Create empty curves for ``names`` now, so the legend does not grow later.

        A legend that changes size mid-run relayouts the whole plot; creating
        every live curve up front keeps each update a plain ``setData``.
        """
        for name in names:
            if name not in self._items:
                self._points.setdefault(name, ([], []))
                self._redraw(name)

    def set_series(self, name: str, x: Sequence[float], y: Sequence[float]) -> None:
        """Replace the whole curve ``name`` (created on first use)."""
        self._points[name] = (list(map(float, x)), list(map(float, y)))
        self._redraw(name)

    def append(self, name: str, x: float, y: float) -> None:
        """Add one point to the curve ``name`` without redrawing; call ``redraw``."""
        xs, ys = self._points.setdefault(name, ([], []))
        xs.append(float(x))
        ys.append(float(y))
        self._dirty.add(name)

    def redraw(self) -> None:
        """Push the points added by ``append`` since the last redraw to the plot."""
        for name in [name for name in self._points if name in self._dirty]:
            self._redraw(name)
        self._dirty.clear()

    def clear(self) -> None:
        """Remove every curve and its legend entry."""
        for item in self._items.values():
            self.plot.removeItem(item)
        self._items.clear()
        self._points.clear()
        self._dirty.clear()

    def _redraw(self, name: str) -> None:
        xs, ys = self._points[name]
        if is_log_y(self.plot):
            xs, ys = loggable(xs, ys)
        item = self._items.get(name)
        if item is None:
            item = self._new_item(name)
        item.setData(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))

    def _new_item(self, name: str) -> pg.PlotDataItem:
        colour = pg.intColor(len(self._items), hues=_HUES, values=1, maxValue=220)
        style = Qt.PenStyle.DashLine if name in self._dashed else Qt.PenStyle.SolidLine
        pen = pg.mkPen(colour, width=2, style=style)
        marked = name in self._marked
        symbol = {"symbol": "o", "symbolSize": 6, "symbolBrush": colour} if marked else {}
        item = self.plot.plot(name=name, pen=pen, **symbol)
        self._items[name] = item
        return item


def row_of(*widgets: QWidget) -> QWidget:
    """The widgets side by side in one borderless row (for control strips above plots)."""
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return holder


def refill_combo(combo: QComboBox, names: Iterable[str]) -> None:
    """Replace a combo box's items, keeping the current one if it is still there.

    Emits nothing: the caller repaints once afterwards instead of once per item.
    """
    names = list(names)
    if names == [combo.itemText(i) for i in range(combo.count())]:
        return
    current = combo.currentText()
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(names)
    if current in names:
        combo.setCurrentText(current)
    combo.blockSignals(False)
