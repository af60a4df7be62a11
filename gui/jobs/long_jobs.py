"""Progress and Cancel for long model jobs on the app's one worker.

The worker (``gui.jobs.worker``) runs one job at a time and drops superseded
results, but it has no progress channel and cannot stop a job that runs. The
trust checks and unit mining are long loops that take a ``progress`` callback
and a ``cancelled()`` check (``inspector.engine.progress``,
``inspector.units.run``). This helper gives every job it submits both:

* progress crosses from the worker thread to the GUI thread as a queued Qt
  signal, and only the latest request of a kind is reported;
* Cancel sets a ``threading.Event`` that the core reads between two steps, and
  asks the worker to drop the job's result. A newer request of the same kind
  cancels the older one the same way, so the worker is free sooner.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PyQt6.QtCore import QObject, Qt, pyqtSignal


class JobControl:
    """What a long job gets on the worker thread: report progress, ask if cancelled.

    Args:
        kind: the job's kind (its worker queue).
        emit: sends ``(kind, request_id, done, total, what)`` to the GUI thread.
    """

    def __init__(self, kind: str, emit: Callable[..., None]) -> None:
        self.kind = kind
        self.request_id = 0  # set right after submit; an earlier report is dropped
        self.event = threading.Event()
        self._emit = emit

    def progress(self, done: int, total: int, what: str = "") -> None:
        """Report ``done`` of ``total`` units finished; ``what`` names the last one."""
        self._emit(self.kind, self.request_id, int(done), int(total), str(what))

    def cancelled(self) -> bool:
        """True once Cancel was pressed or a newer request of this kind came."""
        return self.event.is_set()


class LongJobs(QObject):
    """Submits jobs ``job(context, control)`` through a session, with progress and Cancel.

    Args:
        session: the app's ``Session`` (its ``submit_engine_job`` and worker).

    Signals:
        progressed(kind, done, total, what): the latest job of ``kind`` moved on.
    """

    progressed = pyqtSignal(str, int, int, str)
    # Emitted on the worker thread; queued to the GUI thread, where it is filtered.
    _reported = pyqtSignal(str, int, int, int, str)

    def __init__(self, session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._controls: dict[str, JobControl] = {}
        self._reported.connect(self._forward, Qt.ConnectionType.QueuedConnection)

    def submit(self, kind: str, job: Callable[[object, JobControl], object]) -> int:
        """Queue ``job(context, control)``; stops an older job of ``kind`` first."""
        self._stop(kind)
        control = JobControl(kind, self._reported.emit)
        control.request_id = self.session.submit_engine_job(kind, lambda c: job(c, control))
        self._controls[kind] = control
        return control.request_id

    def cancel(self, kind: str) -> None:
        """Stop the job of ``kind`` at its next check; its result is never delivered."""
        self._stop(kind)
        self.session.worker.cancel(kind)

    def finished(self, kind: str, request_id: int) -> bool:
        """Forget the control of a delivered job; True if it was the latest of ``kind``."""
        control = self._controls.get(kind)
        if control is None or control.request_id != request_id:
            return False
        del self._controls[kind]
        return True

    def is_running(self, kind: str) -> bool:
        return kind in self._controls

    def _stop(self, kind: str) -> None:
        control = self._controls.pop(kind, None)
        if control is not None:
            control.event.set()

    def _forward(self, kind: str, request_id: int, done: int, total: int, what: str) -> None:
        control = self._controls.get(kind)
        if control is not None and control.request_id == request_id:
            self.progressed.emit(kind, done, total, what)
