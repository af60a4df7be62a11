"""The one path by which the GUI runs model work: a single background thread.

Every TensorFlow call (loading a model, inspecting an image, attributions,
exports) goes through ``ModelWorker.submit``. Jobs run one at a time on one
long-lived background thread, so the model is never used by two threads at
once and the GUI thread never blocks.

Why a Python thread and not a ``QThreadPool``: a pool thread gets a fresh Python
thread state for every job, and TensorFlow's pybind11 bindings cache the thread
state of the job that first imported TensorFlow. The next job on that OS thread
then crashes (SIGSEGV in ``take_gil``) — which is exactly what happens when the
first job imports the engine so that the window can appear before TensorFlow.
A ``threading.Thread`` keeps one thread state for its whole life.

Each job has a *kind* (``"inspect"``, ``"load_model"``, ...) and gets a request
id. A later submit of the same kind supersedes the earlier one: if the earlier
job has not started it is skipped, and if it has, its result is dropped instead
of emitted. Views therefore only ever see the answer to the latest question.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import weakref
from collections.abc import Callable

from PyQt6.QtCore import QObject, pyqtSignal, pyqtSlot

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
    from inspector.engine.errors import InspectorError

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

    # Carries (kind, request_id, result, error message or None) from the worker thread
    # to the GUI thread; queued, because the worker object lives in the GUI thread.
    _job_done = pyqtSignal(str, int, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None  # started by the first submit
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # guards _latest: read from the worker thread too
        self._latest: dict[str, int] = {}
        self._pending = 0
        self._busy = False
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
            The request id, increasing across all kinds; 0 after ``shutdown`` (a
            signal queued before the window closed may still ask for work: it is
            ignored, and nothing is ever emitted for it).
        """
        if self._closed:
            log.debug("Ignored a %r job submitted after shutdown().", kind)
            return 0
        request_id = next(self._ids)
        with self._lock:
            self._latest[kind] = request_id
        self._pending += 1
        self._update_busy()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="layer-inspector-model-worker", daemon=True
            )
            self._thread.start()
        self._jobs.put((kind, request_id, job))
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
        """1 while this worker's thread is alive (between the first submit and
        ``shutdown``), else 0."""
        return int(self._thread is not None and self._thread.is_alive())

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Skip queued jobs, wait up to ``timeout_ms`` for the running one, end the
        thread, and emit nothing more. Safe to call twice. Called from ``closeEvent``.
        """
        self._closed = True
        with self._lock:
            self._latest.clear()  # queued jobs are now stale: the loop skips them
        if self._thread is None:
            return
        self._jobs.put(None)
        self._thread.join(timeout_ms / 1000)
        if self._thread.is_alive():
            log.warning("A model job was still running %d ms after shutdown.", timeout_ms)

    # --- internals --------------------------------------------------------------
    def _loop(self) -> None:
        """The worker thread: run jobs in order until ``shutdown`` sends None."""
        while (item := self._jobs.get()) is not None:
            self._run(*item)

    def _run(self, kind: str, request_id: int, job: Callable[[], object]) -> None:
        """Runs in the worker thread. Never raises: that would end the thread."""
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
        self._update_busy()

    def _update_busy(self) -> None:
        # Emitted on changes only: a result's handler may submit the next job
        # before this delivery finishes, and the indicator must not flicker.
        busy = self._pending > 0
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
