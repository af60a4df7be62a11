"""The model panel: the layer tree, nested models expandable, searchable and filterable.

Each row shows a layer's type, output shape, parameter count and receptive field.
The structure comes from the ``ModelSummary`` (computed on the worker); shapes and
receptive fields are filled from the current Inspection's layer records. On a
150-layer model a search box narrows the tree to the names that contain the text,
and a check box hides BatchNorm and activation layers. Numbers never get clipped
into other numbers: parameter counts are compact ("1.28 M", exact in the tooltip)
and the number columns are sized to their contents; only names are shortened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import QEvent, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyledItemDelegate,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.jobs.model_summary import LayerNode, ModelSummary
from gui.widgets.layer_groups import is_norm_or_activation
from gui.widgets.layer_names import fit_name

if TYPE_CHECKING:
    from inspector import Inspection, LayerRecord

COLUMNS = ("Layer", "Type", "Output", "Params", "Field")
COLUMN_TIPS = (
    "The layer's name (nested models: expand them)",
    "The Keras class",
    "Output shape, without the batch axis",
    "Number of weights (compact; the exact count in each row's tooltip)",
    "Receptive field: the input window one unit sees",
)
NAME_ROLE = Qt.ItemDataRole.UserRole
TYPE_COLUMN_WIDTH = 100
NAME_COLUMN_MIN = 170  # narrower, and the optional columns make way for the names
OPTIONAL_COLUMNS = (4, 1)  # Field, then Type: hidden in this order when space is short


def format_count(count: int) -> str:
    """A parameter count short enough never to be clipped: exact below 10,000
    (``"864"``, ``"9,999"``), else three significant digits (``"12.3 k"``, ``"1.28 M"``)."""
    if count < 10_000:
        return f"{count:,}"
    value, unit = count / 1e3, "k"
    for larger in ("M", "G"):
        if value < 999.5:  # else "%.3g" would print 1e+03: go one unit up
            break
        value, unit = value / 1e3, larger
    return f"{value:.3g} {unit}"


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


def node_matches(node: LayerNode, query: str, hide_plumbing: bool) -> bool:
    """Whether a layer passes the filter by itself (a nested model also shows when
    one of its layers does).

    Args:
        node: the layer.
        query: lower-case text that its full name or its class must contain ("" = any).
        hide_plumbing: refuse BatchNorm and activation layers.
    """
    if hide_plumbing and is_norm_or_activation(node.class_name):
        return False
    return not query or query in node.name.lower() or query in node.class_name.lower()


class NameDelegate(QStyledItemDelegate):
    """Paints a layer name cut at underscores to fit its cell (``block_13…relu``), so
    the block number and the layer's role stay readable; the tooltip has it whole."""

    PADDING = 8  # the style's text margins, both sides

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        room = option.rect.width() - self.PADDING
        if room > 0:  # 0 while Qt asks for a size hint: the full name then
            metrics = option.fontMetrics
            option.text = fit_name(option.text, lambda t: metrics.horizontalAdvance(t) <= room)


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
        for index, tip in enumerate(COLUMN_TIPS):
            self.tree.headerItem().setToolTip(index, tip)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        # Only names are shortened (full name in the tooltip), at underscores so that
        # the block number and the layer's role stay readable: "block_13…BN".
        self._names = NameDelegate(self.tree)
        self.tree.setItemDelegateForColumn(0, self._names)
        header = self.tree.header()
        header.setStretchLastSection(False)
        # Numbers and shapes are sized to their contents, so they are never cut into
        # other numbers; the name column takes the rest of the width (at least
        # NAME_COLUMN_MIN, else the tree scrolls sideways) and shortens names at underscores.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self._fitting = False  # set while _fit_name_column resizes sections itself
        header.sectionResized.connect(self._on_section_resized)
        self.tree.viewport().installEventFilter(self)
        # Class names such as GlobalAveragePooling2D are long: the Type column is
        # capped (elided, full name in the tooltip) so shape, params and field fit.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, TYPE_COLUMN_WIDTH)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers by name or type…")
        self.search.setClearButtonEnabled(True)
        self.hide_plumbing = QCheckBox("Hide BatchNorm && activations")
        self.hide_plumbing.setToolTip(
            "Hide normalisation and activation layers, which keep their input's shape"
        )
        self.count_label = QLabel()
        self.search.textChanged.connect(self._apply_filter)
        self.hide_plumbing.toggled.connect(self._apply_filter)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.hide_plumbing)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addLayout(filters)
        layout.addWidget(self.tree)
        layout.addWidget(self.count_label)
        self._summary: ModelSummary | None = None
        self._records: dict[str, LayerRecord] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._nodes: dict[str, LayerNode] = {}

    # --- filling --------------------------------------------------------------------
    def set_summary(self, summary: ModelSummary, inspection: Inspection | None = None) -> None:
        """Rebuild the tree for a model (keeps nothing of the previous one)."""
        self._summary = summary
        self._records = {r.name: r for r in inspection.layers} if inspection else {}
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items = {}
        self._nodes = {}
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
        self._apply_filter()
        self._fit_name_column()
        self.header.setText(
            f"<b>{summary.model_name}</b> · input {format_shape(summary.input_shape)} · "
            f"{summary.param_count:,} parameters"
        )
        self.header.setToolTip(summary.path)

    # --- column widths ----------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:
        # The viewport, not the panel: a vertical scroll bar that comes or goes (a
        # search, an expanded nested model) narrows the viewport without a panel resize.
        if watched is self.tree.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_name_column()
        return super().eventFilter(watched, event)

    def _on_section_resized(self, index: int, _old: int, _new: int) -> None:
        # A number column grew or shrank with its contents (not our own resizing).
        if index != 0 and not self._fitting:
            self._fit_name_column()

    def _fit_name_column(self) -> None:
        """Give the names the width the other columns leave, at least NAME_COLUMN_MIN.

        When that is not enough, the optional columns (receptive field, then type)
        are hidden rather than cut: a clipped number reads as another number. Their
        values stay in each row's tooltip; a wider panel shows them again.
        """
        self._fitting = True
        header = self.tree.header()
        widths = {i: self._column_width(i) for i in range(1, len(COLUMNS))}
        available = self.tree.viewport().width()
        hidden: set[int] = set()
        for column in OPTIONAL_COLUMNS:
            if available - sum(w for i, w in widths.items() if i not in hidden) >= NAME_COLUMN_MIN:
                break
            hidden.add(column)
        for column in OPTIONAL_COLUMNS:
            self.tree.setColumnHidden(column, column in hidden)
        others = sum(w for i, w in widths.items() if i not in hidden)
        header.resizeSection(0, max(NAME_COLUMN_MIN, available - others))
        self._fitting = False

    def _column_width(self, column: int) -> int:
        """What column ``column`` needs: the Type column's cap, else its widest text."""
        if column == 1:
            return TYPE_COLUMN_WIDTH
        header = self.tree.header()
        return max(self.tree.sizeHintForColumn(column), header.sectionSizeHint(column))

    def hidden_columns(self) -> list[str]:
        """Titles of the columns hidden to leave the names room."""
        return [COLUMNS[i] for i in OPTIONAL_COLUMNS if self.tree.isColumnHidden(i)]

    # --- search and filter ------------------------------------------------------------
    def set_filter(self, text: str = "", hide_plumbing: bool | None = None) -> None:
        """Show only layers whose name or type contains ``text`` (case-insensitive);
        ``hide_plumbing`` hides BatchNorm and activation layers (None: unchanged)."""
        self.search.setText(text)
        if hide_plumbing is not None:
            self.hide_plumbing.setChecked(hide_plumbing)

    def visible_names(self) -> list[str]:
        """Names of the rows the filter leaves visible, depth first."""
        return [name for name, item in self._items.items() if not item.isHidden()]

    def _apply_filter(self) -> None:
        query = self.search.text().strip().lower()
        hide = self.hide_plumbing.isChecked()
        for index in range(self.tree.topLevelItemCount()):
            self._filter_item(self.tree.topLevelItem(index), query, hide)
        shown, total = len(self.visible_names()), len(self._items)
        self.count_label.setText(
            f"{total} layers" if shown == total else f"{shown} of {total} layers shown"
        )

    def _filter_item(self, item: QTreeWidgetItem, query: str, hide: bool) -> bool:
        """Hide ``item`` unless it or a descendant matches; returns whether it shows."""
        children = [self._filter_item(item.child(i), query, hide) for i in range(item.childCount())]
        node = self._nodes[item.data(0, NAME_ROLE)]
        visible = node_matches(node, query, hide) or any(children)
        item.setHidden(not visible)
        if query and any(children):
            item.setExpanded(True)  # show the matches inside a nested model
        return visible

    def set_inspection(self, inspection: Inspection) -> None:
        """Refresh shapes and receptive fields from a new inspection (same model)."""
        self._records = {r.name: r for r in inspection.layers}
        for name, item in self._items.items():
            self._fill_record_columns(item, name)

    def clear(self) -> None:
        self.tree.clear()
        self._items = {}
        self._nodes = {}
        self.count_label.setText("")
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
                format_count(node.param_count),
                "",
            ]
        )
        item.setData(0, NAME_ROLE, node.name)
        item.setToolTip(0, f"{node.name} ({node.class_name}), {node.param_count:,} parameters")
        item.setToolTip(1, node.class_name)
        item.setToolTip(3, f"{node.param_count:,} parameters")
        self._nodes[node.name] = node
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
        item.setToolTip(
            0,
            f"{record.name} ({record.class_name}), output {format_shape(record.output_shape)}, "
            f"{record.param_count:,} parameters, receptive field "
            f"{format_receptive_field(record)}",
        )
