"""Form widgets for attribution method options, chosen from each option's default.

Every method declares its options with defaults (``AttributionMethod.defaults``);
this module turns one ``(name, default)`` into an editor widget and a getter
that returns the value to pass to ``compute_attribution``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PyQt6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

if TYPE_CHECKING:
    from inspector.engine.inspection import Inspection

Editor = tuple[QWidget, Callable[[], Any]]

OPTION_HELP: dict[str, str] = {
    "layer": "The conv layer whose feature maps are weighted (default: the last one).",
    "steps": "Points along the path from the baseline; more is more exact and slower.",
    "samples": "Noisy copies averaged; more is smoother and slower.",
    "noise_level": "Noise standard deviation as a fraction of the image's value range.",
    "baseline": "The reference image: black, grey, the image mean, or a number.",
    "batch_size": "Images per pass through the model (memory vs speed).",
    "seed": "Seed of the noise, so the same map comes back.",
    "window": "Side of the hidden patch in pixels (auto: 1/8 of the image).",
    "stride": "Step between patch positions in pixels (auto: half the window).",
    "masks": "Random masks averaged; more is smoother and slower.",
    "grid": "Cells per side of each random mask's coarse grid.",
    "keep_probability": "Chance that a mask cell keeps the image, in (0, 1].",
    "score": "What is measured: logit (default, like the gradient methods) or probability.",
}
BASELINES = ("black", "grey", "mean")
AUTO = "auto"
_MAX_INT = 1_000_000


def option_editor(name: str, default: Any, inspection: Inspection | None) -> Editor | None:
    """An editor and its getter for option ``name``, or None for options not shown.

    Args:
        name: the option's name, e.g. ``"steps"``.
        default: its default value; the editor's kind follows its type.
        inspection: the current inspection (the layer list comes from it).
    """
    if name == "layer":
        editor = _layer_editor(inspection)
    elif name == "baseline":
        editor = _baseline_editor(default)
    elif default is None:
        editor = _auto_int_editor()
    elif isinstance(default, bool):
        box = QCheckBox()
        box.setChecked(default)
        editor = box, box.isChecked
    elif isinstance(default, int):
        editor = _int_editor(default, minimum=0 if name == "seed" else 1)
    elif isinstance(default, float):
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 1000.0)
        spin.setDecimals(3)
        spin.setSingleStep(0.01)
        spin.setValue(default)
        editor = spin, spin.value
    elif isinstance(default, str):
        line = QLineEdit(default)
        editor = line, line.text
    else:
        return None  # arrays and the like: the method's default is used
    editor[0].setToolTip(OPTION_HELP.get(name, ""))
    editor[0].setObjectName(f"option_{name}")
    return editor


def _int_editor(default: int, minimum: int) -> Editor:
    spin = QSpinBox()
    spin.setRange(minimum, _MAX_INT)
    spin.setValue(default)
    return spin, spin.value


def _auto_int_editor() -> Editor:
    """An int where the lowest value means None ("auto": the method decides)."""
    spin = QSpinBox()
    spin.setRange(0, 4096)
    spin.setSpecialValueText(AUTO)
    spin.setValue(0)
    return spin, lambda: spin.value() or None


def _layer_editor(inspection: Inspection | None) -> Editor:
    combo = QComboBox()
    combo.addItem("automatic (last conv layer)", None)
    if inspection is not None:
        for record in inspection.spatial_layers:
            if record.reaches_target:
                combo.addItem(record.name, record.name)
    return combo, combo.currentData


def _baseline_editor(default: Any) -> Editor:
    combo = QComboBox()
    combo.setEditable(True)
    combo.addItems(BASELINES)
    if isinstance(default, str):
        combo.setCurrentText(default)
    return combo, lambda: _baseline_value(combo.currentText())


def _baseline_value(text: str) -> str | float:
    """A named baseline, or a number typed by the user."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return text
