"""Compare: every attribution method side by side for the current image, in one grid.

The methods come from the registry, so a newly registered method gets its tile
without a change here. The view never runs the model: *Compute all* emits
``compare_requested(methods)``; the main window runs one worker job per method
and hands each result back through ``show_result`` (or ``show_failure``), so
progress is the count of answers and *Cancel* drops the jobs not yet run.

Colour scales. Each tile's colours are read like the single-method view: a
signed map is centred on zero (red raises the target score, blue lowers it), an
unsigned one runs from min(0, h) to max(h). With *Shared colour scale* every
tile uses one reach R = max |h| over all the maps (signed: -R..R, unsigned:
0..R), so a map's colours compare with its neighbours'. Off (the default), each
map is stretched to its own range: the methods measure different quantities
(gradients, logit drops, weighted activations), so one absolute scale mostly
shows which method has the largest numbers.

Faithfulness. *Deletion / insertion AUCs* emits ``scores_requested(methods)``
for the maps drawn; ``gui.jobs.compare_scores`` answers each with its
deletion and insertion curves (Petsiuk et al., BMVC 2018) and the line under
the tile prints both areas beside the random map's: a faithful map has a LOWER
deletion and a HIGHER insertion area than the random one.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.widgets.image_helpers import grayscale_rgb, image_box, overlay, show_rgb

if TYPE_CHECKING:
    from inspector.attribution import Attribution
    from inspector.engine.inspection import Inspection
    from inspector.trust import TrustCurves

ALPHA = 0.6
TILE_TEXT = 40  # pixels a tile's two title lines (name, value range) take above its map
SCORE_TEXT = 30  # and its two AUC lines below it, once scores are shown


def grid_columns(count: int, width: int, height: int, text: int = TILE_TEXT) -> int:
    """How many columns show ``count`` square maps largest in ``width`` x ``height``
    pixels, ``text`` pixels of each row going to words. A fixed four columns drew
    13 maps at 60 px in a 950 x 540 area; five draw them at up to 140 px."""
    best, best_side = 1, -1.0
    for columns in range(1, max(count, 1) + 1):
        rows = -(-count // columns)
        side = min(width / columns, height / rows - text)
        if side > best_side:
            best, best_side = columns, side
    return best


def shared_reach(heatmaps: list[np.ndarray]) -> float:
    """R = max |h| over every map (1.0 when all are zero), for the shared scale."""
    reach = max((float(np.abs(h).max()) for h in heatmaps if h.size), default=0.0)
    return reach or 1.0


def auc_text(curves: TrustCurves) -> str:
    """The line under a tile: the method's two areas, the random map's in brackets."""
    random = curves.control("random")
    return "<br>".join(
        f"{kind} AUC {getattr(curves.method, kind).auc:.3f} "
        f"(random {getattr(random, kind).auc:.3f})"
        for kind in ("deletion", "insertion")
    )


def unit_map(heatmap: np.ndarray, signed: bool, reach: float | None) -> np.ndarray:
    """Heatmap values to [0, 1] for a colormap.

    Args:
        heatmap: float ``(H, W)``.
        signed: centre zero at 0.5 (diverging) instead of stretching min..max.
        reach: the shared R, or None for the map's own range.
    """
    heatmap = np.asarray(heatmap, np.float32)
    if signed:
        scale = reach if reach is not None else float(np.abs(heatmap).max()) or 1.0
        return 0.5 + 0.5 * heatmap / scale
    low = 0.0 if reach is not None else min(0.0, float(heatmap.min()))
    high = reach if reach is not None else float(heatmap.max())
    return (heatmap - low) / (high - low if high > low else 1.0)


class CompareView(QWidget):
    """A grid with one tile per registered attribution method.

    Signals:
        compare_requested(list): compute these methods (registry names).
        compare_cancelled(): drop the methods not computed yet.
        scores_requested(list): deletion and insertion curves of these drawn maps.
        scores_cancelled(): stop computing the curves.
    """

    compare_requested = pyqtSignal(list)
    compare_cancelled = pyqtSignal()
    scores_requested = pyqtSignal(list)
    scores_cancelled = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._inspection: Inspection | None = None
        self._results: dict[str, Attribution] = {}
        self._failures: dict[str, str] = {}
        self._pending: list[str] = []
        self._tiles: dict[str, tuple[pg.ViewBox, pg.ImageItem, pg.LabelItem]] = {}
        self._scores: dict[str, TrustCurves] = {}
        self._score_labels: dict[str, pg.LabelItem] = {}
        self._scoring = False
        self._columns = 4  # until the grid knows its size (grid_columns)
        self.compute_button = QPushButton("Compute all")
        self.score_button = QPushButton("Deletion / insertion AUCs")
        self.score_button.setToolTip(
            "Under each map: the area under its deletion curve (lower is better) and its "
            "insertion curve (higher is better), beside a random map's (Petsiuk et al. 2018)"
        )
        self.cancel_button = QPushButton("Cancel")
        self.shared_check = QCheckBox("Shared colour scale")
        self.shared_check.setToolTip(
            "One colour range for every map (R = the largest |value| of all of them), "
            "instead of each map stretched to its own range"
        )
        self.progress = QProgressBar()
        self.status_label = QLabel("Open a model and an image, then Compute all.")
        self.status_label.setWordWrap(True)
        self.reading_label = QLabel(
            "Each tile: the method's map over the image in grey, its value range in the title. "
            "Signed maps (blue-white-red): red raises the target score, blue lowers it; "
            "unsigned maps (dark to bright): brighter = more important."
        )
        self.reading_label.setWordWrap(True)
        self.graphics = pg.GraphicsLayoutWidget()
        self._build_layout()
        self.compute_button.clicked.connect(self.request_all)
        self.score_button.clicked.connect(self.request_scores)
        self.cancel_button.clicked.connect(self.cancel)
        self.shared_check.toggled.connect(lambda _: self._repaint())
        self._set_running(False)

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        for widget in (
            self.compute_button,
            self.score_button,
            self.cancel_button,
            self.shared_check,
        ):
            top.addWidget(widget)
        top.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(self.reading_label)
        layout.addWidget(self.graphics, 1)

    # --- public API ----------------------------------------------------------------
    @property
    def methods(self) -> list[str]:
        """Every registered method, in registration order (one tile each)."""
        from inspector.attribution import method_names

        return list(method_names())

    @property
    def results(self) -> dict[str, Attribution]:
        """The maps computed for the current inspection, by method."""
        return dict(self._results)

    @property
    def scores(self) -> dict[str, TrustCurves]:
        """The deletion and insertion curves shown under the maps, by method."""
        return dict(self._scores)

    def score_text(self, method: str) -> str:
        """The text under ``method``'s tile ("" before its AUCs are known)."""
        label = self._score_labels.get(method)
        return label.text if label is not None else ""

    @property
    def is_running(self) -> bool:
        return bool(self._pending) or self._scoring

    def set_inspection(self, inspection: Inspection) -> None:
        """A new image or target: the old maps no longer apply."""
        self._inspection = inspection
        self._results.clear()
        self._failures.clear()
        self._scores.clear()
        self._pending = []
        self._scoring = False
        self._build_tiles()
        self._set_running(False)
        self.status_label.setText("Compute all to see every method on this image.")

    def request_all(self) -> None:
        """Ask for every method not computed yet for this inspection."""
        if self._inspection is None or self._pending or self._scoring:
            return
        self._failures.clear()
        self._pending = [m for m in self.methods if m not in self._results]
        if not self._pending:
            self.status_label.setText("Every method is already computed for this image.")
            return
        self._set_running(True)
        self._say_progress()
        self.compare_requested.emit(list(self._pending))

    def request_scores(self) -> None:
        """Ask for the AUCs of every drawn map that has none yet."""
        if self._pending or self._scoring:
            return
        methods = [m for m in self._results if m not in self._scores]
        if not methods:
            self.status_label.setText("Compute the maps first; their AUCs are then shown.")
            return
        self._scoring = True
        self._set_running(True)
        self.progress.setRange(0, 0)  # until the first report says how many
        self.status_label.setText(f"Deletion and insertion curves of {len(methods)} maps …")
        self.scores_requested.emit(methods)

    def show_score_progress(self, done: int, total: int, what: str) -> None:
        if self._scoring:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)
            self.status_label.setText(f"{done + 1} of {total}: {what} …")

    def show_scores(self, method: str, curves: TrustCurves) -> None:
        """Print ``method``'s deletion and insertion AUCs under its map."""
        if method not in self._results:
            return
        self._scores[method] = curves
        self._show_score(method, curves)

    def scores_finished(self, message: str = "") -> None:
        """The AUC job ended (``message`` says why when it failed)."""
        if not self._scoring:
            return
        self._scoring = False
        self._set_running(False)
        self._reflow()  # the AUC lines take room: another flow may fit better
        self.status_label.setText(
            message
            or f"AUCs of {len(self._scores)} maps (substrate: blurred image); "
            "deletion: lower than random is better, insertion: higher."
        )

    def cancel(self) -> None:
        """Stop after the method being computed; what is done stays."""
        if self._scoring:
            self._scoring = False
            self._set_running(False)
            self.scores_cancelled.emit()
            self.status_label.setText(f"Cancelled: AUCs of {len(self._scores)} maps shown.")
            return
        if not self._pending:
            return
        left = len(self._pending)
        self._pending = []
        self._set_running(False)
        self.compare_cancelled.emit()
        self.status_label.setText(
            f"Cancelled: {len(self._results)} of {len(self.methods)} computed, {left} left."
        )

    def show_result(self, attribution: Attribution) -> None:
        """One method's map arrived (ignored if it is no longer expected)."""
        if attribution.method not in self._pending:
            return
        self._pending.remove(attribution.method)
        self._results[attribution.method] = attribution
        self._repaint()
        self._after_answer()

    def show_failure(self, method: str, message: str) -> None:
        """One method failed: its tile says why; the others go on."""
        if method not in self._pending:
            return
        self._pending.remove(method)
        self._failures[method] = message
        self._label(method, (self._title(method), "failed"), message)
        self._after_answer()

    # --- internals -------------------------------------------------------------------
    def _after_answer(self) -> None:
        if self._pending:
            self._say_progress()
            return
        self._set_running(False)
        failed = f", {len(self._failures)} failed" if self._failures else ""
        scale = "one shared scale" if self.shared_check.isChecked() else "each its own scale"
        self.status_label.setText(f"{len(self._results)} methods computed{failed}; {scale}.")

    def _say_progress(self) -> None:
        total = len(self.methods)
        done = total - len(self._pending)
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        current = self._title(self._pending[0]) if self._pending else ""
        self.status_label.setText(f"Computing {done + 1} of {total}: {current} …")

    def _set_running(self, running: bool) -> None:
        self.compute_button.setEnabled(not running and self._inspection is not None)
        self.score_button.setEnabled(not running and self._inspection is not None)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)

    def _title(self, method: str) -> str:
        from inspector.attribution import REGISTRY

        return REGISTRY[method].title if method in REGISTRY else method

    def resizeEvent(self, event) -> None:
        """Re-flow the tiles when another column count shows the maps larger."""
        super().resizeEvent(event)
        self._reflow()

    def _reflow(self) -> None:
        """Rebuild the grid with what it holds when another column count fits better."""
        if self._inspection is not None and self._best_columns() != self._columns:
            self._build_tiles()
            self._refill()

    def _best_columns(self) -> int:
        size = self.graphics.size()
        text = TILE_TEXT + (SCORE_TEXT if self._scores else 0)
        return grid_columns(len(self.methods), size.width(), size.height(), text)

    def _build_tiles(self) -> None:
        self.graphics.clear()
        self._tiles, self._score_labels = {}, {}
        self._columns = self._best_columns()
        for index, method in enumerate(self.methods):
            row, col = divmod(index, self._columns)
            label = self.graphics.addLabel(self._title(method), row=3 * row, col=col, size="9pt")
            view, item = image_box(self.graphics, 3 * row + 1, col)
            self._tiles[method] = (view, item, label)
            score = self.graphics.addLabel("", row=3 * row + 2, col=col)
            score.setMaximumHeight(0)  # no room for AUCs until there are some
            self._score_labels[method] = score
            if self._inspection is not None:
                show_rgb(item, grayscale_rgb(self._inspection.display_image))

    def _refill(self) -> None:
        """Put the maps, failures and AUCs known so far into freshly built tiles."""
        self._repaint()
        for method, message in self._failures.items():
            self._label(method, (self._title(method), "failed"), message)
        for method, curves in self._scores.items():
            self._show_score(method, curves)

    def _show_score(self, method: str, curves: TrustCurves) -> None:
        label = self._score_labels.get(method)
        if label is not None:
            label.setMaximumHeight(SCORE_TEXT)
            label.setText(auc_text(curves), size="8pt")

    def _label(self, method: str, lines: tuple[str, ...], tooltip: str = "") -> None:
        """A tile's title, one line each (a long name and its value range on one line
        made the columns wider than the view and pushed the last one out of sight)."""
        if method in self._tiles:
            label = self._tiles[method][2]
            label.setText("<br>".join(html.escape(line) for line in lines), size="9pt")
            label.setToolTip(tooltip)

    def _repaint(self) -> None:
        from inspector.render.colormaps import lookup_table

        if self._inspection is None or not self._results:
            return
        heatmaps = [np.asarray(a.heatmap, np.float32) for a in self._results.values()]
        reach = shared_reach(heatmaps) if self.shared_check.isChecked() else None
        base = grayscale_rgb(self._inspection.display_image)
        for method, attribution in self._results.items():
            unit = unit_map(attribution.heatmap, attribution.signed, reach)
            table = lookup_table("diverging" if attribution.signed else "magma")
            heat = table[np.nan_to_num(np.clip(unit, 0, 1) * 255 + 0.5).astype(np.uint8)]
            if heat.shape[:2] != base.shape[:2]:
                continue  # a map at another resolution than the image: not drawable here
            show_rgb(self._tiles[method][1], overlay(base, heat, ALPHA))
            low, high = float(attribution.heatmap.min()), float(attribution.heatmap.max())
            self._label(method, (attribution.title, f"[{low:.3g} .. {high:.3g}]"))


__all__ = ["CompareView", "auc_text", "shared_reach", "unit_map"]
