"""Exports from the app: a view as PNG/SVG, the whole inspection, arrays, a report.

* ``export_view_image`` saves what a view shows (GUI thread: it paints widgets).
* ``export_npz`` and ``export_report`` write arrays and the one-page report;
  call them on the worker (``ModelWorker.submit``), as ``ExportMenu`` does.
* ``ExportAllTask`` runs ``inspector.render.exporting.export_inspection`` on the worker
  with a progress dialog; cancelling leaves nothing half-written.

Every failure is an ``ExportError`` (an ``InspectorError``) whose message names
the file and the reason; the main window shows it in a message box.
``gui.export.dialogs.ExportController`` puts all four behind File > Export.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PyQt6.QtCore import QObject, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QPainter
from PyQt6.QtWidgets import QProgressDialog, QWidget

from inspector.engine.atomic_files import write_file
from inspector.engine.errors import ExportError, InspectorError

if TYPE_CHECKING:
    from gui.jobs.worker import ModelWorker
    from inspector.attribution import Attribution
    from inspector.engine.inspection import Inspection
    from inspector.render.exporting import ExportResult

VIEW_SUFFIXES = (".png", ".svg")
EXPORT_ALL_JOB = "export_all"


class ExportCancelled(ExportError):
    """The user cancelled an export; nothing was written."""


def _atomic_write(path: Path, write) -> Path:
    """Run ``write(temporary_path)``, then rename the file to ``path``
    (``inspector.engine.atomic_files``).

    Raises:
        ExportError: the folder is not writable or ``write`` failed.
    """
    try:
        return write_file(path, write)
    except Exception as error:  # exporters raise plain Exceptions (e.g. an empty view)
        if isinstance(error, InspectorError):
            raise
        raise ExportError(
            f"Expected to write {str(path)!r}. Received: {type(error).__name__}: {error}."
        ) from None


def _graphics_item(target: Any) -> Any:
    """The pyqtgraph item or scene behind ``target``, or None for a plain widget."""
    if isinstance(target, (pg.GraphicsItem, pg.GraphicsScene)):
        return target
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    if isinstance(target, pg.GraphicsLayoutWidget):
        return target.ci
    if isinstance(target, pg.GraphicsView):
        return target.scene()
    plot_item = getattr(target, "plot_item", None)  # our views name their main item so
    return plot_item if isinstance(plot_item, (pg.GraphicsItem, pg.GraphicsScene)) else None


def _svg_painter(partial: Path, width: float, height: float, title: str) -> QPainter:
    from PyQt6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(str(partial))
    generator.setSize(QSize(round(width), round(height)))
    generator.setViewBox(QRectF(0, 0, width, height))
    generator.setTitle(title)
    painter = QPainter(generator)
    # The painter keeps the generator alive only through Python: hold a reference.
    painter.generator = generator
    return painter


def _write_svg(target: Any, item: Any, partial: Path) -> None:
    """SVG through QtSvg. pyqtgraph's SVGExporter cannot parse the path data that
    Qt 6.11 writes (pyqtgraph issue #3485), so the scene is rendered directly."""
    if item is None:
        painter = _svg_painter(partial, target.width(), target.height(), type(target).__name__)
        try:
            target.render(painter)
        finally:
            painter.end()
        return
    scene = item if isinstance(item, pg.GraphicsScene) else item.scene()
    source = scene.sceneRect() if item is scene else item.sceneBoundingRect()
    if scene is None or source.isEmpty():
        raise OSError("the view is empty (it has never been laid out)")
    painter = _svg_painter(partial, source.width(), source.height(), type(item).__name__)
    try:
        scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)
    finally:
        painter.end()


def _write_png(target: Any, item: Any, partial: Path) -> None:
    if item is None:
        if not target.grab().save(str(partial), "PNG"):
            raise OSError("Qt could not save the picture")
        return
    if pg_exporters.ImageExporter(item).export(str(partial)) is False:
        raise OSError("pyqtgraph's exporter reported a failure")


def export_view_image(target: Any, path: str | Path) -> Path:
    """Save what a view shows as PNG or SVG. Call on the GUI thread.

    Args:
        target: a pyqtgraph item or widget (PlotItem, ViewBox, GraphicsLayout,
            PlotWidget, GraphicsLayoutWidget), a view with a ``plot_item``
            attribute, or any QWidget. PNG goes through pyqtgraph's
            ImageExporter (``QWidget.grab`` for plain widgets), SVG through QtSvg.
        path: the file; its suffix (``.png`` or ``.svg``) picks the format.

    Returns:
        The path written.

    Raises:
        ExportError: another suffix, an empty view, or a failed write.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIEW_SUFFIXES:
        raise ExportError(f"Expected a file name ending in .png or .svg. Received: {path.name!r}.")
    path = path.with_suffix(suffix)
    item = _graphics_item(target)
    if item is None and not isinstance(target, QWidget):
        raise ExportError(
            "Expected a view (a pyqtgraph item or a QWidget) to export. "
            f"Received: {type(target).__name__}."
        )

    write = _write_svg if suffix == ".svg" else _write_png
    return _atomic_write(path, lambda partial: write(target, item, partial))


def export_npz(inspection: Inspection, path: str | Path) -> Path:
    """Write every layer's activation and gradient as ``.npz``, with the keys of
    ``inspect --out``: ``<layer>``, ``grad/<layer>``, ``input``, ``grad/input``.

    Safe on the worker thread. Raises ``ExportError`` on failure (no file left).
    """
    import numpy as np

    from inspector.render.exporting import npz_arrays

    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ExportError(f"Expected a file name ending in .npz. Received: {path.name!r}.")
    arrays = npz_arrays(inspection, inspection.layers)

    def write(partial: Path) -> None:
        with open(partial, "wb") as handle:  # a handle: np.savez would add ".npz"
            np.savez(handle, **arrays)

    return _atomic_write(path, write)


def export_report(
    inspection: Inspection, attributions: Sequence[Attribution], path: str | Path
) -> Path:
    """Render the one-page report (image, prediction, hierarchy, attributions) to
    ``.png`` or ``.pdf``. Safe on the worker thread. Raises ``ExportError``."""
    from inspector.render.report import render_report, save_report

    path = Path(path)
    if path.suffix.lower() not in (".png", ".pdf"):
        raise ExportError(
            f"Expected a report file name ending in .png or .pdf. Received: {path.name!r}."
        )
    return save_report(render_report(inspection, tuple(attributions)), path)


class ExportAllTask(QObject):
    """Writes the whole inspection into a folder on the worker, with a progress dialog.

    The folder gets the layout of ``layer-inspector inspect --out``. Cancelling
    stops at the next file; ``export_inspection`` stages everything in a hidden
    folder, so a cancelled or failed export leaves the target folder untouched.

    Signals:
        progress(done, total): files written so far (from the worker, queued).
        finished(result): the ``ExportResult``.
        failed(message): one line for a message box.
        cancelled(): the user cancelled; nothing was written.
    """

    progress = pyqtSignal(int, int)
    finished = pyqtSignal(object)
    failed = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(
        self, worker: ModelWorker, parent_widget: QWidget | None = None, kind: str = EXPORT_ALL_JOB
    ) -> None:
        super().__init__(parent_widget)
        self._worker = worker
        self._parent_widget = parent_widget
        self._kind = kind
        self._request_id: int | None = None
        self._cancel: threading.Event | None = None
        self.dialog: QProgressDialog | None = None
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)

    @property
    def running(self) -> bool:
        return self._request_id is not None

    def start(
        self,
        inspection: Inspection,
        out_dir: str | Path,
        attributions: Sequence[Attribution] = (),
        **figure_options: Any,
    ) -> int:
        """Submit the export; returns the worker's request id.

        Args:
            inspection: what to export.
            out_dir: the folder (created; existing layout entries are replaced).
            attributions: maps to write under ``attribution/``.
            **figure_options: ``normalise``, ``colormap``, ``order`` of the grids.
        """
        if self._cancel is not None:
            self._cancel.set()  # a previous export still running stops at its next file
        cancel = self._cancel = threading.Event()
        attributions = tuple(attributions)
        out_dir = Path(out_dir)

        def report(done: int, total: int, _what: str) -> None:
            # Runs on the worker thread; raising here aborts before the folder moves.
            if cancel.is_set() and done < total:
                raise ExportCancelled(
                    "Expected the export to finish. Received: cancelled by the user."
                )
            self.progress.emit(done, total)

        def job() -> ExportResult:
            from inspector.render.exporting import export_inspection

            return export_inspection(
                inspection,
                out_dir,
                attributions=attributions,
                progress=report,
                **figure_options,
            )

        self._open_dialog(out_dir, total=len(inspection.layers) + len(attributions) + 3)
        self._request_id = self._worker.submit(self._kind, job)
        return self._request_id

    def cancel(self) -> None:
        """Stop at the next file written; ``cancelled`` is emitted when the job ends."""
        if self._cancel is not None:
            self._cancel.set()
        if self.dialog is not None:
            self.dialog.setLabelText("Cancelling…")

    def _open_dialog(self, out_dir: Path, total: int) -> None:
        self._close_dialog()
        dialog = QProgressDialog(
            f"Exporting to {out_dir.name}…", "Cancel", 0, total, self._parent_widget
        )
        dialog.setWindowTitle("Export all")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(300)  # quick exports never flash a dialog
        dialog.canceled.connect(self.cancel)
        self.progress.connect(self._show_progress)
        self.dialog = dialog

    def _show_progress(self, done: int, total: int) -> None:
        if self.dialog is not None and not (self._cancel and self._cancel.is_set()):
            self.dialog.setMaximum(total)
            self.dialog.setValue(done)

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.progress.disconnect(self._show_progress)
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    def _is_mine(self, kind: str, request_id: int) -> bool:
        return kind == self._kind and request_id == self._request_id

    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        if self._is_mine(kind, request_id):
            self._request_id = None
            self._close_dialog()
            self.finished.emit(result)

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        if self._is_mine(kind, request_id):
            self._request_id = None
            self._close_dialog()
            if self._cancel is not None and self._cancel.is_set():
                self.cancelled.emit()
            else:
                self.failed.emit(message)
