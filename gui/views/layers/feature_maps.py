"""Feature maps of the selected layer: every channel in one grid, and one in detail.

The grid is ONE RGB mosaic in ONE ``pg.ImageItem`` (not a widget per channel), so
switching layers costs one NumPy pass and one texture upload. Channels can be
sorted by mean or max activation, normalised per channel or over the layer, and
coloured with any colormap; every tile carries its channel number (sorted, its
position is not its index) and a colour bar beside the grid gives the scale. A
layer without spatial axes (dense, logits) is drawn as a bar chart instead of a
grid of one-pixel tiles. Clicking a tile opens it in the ``ChannelView``;
hovering a unit draws its receptive field on the input there. The hover readout
is cleared whenever the layer, the image or the model changes, so it never
describes something no longer shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QPen
from PyQt6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.views.layers.channel import ChannelView
from gui.widgets.colour_bar import make_colour_bar, set_colour_bar
from gui.widgets.elided_label import ElidedLabel
from gui.widgets.image_helpers import (
    COLORMAPS,
    MosaicLayout,
    caption_label,
    image_box,
    mosaic_layout,
    normalise,
    paint_mosaic,
    show_rgb,
)
from gui.widgets.tile_labels import TileNumbers
from gui.widgets.vector_bars import VectorBars
from inspector.render.figures import as_maps, channel_order

if TYPE_CHECKING:
    from inspector import Inspection, LayerRecord

SORTS = (("channel order", "index"), ("mean activation", "mean"), ("max activation", "max"))
NORMALISATIONS = (("per channel", True), ("per layer", False))
SELECTED_COLOUR = QColor(255, 40, 40)
HOVER_HINT = "Hover a tile (or a bar) to read a unit's value."
PER_CHANNEL_LABEL = "each tile: its own min (0) .. max (1)"


def default_layer(inspection: Inspection) -> str:
    """The first conv layer (its maps are the easiest to read), else the first spatial one."""
    spatial = inspection.spatial_layers
    convs = [r for r in spatial if "Conv" in r.class_name]
    return (convs or spatial or inspection.layers)[0].name


def selection_rect(layout: MosaicLayout, channel: int) -> QRectF:
    """The outline of ``channel``'s tile, in mosaic pixels: the tile itself grown by half
    the gap on every side, so the box sits in the gap around the tile and covers none of
    its pixels nor, at gap 0, more than its own edge."""
    top, left = layout.tile_origin(layout.order.index(channel))
    half = layout.gap / 2
    return QRectF(left - half, top - half, layout.tile_w + layout.gap, layout.tile_h + layout.gap)


def unit_readout(record: LayerRecord, channel: int, row: int, col: int) -> str:
    """One line about one unit: its value, its gradient and the input window it sees."""
    value = as_maps(record.activation)[row, col, channel]
    gradient = as_maps(record.gradient)[row, col, channel]
    if np.ndim(record.activation) == 1:
        return f"unit {channel}: activation {value:.4g}, gradient {gradient:.3g}"
    text = (
        f"channel {channel}, unit ({row}, {col}): activation {value:.4g}, gradient {gradient:.3g}"
    )
    field = record.receptive_field
    if field is not None and not field.is_global:
        top, left, bottom, right = field.window(row, col)
        text += f"; sees input rows {top:g}..{bottom:g}, cols {left:g}..{right:g}"
    return text


def _combo(items: tuple, tooltip: str) -> QComboBox:
    combo = QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    combo.setToolTip(tooltip)
    return combo


class FeatureMapView(QWidget):
    """Grid of every channel of one layer plus the large ``ChannelView``.

    Signals:
        channel_selected(layer, channel): a tile was clicked (or selected in code).
        unit_hovered(layer, channel, row, col): the mouse is over a unit of the grid.
    """

    channel_selected = pyqtSignal(str, int)
    unit_hovered = pyqtSignal(str, int, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sort_combo = _combo(SORTS, "Order of the tiles in the grid")
        self.sort_combo.setCurrentIndex(self.sort_combo.findData("mean"))  # strongest first
        self.normalise_combo = _combo(
            NORMALISATIONS, "Per channel: each tile uses its own min..max. Per layer: one scale."
        )
        self.colormap_combo = _combo(tuple((c, c) for c in COLORMAPS), "Colormap of the grid")
        self.title = ElidedLabel(bold=True)  # fixed width: the combos never move
        self.caption = caption_label()
        self.readout = ElidedLabel(HOVER_HINT)
        self.graphics = pg.GraphicsLayoutWidget()
        self.grid_box, self.grid_item = image_box(self.graphics, 0, 0)
        self.colour_bar = make_colour_bar(self.colormap_combo.currentData())
        self.graphics.addItem(self.colour_bar, row=0, col=1)
        self.tile_numbers = TileNumbers()
        self.grid_box.addItem(self.tile_numbers)
        self.bars = VectorBars()
        self.bars.unit_clicked.connect(self.select_channel)
        self.bars.unit_hovered.connect(lambda unit: self.hover_unit(unit, 0, 0))
        self.grid_stack = QStackedWidget()
        self.grid_stack.addWidget(self.graphics)
        self.grid_stack.addWidget(self.bars)
        self.selection_item = QGraphicsRectItem()
        pen = QPen(SELECTED_COLOUR, 0)
        pen.setWidth(2)
        pen.setCosmetic(True)
        self.selection_item.setPen(pen)
        self.selection_item.hide()
        self.grid_box.addItem(self.selection_item)
        self.channel_view = ChannelView()
        self._build_layout()
        for combo in (self.sort_combo, self.normalise_combo, self.colormap_combo):
            combo.currentIndexChanged.connect(self._repaint)
        self.graphics.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._proxy = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved
        )
        self._inspection: Inspection | None = None
        self._record: LayerRecord | None = None
        self._layout: MosaicLayout | None = None
        self._channel = 0
        self.clear()

    def _build_layout(self) -> None:
        controls = QHBoxLayout()
        controls.addWidget(self.title, 1)
        for label, combo in (
            ("Sort", self.sort_combo),
            ("Normalise", self.normalise_combo),
            ("Colormap", self.colormap_combo),
        ):
            controls.addWidget(QLabel(label))
            controls.addWidget(combo)
        grid_panel = QWidget()
        grid_layout = QVBoxLayout(grid_panel)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        grid_layout.addWidget(self.grid_stack, 1)
        grid_layout.addWidget(self.readout)
        grid_layout.addWidget(self.caption)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(grid_panel)
        splitter.addWidget(self.channel_view)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 440])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)

    # --- the view contract ------------------------------------------------------------
    def set_inspection(self, inspection: Inspection) -> None:
        """Show the same layer of a new inspection (or its first spatial layer)."""
        self._inspection = inspection
        self.clear_readout()  # a new image or model: the last hover is about the old one
        name = self._record.name if self._record else None
        if name not in inspection.layer_names:
            name = default_layer(inspection)
        self.set_layer(name, keep_channel=True)

    def clear(self) -> None:
        self._inspection = self._record = self._layout = None
        self.grid_item.clear()
        self.tile_numbers.set_layout(None)
        self.selection_item.hide()
        self.clear_readout()
        self.channel_view.clear()
        self.title.setText("<b>Feature maps</b> · no image inspected yet")
        self.caption.setText("")

    # --- user actions -----------------------------------------------------------------
    def set_layer(self, name: str, keep_channel: bool = False) -> None:
        """Show every channel of layer ``name``; the strongest (highest mean) opens large."""
        if self._inspection is None:
            return
        previous = self._record.name if self._record else None
        self._record = self._inspection.layer(name)
        if previous != name:
            self.clear_readout()
        self._repaint()
        if keep_channel and previous == name and self._channel < self.channel_count:
            self.select_channel(self._channel)
        else:
            maps = as_maps(self._record.activation)
            self.select_channel(int(channel_order(maps, "mean")[0]))

    def set_sort(self, sort_by: str) -> None:
        """``"index"``, ``"mean"`` or ``"max"``."""
        self.sort_combo.setCurrentIndex(self.sort_combo.findData(sort_by))

    def set_per_channel(self, per_channel: bool) -> None:
        self.normalise_combo.setCurrentIndex(self.normalise_combo.findData(per_channel))

    def set_colormap(self, name: str) -> None:
        self.colormap_combo.setCurrentIndex(self.colormap_combo.findData(name))

    def select_channel(self, channel: int) -> None:
        """Open ``channel`` in the large view and outline its tile in the grid."""
        if self._record is None or self._layout is None:
            return
        self._channel = int(channel)
        self.selection_item.setRect(selection_rect(self._layout, self._channel))
        self.selection_item.setVisible(not self.is_vector)
        self.bars.select(self._channel)
        self.channel_view.show_channel(self._inspection, self._record, self._channel, self.colormap)
        self.channel_selected.emit(self._record.name, self._channel)

    def hover_unit(self, channel: int, row: int, col: int) -> None:
        """Draw the receptive field of unit ``(row, col)`` on the input of the large view.

        Every channel of a layer shares the same field geometry, so the large view
        keeps showing the clicked channel.
        """
        if self._record is None:
            return
        self.channel_view.hover_unit(row, col)
        text = unit_readout(self._record, channel, row, col)
        names = self._unit_names() if self.is_vector else ()
        if 0 <= channel < len(names):
            text += f" · class {names[channel]!r}"
        self.readout.setText(text)
        self.unit_hovered.emit(self._record.name, channel, row, col)

    def clear_readout(self) -> None:
        """Forget the last hovered unit: the readout and the receptive-field box."""
        self.readout.setText(HOVER_HINT)
        self.channel_view.show_receptive_field(None)

    # --- state ------------------------------------------------------------------------
    @property
    def is_vector(self) -> bool:
        """True when the layer shown has no spatial axes (drawn as bars)."""
        return self._record is not None and np.ndim(self._record.activation) == 1

    @property
    def layer_name(self) -> str | None:
        return self._record.name if self._record else None

    @property
    def channel(self) -> int:
        return self._channel

    @property
    def channel_count(self) -> int:
        return 0 if self._record is None else as_maps(self._record.activation).shape[-1]

    @property
    def colormap(self) -> str:
        return self.colormap_combo.currentData()

    @property
    def mosaic_layout(self) -> MosaicLayout | None:
        return self._layout

    def mosaic(self) -> np.ndarray | None:
        """The grid image currently shown, uint8 ``(H, W, 3)``."""
        return self.grid_item.image

    # --- painting ---------------------------------------------------------------------
    def _repaint(self) -> None:
        if self._record is None:
            return
        maps = as_maps(self._record.activation)
        order = channel_order(maps, self.sort_combo.currentData())
        per_channel = self.normalise_combo.currentData()
        self._layout = mosaic_layout(maps.shape[:2], order)
        if self.is_vector:
            self.bars.show_vector(maps.reshape(-1), self._unit_names())
            self.grid_stack.setCurrentWidget(self.bars)
        else:
            show_rgb(
                self.grid_item,
                paint_mosaic(normalise(maps, per_channel), self._layout, self.colormap),
            )
            self.tile_numbers.set_layout(self._layout)
            # Only the mosaic decides the range (asking every child item costs ~1 ms).
            self.grid_box.autoRange(padding=0.01, items=[self.grid_item])
            self._update_colour_bar(maps, per_channel)
            self.grid_stack.setCurrentWidget(self.graphics)
        self._update_text(maps, per_channel)
        if self.channel_view.record is self._record:
            self.select_channel(self._channel)

    def _unit_names(self) -> tuple[str, ...]:
        """Class names for the units of the class logits (or the model's output layer)."""
        record, inspection = self._record, self._inspection
        if record.name.endswith(".logits") or record.name == inspection.output_name:
            return inspection.labels
        return ()

    def _update_colour_bar(self, maps: np.ndarray, per_channel: bool) -> None:
        if per_channel:
            set_colour_bar(self.colour_bar, self.colormap, 0.0, 1.0, PER_CHANNEL_LABEL)
        else:
            low, high = float(maps.min()), float(maps.max())
            set_colour_bar(self.colour_bar, self.colormap, low, high, "activation")

    def _update_text(self, maps: np.ndarray, per_channel: bool) -> None:
        record = self._record
        shape = "×".join(str(d) for d in record.output_shape)
        units = "units" if self.is_vector else "channels"
        self.title.setText(
            f"{record.name} ({record.class_name}, {shape}) · {maps.shape[-1]} {units}"
        )
        if self.is_vector:
            self.caption.setText(
                "No spatial axes: one bar per unit, in unit order, height = activation. "
                "Click a bar to open that unit; hover it to read its value."
            )
            return
        scale = (
            "each tile scaled to its own min..max"
            if per_channel
            else f"one scale for the layer: {maps.min():.3g} (dark) .. {maps.max():.3g} (bright)"
        )
        sort = self.sort_combo.currentText()
        self.caption.setText(
            f"Sorted by {sort}; {scale}. The number on a tile is its channel (zoom in with the "
            "wheel when the tiles are too small for it). Click a tile to enlarge it; hover a "
            "unit to see its receptive field on the input."
        )

    # --- mouse ------------------------------------------------------------------------
    def _unit_at_scene(self, scene_pos) -> tuple[int, int, int] | None:
        if self._layout is None:
            return None
        point = self.grid_item.mapFromScene(scene_pos)
        return self._layout.unit_at(point.x(), point.y())

    def _on_mouse_clicked(self, event) -> None:
        hit = self._unit_at_scene(event.scenePos())
        if hit is not None:
            self.select_channel(hit[0])

    def _on_mouse_moved(self, event: tuple) -> None:
        hit = self._unit_at_scene(event[0])
        if hit is not None:
            self.hover_unit(*hit)
