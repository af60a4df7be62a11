"""The hierarchy: every conv layer side by side, first to last, with its strongest channels.

This is the "edges -> parts -> faces" picture, computed from the user's own
model and image. One column per conv layer (the input on the far left); each
column holds that layer's channels with the highest mean activation, enlarged
to the same tile size. When a conv is followed by its normalisation and
activation layers, the column shows the block's output (after the ReLU), since
that is what the next layer sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.widgets.image_helpers import (
    DEFAULT_COLORMAP,
    caption_label,
    colorize,
    image_box,
    normalise,
    resize,
    show_rgb,
)

if TYPE_CHECKING:
    from inspector import Inspection, LayerRecord

TOP_CHANNELS = 6
TILE = 64  # pixels per tile edge in the mosaic
GAP = 6
_FOLLOWERS = {
    "BatchNormalization",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "PReLU",
    "LayerNormalization",
    "GroupNormalization",
}


def is_conv(record: LayerRecord) -> bool:
    return record.is_spatial and "Conv" in record.class_name


def block_output(records: tuple[LayerRecord, ...], index: int) -> LayerRecord:
    """The last record of the chain conv -> norm -> activation that starts at ``index``."""
    current = records[index]
    for record in records[index + 1 :]:
        if (
            record.inputs == (current.name,)
            and record.class_name in _FOLLOWERS
            and record.output_shape == current.output_shape
        ):
            current = record
    return current


def hierarchy_columns(inspection: Inspection) -> list[tuple[LayerRecord, LayerRecord]]:
    """``(conv record, record shown)`` for every conv layer, in execution order."""
    records = inspection.layers
    return [(r, block_output(records, i)) for i, r in enumerate(records) if is_conv(r)]


def strongest_channels(activation: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` channels of ``(H, W, C)`` with the highest mean activation."""
    means = activation.mean(axis=(0, 1))
    return np.argsort(-means, kind="stable")[:count]


def column_image(record: LayerRecord, colormap: str = DEFAULT_COLORMAP) -> np.ndarray:
    """The strongest channels of ``record`` stacked top to bottom, uint8 RGB.

    Returns:
        ``(TOP_CHANNELS * (TILE + GAP) - GAP, TILE, 3)``; each tile is one channel,
        scaled to its own range and enlarged without smoothing (units stay visible).
    """
    maps = np.asarray(record.activation, dtype=np.float32)
    column = empty_column()
    for row, channel in enumerate(strongest_channels(maps, TOP_CHANNELS)):
        unit = normalise(maps[..., channel : channel + 1], per_channel=True)[..., 0]
        top = row * (TILE + GAP)
        column[top : top + TILE] = colorize(resize(unit, (TILE, TILE), smooth=False), colormap)
    return column


def empty_column() -> np.ndarray:
    """A white column with room for ``TOP_CHANNELS`` tiles, uint8 RGB."""
    return np.full((TOP_CHANNELS * (TILE + GAP) - GAP, TILE, 3), 255, dtype=np.uint8)


def input_column(display: np.ndarray) -> np.ndarray:
    """The input picture as the column's top tile (same size as every column)."""
    channels = [np.clip(resize(display[..., c], (TILE, TILE)), 0, 255) for c in range(3)]
    column = empty_column()
    column[:TILE] = np.stack(channels, axis=-1).astype(np.uint8)
    return column


def column_title(conv: LayerRecord, shown: LayerRecord) -> str:
    shape = "×".join(str(d) for d in shown.output_shape)
    field = conv.receptive_field
    sees = f"<br>sees {field.size[0]}×{field.size[1]} px" if field and not field.is_global else ""
    after = f"<br>after {shown.class_name}" if shown is not conv else ""
    return f"<b>{conv.name.rsplit('/', 1)[-1]}</b><br>{shape}{sees}{after}"


class HierarchyView(QWidget):
    """Side-by-side conv layers; clicking a column emits ``layer_selected(name)``."""

    layer_selected = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.graphics = pg.GraphicsLayoutWidget()
        self.caption = caption_label(
            f"Left to right: the input, then every conv layer from first to last. Each column "
            f"shows the {TOP_CHANNELS} channels with the highest mean activation, each scaled "
            "to its own range (bright = strong). Early layers answer to edges and colours, "
            "later ones to larger parts of the face. Click a column to open that layer."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.caption)
        # One (title, view, image) per column, rebuilt only when the column count changes.
        self._slots: list[tuple[pg.LabelItem, pg.ViewBox, pg.ImageItem]] = []
        self._columns: list[tuple[LayerRecord, LayerRecord]] = []
        self.graphics.scene().sigMouseClicked.connect(self._on_clicked)
        self.clear()

    def set_inspection(self, inspection: Inspection) -> None:
        self._columns = hierarchy_columns(inspection)
        self._ensure_slots(len(self._columns) + 1)
        label, _view, item = self._slots[0]
        label.setText("<b>input</b><br>(as fed to the model)", size="9pt")
        show_rgb(item, input_column(inspection.display_image))
        for (conv, shown), (label, _view, item) in zip(self._columns, self._slots[1:], strict=True):
            label.setText(column_title(conv, shown), size="9pt")
            show_rgb(item, column_image(shown))
        for _, view, _ in self._slots:
            view.autoRange(padding=0.02)
        count = len(self._columns)
        self.title.setText(
            f"<b>Hierarchy</b> · {count} conv layer{'s' * (count != 1)} of "
            f"{inspection.model_name}, first → last"
        )

    def clear(self) -> None:
        self._ensure_slots(0)
        self._columns = []
        self.title.setText("<b>Hierarchy</b> · no image inspected yet")

    @property
    def column_names(self) -> list[str]:
        """Names of the conv layers shown, first to last."""
        return [conv.name for conv, _ in self._columns]

    def select_column(self, index: int) -> None:
        """Emit ``layer_selected`` for conv column ``index`` (0 = first conv layer)."""
        self.layer_selected.emit(self._columns[index][1].name)

    def _ensure_slots(self, count: int) -> None:
        if len(self._slots) == count:
            return
        self.graphics.clear()
        self._slots = []
        for col in range(count):
            label = self.graphics.addLabel("", row=0, col=col)
            view, item = image_box(self.graphics, 1, col)
            self._slots.append((label, view, item))

    def _on_clicked(self, event) -> None:
        for index, (_, view, _) in enumerate(self._slots[1:]):
            if view.sceneBoundingRect().contains(event.scenePos()):
                self.select_column(index)
                return
