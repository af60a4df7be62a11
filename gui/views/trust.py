"""The Trust tab: is the current attribution map faithful, and does it depend on the model?

For the current image and one attribution method it shows two published checks:

* **Deletion and insertion** (Petsiuk, Das & Saenko, "RISE", BMVC 2018,
  Section 4.1): pixels are removed (or put back) most important first and the
  target's probability is recorded. A faithful map makes deletion fall fast (a
  SMALL area under the curve) and insertion rise fast (a LARGE area). The same
  game played with a random map and a centred Gaussian gives the reference.
* **Model randomisation** (Adebayo et al., "Sanity Checks for Saliency Maps",
  NeurIPS 2018, Section 4): the trained weights are re-initialised from the top
  layer down on a copy of the model and the map recomputed each time. A map that
  explains the model must change: the method passes when Spearman's |rho| with
  the trained map falls below ``PASS_THRESHOLD`` once the top half is random.

The view never runs the model: it emits ``check_requested`` and is answered
with a frozen ``TrustReport`` (``gui.jobs.trust_jobs``).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gui.widgets.column_strip import to_pixmap
from gui.widgets.curve_helpers import make_plot
from gui.widgets.elided_label import ElidedLabel
from gui.widgets.image_helpers import caption_label, colorize, grayscale_rgb, overlay, resize
from gui.widgets.layer_names import split_name

if TYPE_CHECKING:
    from gui.jobs.trust_jobs import TrustReport
    from inspector.engine.inspection import Inspection

BASELINES = (("blurred image", "blur"), ("black", "zero"), ("mean colour", "mean"))
STRIP_TILE = 96
PASS_COLOUR, FAIL_COLOUR = "#1a7f37", "#b42318"
CURVE_PENS = {
    "method": pg.mkPen("#d62728", width=3),
    "random": pg.mkPen("#555555", width=2, style=Qt.PenStyle.DashLine),
    "centre": pg.mkPen("#1f77b4", width=2, style=Qt.PenStyle.DotLine),
}
CAPTION = (
    "<b>Deletion</b> removes the pixels the map ranks highest first (they become the "
    "substrate): a faithful map makes the probability fall fast, so a <b>lower</b> area "
    "(AUC) than the random map is better. <b>Insertion</b> starts from the substrate and puts "
    "the pixels back in the same order: a <b>higher</b> AUC is better. The centre map is a "
    "plain 'objects sit in the middle' guess. <b>Randomisation</b>: the model's weights are "
    "replaced by random ones from the top layer down (on a copy); a map that explains the "
    "model must change. Petsiuk et al., BMVC 2018; Adebayo et al., NeurIPS 2018."
)


class TrustView(QWidget):
    """Deletion/insertion curves against controls, and the randomisation verdict.

    Signals:
        check_requested(): run (or show the cached) check of the current method.
        cancel_requested(): stop the running check.
        method_changed(): the method or the substrate picked here changed.
    """

    check_requested = pyqtSignal()
    cancel_requested = pyqtSignal()
    method_changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._inspection: Inspection | None = None
        self._titles: dict[str, str] = {}
        self.method_combo = QComboBox()
        self.method_combo.setToolTip("The method to check (follows the Attribution tab)")
        # As wide as its longest entry: a cut "Saliency · randomisation ✓" would read as a
        # lone pass and hide the faithfulness verdict after it.
        self.method_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.baseline_combo = QComboBox()
        for text, data in BASELINES:
            self.baseline_combo.addItem(text, data)
        self.baseline_combo.setToolTip("What a removed pixel becomes")
        self.check_button = QPushButton("Check this method")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.status_label = ElidedLabel()  # a long message never widens the window
        self.verdict_label = QLabel()
        self.verdict_label.setTextFormat(Qt.TextFormat.RichText)
        self.verdict_label.setWordWrap(True)
        self.deletion_plot = self._curve_plot("Deletion: lower AUC is better", "removed")
        self.insertion_plot = self._curve_plot("Insertion: higher AUC is better", "inserted")
        # Legends where the curves are not: deletion falls to the right, insertion
        # rises from the left.
        self.deletion_plot.getPlotItem().legend.setOffset((10, -10))
        self.insertion_plot.getPlotItem().legend.setOffset((-10, -10))
        self.strip = QWidget()
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(0, 0, 0, 0)
        self._build_layout()
        self.method_combo.currentIndexChanged.connect(lambda _: self.method_changed.emit())
        self.baseline_combo.currentIndexChanged.connect(lambda _: self.method_changed.emit())
        self.check_button.clicked.connect(self.check_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.clear()

    @staticmethod
    def _curve_plot(title: str, verb: str) -> pg.PlotWidget:
        plot = make_plot(title, x_label=f"fraction of pixels {verb}", y_label="P(target)")
        plot.setYRange(0, 1.02)
        plot.setXRange(0, 1)
        return plot

    def _build_layout(self) -> None:
        controls = QHBoxLayout()
        for widget in (
            QLabel("Method:"),
            self.method_combo,
            QLabel("Removed pixels become:"),
            self.baseline_combo,
            self.check_button,
            self.cancel_button,
            self.progress,
        ):
            controls.addWidget(widget)
        controls.addWidget(self.status_label, 1)
        plots = QHBoxLayout()
        plots.addWidget(self.deletion_plot)
        plots.addWidget(self.insertion_plot)
        scroll = QScrollArea()
        scroll.setWidget(self.strip)
        scroll.setWidgetResizable(True)
        scroll.setFixedHeight(STRIP_TILE + 90)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addLayout(plots, 1)
        layout.addWidget(self.verdict_label)
        layout.addWidget(scroll)
        layout.addWidget(caption_label(CAPTION))

    # --- public API ----------------------------------------------------------------
    def current_method(self) -> str:
        return self.method_combo.currentData() or ""

    def baseline(self) -> str:
        return self.baseline_combo.currentData()

    def method_names(self) -> list[str]:
        return [self.method_combo.itemData(i) for i in range(self.method_combo.count())]

    def select_method(self, name: str) -> bool:
        """Pick method ``name`` here (emits ``method_changed``); False if unknown."""
        index = self.method_combo.findData(name)
        if index >= 0 and index != self.method_combo.currentIndex():
            self.method_combo.setCurrentIndex(index)
        return index >= 0

    def set_inspection(self, inspection: Inspection) -> None:
        """A new image or target: results of the old one no longer apply."""
        self._ensure_methods()
        self._inspection = inspection
        self.check_button.setEnabled(True)
        self.show_idle()

    def clear(self) -> None:
        self._inspection = None
        self.check_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self._clear_results()
        self.status_label.setText("Open a model and an image to check an attribution method.")

    def set_badge(self, method: str, suffix: str) -> None:
        """Mark ``method`` in the picker with ``badge(report)`` ("" when unchecked)."""
        index = self.method_combo.findData(method)
        if index >= 0:
            self.method_combo.setItemText(index, self._titles[method] + suffix)
            self.method_combo.setItemData(
                index, BADGE_TIP if suffix else None, Qt.ItemDataRole.ToolTipRole
            )

    def show_idle(self) -> None:
        self._clear_results()
        self._set_running(False)
        self.status_label.setText("Not checked yet: press Check this method.")

    def show_running(self, method: str) -> None:
        self._clear_results()
        self._set_running(True)
        self.progress.setRange(0, 0)  # until the first report says how many steps
        self.status_label.setText(f"Checking {self._titles.get(method, method)}…")

    def show_progress(self, done: int, total: int, what: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status_label.setText(f"{done}/{total}: {what}")

    def show_cancelled(self) -> None:
        self._set_running(False)
        self.status_label.setText("Cancelled.")

    def show_failure(self, message: str) -> None:
        self._set_running(False)
        self.status_label.setText(f"Failed: {message}")

    def show_report(self, report: TrustReport) -> None:
        """Paint the curves, the verdict and the strip of maps of ``report``."""
        self._set_running(False)
        self._plot_curves(report)
        self._show_verdict(report)
        self._show_strip(report)
        self.status_label.setText(
            f"{report.title} with its default options: checked on this image."
        )

    # --- internals -------------------------------------------------------------------
    def _ensure_methods(self) -> None:
        if self.method_combo.count():
            return
        from inspector.attribution import REGISTRY, method_names

        with QSignalBlocker(self.method_combo):
            for name in method_names():
                self._titles[name] = REGISTRY[name].title
                self.method_combo.addItem(REGISTRY[name].title, name)

    def _set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.check_button.setEnabled(not running and self._inspection is not None)
        self.progress.setVisible(running)
        if not running:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)

    def _clear_results(self) -> None:
        for plot in (self.deletion_plot, self.insertion_plot):
            plot.getPlotItem().clear()
            plot.getPlotItem().legend.clear()
        self.verdict_label.setText("")
        while self.strip_layout.count():
            widget = self.strip_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()

    def _plot_curves(self, report: TrustReport) -> None:
        self._clear_results()
        faithfulness = [("method", report.curves.method)] + [
            (c.name, c) for c in report.curves.controls
        ]
        for plot, kind in ((self.deletion_plot, "deletion"), (self.insertion_plot, "insertion")):
            for role, result in faithfulness:
                curve = getattr(result, kind)
                name = report.title if role == "method" else f"{role} map (control)"
                plot.plot(
                    curve.fractions,
                    curve.probabilities,
                    pen=CURVE_PENS[role],
                    name=f"{name}: AUC {curve.auc:.3f}",
                )

    def _show_verdict(self, report: TrustReport) -> None:
        """Two statements, never one tick for both: faithfulness against the random
        map (a paired test; or "cannot judge" on flat curves), then the
        randomisation check, worded as the diagnosis it is."""
        self.verdict_label.setText(
            f"<b>{html.escape(report.title)}</b> on this image. "
            + faithfulness_summary(report)
            + "<br>"
            + randomisation_summary(report)
        )

    def _show_strip(self, report: TrustReport) -> None:
        result = report.randomization
        labels = ["trained model"] + [
            f"random down to<br>{self._short(layer)}<br>ρ = {rho:.2f}"
            for layer, rho in zip(result.layers, result.spearman, strict=True)
        ]
        for index, (heatmap, label) in enumerate(zip(result.maps, labels, strict=True)):
            tile = QWidget()
            tile.setFixedWidth(STRIP_TILE + 24)
            column = QVBoxLayout(tile)
            column.setContentsMargins(2, 0, 2, 0)
            picture = QLabel()
            picture.setPixmap(to_pixmap(self._tile(heatmap), STRIP_TILE))
            text = QLabel(label)
            text.setTextFormat(Qt.TextFormat.RichText)
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text.setToolTip(result.layers[index - 1] if index else "the model as trained")
            if index == result.decisive_step:
                text.setStyleSheet(
                    f"font-weight: bold; color: {PASS_COLOUR if result.passes else FAIL_COLOUR}"
                )
                text.setToolTip("The verdict reads this step: " + text.toolTip())
            column.addWidget(picture)
            column.addWidget(text)
            column.addStretch(1)
            self.strip_layout.addWidget(tile)
        self.strip_layout.addStretch(1)

    def _short(self, label: str) -> str:
        """The lowest layer reached (a block "top..bottom" ends at bottom): on two
        lines, broken at an underscore, when it is wider than a tile; eliding its
        middle would hide the block number ("block_1…ject_BN" for block_12)."""
        name = label.split("..")[-1]
        metrics, width = self.fontMetrics(), STRIP_TILE + 16
        lines = split_name(name, lambda text: metrics.horizontalAdvance(text) <= width)
        fit = [metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines]
        return "<br>".join(html.escape(line) for line in fit)

    def _tile(self, heatmap: np.ndarray) -> np.ndarray:
        """|map| scaled to [0, 1] over the grey image (uint8 ``(H, W, 3)``)."""
        magnitude = np.abs(np.asarray(heatmap, np.float32))
        top = float(magnitude.max())
        unit = magnitude / top if top > 0 else magnitude
        if self._inspection is None:
            return colorize(unit, "magma")
        base = grayscale_rgb(self._inspection.display_image)
        unit = resize(unit, base.shape[:2])
        return overlay(base, colorize(unit, "magma"), 0.7)


def faithfulness_summary(report: TrustReport) -> str:
    """Faithfulness in words: each curve against the random map, by a one-sided
    Wilcoxon test over the steps (``inspector.trust.verdicts``), or "cannot judge"."""
    from inspector.trust.verdicts import ALPHA, faithfulness_verdicts

    deletion, insertion = faithfulness_verdicts([report.curves])
    if deletion.better is None:
        return (
            f"<b>Faithfulness: these curves cannot judge this model.</b> The target's "
            f"probability moves by at most {deletion.spread:.3f} on any curve (an untrained "
            "or saturated model): no pixel order can be told from another."
        )
    parts = []
    for verdict in (deletion, insertion):
        colour = PASS_COLOUR if verdict.better else FAIL_COLOUR
        parts.append(
            f"{verdict.kind} AUC <b>{verdict.method_auc:.3f}</b> against "
            f"{verdict.control_auc:.3f}: <span style='color:{colour}'><b>{verdict.words}"
            f"</b></span> (p = {verdict.p_value:.2g})"
        )
    return (
        "<b>Faithfulness</b> (paired test over the "
        f"{deletion.pairs} inner steps, level {ALPHA}): " + " · ".join(parts) + "."
    )


def randomisation_summary(report: TrustReport) -> str:
    """The model-randomisation check in words: a diagnosis, not a ranking."""
    result = report.randomization
    rho = abs(float(result.spearman[result.decisive_step - 1]))
    colour = PASS_COLOUR if result.passes else FAIL_COLOUR
    outcome = (
        "the map changes when the weights do: it depends on the model"
        if result.passes
        else "the map barely changes: it shows the image more than the model"
    )
    return (
        f"<b>Randomisation check</b> (diagnoses weight dependence; it does not rank "
        f"methods): after randomising the top {result.decisive_step} of "
        f"{len(result.layers)} weight layers, Spearman |ρ| = <b>{rho:.2f}</b> "
        f"({'below' if result.passes else 'not below'} {result.threshold}): "
        f"<span style='color:{colour}'><b>{outcome}</b></span>."
    )


BADGE_TIP = (
    "randomisation: ✓ the map changes when the weights are randomised (it depends on the "
    "model), ✗ it barely changes. faithfulness: ✓ both the deletion and the insertion "
    "curve beat the random map, 1/2 one does, ✗ neither, ? the curves cannot judge this "
    "model (its output hardly moves)"
)


def badge(report: TrustReport | None) -> str:
    """Both verdicts of a checked method, named as the Trust tab names them, for its
    name in a picker: ``"  · randomisation ✓ · faithfulness ✗"``; ``""`` when it was
    not checked. One tick for both would read as a pass where the maps do not beat
    the random map."""
    if report is None:
        return ""
    from inspector.trust.verdicts import faithfulness_verdicts

    randomisation = "✓" if report.randomization.passes else "✗"
    verdicts = faithfulness_verdicts([report.curves])
    if any(v.better is None for v in verdicts):
        faithful = "?"
    else:
        faithful = {2: "✓", 1: "1/2", 0: "✗"}[sum(bool(v.better) for v in verdicts)]
    return f"  · randomisation {randomisation} · faithfulness {faithful}"
