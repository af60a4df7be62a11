"""Network Dissection on the Hierarchy strip: each column's concept fractions, each tile's label.

When the Units tab has dissected the open model (Bau, Zhou, Khosla, Oliva &
Torralba, "Network Dissection", CVPR 2017, section 3.2; computed by
``inspector.units.dissection``), the Hierarchy view shows, under each conv
column, the fraction of the layer's units labelled with an edge, a face part, a
whole face, or no concept (``LayerDissection.fractions``, which count EVERY
unit of the layer, not only the tiles shown), and on each of the column's
channel tiles that unit's own label. This is the "edges -> parts -> faces"
picture as measured on annotated images, beside the one read off this image's
activations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter

if TYPE_CHECKING:
    from inspector.units.dissection import LayerDissection

GROUP_ORDER = ("edge", "part", "face", "none")
FONT_PIXELS = 9
BAND = FONT_PIXELS + 3  # the dark band at the foot of a tile that carries its label
BAND_COLOUR = QColor(0, 0, 0, 170)
TEXT_COLOUR = QColor(255, 255, 255)


def fractions_text(
    layer: LayerDissection, separator: str = " · ", scored: tuple[str, ...] | None = None
) -> str:
    """Each group's share of the layer's units: ``"edge 25% · part 0% · face 0% · none 75%"``.

    Under a narrow column the groups go one per line (``separator="<br>"``). A
    group outside ``scored`` (None: all) had no masks and reads "not scored".
    """
    return separator.join(
        f"{g} {100 * layer.fractions.get(g, 0.0):.0f}%"
        if scored is None or g == "none" or g in scored
        else f"{g} not scored"
        for g in GROUP_ORDER
    )


def tile_concepts(layer: LayerDissection, channels: np.ndarray) -> list[str]:
    """The dissection label of each channel in ``channels`` (``"none"`` if unlabelled)."""
    return [layer.labels[int(c)] for c in channels]


def matching_layer(report, name: str, units: int) -> LayerDissection | None:
    """The report's dissection of layer ``name`` if it has ``units`` units, else None.

    A report of another model with a same-named layer of another width is not used.
    """
    layer = report.layer(name) if report is not None else None
    return layer if layer is not None and len(layer.labels) == units else None


def draw_tile_labels(column: np.ndarray, labels: list[str], tile: int, gap: int) -> np.ndarray:
    """``column`` with ``labels[k]`` written on a dark band at the foot of tile ``k``.

    Args:
        column: uint8 ``(rows, tile, 3)``, tiles stacked top to bottom ``tile + gap`` apart.
        labels: one text per tile, top first.
        tile: a tile's edge in pixels; ``gap``: the white space between two tiles.

    Returns:
        A new uint8 array of the same shape (``column`` is not changed).
    """
    rgb = np.ascontiguousarray(column, dtype=np.uint8)
    height, width = rgb.shape[:2]
    # A copy that owns its pixels: Qt paints into it, then it is read back.
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    painter = QPainter(image)
    font = QFont()
    font.setPixelSize(FONT_PIXELS)
    painter.setFont(font)
    for row, text in enumerate(labels):
        bottom = row * (tile + gap) + tile
        band = QRect(0, bottom - BAND, width, BAND)
        painter.fillRect(band, BAND_COLOUR)
        painter.setPen(TEXT_COLOUR)
        painter.drawText(band, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    rows = np.frombuffer(bits, np.uint8).reshape(height, image.bytesPerLine())
    return rows[:, : 3 * width].reshape(height, width, 3).copy()
