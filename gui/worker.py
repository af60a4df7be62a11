"""The one path by which the GUI runs model work: a single background thread.

Every TensorFlow call (loading a model, inspecting an image, attributions,
exports) goes through ``ModelWorker.submit``. Jobs run one at a time on a private
``QThreadPool`` with one thread, so the model is never used by two threads at
once and the GUI thread never blocks.

Each job has a *kind* (``"inspect"``, ``"load_model"``, ...) and gets a request
id. A later submit of the same kind supersedes the earlier one: if the earlier
job has not started it is skipped, and if it has, its result is dropped instead
of emitted. Views therefore only ever see the answer to the latest question.
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from collections.abc import Callable

from PyQt6.QtCore import QObject, QThreadPool, pyqtSignal, pyqtSlot

log = logging.getLogger(__name__)

# Every worker alive in this process; the GUI tests check at teardown that none of
# them is still running a job (a thread left running fails the test).
_live_workers: weakref.WeakSet[ModelWorker] = weakref.WeakSet()


def live_workers() -> list[ModelWorker]:
    """Every ``ModelWorker`` that has not been garbage-collected yet."""
    return list(_live_workers)


def describe_error(error: BaseException) -> str:
    """One line for a user: the message of an ``InspectorError``, else a labelled bug."""
    # Imported here, not at the top: importing the engine imports TensorFlow, which
    # must happen on the worker thread so that the first window is not delayed.
    from inspector.errors import InspectorError

    if isinstance(error, InspectorError):
        return str(error)
    return f"Internal error: {type(error).__name__}: {error}"


class ModelWorker(QObject):
    """Runs model jobs one at a time off the GUI thread; drops superseded results.

    Signals:
        finished(kind, request_id, result): the latest job of ``kind`` returned
            ``result`` (a frozen object, never a ``tf.Tensor``).
        failed(kind, request_id, message): the latest job of ``kind`` raised; the
            message is one line, ready for a message box.
        busy_changed(busy): True when a job starts while none was pending, False
            when the last pending job is done (drives the busy indicator).
    """

    finished = pyqtSignal(str, int, object)
    failed = pyqtSignal(str, int, str)
    busy_changed = pyqtSignal(bool)

    # Carries (kind, request_id, result, error message or None) from the pool thread
    # to the GUI thread; queued, because the worker object lives in the GUI thread.
    _job_done = pyqtSignal(str, int, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # guards _latest: read from the pool thread too
        self._latest: dict[str, int] = {}
        self._pending = 0
        self._closed = False
        self._job_done.connect(self._deliver)
        _live_workers.add(self)

    # --- public API ------------------------------------------------------------
    def submit(self, kind: str, job: Callable[[], object]) -> int:
        """Queue ``job()`` to run on the worker thread; returns its request id.

        Args:
            kind: the question this job answers. A later job of the same kind
                supersedes this one (skipped if not started, result dropped if so).
            job: a callable taking no arguments; its return value is emitted with
                ``finished`` (or its exception with ``failed``).

        Returns:
            The request id, increasing across all kinds.
        """
        if self._closed:
            raise RuntimeError("Expected a running worker. Received: submit after shutdown().")
        request_id = next(self._ids)
        with self._lock:
            self._latest[kind] = request_id
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._pool.start(lambda: self._run(kind, request_id, job))
        return request_id

    def is_latest(self, kind: str, request_id: int) -> bool:
        """Whether ``request_id`` is the most recent request of ``kind``."""
        with self._lock:
            return self._latest.get(kind) == request_id

    def cancel(self, kind: str) -> None:
        """Drop every pending or running request of ``kind`` (results never emitted)."""
        with self._lock:
            self._latest.pop(kind, None)

    @property
    def is_busy(self) -> bool:
        """True while a submitted job has not been delivered or dropped yet."""
        return self._pending > 0

    def active_thread_count(self) -> int:
        """Threads of this worker currently running a job (0 or 1)."""
        return self._pool.activeThreadCount()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Skip queued jobs, wait up to ``timeout_ms`` for the running one, emit nothing more.

        Safe to call twice. Called from the main window's ``closeEvent``.
        """
        self._closed = True
        with self._lock:
            self._latest.clear()
        self._pool.clear()
        if not self._pool.waitForDone(timeout_ms):
            log.warning("A model job was still running %d ms after shutdown.", timeout_ms)

    # --- internals --------------------------------------------------------------
    def _run(self, kind: str, request_id: int, job: Callable[[], object]) -> None:
        """Runs in the pool thread. Never raises: Qt would swallow the exception."""
        result: object = None
        message: str | None = None
        if self.is_latest(kind, request_id):  # superseded before it started: skip the work
            try:
                result = job()
            except Exception as error:  # every failure must reach the GUI as a message
                message = describe_error(error)
                if message.startswith("Internal error"):
                    log.exception("Job %r (request %d) failed", kind, request_id)
        if not self._closed:
            self._job_done.emit(kind, request_id, result, message)

    @pyqtSlot(str, int, object, object)
    def _deliver(self, kind: str, request_id: int, result: object, message: object) -> None:
        """Runs in the GUI thread: emit the result unless a newer request replaced it."""
        self._pending = max(0, self._pending - 1)
        if not self._closed and self.is_latest(kind, request_id):
            if message is None:
                self.finished.emit(kind, request_id, result)
            else:
                self.failed.emit(kind, request_id, message)
        if self._pending == 0:
            self.busy_changed.emit(False)
