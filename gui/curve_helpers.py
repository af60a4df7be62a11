"""Curve plots for training: labelled axes with units, a legend, optional log y.

The training tab and the weight-updates view draw many small families of
curves (one per layer, or train/validation pairs). ``make_plot`` builds a
``pg.PlotWidget`` the same way everywhere, and ``CurveGroup`` keeps one
``PlotDataItem`` per name so that live updates only call ``setData``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHBoxLayout, QWidget

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
) -> pg.PlotWidget:
    """A plot with a title, labelled axes, a legend and optional log-scale y.

    Args:
        title: shown above the plot.
        x_label, y_label: axis names, e.g. ``"step"`` and ``"‖ΔW‖ / ‖W‖"``.
        x_units, y_units: units shown in brackets; None for dimensionless values.
        log_y: True for values spanning decades (update ratios, gradient norms).

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
    item.addLegend(offset=(-10, 10), labelTextColor="k")
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
        symbols: draw a marker at each point (for sparse per-epoch values).
    """

    def __init__(
        self,
        plot: pg.PlotWidget,
        *,
        dashed: Iterable[str] = (),
        symbols: bool = False,
    ) -> None:
        self.plot = plot
        self._dashed = set(dashed)
        self._symbols = symbols
        self._items: dict[str, pg.PlotDataItem] = {}
        self._points: dict[str, tuple[list[float], list[float]]] = {}

    @property
    def names(self) -> tuple[str, ...]:
        """The curve names, in the order they were first drawn."""
        return tuple(self._items)

    def item(self, name: str) -> pg.PlotDataItem:
        """The ``PlotDataItem`` drawing ``name``; KeyError if it was never drawn."""
        return self._items[name]

    def set_series(self, name: str, x: Sequence[float], y: Sequence[float]) -> None:
        """Replace the whole curve ``name`` (created on first use)."""
        self._points[name] = (list(map(float, x)), list(map(float, y)))
        self._redraw(name)

    def append(self, name: str, x: float, y: float) -> None:
        """Add one point to the curve ``name`` without redrawing; call ``redraw``."""
        xs, ys = self._points.setdefault(name, ([], []))
        xs.append(float(x))
        ys.append(float(y))

    def redraw(self) -> None:
        """Push every curve's points to its plot item (after ``append`` calls)."""
        for name in self._points:
            self._redraw(name)

    def clear(self) -> None:
        """Remove every curve and its legend entry."""
        for item in self._items.values():
            self.plot.removeItem(item)
        self._items.clear()
        self._points.clear()

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
        symbol = {"symbol": "o", "symbolSize": 5, "symbolBrush": colour} if self._symbols else {}
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
