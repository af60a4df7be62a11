"""A horizontally scrolling strip of titled picture columns, filtered and grouped.

The Hierarchy and Backprop views show one column per layer. A 150-layer model
(MobileNetV2) has 52 conv layers and 150 spatial ones, far more than fit on a
screen, so the strip:

* scrolls: a plain ``QScrollArea``; the mouse wheel scrolls sideways (it never
  zooms one column away, as a pyqtgraph view box would);
* filters: a "Show" choice given by the view (e.g. conv layers / all spatial
  layers) and a "Block" choice listing the blocks the names form
  (``gui.widgets.layer_groups``);
* groups: consecutive columns of one block sit under one header naming the
  block, and each column's title drops the block's prefix;
* jumps: "Go to" lists every column shown; picking one scrolls it into view.

Any layer is therefore two actions away: pick its block, or pick it in "Go to".
Columns are plain ``QLabel`` pixmaps, painted only when their filter shows them
and only while the strip is on screen (a hidden tab builds when it is shown); a
new image with the same columns repaints the pictures in place, creating no
widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QImage, QPixmap
from PyQt6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui.widgets.layer_groups import breakable, name_in_group

EVERY_BLOCK = "every block"
HEADER_STYLE = "background: #e6edf7; border-bottom: 2px solid #6f93c4; padding: 1px 3px;"
IMAGE_STYLE = "border: 2px solid {}; background: white;"
SELECTED_COLOUR, PLAIN_COLOUR = "#e02828", "transparent"
TITLE_LINES = 4
TITLE_STYLE = "font-size: 8pt;"
COLUMN_SPACING = 4
TITLE_OVERHANG = 20  # a title may be this much wider than its picture: "112×112×144"


@dataclass(frozen=True)
class StripColumn:
    """One column of the strip.

    Attributes:
        name: the full layer name; emitted when the column is clicked.
        title: rich-text lines under the label (shape, receptive field…).
        group: the block the column belongs to, or None.
        tooltip: the long description shown on hover.
        paint: returns the column's picture, uint8 RGB ``(H, W, 3)``; called only
            when the column is shown.
        label: the layer named on the column, when it is not ``name`` (a conv
            block's column pictures the block's output but is named by its conv).
        footer: rich text under the picture (e.g. concept fractions), or "".
    """

    name: str
    title: str
    group: str | None
    tooltip: str
    paint: Callable[[], np.ndarray]
    label: str = ""
    footer: str = ""


def to_pixmap(rgb: np.ndarray, width: int | None = None) -> QPixmap:
    """A QPixmap of a uint8 ``(H, W, 3)`` array, scaled without smoothing to ``width``."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, w = rgb.shape[:2]
    image = QImage(rgb.data, w, height, 3 * w, QImage.Format.Format_RGB888).copy()
    pixmap = QPixmap.fromImage(image)
    if width is not None and width != w:
        pixmap = pixmap.scaledToWidth(width, Qt.TransformationMode.FastTransformation)
    return pixmap


class _WheelScrollArea(QScrollArea):
    """A scroll area whose vertical wheel scrolls sideways (the strip is horizontal)."""

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta()
        step = delta.y() if abs(delta.y()) >= abs(delta.x()) else delta.x()
        bar = self.horizontalScrollBar()
        bar.setValue(bar.value() - step)
        event.accept()


class _ClickLabel(QLabel):
    """A label that reports a left click to ``on_click``."""

    def __init__(self, on_click: Callable[[], None]) -> None:
        super().__init__()
        self._on_click = on_click
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._on_click()
        super().mousePressEvent(event)


class ColumnStrip(QWidget):
    """Columns side by side with Show / Block / Go-to controls.

    Args:
        modes: ``(label, key)`` for each "Show" choice, e.g. ``("conv layers", "conv")``.
        column_width: width of every column's picture on screen, in pixels.

    Signals:
        column_clicked(name): a column's title or picture was clicked.
    """

    column_clicked = pyqtSignal(str)

    def __init__(
        self, modes: list[tuple[str, str]], column_width: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.column_width = column_width
        self.mode_combo = QComboBox()
        for label, key in modes:
            self.mode_combo.addItem(label, key)
        self.block_combo = QComboBox()
        self.jump_combo = QComboBox()
        # Sized by a fixed number of characters, not by the longest layer name, so the
        # controls row stays narrow (the window must fit a 1366-pixel screen).
        for combo, characters in (
            (self.mode_combo, 12),
            (self.block_combo, 12),
            (self.jump_combo, 16),
        ):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(characters)
        self.jump_combo.setToolTip("Scroll a column into view")
        self.jump_combo.setPlaceholderText("a layer…")
        self.count_label = QLabel()
        self.count_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.scroll = _WheelScrollArea()
        self.scroll.setWidgetResizable(False)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._build_layout()
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.block_combo.currentIndexChanged.connect(self._rebuild)
        self.jump_combo.activated.connect(lambda i: self.go_to(self.jump_combo.itemData(i)))
        self._columns: dict[str, list[StripColumn]] = {}
        self._labels: dict[str, _ClickLabel] = {}
        self._titles: dict[str, _ClickLabel] = {}
        self._footers: dict[str, QLabel] = {}
        self._shown: list[StripColumn] = []
        self._built: list[str] = []  # the names whose widgets exist, in order
        self._dirty = False
        self._current: str | None = None

    def _build_layout(self) -> None:
        controls = QHBoxLayout()
        for text, combo in (
            ("Show", self.mode_combo),
            ("Block", self.block_combo),
            ("Go to", self.jump_combo),
        ):
            controls.addWidget(QLabel(text))
            controls.addWidget(combo)
        controls.addWidget(self.count_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.scroll, 1)

    # --- filling ------------------------------------------------------------------------
    def set_columns(self, columns: dict[str, list[StripColumn]], mode: str | None = None) -> None:
        """Replace every column; ``columns`` maps each "Show" key to its columns in order.

        ``mode`` switches the "Show" choice (None keeps the user's choice).
        """
        self._columns = columns
        self.mode_combo.blockSignals(True)
        if mode is not None:
            self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))
        self.mode_combo.blockSignals(False)
        self._on_mode_changed()

    def clear(self) -> None:
        self.set_columns({})

    # --- user actions -------------------------------------------------------------------
    def set_mode(self, key: str) -> None:
        """Show the columns of "Show" choice ``key``."""
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(key))

    def set_block(self, group: str | None) -> None:
        """Show only the columns of block ``group`` (None: every block)."""
        index = self.block_combo.findData(group) if group is not None else 0
        self.block_combo.setCurrentIndex(max(index, 0))

    def go_to(self, name: str) -> None:
        """Scroll column ``name`` into view and outline it."""
        self._ensure_built()
        label = self._labels.get(name)
        if label is None:
            return
        self._outline(name)
        self.scroll.ensureWidgetVisible(label, 40, 0)

    # --- state ----------------------------------------------------------------------------
    @property
    def mode(self) -> str | None:
        return self.mode_combo.currentData()

    @property
    def block(self) -> str | None:
        return self.block_combo.currentData()

    @property
    def groups(self) -> list[str]:
        """The blocks of the current "Show" choice, in order of appearance."""
        return [self.block_combo.itemData(i) for i in range(1, self.block_combo.count())]

    @property
    def shown_names(self) -> list[str]:
        """Names of the columns on the strip now, left to right."""
        return [column.name for column in self._shown]

    def picture(self, name: str) -> QLabel | None:
        """The label holding column ``name``'s picture (None when not shown)."""
        self._ensure_built()
        return self._labels.get(name)

    def footer(self, name: str) -> str:
        """The text under column ``name``'s picture ("" when none or not shown)."""
        self._ensure_built()
        label = self._footers.get(name)
        return label.text() if label is not None else ""

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._ensure_built()

    # --- building -----------------------------------------------------------------------
    def _on_mode_changed(self) -> None:
        columns = self._columns.get(self.mode, [])
        groups = list(dict.fromkeys(c.group for c in columns if c.group is not None))
        current = self.block
        self.block_combo.blockSignals(True)
        self.block_combo.clear()
        self.block_combo.addItem(EVERY_BLOCK, None)
        for group in groups:
            self.block_combo.addItem(group, group)
        self.block_combo.setCurrentIndex(max(self.block_combo.findData(current), 0))
        self.block_combo.setEnabled(bool(groups))
        self.block_combo.blockSignals(False)
        self._rebuild()

    def _rebuild(self) -> None:
        columns = self._columns.get(self.mode, [])
        block = self.block
        self._shown = [c for c in columns if block is None or c.group == block]
        self._fill_jump_combo()
        total = len(columns)
        self.count_label.setText(f"{len(self._shown)} of {total} column{'s' * (total != 1)}")
        self._dirty = True
        if self.isVisible():
            self._ensure_built()

    def _ensure_built(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        if [c.name for c in self._shown] == self._built:
            for column in self._shown:  # same columns, new pictures: no new widgets
                self._fill_column(column)
            return
        content = QWidget()
        grid = QGridLayout(content)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setHorizontalSpacing(COLUMN_SPACING)
        grid.setVerticalSpacing(2)
        self._labels, self._titles, self._footers = {}, {}, {}
        for index, column in enumerate(self._shown):
            self._add_column(grid, index, column)
        self._add_headers(grid)
        grid.setRowStretch(4, 1)
        self.scroll.setWidget(content)  # deletes the previous content widget
        self._built = [c.name for c in self._shown]
        if self._current in self._labels:
            self._outline(self._current)

    def _add_column(self, grid: QGridLayout, index: int, column: StripColumn) -> None:
        def click(name: str = column.name) -> None:
            self._outline(name)
            self.column_clicked.emit(name)

        title = _ClickLabel(click)
        title.setWordWrap(True)
        title.setStyleSheet(TITLE_STYLE)
        title.setFixedWidth(self.column_width + TITLE_OVERHANG)
        title.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        title.setMinimumHeight(TITLE_LINES * title.fontMetrics().lineSpacing())
        picture = _ClickLabel(click)
        picture.setStyleSheet(IMAGE_STYLE.format(PLAIN_COLOUR))
        picture.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(title, 1, index)
        grid.addWidget(picture, 2, index, Qt.AlignmentFlag.AlignTop)
        footer = QLabel()
        footer.setWordWrap(True)
        footer.setStyleSheet(TITLE_STYLE)
        footer.setFixedWidth(self.column_width + TITLE_OVERHANG)
        grid.addWidget(footer, 3, index, Qt.AlignmentFlag.AlignTop)
        self._labels[column.name], self._titles[column.name] = picture, title
        self._footers[column.name] = footer
        self._fill_column(column)

    def _fill_column(self, column: StripColumn) -> None:
        """Put ``column``'s title, tooltip and picture into its existing widgets."""
        title, picture = self._titles[column.name], self._labels[column.name]
        own = breakable(name_in_group(column.label or column.name, column.group))
        title.setText(f"<b>{own}</b><br>{column.title}")
        title.setToolTip(column.tooltip)
        picture.setPixmap(to_pixmap(column.paint(), self.column_width))
        picture.setToolTip(column.tooltip)
        footer = self._footers[column.name]
        footer.setText(column.footer)
        footer.setVisible(bool(column.footer))

    def _add_headers(self, grid: QGridLayout) -> None:
        """One header per run of consecutive columns of the same block."""
        start = 0
        for index in range(1, len(self._shown) + 1):
            group = self._shown[start].group
            if index < len(self._shown) and self._shown[index].group == group:
                continue
            if group is not None:
                header = QLabel(breakable(group))
                header.setStyleSheet(HEADER_STYLE)
                header.setWordWrap(True)
                header.setToolTip(group)
                grid.addWidget(header, 0, start, 1, index - start)
            start = index

    def _fill_jump_combo(self) -> None:
        self.jump_combo.clear()
        for column in self._shown:
            self.jump_combo.addItem(column.label or column.name, column.name)
        self.jump_combo.setCurrentIndex(-1)  # shows the placeholder, not a first "choice"

    def _outline(self, name: str) -> None:
        """Outline column ``name`` (and only it); restyles two labels, not all of them."""
        previous = self._labels.get(self._current)
        if previous is not None:
            previous.setStyleSheet(IMAGE_STYLE.format(PLAIN_COLOUR))
        label = self._labels.get(name)
        if label is not None:
            label.setStyleSheet(IMAGE_STYLE.format(SELECTED_COLOUR))
        self._current = name
