"""The large view of one channel: on the input, its gradient map, its statistics.

Left: the input in grey with the channel stretched over it in colour (each unit
covers the part of the image its grid cell spans) and, while the mouse hovers a
unit, the unit's receptive field drawn as a rectangle. Middle: the gradient of
the target score with respect to this channel (blue negative, red positive).
Right: numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QPen
from PyQt6.QtWidgets import QGraphicsRectItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.widgets.elided_label import ElidedLabel
from gui.widgets.image_helpers import (
    DEFAULT_COLORMAP,
    DIVERGING_COLORMAP,
    colorize,
    grayscale_rgb,
    image_box,
    normalise,
    show_rgb,
    signed_unit,
)
from inspector.render.figures import as_maps

if TYPE_CHECKING:
    from inspector import Inspection, LayerRecord

OVERLAY_OPACITY = 0.6
STATS_WIDTH = 210
DETAIL_LINES = 3
RF_COLOUR = QColor(255, 40, 40)


class ChannelView(QWidget):
    """One channel in detail. Emits ``unit_hovered(row, col)`` over the large map."""

    unit_hovered = pyqtSignal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Fixed sizes so that the layout never moves with a name's or a number's length:
        # a one-line elided title, a detail of fixed height, a stats column of fixed width.
        self.title = ElidedLabel(bold=True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setFixedHeight(DETAIL_LINES * self.detail.fontMetrics().lineSpacing() + 4)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(2, 2, 2, 2)
        self.input_box, self.input_item = image_box(self.graphics, 0, 0, "on the input")
        self.heat_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item.setOpacity(OVERLAY_OPACITY)
        self.input_box.addItem(self.heat_item)
        self.rf_item = QGraphicsRectItem()
        pen = QPen(RF_COLOUR, 0)  # cosmetic: 1 screen pixel whatever the zoom
        pen.setWidth(2)
        pen.setCosmetic(True)
        self.rf_item.setPen(pen)
        self.rf_item.setZValue(10)
        self.rf_item.hide()
        self.input_box.addItem(self.rf_item)
        self.gradient_box, self.gradient_item = image_box(self.graphics, 2, 0, "its gradient")
        self.stats = QLabel()
        self.stats.setFixedWidth(STATS_WIDTH)
        self.stats.setWordWrap(True)
        self.stats.setAlignment(Qt.AlignmentFlag.AlignTop)
        body = QHBoxLayout()
        body.addWidget(self.graphics, 1)
        body.addWidget(self.stats)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addLayout(body, 1)
        self._proxy = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved
        )
        self._record: LayerRecord | None = None
        self._channel = 0
        self._input_hw = (1, 1)
        self.clear()

    # --- public -----------------------------------------------------------------------
    @property
    def channel(self) -> int:
        return self._channel

    @property
    def record(self) -> LayerRecord | None:
        return self._record

    def show_channel(
        self,
        inspection: Inspection,
        record: LayerRecord,
        channel: int,
        colormap: str = DEFAULT_COLORMAP,
    ) -> None:
        """Show channel ``channel`` of ``record`` over ``inspection``'s input."""
        self._record, self._channel = record, channel
        display = inspection.display_image
        self._input_hw = display.shape[:2]
        height, width = self._input_hw
        show_rgb(self.input_item, grayscale_rgb(display))
        activation = as_maps(record.activation)[..., channel]
        gradient = as_maps(record.gradient)[..., channel]
        spatial = record.is_spatial
        if spatial:
            heat = colorize(normalise(activation[..., None], per_channel=True)[..., 0], colormap)
            show_rgb(self.heat_item, heat)
            self.heat_item.setRect(QRectF(0, 0, width, height))
            self.heat_item.show()
            show_rgb(self.gradient_item, colorize(signed_unit(gradient), DIVERGING_COLORMAP))
        else:
            self.heat_item.hide()
            self.gradient_item.clear()
        self._set_titles(record, channel, spatial)
        self.stats.setText(channel_statistics(record, channel))
        self.show_receptive_field(None)

    def show_receptive_field(self, window: tuple[float, float, float, float] | None) -> None:
        """Draw ``(top, left, bottom, right)`` in input pixels, clipped to the image; None hides."""
        if window is None:
            self.rf_item.hide()
            return
        top, left, bottom, right = clip_window(window, self._input_hw)
        self.rf_item.setRect(QRectF(left, top, right - left, bottom - top))
        self.rf_item.show()

    def hover_unit(self, row: int, col: int) -> None:
        """Draw the receptive field of unit ``(row, col)`` of the shown channel."""
        field = self._record.receptive_field if self._record else None
        self.show_receptive_field(None if field is None else field.window(row, col))

    def receptive_field_rect(self) -> tuple[float, float, float, float] | None:
        """The drawn rectangle as ``(top, left, bottom, right)``, or None when hidden."""
        if not self.rf_item.isVisible():
            return None
        rect = self.rf_item.rect()
        return rect.top(), rect.left(), rect.bottom(), rect.right()

    def clear(self) -> None:
        self._record = None
        for item in (self.input_item, self.heat_item, self.gradient_item):
            item.clear()
        self.rf_item.hide()
        self.title.setText("One channel")
        self.detail.setText("")
        self.stats.setText("Click a channel in the grid to see it here.")

    # --- internals ----------------------------------------------------------------------
    def _set_titles(self, record: LayerRecord, channel: int, spatial: bool) -> None:
        what = "channel" if spatial else "unit"
        detail = (
            "Top: the channel stretched over the input (bright = strong). Bottom: the "
            "gradient of the target score with respect to it (blue −, white 0, red +)."
            if spatial
            else "This layer has no spatial axes, so there is no map to draw."
        )
        self.title.setText(f"{record.name} · {what} {channel}")
        self.detail.setText(detail)

    def _on_mouse_moved(self, event: tuple) -> None:
        if self._record is None or not self._record.is_spatial:
            return
        # setRect stretched the heat map over the input, so its local coordinates
        # are the channel's own unit grid.
        point = self.heat_item.mapFromScene(event[0])
        height, width = self._record.output_shape[:2]
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= row < height and 0 <= col < width:
            self.hover_unit(row, col)
            self.unit_hovered.emit(row, col)


def clip_window(
    window: tuple[float, float, float, float], input_hw: tuple[int, int]
) -> tuple[float, float, float, float]:
    """Clip ``(top, left, bottom, right)`` to an image of ``input_hw`` ``(H, W)``."""
    top, left, bottom, right = window
    height, width = input_hw
    return max(0.0, top), max(0.0, left), min(float(height), bottom), min(float(width), right)


def channel_statistics(record: LayerRecord, channel: int) -> str:
    """HTML table of the channel's activation and gradient statistics."""
    activation = as_maps(record.activation)[..., channel]
    gradient = as_maps(record.gradient)[..., channel]
    peak = np.unravel_index(int(np.argmax(activation)), activation.shape)
    field = record.receptive_field
    if field is None:
        field_text = record.receptive_field_note or "n/a"
    elif field.is_global:
        field_text = "whole image"
    else:
        field_text = f"{field.size[0]}×{field.size[1]} px"
    rows = [
        ("mean", f"{activation.mean():.4g}"),
        ("max", f"{activation.max():.4g} at {tuple(int(p) for p in peak[:2])}"),
        ("min", f"{activation.min():.4g}"),
        ("std", f"{activation.std():.4g}"),
        ("active (> 0)", f"{(activation > 0).mean():.0%}"),
        ("mean gradient", f"{gradient.mean():.3g}"),
        ("max |gradient|", f"{np.abs(gradient).max():.3g}"),
        ("Σ act × grad", f"{float((activation * gradient).sum()):.3g}"),
        ("receptive field", field_text),
    ]
    body = "".join(f"<tr><td>{k}</td><td align='right'>{v}</td></tr>" for k, v in rows)
    return f"<b>{record.name}</b><br>channel {channel}<table cellspacing='3'>{body}</table>"
