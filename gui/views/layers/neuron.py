"""The neuron view: one dense unit's a = g(w·a_prev + b) with the real numbers.

The view never touches the model. Choosing a layer and unit emits
``breakdown_requested(layer_name, unit)``; the main window runs
``inspector.engine.neuron.neuron_breakdown`` on the worker (it reads the weights) and
hands the frozen ``NeuronBreakdown`` back through ``show_breakdown``.

``inspector`` is not imported here at module level, so the window can appear
before TensorFlow has finished importing.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from inspector.engine.inspection import Inspection, LayerRecord
    from inspector.engine.neuron import NeuronBreakdown

TOP_K = 8
POSITIVE_BRUSH = (200, 60, 50)  # raises z
NEGATIVE_BRUSH = (50, 90, 180)  # lowers z


def dense_records(inspection: Inspection) -> tuple[LayerRecord, ...]:
    """Records the view can explain: Dense layers with a 1-D output ``(units,)``."""
    return tuple(
        r for r in inspection.layers if r.class_name == "Dense" and len(r.output_shape) == 1
    )


def output_layer_name(inspection: Inspection) -> str | None:
    """The layer whose units are the classes (the one the logits record reads)."""
    for record in inspection.layers:
        if record.class_name == "Logits" and record.inputs:
            return record.inputs[0]
    return None


def _num(value: float) -> str:
    return f"{value:.4g}"


def equation_html(
    breakdown: NeuronBreakdown, unit_label: str = "", *, is_output: bool = False
) -> str:
    """Rich text of the unit's forward step, with a table of the top inputs.

    Args:
        breakdown: the unit's terms.
        unit_label: e.g. the class name when the layer is the output layer.
        is_output: the layer gives the class probabilities; the target score is
            then its pre-activation z (the logit), not a.
    """
    b = breakdown
    name = html.escape(f"{b.layer_name}[{b.unit}]" + (f" ({unit_label})" if unit_label else ""))
    rows = "".join(
        f"<tr><td>{html.escape(b.input_label(i))}</td><td align='right'>{_num(b.inputs[i])}</td>"
        f"<td align='right'>{_num(b.weights[i])}</td>"
        f"<td align='right'><b>{_num(b.contributions[i])}</b></td></tr>"
        for i in b.top_indices
    )
    from inspector.engine.neuron import equation_terms, signed_sum

    terms = signed_sum(equation_terms(b), note_format=lambda note: f" <i>({note})</i>")
    source = (
        f": the {html.escape(str(b.input_shape))} map flattened to {len(b.inputs)} values, "
        "inputs named by (row, col, channel)"
        if len(b.input_shape) > 1
        else f", {len(b.inputs)} values"
    )
    gradient = (
        "The target score is this layer's logit z (before the squashing g), so gradients "
        "start from z, not from a."
        if is_output
        else f"∂score/∂a = {_num(b.gradient)} (how the target score changes with a)"
    )
    check = (
        "equals the activation the inspection recorded"
        if b.matches
        else f"<span style='color:#b00'>differs from the recorded {_num(b.recorded)}: "
        "the weights changed since this image was inspected</span>"
    )
    return (
        f"<p><b>{name}</b>: a = g(w·a<sub>prev</sub> + b), "
        f"g = <b>{html.escape(b.activation_name)}</b>, "
        f"a<sub>prev</sub> = <i>{html.escape(b.input_name)}</i>{source}</p>"
        f"<p>z = Σ w<sub>i</sub>·a<sub>prev,i</sub> + b = {terms} = <b>{_num(b.z)}</b><br>"
        f"a = {html.escape(b.activation_name)}(z) = <b>{_num(b.output)}</b> ({check})<br>"
        f"{gradient}</p>"
        "<table cellspacing='0' cellpadding='2'><tr><th>input i</th><th>a<sub>prev,i</sub></th>"
        f"<th>w<sub>i</sub></th><th>w<sub>i</sub>·a<sub>prev,i</sub></th></tr>{rows}</table>"
    )


class NeuronView(QWidget):
    """Shows how one dense unit computes its activation from its inputs.

    Signals:
        breakdown_requested(layer_name, unit): the selection changed or a new
            inspection arrived; answer with ``show_breakdown``.
    """

    breakdown_requested = pyqtSignal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._inspection: Inspection | None = None
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip("Dense layers with a 1-D output")
        self.unit_spin = QSpinBox()
        self.unit_label = QLabel()
        self.strongest_button = QPushButton("Most active unit")
        self.strongest_button.setToolTip("Select the unit with the largest activation")
        self.equation_label = QLabel()
        self.equation_label.setTextFormat(Qt.TextFormat.RichText)
        self.equation_label.setWordWrap(True)
        self.equation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "contribution w_i · a_prev,i to z")
        # The table beside it gives the real values: the axis must too, not "(x0.001)".
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.addLine(x=0, pen=pg.mkPen((120, 120, 120)))
        self._bars: pg.BarGraphItem | None = None
        self._build_layout()
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.unit_spin.valueChanged.connect(self._on_unit_changed)
        self.strongest_button.clicked.connect(self.select_strongest_unit)
        self.clear()

    def _build_layout(self) -> None:
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Layer:"))
        controls.addWidget(self.layer_combo, 1)
        controls.addWidget(QLabel("Unit:"))
        controls.addWidget(self.unit_spin)
        controls.addWidget(self.unit_label, 1)
        controls.addWidget(self.strongest_button)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.equation_label)
        layout.addWidget(self.plot, 1)

    # --- public API ----------------------------------------------------------------
    def set_inspection(self, inspection: Inspection) -> None:
        """List the dense layers of ``inspection`` and ask for the selected unit again."""
        previous = self.selection()
        self._inspection = inspection
        records = dense_records(inspection)
        with QSignalBlocker(self.layer_combo):
            self.layer_combo.clear()
            self.layer_combo.addItems([r.name for r in records])
        enabled = bool(records)
        for widget in (self.layer_combo, self.unit_spin, self.strongest_button):
            widget.setEnabled(enabled)
        if not records:
            self._clear_plot()
            self.equation_label.setText(
                "This model has no Dense layer with a 1-D output. The neuron view explains "
                "a = g(w·a_prev + b) for the units of such layers."
            )
            return
        names = [r.name for r in records]
        if previous and previous[0] in names:
            layer, unit = previous
        else:
            layer, unit = self._default_unit(records)
        self.select_unit(layer, unit, force=True)

    def clear(self) -> None:
        """Forget the inspection and show nothing."""
        self._inspection = None
        with QSignalBlocker(self.layer_combo):
            self.layer_combo.clear()
        self.unit_label.setText("")
        self.equation_label.setText("Open a model and an image to see a dense unit's equation.")
        self._clear_plot()
        for widget in (self.layer_combo, self.unit_spin, self.strongest_button):
            widget.setEnabled(False)

    def selection(self) -> tuple[str, int] | None:
        """The selected ``(layer_name, unit)``, or None."""
        if self._inspection is None or self.layer_combo.currentIndex() < 0:
            return None
        return self.layer_combo.currentText(), self.unit_spin.value()

    def select_unit(self, layer_name: str, unit: int, *, force: bool = False) -> bool:
        """Select ``unit`` of ``layer_name`` and emit ``breakdown_requested``.

        Returns:
            False (and nothing changes) if the layer is not a Dense layer with a 1-D
            output of this inspection or the unit is out of range.
        """
        index = self.layer_combo.findText(layer_name)
        record = self._record(layer_name)
        if index < 0 or record is None or not 0 <= unit < record.output_shape[0]:
            return False
        if not force and self.selection() == (layer_name, unit):
            return True
        with QSignalBlocker(self.layer_combo), QSignalBlocker(self.unit_spin):
            self.layer_combo.setCurrentIndex(index)
            self.unit_spin.setRange(0, record.output_shape[0] - 1)
            self.unit_spin.setValue(unit)
        self._describe_unit()
        self.equation_label.setText(f"Computing {html.escape(layer_name)}[{unit}]…")
        self.breakdown_requested.emit(layer_name, unit)
        return True

    def select_strongest_unit(self) -> None:
        """Select the unit of the current layer with the largest activation."""
        selection = self.selection()
        record = self._record(selection[0]) if selection else None
        if record is not None:
            self.select_unit(record.name, int(np.argmax(record.activation)))

    def show_breakdown(self, breakdown: NeuronBreakdown) -> None:
        """Paint a breakdown; one for a unit no longer selected is ignored."""
        if self.selection() != (breakdown.layer_name, breakdown.unit):
            return
        is_output = breakdown.layer_name == output_layer_name(self._inspection)
        self.equation_label.setText(
            equation_html(breakdown, self._unit_name(breakdown.unit), is_output=is_output)
        )
        self._paint_bars(breakdown)

    # --- internals -------------------------------------------------------------------
    def _record(self, name: str) -> LayerRecord | None:
        if self._inspection is None:
            return None
        return next((r for r in dense_records(self._inspection) if r.name == name), None)

    def _default_unit(self, records: tuple[LayerRecord, ...]) -> tuple[str, int]:
        # The output layer's target unit is the one every gradient view is about.
        last = records[-1]
        if last.name == output_layer_name(self._inspection):
            target = self._inspection.target
            if 0 <= target < last.output_shape[0]:
                return last.name, target
        return last.name, int(np.argmax(last.activation))

    def _unit_name(self, unit: int) -> str:
        selection = self.selection()
        inspection = self._inspection
        is_output = (
            selection is not None
            and inspection is not None
            and selection[0] == output_layer_name(inspection)
            and len(inspection.labels) == self.unit_spin.maximum() + 1
        )
        return inspection.labels[unit] if is_output else ""

    def _describe_unit(self) -> None:
        unit = self.unit_spin.value()
        name = self._unit_name(unit)
        count = self.unit_spin.maximum() + 1
        self.unit_label.setText(f"of {count}" + (f" — {name}" if name else ""))

    def _on_layer_changed(self, index: int) -> None:
        record = self._record(self.layer_combo.itemText(index))
        if record is not None:
            self.select_unit(record.name, int(np.argmax(record.activation)), force=True)

    def _on_unit_changed(self, unit: int) -> None:
        selection = self.selection()
        if selection is not None:
            self.select_unit(selection[0], unit, force=True)

    def _clear_plot(self) -> None:
        if self._bars is not None:
            self.plot.removeItem(self._bars)
            self._bars = None
        axis = self.plot.getAxis("left")
        axis.setTicks(None)
        axis.setWidth(None)

    def _paint_bars(self, breakdown: NeuronBreakdown) -> None:
        self._clear_plot()
        top = list(breakdown.top_indices)
        values = np.asarray([breakdown.contributions[i] for i in top], dtype=float)
        # Largest contribution at the top of the chart.
        rows = np.arange(len(top))[::-1].astype(float)
        brushes = [pg.mkBrush(POSITIVE_BRUSH if v >= 0 else NEGATIVE_BRUSH) for v in values]
        self._bars = pg.BarGraphItem(x0=0, y=rows, width=values, height=0.7, brushes=brushes)
        self.plot.addItem(self._bars)
        ticks = [
            (row, f"a_prev[{breakdown.input_label(i).strip('()')}]")
            for row, i in zip(rows, top, strict=True)
        ]
        axis = self.plot.getAxis("left")
        axis.setTicks([ticks])
        # pyqtgraph widens an axis for long labels only on a later repaint; size it now.
        metrics = QFontMetrics(axis.style["tickFont"] or self.font())
        axis.setWidth(max(metrics.horizontalAdvance(label) for _, label in ticks) + 15)
        self.plot.setTitle(
            f"Top {len(top)} of {len(breakdown.contributions)} inputs by |w_i · a_prev,i|"
        )
        self.plot.autoRange()
