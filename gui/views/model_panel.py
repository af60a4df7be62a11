"""The model panel: the layer tree, nested models expandable.

Each row shows a layer's type, output shape, parameter count and receptive field.
The structure comes from the ``ModelSummary`` (computed on the worker); shapes and
receptive fields are filled from the current Inspection's layer records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from gui.views.model_summary import LayerNode, ModelSummary

if TYPE_CHECKING:
    from inspector import Inspection, LayerRecord

COLUMNS = ("Layer", "Type", "Output shape", "Params", "Receptive field")
NAME_ROLE = Qt.ItemDataRole.UserRole
TYPE_COLUMN_WIDTH = 115


def format_shape(shape: tuple | None) -> str:
    """``(32, 32, 16)`` -> ``"32×32×16"``; None -> ``"?"``."""
    if shape is None:
        return "?"
    return "×".join("?" if d is None else str(d) for d in shape) or "scalar"


def format_receptive_field(record: LayerRecord | None) -> str:
    """``"7×7 px, step 2"``, ``"whole image"``, or the reason there is none."""
    if record is None:
        return ""
    field = record.receptive_field
    if field is None:
        return record.receptive_field_note or "n/a"
    if field.is_global:
        return "whole image"
    return f"{field.size[0]}×{field.size[1]} px"


def receptive_field_tooltip(record: LayerRecord) -> str:
    """The long form: window size, the stride between units, and what it means."""
    field = record.receptive_field
    if field is None:
        return record.receptive_field_note or "No receptive field for this layer."
    if field.is_global:
        return "Every unit of this layer depends on the whole input image."
    jump_r, jump_c = field.jump
    stride = f"{jump_r:g}" if jump_r == jump_c else f"{jump_r:g}×{jump_c:g}"
    return (
        f"Each unit sees a {field.size[0]}×{field.size[1]} pixel window of the input; "
        f"neighbouring units' windows are {stride} px apart."
    )


class ModelPanel(QWidget):
    """Tree of layers; selecting a row emits ``layer_selected(name)``.

    A nested model's own row selects its last inner layer that has a record,
    since a nested model's output is its last layer's output.
    """

    layer_selected = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel("No model open. File > Open model... or drop a .keras file here.")
        self.header.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Class names such as GlobalAveragePooling2D are long: the Type column is
        # capped (elided, full name in the tooltip) so shape, params and field fit.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, TYPE_COLUMN_WIDTH)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addWidget(self.tree)
        self._summary: ModelSummary | None = None
        self._records: dict[str, LayerRecord] = {}
        self._items: dict[str, QTreeWidgetItem] = {}

    # --- filling --------------------------------------------------------------------
    def set_summary(self, summary: ModelSummary, inspection: Inspection | None = None) -> None:
        """Rebuild the tree for a model (keeps nothing of the previous one)."""
        self._summary = summary
        self._records = {r.name: r for r in inspection.layers} if inspection else {}
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items = {}
        for node in summary.nodes:
            self.tree.addTopLevelItem(self._item_for(node))
        # Records the Keras tree does not list: the class logits, second calls of shared layers.
        known = {node.name for node in summary.walk()}
        for record in self._records.values():
            if record.name not in known:
                extra = LayerNode(record.name, record.name, record.class_name, None, 0)
                self.tree.addTopLevelItem(self._item_for(extra))
        self.tree.expandToDepth(0)
        self.tree.blockSignals(False)
        self.header.setText(
            f"<b>{summary.model_name}</b> · input {format_shape(summary.input_shape)} · "
            f"{summary.param_count:,} parameters"
        )
        self.header.setToolTip(summary.path)

    def set_inspection(self, inspection: Inspection) -> None:
        """Refresh shapes and receptive fields from a new inspection (same model)."""
        self._records = {r.name: r for r in inspection.layers}
        for name, item in self._items.items():
            self._fill_record_columns(item, name)

    def clear(self) -> None:
        self.tree.clear()
        self._items = {}
        self._records = {}
        self._summary = None

    # --- selection ------------------------------------------------------------------
    def select_layer(self, name: str) -> None:
        """Make ``name`` the current row (emits ``layer_selected``)."""
        item = self._items.get(name)
        if item is not None:
            self.tree.setCurrentItem(item)

    def selected_layer(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else self._record_name_for(item.data(0, NAME_ROLE))

    def item(self, name: str) -> QTreeWidgetItem | None:
        return self._items.get(name)

    def _on_current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if current is None:
            return
        name = self._record_name_for(current.data(0, NAME_ROLE))
        if name is not None:
            self.layer_selected.emit(name)

    def _record_name_for(self, name: str) -> str | None:
        if name in self._records:
            return name
        node = self._summary.find(name) if self._summary else None
        if node is None:
            return None
        inner = [n.name for n in node.walk() if n.name in self._records]
        return inner[-1] if inner else None

    # --- rows -----------------------------------------------------------------------
    def _item_for(self, node: LayerNode) -> QTreeWidgetItem:
        item = QTreeWidgetItem(
            [
                node.short_name,
                node.class_name,
                format_shape(node.output_shape),
                f"{node.param_count:,}",
                "",
            ]
        )
        item.setData(0, NAME_ROLE, node.name)
        item.setToolTip(0, node.name)
        item.setToolTip(1, node.class_name)
        item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._items[node.name] = item
        self._fill_record_columns(item, node.name)
        for child in node.children:
            item.addChild(self._item_for(child))
        return item

    def _fill_record_columns(self, item: QTreeWidgetItem, name: str) -> None:
        record = self._records.get(name)
        if record is None:
            return
        item.setText(2, format_shape(record.output_shape))
        item.setText(4, format_receptive_field(record))
        item.setToolTip(4, receptive_field_tooltip(record))
