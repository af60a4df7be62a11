"""File > Export for the main window: file dialogs around ``gui.export.actions``.

One ``ExportController`` owns the four export actions. It asks for a path with
``QFileDialog``, runs the slow writes on the model worker, and reports through
two signals: ``exported`` (a line for the status bar) and ``failed`` (title and
message for the main window's message box). The main window's state never
changes because of an export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QFileDialog, QMenu, QWidget

from gui.export.actions import (
    ExportAllTask,
    export_npz,
    export_report,
    export_view_image,
)
from inspector.engine.errors import InspectorError

if TYPE_CHECKING:
    from gui.jobs.worker import ModelWorker
    from inspector.attribution import Attribution
    from inspector.engine.inspection import Inspection

NPZ_JOB = "export_npz"
REPORT_JOB = "export_report"
VIEW_FILTERS = {".png": "PNG image (*.png)", ".svg": "SVG drawing (*.svg)"}
REPORT_FILTERS = {".pdf": "PDF document (*.pdf)", ".png": "PNG image (*.png)"}
NPZ_FILTERS = {".npz": "NumPy arrays (*.npz)"}


def ask_save_path(
    parent: QWidget | None, title: str, suggested: Path, filters: dict[str, str]
) -> Path | None:
    """A save dialog; the suffix of the chosen filter is added when none was typed.

    Returns:
        The path, or None if the user cancelled.
    """
    chosen, selected = QFileDialog.getSaveFileName(
        parent, title, str(suggested), ";;".join(filters.values())
    )
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in filters:
        suffix = next((s for s, label in filters.items() if label == selected), None)
        path = path.with_name(path.name + (suffix or next(iter(filters))))
    return path


class ExportController(QObject):
    """The export actions of the main window.

    Args:
        parent: the main window (parent of the dialogs).
        worker: the model worker that runs the writes.
        inspection: returns the current inspection, or None.
        attributions: returns the attribution maps computed for it.
        current_view: returns the view (widget or pyqtgraph item) to export.

    Signals:
        exported(message): an export finished; a line for the status bar.
        failed(title, message): an export failed; for a message box.
    """

    exported = pyqtSignal(str)
    failed = pyqtSignal(str, str)

    def __init__(
        self,
        parent: QWidget,
        worker: ModelWorker,
        *,
        inspection: Callable[[], Inspection | None],
        attributions: Callable[[], Sequence[Attribution]] = tuple,
        current_view: Callable[[], Any] = lambda: None,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._worker = worker
        self._inspection = inspection
        self._attributions = attributions
        self._current_view = current_view
        self._folder = Path.home()
        self._pending: dict[str, tuple[int, str]] = {}
        self.export_all_task = ExportAllTask(worker, parent)
        self.export_all_task.finished.connect(
            lambda result: self.exported.emit(
                f"Exported {len(result.files)} files to {result.out_dir}"
            )
        )
        self.export_all_task.failed.connect(lambda m: self.failed.emit("Export failed", m))
        self.export_all_task.cancelled.connect(lambda: self.exported.emit("Export cancelled"))
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)

    def add_to_menu(self, menu: QMenu) -> list[QAction]:
        """Add the four actions to ``menu``; returns them."""
        entries = [
            ("Current view as PNG or SVG…", self.export_view),
            ("All feature maps and attributions to a folder…", self.export_all),
            ("Activations and gradients (.npz)…", self.export_npz),
            ("One-page report (PDF or PNG)…", self.export_report),
        ]
        actions = []
        for text, slot in entries:
            action = menu.addAction(text)
            action.triggered.connect(lambda _=False, slot=slot: slot())
            actions.append(action)
        return actions

    # --- the four exports ----------------------------------------------------------------
    def export_view(self, path: str | Path | None = None) -> Path | None:
        """Save the current view (GUI thread: painting widgets is not thread-safe)."""
        view = self._current_view()
        if view is None:
            self.failed.emit("Nothing to export", "Expected a view to export. Received: none.")
            return None
        path = Path(path) if path else self._ask("Export view", "view.png", VIEW_FILTERS)
        if path is None:
            return None
        try:
            written = export_view_image(view, path)
        except InspectorError as error:
            self.failed.emit("Could not export the view", str(error))
            return None
        self.exported.emit(f"Saved {written}")
        return written

    def export_all(self, folder: str | Path | None = None) -> int | None:
        """Write the ``inspect --out`` layout for the current image; returns the job id."""
        inspection = self._current_inspection()
        if inspection is None:
            return None
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(
                self._parent, "Export everything into a folder", str(self._folder)
            )
            if not chosen:
                return None
            folder = Path(chosen) / f"{_stem(inspection)}_inspection"
        self._folder = Path(folder).parent
        return self.export_all_task.start(inspection, folder, self._attributions())

    def export_npz(self, path: str | Path | None = None) -> int | None:
        """Write the raw activations and gradients on the worker; returns the job id."""
        inspection = self._current_inspection()
        if inspection is None:
            return None
        path = (
            Path(path)
            if path
            else self._ask(
                "Export activations", f"{_stem(inspection)}_activations.npz", NPZ_FILTERS
            )
        )
        if path is None:
            return None
        return self._submit(NPZ_JOB, path, lambda: export_npz(inspection, path))

    def export_report(self, path: str | Path | None = None) -> int | None:
        """Render and save the one-page report on the worker; returns the job id."""
        inspection = self._current_inspection()
        if inspection is None:
            return None
        attributions = tuple(self._attributions())
        path = (
            Path(path)
            if path
            else self._ask("Export report", f"{_stem(inspection)}_report.pdf", REPORT_FILTERS)
        )
        if path is None:
            return None
        return self._submit(REPORT_JOB, path, lambda: export_report(inspection, attributions, path))

    # --- internals -------------------------------------------------------------------
    def _current_inspection(self) -> Inspection | None:
        inspection = self._inspection()
        if inspection is None:
            self.failed.emit(
                "Nothing to export",
                "Expected an inspected image to export. Received: none (open a model "
                "and an image first).",
            )
        return inspection

    def _ask(self, title: str, name: str, filters: dict[str, str]) -> Path | None:
        path = ask_save_path(self._parent, title, self._folder / name, filters)
        if path is not None:
            self._folder = path.parent
        return path

    def _submit(self, kind: str, path: Path, job: Callable[[], Path]) -> int:
        request_id = self._worker.submit(kind, job)
        self._pending[kind] = (request_id, str(path))
        return request_id

    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        if self._pending.get(kind, (None,))[0] == request_id:
            del self._pending[kind]
            self.exported.emit(f"Saved {result}")

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        if self._pending.get(kind, (None,))[0] == request_id:
            _, path = self._pending.pop(kind)
            self.failed.emit(f"Could not export {Path(path).name}", message)


def _stem(inspection: Inspection) -> str:
    """A file-name stem from the image's source, e.g. ``astronaut``."""
    stem = Path(inspection.source).stem if inspection.source else ""
    return stem if stem and stem != "array" else "image"
