"""A colour bar beside a colormapped picture: which colour means which value.

The views colour their arrays themselves (``image_helpers.colorize``), so the bar
is only a legend: pyqtgraph's ``ColorBarItem``, not interactive and not linked to
any image, showing the same lookup table and the range it stands for.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyqtgraph as pg

from gui.widgets.image_helpers import lookup_table

BAR_WIDTH = 14


@cache
def colour_map(name: str) -> pg.ColorMap:
    """The ``pg.ColorMap`` of one of our lookup tables (the engine's or pyqtgraph's).

    Cached: building one costs ~7 ms (a QColor per entry), too much per layer switch.
    """
    table = lookup_table(name)
    return pg.ColorMap(np.linspace(0.0, 1.0, len(table)), table)


def make_colour_bar(colormap: str) -> pg.ColorBarItem:
    """A vertical, read-only colour bar for ``colormap`` over 0..1."""
    bar = pg.ColorBarItem(
        values=(0.0, 1.0),
        width=BAR_WIDTH,
        colorMap=colour_map(colormap),
        interactive=False,
        colorMapMenu=False,
    )
    bar.axis.enableAutoSIPrefix(False)  # no "(x0.001)": the label says what the values are
    return bar


def set_colour_bar(
    bar: pg.ColorBarItem, colormap: str, low: float, high: float, label: str
) -> None:
    """Show ``colormap`` from ``low`` (bottom) to ``high`` (top), with an axis ``label``."""
    if not high > low:  # a constant map: keep a visible, honest range around the value
        low, high = low - 0.5, high + 0.5
    # Each change re-renders a pixmap or re-lays out the axis: only change what differs
    # (switching layers in "per channel" mode changes nothing here).
    if bar.colorMap() is not colour_map(colormap):
        bar.setColorMap(colour_map(colormap))
    if colour_bar_range(bar) != (float(low), float(high)):
        bar.setLevels(values=(float(low), float(high)))
    axis = bar.getAxis("left")
    if axis.labelText != label:
        axis.setLabel(label)


def colour_bar_range(bar: pg.ColorBarItem) -> tuple[float, float]:
    """The ``(low, high)`` values the bar's ends stand for."""
    low, high = bar.levels()
    return float(low), float(high)
