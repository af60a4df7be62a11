"""The prediction: class probabilities (or an output's values), the model output they
come from, and the target every gradient view uses.

A model with several outputs (a detector's box offsets, landmarks and face
probability) gets an *Output* picker listing each by name, shape and kind; a
linear output with several units is a vector of values, not a class choice, and
is shown as values whose unit the user picks as the target."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QCompleter,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from inspector.render.probability import format_probability, format_threshold

if TYPE_CHECKING:
    from inspector import Inspection

# Five rows of one text line each fit beside the views on a 1366x768 screen; more
# rows made MobileNetV2's labels overlap. The picker still lists every class.
MAX_BARS = 5
NAME_WIDTH = 150  # pixels; longer names are elided, the full name is the tooltip
BAR_STEPS = 1000  # the bars' resolution: 0.1 %, the same as the printed rule
BAR_COLOUR = "#1f77b4"
TARGET_COLOUR = "#ff7f0e"
AUTO_TEXT = "predicted class (automatic)"


def top_classes(
    probabilities: np.ndarray, count: int = MAX_BARS, first: int = -1, keep: int = -1
) -> np.ndarray:
    """Indices of the classes to list: ``first``, then the most probable ones.

    Args:
        probabilities: ``(num_classes,)`` values.
        count: how many to return (fewer when there are fewer classes).
        first: the predicted class, listed first even if a tie or rounding puts
            another class ahead of it in ``probabilities`` (-1: none).
        keep: a class that must be listed (the target): it replaces the last
            row when it is not among the top ones (-1: none).

    Returns:
        int ``(min(count, num_classes),)``, without repeats.
    """
    order = [int(i) for i in np.argsort(-np.asarray(probabilities), kind="stable")]
    if first >= 0:
        order.remove(first)
        order.insert(0, first)
    shown = order[:count]
    if keep >= 0 and keep not in shown:
        shown[-1] = keep
    return np.array(shown, dtype=int)


def headline(inspection) -> str:
    """The panel's first line: what the model says and which score the gradients are of,
    in words that fit the output (class probabilities, values, or per-position ones)."""
    probabilities = np.asarray(inspection.probabilities, dtype=float)
    rule = getattr(inspection, "probability_rule", "softmax")
    target = f"<span style='color:#e67300'><b>{html.escape(inspection.target_label)}</b></span>"
    score = f"{inspection.score_kind} {inspection.score:.3g}"
    if rule == "none":
        return (
            f"Output <b>{html.escape(inspection.output_name)}</b> gives values, not class "
            f"probabilities (listed in unit order). Gradients of {target} ({score})."
        )
    predicted = format_probability(probabilities[inspection.predicted], rule)
    if getattr(inspection, "unknown", False):
        threshold = format_threshold(inspection.unknown_below)
        return (
            f"<b>Unknown person</b>: the top probability ({predicted}, "
            f"{html.escape(inspection.predicted_label)}) is below {threshold}, the bar "
            f"calibrated on faces the model never saw. Nearest five below. "
            f"Gradients of {target} ({score})."
        )
    where = " averaged over positions" if inspection.score_kind.endswith("positions") else ""
    known = ""
    if getattr(inspection, "unknown_below", None) is not None:
        # Above the bar is not proof: a closed-set softmax gives some strangers a high
        # top probability too (docs/face-model.md gives the share it catches).
        bar = format_threshold(inspection.unknown_below)
        known = f", above the {bar} bar for a known face"
    return (
        f"Predicted <b>{html.escape(inspection.predicted_label)}</b> ({predicted}{where}{known}). "
        f"Gradients of {target} ({score})."
    )


class PredictionPanel(QWidget):
    """The top classes as labelled bars, and a searchable target picker.

    Signals:
        target_selected(object): the class (int) the user picked, or None for
            "the predicted class". The session then runs a new inspection.
        output_selected(int): the model output the user picked (several outputs).
    """

    target_selected = pyqtSignal(object)
    output_selected = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.rows_widget = QWidget()
        grid = QGridLayout(self.rows_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        self.rows = [self._make_row(grid, k) for k in range(MAX_BARS)]
        self.target_combo = self._make_picker()
        self.output_combo = QComboBox()
        self.output_combo.setToolTip("Which model output is scored: its name, shape and kind")
        self.output_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.output_combo.setMinimumContentsLength(16)
        self.output_combo.view().setMinimumWidth(360)
        self.output_combo.activated.connect(
            lambda index: self.output_selected.emit(int(self.output_combo.itemData(index)))
        )
        self.output_label = QLabel("Output:")
        outputs = QHBoxLayout()
        outputs.addWidget(self.output_label)
        outputs.addWidget(self.output_combo, 1)
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Gradients of:"))
        picker.addWidget(self.target_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.headline)
        layout.addWidget(self.rows_widget)
        layout.addLayout(outputs)
        layout.addLayout(picker)
        layout.addStretch(1)
        self._labels: tuple[str, ...] = ()
        self._shown: list[str] = []
        self._outputs: tuple = ()
        self.clear()

    def set_outputs(self, outputs: tuple, chosen: int) -> None:
        """List the model's outputs (``OutputDescription``s); shown only for several."""
        if tuple(outputs) != self._outputs:
            self._outputs = tuple(outputs)
            self.output_combo.clear()
            for out in outputs:
                shape = "×".join(str(d) for d in out.shape) or "?"
                self.output_combo.addItem(f"{out.name} ({shape}): {out.kind}", out.index)
                self.output_combo.setItemData(
                    self.output_combo.count() - 1,
                    f"{out.name}, shape {out.shape}: {out.kind}",
                    Qt.ItemDataRole.ToolTipRole,
                )
        several = len(outputs) > 1
        self.output_combo.setVisible(several)
        self.output_label.setVisible(several)
        index = self.output_combo.findData(chosen)
        if index >= 0:
            self.output_combo.setCurrentIndex(index)

    def set_inspection(self, inspection: Inspection, automatic: bool = True) -> None:
        """Show ``inspection``'s probabilities; ``automatic`` = target was not picked."""
        probabilities = np.asarray(inspection.probabilities, dtype=float)
        rule = getattr(inspection, "probability_rule", "softmax")
        if inspection.labels != self._labels:
            self._fill_combo(inspection.labels)
        if rule == "none":  # values (box offsets, landmarks): in unit order, not ranked
            shown = top_classes(-np.arange(len(probabilities)), keep=inspection.target)
        else:
            shown = top_classes(probabilities, first=inspection.predicted, keep=inspection.target)
        self._shown = [inspection.labels[i] for i in shown]
        # A linear output's values are not in [0, 1]: its bars show |value| against the
        # largest |value|, and the number beside each is the value itself.
        scale = (float(np.abs(probabilities).max()) or 1.0) if rule == "none" else 1.0
        for row, index in zip(self.rows, shown, strict=False):
            is_target = index == inspection.target
            self._paint_row(
                row, inspection.labels[index], probabilities[index], rule, is_target, scale
            )
        for row in self.rows[len(shown) :]:
            for widget in row:
                widget.hide()
        self.rows_widget.show()
        self.target_combo.setCurrentIndex(0 if automatic else inspection.target + 1)
        self.headline.setText(headline(inspection))

    def clear(self) -> None:
        self._shown = []
        self.rows_widget.hide()  # empty rows would only show bare bars
        self.headline.setText("<b>Prediction</b> · no image inspected yet")
        self._fill_combo(())

    def select_target(self, target: int | None) -> None:
        """Pick a target as the user would (emits ``target_selected``)."""
        self.target_combo.setCurrentIndex(0 if target is None else target + 1)
        self._on_activated(self.target_combo.currentIndex())

    def search_target(self, text: str) -> list[str]:
        """Type ``text`` into the picker as the user would; the names it offers."""
        self.target_combo.lineEdit().setText(text)
        completer = self.target_combo.completer()
        completer.setCompletionPrefix(text)
        model = completer.completionModel()
        return [model.index(k, 0).data() for k in range(model.rowCount())]

    @property
    def shown_classes(self) -> list[str]:
        """Labels of the rows, top first."""
        return list(self._shown)

    def _make_row(self, grid: QGridLayout, k: int) -> tuple[QLabel, QProgressBar, QLabel]:
        name = QLabel()
        name.setFixedWidth(NAME_WIDTH)
        bar = QProgressBar()
        bar.setRange(0, BAR_STEPS)
        bar.setTextVisible(False)
        bar.setFixedHeight(name.sizeHint().height())
        value = QLabel()
        # Wide enough for ">99.9 %": the bars keep one length whatever the text.
        value.setMinimumWidth(value.fontMetrics().horizontalAdvance(">99.9 %") + 6)
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for column, widget in enumerate((name, bar, value)):
            grid.addWidget(widget, k, column)
        return name, bar, value

    def _paint_row(
        self, row, label: str, probability: float, rule: str, is_target: bool, scale: float = 1.0
    ):
        name, bar, value = row
        name.setText(name.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight, NAME_WIDTH))
        name.setToolTip(label)
        length = abs(probability) / scale if rule == "none" else probability
        bar.setValue(round(float(np.clip(length, 0.0, 1.0)) * BAR_STEPS))
        bar.setToolTip(
            "" if rule != "none" else "A raw value: the bar is its size against the largest"
        )
        colour = TARGET_COLOUR if is_target else BAR_COLOUR
        bar.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")
        value.setText(format_probability(probability, rule))
        for widget in row:
            widget.show()

    def _make_picker(self) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip("The class whose score every gradient view differentiates; type to search")
        combo.setEditable(True)
        # 1000 long class names must not widen the panel: the popup is wide, not the box.
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(16)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(combo.model(), combo)
        # Any part of "264: Cardigan Welsh corgi" finds it: 1000 names do not scroll.
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        combo.setCompleter(completer)
        completer.activated[str].connect(self._on_completed)
        combo.activated.connect(self._on_activated)
        return combo

    def _fill_combo(self, labels: tuple[str, ...]) -> None:
        self._labels = tuple(labels)
        self.target_combo.clear()
        self.target_combo.addItem(AUTO_TEXT, None)
        for index, label in enumerate(labels):
            self.target_combo.addItem(f"{index}: {label}", index)

    def _on_completed(self, text: str) -> None:
        index = self.target_combo.findText(text, Qt.MatchFlag.MatchExactly)
        if index >= 0 and index != self.target_combo.currentIndex():
            self.target_combo.setCurrentIndex(index)
            self._on_activated(index)

    def _on_activated(self, index: int) -> None:
        self.target_selected.emit(self.target_combo.itemData(index))
