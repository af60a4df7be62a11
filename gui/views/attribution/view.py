"""The attribution view: pick a method, set its options, overlay its heatmap.

The view never runs the model. Asking for a map emits
``attribution_requested(method, options)``; the main window runs
``inspector.attribution.compute_attribution`` on the worker and hands the frozen
``Attribution`` back through ``show_attribution``. Maps already computed for
the current inspection are kept, so switching between methods is instant and
the report export can use all of them (``attributions``).

``inspector`` is imported lazily (when the first inspection arrives): the
window must be able to appear before TensorFlow has finished importing.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.views.attribution.compare import CompareView
from gui.views.attribution.options import option_editor

if TYPE_CHECKING:
    from inspector.attribution import Attribution
    from inspector.engine.inspection import Inspection

# What each method shows, and how it differs from the others (users ask).
METHOD_HELP: dict[str, str] = {
    "saliency": "Which pixels the class score is most sensitive to: |gradient| of the "
    "score, max over colour channels. Fast (reuses the inspection) but noisy.",
    "gradient_x_input": "Gradient times pixel value, summed over channels: a first-order "
    "estimate of each pixel's contribution. Signed: red raises the score, blue lowers it.",
    "smoothgrad": "The gradient averaged (with its sign) over many noisy copies of the "
    "image, shown as saliency is: the same question with the speckle averaged out. "
    "Costs one pass per sample.",
    "integrated_gradients": "Gradients summed along the path from a baseline (black) image "
    "to this one. Signed, and the map adds up to score(image) - score(baseline). "
    "Costs one pass per step.",
    "gradcam": "Where a conv layer's features support the class: feature maps weighted by "
    "their mean gradient, ReLU. Coarse (the layer's resolution) but class-specific.",
    "gradcam_plus_plus": "Grad-CAM with pixel-wise weights on positive gradients: better "
    "when the class appears several times in the image.",
    "occlusion": "How much the class logit drops when a patch is hidden (the colour bar "
    "is in logit units; the score option switches to the probability): no gradients "
    "at all, a direct experiment. One pass per patch position (slow).",
    "guided_backprop": "The gradient with only positive signals let back through each "
    "ReLU: sharp edges, but nearly independent of the model's weights (fails the "
    "randomisation sanity check).",
    "deconvnet": "Zeiler & Fergus's projection back to the pixels: positive signals only, "
    "ignoring the forward ReLU masks. Shows image edges; fails the sanity check.",
    "layercam": "Like Grad-CAM but every location weighted by its own positive gradient: "
    "works at any conv layer, finer at early ones. Free (reuses the inspection).",
    "scorecam": "Grad-CAM's map with gradient-free weights: each channel, used as a mask, "
    "is scored by the class probability it keeps. One pass per channel (slow).",
    "rise": "Black box: the class probability averaged over thousands of random masks, "
    "per pixel. Seeded; one pass per mask (slow).",
    "vargrad": "How much the gradient varies over noisy copies of the image (SmoothGrad's "
    "variance instead of its mean). Costs one pass per sample.",
}
SIGNED_COLORMAP = "diverging"
UNSIGNED_COLORMAP = "magma"


class AttributionView(QWidget):
    """Overlays an attribution heatmap on the inspected image.

    Signals:
        attribution_requested(method, options): compute ``method`` with ``options``
            (a dict of method options, e.g. ``{"steps": 64}``) for the current
            inspection and answer with ``show_attribution``.
    """

    attribution_requested = pyqtSignal(str, dict)
    cancel_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._inspection: Inspection | None = None
        self._results: dict[str, Attribution] = {}
        self._option_getters: dict[str, Any] = {}
        self.method_combo = QComboBox()
        self.compute_button = QPushButton("Compute")
        self.auto_check = QCheckBox("Update automatically")
        self.auto_check.setChecked(True)
        self.auto_check.setToolTip("Compute the chosen method whenever the image or target changes")
        self.help_label = QLabel()
        self.help_label.setWordWrap(True)
        self.options_form = QFormLayout()
        self.alpha_slider = QSlider(Qt.Orientation.Horizontal)
        self.alpha_slider.setRange(0, 100)
        self.alpha_slider.setValue(60)
        self.alpha_slider.setToolTip("Heatmap opacity over the image")
        self.title_label = QLabel()
        self.title_label.setTextFormat(Qt.TextFormat.RichText)
        self.title_label.setWordWrap(True)
        self.status_label = QLabel()
        # A method that runs the model (RISE: 2,000 passes) shows its passes and can stop.
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.graphics = pg.GraphicsLayoutWidget()
        self.view_box = self.graphics.addViewBox(row=0, col=0, lockAspect=True, invertY=True)
        self.view_box.setMenuEnabled(False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.view_box.addItem(self.heat_item)
        self.colour_bar: pg.ColorBarItem | None = None
        self._build_layout()
        self.method_combo.currentIndexChanged.connect(self._on_method_changed)
        self.compute_button.clicked.connect(self.request_attribution)
        self.alpha_slider.valueChanged.connect(self._apply_alpha)
        self._apply_alpha(self.alpha_slider.value())
        self.clear()

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Method:"))
        top.addWidget(self.method_combo, 1)
        top.addWidget(self.compute_button)
        top.addWidget(self.auto_check)
        alpha = QHBoxLayout()
        alpha.addWidget(QLabel("Opacity:"))
        alpha.addWidget(self.alpha_slider, 1)
        # Two pages: one method with its options, and every method side by side.
        self.single_page = QWidget()
        self.compare_view = CompareView()
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(self.single_page, "One method")
        self.pages.addTab(self.compare_view, "Compare all")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)
        layout = QVBoxLayout(self.single_page)
        layout.addLayout(top)
        layout.addWidget(self.help_label)
        layout.addLayout(self.options_form)
        layout.addLayout(alpha)
        layout.addWidget(self.title_label)
        layout.addWidget(self.graphics, 1)
        status = QHBoxLayout()
        status.addWidget(self.status_label, 1)
        status.addWidget(self.progress)
        status.addWidget(self.cancel_button)
        layout.addLayout(status)
        self._set_running(False)

    # --- public API ----------------------------------------------------------------
    @property
    def plot_item(self) -> pg.ViewBox:
        """The graphics item to export (the image, its overlay and the colour bar)."""
        return self.graphics.ci

    @property
    def attributions(self) -> tuple[Attribution, ...]:
        """Every map computed for the current inspection (this page's maps, then the
        Compare page's for the other methods)."""
        return tuple({**self.compare_view.results, **self._results}.values())

    @property
    def current_attribution(self) -> Attribution | None:
        return self._results.get(self.current_method())

    @property
    def alpha(self) -> float:
        return self.alpha_slider.value() / 100.0

    def current_method(self) -> str:
        return self.method_combo.currentData() or ""

    def set_inspection(self, inspection: Inspection) -> None:
        """Show a new image; previous maps are dropped (they belong to the old one)."""
        self._ensure_methods()
        self._inspection = inspection
        self._results.clear()
        self.image_item.setImage(inspection.display_image, autoLevels=False, levels=(0, 255))
        self._hide_heatmap()
        self._rebuild_options()
        for widget in (self.method_combo, self.compute_button):
            widget.setEnabled(True)
        self.title_label.setText(f"Target: <b>{html.escape(inspection.target_label)}</b>")
        self.compare_view.set_inspection(inspection)
        if self.auto_check.isChecked():
            self.request_attribution()

    def clear(self) -> None:
        """Forget the inspection and every map."""
        self._inspection = None
        self._results.clear()
        self.image_item.clear()
        self._hide_heatmap()
        self.title_label.setText("")
        self.status_label.setText("Open a model and an image to compute attributions.")
        for widget in (self.method_combo, self.compute_button):
            widget.setEnabled(False)

    def select_method(self, name: str) -> bool:
        """Choose the method registered as ``name``; False if there is none."""
        self._ensure_methods()
        index = self.method_combo.findData(name)
        if index >= 0:
            self.method_combo.setCurrentIndex(index)
        return index >= 0

    def set_method_badge(self, name: str, suffix: str) -> None:
        """Mark method ``name`` with the Trust tab's verdicts (``gui.views.trust.badge``:
        ``"  · randomisation ✓ · faithfulness ✗"``, or ``""`` when it was not checked)."""
        from inspector.attribution import REGISTRY

        index = self.method_combo.findData(name)
        if index >= 0:
            self.method_combo.setItemText(index, REGISTRY[name].title + suffix)

    def options(self) -> dict[str, Any]:
        """The options set in the form for the current method."""
        return {name: getter() for name, getter in self._option_getters.items()}

    def request_attribution(self) -> None:
        """Emit ``attribution_requested`` for the current method and options."""
        method = self.current_method()
        if self._inspection is None or not method:
            return
        self.status_label.setText(f"Computing {self.method_combo.currentText()}…")
        self._set_running(True)
        self.attribution_requested.emit(method, self.options())

    def show_progress(self, done: int, total: int, what: str) -> None:
        """``done`` of ``total`` model passes of the running method."""
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status_label.setText(f"{done:,}/{total:,} {what}")

    def show_cancelled(self) -> None:
        self._set_running(False)
        self.status_label.setText("Cancelled.")

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first report

    def show_attribution(self, attribution: Attribution) -> None:
        """Keep ``attribution`` and overlay it if its method is the one selected."""
        self._set_running(False)
        if self._inspection is None:
            return
        self._results[attribution.method] = attribution
        if attribution.method == self.current_method():
            self._paint(attribution)

    def show_error(self, message: str) -> None:
        """Say that the last request failed (the main window shows the message box)."""
        self._set_running(False)
        self.status_label.setText(f"Failed: {message}")

    # --- internals -------------------------------------------------------------------
    def _ensure_methods(self) -> None:
        if self.method_combo.count():
            return
        from inspector.attribution import REGISTRY, method_names

        with QSignalBlocker(self.method_combo):
            for name in method_names():
                self.method_combo.addItem(REGISTRY[name].title, name)
                self.method_combo.setItemData(
                    self.method_combo.count() - 1,
                    method_help(name),
                    Qt.ItemDataRole.ToolTipRole,
                )
        self._on_method_changed(self.method_combo.currentIndex(), request=False)

    def _on_method_changed(self, index: int, request: bool = True) -> None:
        method = self.current_method()
        self.help_label.setText(method_help(method) if method else "")
        self.method_combo.setToolTip(self.help_label.text())
        self._rebuild_options()
        if method in self._results:
            self._paint(self._results[method])
        else:
            self._hide_heatmap()
            if request and self.auto_check.isChecked():
                self.request_attribution()

    def _rebuild_options(self) -> None:
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self._option_getters = {}
        method = self.current_method()
        if not method:
            return
        from inspector.attribution import REGISTRY

        for name, default in REGISTRY[method].defaults.items():
            editor = option_editor(name, default, self._inspection)
            if editor is not None:
                widget, getter = editor
                self.options_form.addRow(name.replace("_", " ") + ":", widget)
                self._option_getters[name] = getter

    def _apply_alpha(self, value: int) -> None:
        self.heat_item.setOpacity(value / 100.0)

    def _hide_heatmap(self) -> None:
        self.heat_item.clear()
        if self.colour_bar is not None:
            self.colour_bar.hide()

    def _paint(self, attribution: Attribution) -> None:
        from inspector.render.colormaps import lookup_table

        heatmap = np.asarray(attribution.heatmap, dtype=np.float32)
        levels = heatmap_levels(heatmap, attribution.signed)
        name = SIGNED_COLORMAP if attribution.signed else UNSIGNED_COLORMAP
        colormap = pg.ColorMap(np.linspace(0.0, 1.0, 256), lookup_table(name), name=name)
        self.heat_item.setImage(heatmap, autoLevels=False)
        height, width = self._inspection.display_image.shape[:2]
        self.heat_item.setRect(0, 0, width, height)
        if self.colour_bar is None:
            self.colour_bar = pg.ColorBarItem(
                values=levels, colorMap=colormap, interactive=False, width=15
            )
            self.colour_bar.setImageItem(self.heat_item)
            self.graphics.addItem(self.colour_bar, row=0, col=1)
        self.colour_bar.setColorMap(colormap)
        self.colour_bar.setLevels(values=levels)
        self.colour_bar.show()
        self.title_label.setText(attribution_title(attribution, self._inspection.target_label))
        self.status_label.setText(
            f"{attribution.title}: values {heatmap.min():.3g} .. {heatmap.max():.3g}"
        )


def method_help(name: str) -> str:
    """One or two sentences on what method ``name`` shows (docstring as a fallback)."""
    if name in METHOD_HELP:
        return METHOD_HELP[name]
    from inspector.attribution import REGISTRY

    doc = (REGISTRY[name].__doc__ or "").strip() if name in REGISTRY else ""
    return doc.splitlines()[0] if doc else name


def heatmap_levels(heatmap: np.ndarray, signed: bool) -> tuple[float, float]:
    """Colour range as the exports use it: ±max|h| if signed, else min(0, h)..max(h)."""
    if signed:
        reach = float(np.abs(heatmap).max()) or 1.0
        return (-reach, reach)
    low, high = min(0.0, float(heatmap.min())), float(heatmap.max())
    return (low, high if high > low else low + 1.0)


def attribution_title(attribution: Attribution, target_label: str) -> str:
    """Rich-text title: method, citation, layer, target and how to read the colours."""
    layer = f" · layer <i>{html.escape(attribution.layer)}</i>" if attribution.layer else ""
    reading = (
        "red raises the target score, blue lowers it"
        if attribution.signed
        else "brighter = more important"
    )
    return (
        f"<b>{html.escape(attribution.title)}</b> — {html.escape(attribution.citation)}"
        f"{layer} · target <b>{html.escape(target_label)}</b> · {reading}"
    )
