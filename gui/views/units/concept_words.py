"""What each unit detects, on the Hierarchy strip: each column's fractions, each tile's label.

With the selectivity measures (``inspector.units.selectivity``: orientation
selectivity on gratings, the pointing game on the face parts, face-vs-non-face
AUC, each held against random-init copies of the architecture), a column shows
the share of its units that are edge, part and face detectors, and each tile the
groups its unit detects ("edge", "eye", "face", "eye+face"; "-" for none). These
are the measures the hierarchy verdict reads. Without them (a model the face
photos do not fit), the Network Dissection labels are shown instead:

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
    from inspector.units.selectivity_report import LayerSelectivity

GROUP_ORDER = ("edge", "part", "face", "none")
DETECTOR_GROUPS = ("edge", "part", "face")
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


def detectors_text(layer: LayerSelectivity, separator: str = " · ", random: bool = True) -> str:
    """Each group's share of detectors: ``"edge 12% (random 4%) · part 0% (random 4%) · ..."``
    (``random=False``: without the random-init copies' rates)."""
    found, chance = layer.fractions("trained"), layer.fractions("random")
    return separator.join(
        f"{g} {100 * found[g]:.0f}%" + (f" (random {100 * chance[g]:.0f}%)" if random else "")
        for g in DETECTOR_GROUPS
    )


def tile_detectors(layer: LayerSelectivity, channels: np.ndarray) -> list[str]:
    """What each unit in ``channels`` detects, in a few letters: ``"edge"``, its best
    part for a part detector (``"eye"``), ``"face"``, joined with "+"; ``"-"`` for none."""
    groups = layer.detector_of
    best = layer.trained.best_part
    labels = []
    for c in channels:
        words = [best[int(c)] if g == "part" else g for g in groups[int(c)]]
        labels.append("+".join(words) or "-")
    return labels


def tile_concepts(layer: LayerDissection, channels: np.ndarray) -> list[str]:
    """The dissection label of each channel in ``channels`` (``"none"`` if unlabelled)."""
    return [layer.labels[int(c)] for c in channels]


def matching_layer(report, name: str, units: int) -> LayerDissection | None:
    """The report's dissection of layer ``name`` if it has ``units`` units, else None.

    A report of another model with a same-named layer of another width is not used.
    """
    layer = report.layer(name) if report is not None else None
    return layer if layer is not None and len(layer.labels) == units else None


def matching_selectivity(report, name: str, units: int) -> LayerSelectivity | None:
    """The report's selectivity of layer ``name`` if measured with ``units`` units, else None."""
    selectivity = getattr(report, "selectivity", None)
    layer = selectivity.layer(name) if selectivity is not None else None
    return layer if layer is not None and len(layer.trained.osi) == units else None


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
