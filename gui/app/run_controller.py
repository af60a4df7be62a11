"""Loads training runs for the *Weight updates* view on the model worker, so that
reading a run's records and first snapshot never holds the window."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject

RUN_JOB = "run"


def _load_run(path: Path):
    from inspector.recording.run_directory import load_run

    return load_run(path)


class RunController(QObject):
    """Answers the view's ``loader(path)`` with ``set_run`` or ``show_load_failure``.

    Args:
        worker: the app's one model worker (``gui.jobs.worker.ModelWorker``).
        view: the ``WeightUpdatesView``; its ``loader`` is set to this controller.
        parent: the Qt parent.
    """

    def __init__(self, worker, view, parent=None) -> None:
        super().__init__(parent)
        self.worker, self.view = worker, view
        self._request_id: int | None = None
        view.loader = self.load
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)

    def load(self, path: Path) -> None:
        """Load ``path`` on the worker; a newer request supersedes this one."""
        self._request_id = self.worker.submit(RUN_JOB, lambda: _load_run(Path(path)))

    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        if kind == RUN_JOB and request_id == self._request_id:
            self.view.set_run(result)

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        if kind == RUN_JOB and request_id == self._request_id:
            self.view.show_load_failure(message)
