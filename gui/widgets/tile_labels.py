"""Channel numbers drawn on the tiles of a feature-map mosaic.

Sorted by mean or max, a tile's position is not its channel index, so every tile
carries its number. One graphics item draws them all in screen pixels (a fixed,
readable font size whatever the zoom) and only when a tile is big enough on
screen to hold one; zoom in (mouse wheel) to reveal them on wide layers, or hover
a tile: the readout always names the channel.
"""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QPainter, QTransform

from gui.widgets.image_helpers import MosaicLayout

MIN_TILE_PIXELS = 18.0  # on-screen tile width below which numbers would cover the tile
FONT_PIXELS = 10
LABEL_BACKGROUND = QColor(0, 0, 0, 150)
LABEL_TEXT = QColor(255, 255, 255)


class TileNumbers(pg.GraphicsObject):
    """Draws ``order[k]`` in the top-left corner of tile ``k`` of a ``MosaicLayout``.

    Lives in the same view box as the mosaic's ImageItem, which sits at the origin,
    so its coordinates are mosaic pixels.
    """

    def __init__(self) -> None:
        super().__init__()
        self._layout: MosaicLayout | None = None
        self._font = QFont()
        self._font.setPixelSize(FONT_PIXELS)
        self.setZValue(5)

    def set_layout(self, layout: MosaicLayout | None) -> None:
        """Label the tiles of ``layout`` (None: no labels)."""
        self.prepareGeometryChange()
        self._layout = layout
        self.update()

    def labels(self) -> list[tuple[int, float, float]]:
        """``(channel, x, y)`` of every label's anchor (its tile's top-left corner)."""
        if self._layout is None:
            return []
        return [
            (channel, float(left), float(top))
            for position, channel in enumerate(self._layout.order)
            for top, left in [self._layout.tile_origin(position)]
        ]

    def tile_screen_width(self, transform: QTransform | None = None) -> float:
        """How wide one tile is on screen, in device pixels (0 when not shown).

        Args:
            transform: item -> device; default: the item's current one in its view.
        """
        if transform is None:
            # pyqtgraph's helper, not QGraphicsItem's (which needs the view's transform).
            transform = self.deviceTransform_()
        if self._layout is None or transform is None:
            return 0.0
        origin = transform.map(QPointF(0, 0))
        corner = transform.map(QPointF(self._layout.tile_w, 0))
        return abs(corner.x() - origin.x())

    def numbers_visible(self, transform: QTransform | None = None) -> bool:
        """Whether the tiles are big enough on screen for their numbers to be drawn."""
        return self.tile_screen_width(transform) >= MIN_TILE_PIXELS

    def boundingRect(self) -> QRectF:
        if self._layout is None:
            return QRectF()
        height, width = self._layout.shape
        return QRectF(0, 0, width, height)

    def paint(self, painter: QPainter, *_args) -> None:
        transform = painter.worldTransform()
        if self._layout is None or not self.numbers_visible(transform):
            return
        painter.save()
        painter.resetTransform()  # draw in screen pixels: a constant, readable size
        painter.setFont(self._font)
        metrics = painter.fontMetrics()
        for channel, x, y in self.labels():
            anchor = transform.map(QPointF(x, y))
            text = str(channel)
            box = QRectF(
                anchor.x(), anchor.y(), metrics.horizontalAdvance(text) + 3, FONT_PIXELS + 2
            )
            painter.fillRect(box, LABEL_BACKGROUND)
            painter.setPen(LABEL_TEXT)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
