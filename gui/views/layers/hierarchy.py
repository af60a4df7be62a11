"""The hierarchy: every conv layer side by side, first to last, with its strongest channels.

This is the "edges -> parts -> faces" picture, computed from the user's own
model and image. One column per conv layer (the input on the far left), on a
``ColumnStrip`` that scrolls, filters and groups blocks for 150-layer models; each
column holds that layer's channels with the highest mean activation, enlarged
to the same tile size. When a conv is followed by its normalisation and
activation layers, the column shows the block's output (after the ReLU), since
that is what the next layer sees. Once the Units tab has dissected the model,
each conv column also shows its concept fractions and each tile its unit's
concept (``gui.views.units.concept_words``; ``set_dissection``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.views.units.concept_words import (
    detectors_text,
    draw_tile_labels,
    fractions_text,
    matching_layer,
    matching_selectivity,
    tile_concepts,
    tile_detectors,
)
from gui.widgets.column_strip import TITLE_LINES as TITLE_ROWS
from gui.widgets.column_strip import ColumnStrip, StripColumn, to_pixmap
from gui.widgets.image_helpers import (
    DEFAULT_COLORMAP,
    caption_label,
    colorize,
    normalise,
    resize,
)
from gui.widgets.layer_groups import NORM_AND_ACTIVATION_CLASSES, layer_group

if TYPE_CHECKING:
    from inspector import Inspection, LayerRecord

TOP_CHANNELS = 6
TILE = 64  # pixels per tile edge in the mosaic
GAP = 6
_FOLLOWERS = NORM_AND_ACTIVATION_CLASSES - {"Softmax"}
CONV, ALL = "conv", "all"
FOOTER_SEPARATOR = "<br>"  # a column is a tile wide: one concept group per line
CAPTION = (
    f"Left: the input. Then every conv layer from first to last (scroll sideways; pick "
    f"a block or a layer above). Each column shows the {TOP_CHANNELS} channels with the "
    "highest mean activation, each scaled to its own range (bright = strong). Early "
    "layers answer to edges and colours, later ones to larger parts of the image. "
    "Click a column to open that layer."
)
CONCEPTS_CAPTION = (
    " On the tiles: the channel and what it detects (Units tab's measures, each above "
    "random-init copies: edge = orientation-selective, eye/nose/mouth = peaks on that face "
    "part, face = tells faces from non-faces, - = none); under a column, the share of all its "
    "units."
)
LABELS_CAPTION = (
    " Words on the tiles: the unit's Network Dissection concept (Units tab; edge_45 = "
    "an edge at 45°, none = no concept). Under each column: the share of its units in each "
    "concept group (all its units, not only the tiles shown)."
)
MODES = [("conv layers", CONV), ("all spatial layers", ALL)]


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


def concept_column(record: LayerRecord, dissected, selective=None) -> np.ndarray:
    """``column_image(record)`` with each tile's unit labelled: what it detects by the
    selectivity measures when given, else its Network Dissection concept.

    Args:
        record: the record shown (its channels are the dissected conv's units).
        dissected: the conv layer's ``LayerDissection``.
        selective: the conv layer's ``LayerSelectivity``, or None.
    """
    channels = strongest_channels(np.asarray(record.activation), TOP_CHANNELS)
    if selective is not None:
        labels = tile_detectors(selective, channels)
    else:
        labels = tile_concepts(dissected, channels)
    labels = [f"{int(c)}: {label}" for c, label in zip(channels, labels, strict=True)]
    return draw_tile_labels(column_image(record), labels, TILE, GAP)


def empty_column() -> np.ndarray:
    """A white column with room for ``TOP_CHANNELS`` tiles, uint8 RGB."""
    return np.full((TOP_CHANNELS * (TILE + GAP) - GAP, TILE, 3), 255, dtype=np.uint8)


def input_column(display: np.ndarray) -> np.ndarray:
    """The input picture as the column's top tile (same size as every column)."""
    channels = [np.clip(resize(display[..., c], (TILE, TILE)), 0, 255) for c in range(3)]
    column = empty_column()
    column[:TILE] = np.stack(channels, axis=-1).astype(np.uint8)
    return column


# Layer classes in a column's last line, short enough for one line of a column's
# width: "after BatchNormalization" wrapped and was cut; the tooltip says it whole.
SHORT_CLASS = {
    "BatchNormalization": "BN",
    "LayerNormalization": "LayerNorm",
    "GroupNormalization": "GroupNorm",
    "Activation": "activation",
}


def column_details(conv: LayerRecord, shown: LayerRecord) -> str:
    """The lines under a column's name, each short enough for one line: output shape
    (``112×112×144``), receptive field (``sees 11 px``, or ``sees 11×7 px``) and what
    it shows (``after BN``, ``after ReLU``)."""
    shape = "×".join(str(d) for d in shown.output_shape)
    field = conv.receptive_field
    sees = ""
    if field and not field.is_global:
        rows, cols = field.size
        sees = f"<br>sees {rows} px" if rows == cols else f"<br>sees {rows}×{cols} px"
    kind = SHORT_CLASS.get(shown.class_name, shown.class_name)
    after = f"<br>after {kind}" if shown is not conv else ""
    return f"{shape}{sees}{after}"


def column_tooltip(conv: LayerRecord, shown: LayerRecord) -> str:
    text = f"{conv.name} ({conv.class_name}), output {shown.output_shape}"
    if shown is not conv:
        text += f", shown after {shown.name} ({shown.class_name})"
    return text + ". Click to open its feature maps."


def column_pairs(inspection: Inspection) -> dict[str, list[tuple[LayerRecord, LayerRecord]]]:
    """``(layer, record shown)`` for each "Show" choice: conv blocks, every spatial layer."""
    return {
        CONV: hierarchy_columns(inspection),
        ALL: [(r, r) for r in inspection.layers if r.is_spatial],
    }


def strip_column(conv: LayerRecord, shown: LayerRecord, dissection=None) -> StripColumn:
    """One strip column; with the conv's dissection, its fractions and tile labels (the
    selectivity measures' detectors where measured, else Network Dissection's labels)."""
    dissected = matching_layer(dissection, conv.name, int(shown.output_shape[-1]))
    selective = matching_selectivity(dissection, conv.name, int(shown.output_shape[-1]))
    tooltip = column_tooltip(conv, shown)
    if dissected is None:
        paint, footer = (lambda: column_image(shown)), ""
    elif selective is not None:
        paint = lambda: concept_column(shown, dissected, selective)  # noqa: E731
        footer = detectors_text(selective, FOOTER_SEPARATOR, random=False)
        tooltip += "<br>Detectors: " + detectors_text(selective)
    else:
        paint, footer = (
            (lambda: concept_column(shown, dissected)),
            fractions_text(dissected, FOOTER_SEPARATOR, getattr(dissection, "scored", None)),
        )
    return StripColumn(
        name=shown.name,
        title=column_details(conv, shown),
        group=layer_group(conv.name),
        tooltip=tooltip,
        paint=paint,
        label=conv.name,
        footer=footer,
    )


def strip_columns(
    pairs: dict[str, list[tuple[LayerRecord, LayerRecord]]], dissection=None
) -> dict[str, list[StripColumn]]:
    """The strip's columns for each "Show" choice of ``column_pairs``.

    Args:
        pairs: see ``column_pairs``.
        dissection: the Units tab's ``DissectionReport`` of this model, or None.
    """
    return {
        mode: [strip_column(conv, shown, dissection) for conv, shown in columns]
        for mode, columns in pairs.items()
    }


class HierarchyView(QWidget):
    """Conv layers side by side on a scrolling strip; clicking a column emits
    ``layer_selected(name)``."""

    layer_selected = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.input_picture = QLabel()
        self.input_picture.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.input_picture.setToolTip("The input picture, as fed to the model")
        self.strip = ColumnStrip(MODES, TILE)
        self.strip.mode_combo.setToolTip(
            "Conv layers: one column per conv layer, showing its block's output (after its "
            "normalisation and activation). All spatial layers: every layer with a map."
        )
        self.caption = caption_label(CAPTION)
        body = QHBoxLayout()
        input_box = QVBoxLayout()
        input_box.addSpacing(26)  # level with the strip's controls row
        input_label = QLabel("<b>input</b><br>as fed to<br>the model")
        input_label.setMinimumHeight(TITLE_ROWS * input_label.fontMetrics().lineSpacing())
        input_label.setAlignment(Qt.AlignmentFlag.AlignBottom)
        input_box.addWidget(input_label)
        input_box.addWidget(self.input_picture)
        input_box.addStretch(1)
        body.addLayout(input_box)
        body.addWidget(self.strip, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(body, 1)
        layout.addWidget(self.caption)
        self._pairs: dict[str, dict[str, str]] = {}  # mode -> shown name -> layer name
        self._columns: dict[str, list[tuple[LayerRecord, LayerRecord]]] = {}
        self.dissection = None  # the Units tab's DissectionReport of the open model
        self.strip.column_clicked.connect(self.layer_selected)
        self.clear()

    def set_inspection(self, inspection: Inspection) -> None:
        pairs = column_pairs(inspection)
        self._pairs = {
            mode: {shown.name: conv.name for conv, shown in columns}
            for mode, columns in pairs.items()
        }
        self._columns = pairs
        self.input_picture.setPixmap(to_pixmap(input_column(inspection.display_image)[:TILE]))
        self.strip.set_columns(strip_columns(pairs, self.dissection))
        count = len(pairs[CONV])
        self.title.setText(
            f"<b>Hierarchy</b> · {count} conv layer{'s' * (count != 1)} of "
            f"{inspection.model_name}, first → last"
        )

    def set_dissection(self, report) -> None:
        """Show (or, with None, drop) the concepts of the Units tab's dissection.

        Args:
            report: a ``DissectionReport`` of the open model (matched to the
                columns by conv layer name and unit count), or None.
        """
        self.dissection = report
        extra = ""
        if report is not None:
            measured = getattr(report, "selectivity", None) is not None
            extra = CONCEPTS_CAPTION if measured else LABELS_CAPTION
        self.caption.setText(CAPTION + extra)
        if self._columns:
            self.strip.set_columns(strip_columns(self._columns, report))

    def clear(self) -> None:
        self._pairs, self._columns = {}, {}
        self.strip.clear()
        self.input_picture.clear()
        self.title.setText("<b>Hierarchy</b> · no image inspected yet")

    @property
    def column_names(self) -> list[str]:
        """Names of the layers whose columns are shown, first to last (for a conv block,
        the conv layer, although the column pictures the block's output)."""
        pairs = self._pairs.get(self.strip.mode, {})
        return [pairs[name] for name in self.strip.shown_names]

    def select_column(self, index: int) -> None:
        """Emit ``layer_selected`` for shown column ``index`` (0 = the first one shown)."""
        self.layer_selected.emit(self.strip.shown_names[index])
