"""GUI test fixtures: tiny models, their inspections, and a no-thread-left check.

Every GUI test runs headless (QT_QPA_PLATFORM=offscreen, set by tests/conftest.py).
The autouse fixture ``_no_thread_left_running`` fails a test that leaves a model
worker busy or a QThread running at teardown.
"""

from __future__ import annotations

import gc

import keras
import numpy as np
import pytest
from PyQt6.QtCore import QThread, QThreadPool

from gui import worker as worker_module

THREAD_JOIN_MS = 5000


def _running_qthreads() -> list[QThread]:
    main = QThread.currentThread()
    found = []
    for obj in gc.get_objects():
        try:
            if isinstance(obj, QThread) and obj is not main and obj.isRunning():
                found.append(obj)
        except RuntimeError:  # wrapper whose C++ object is already deleted
            continue
    return found


@pytest.fixture(autouse=True)
def _no_thread_left_running(qapp):
    """Fail the test if it leaves a worker job or a QThread running."""
    yield
    busy = [w for w in worker_module.live_workers() if _alive(w) and w.active_thread_count()]
    threads = _running_qthreads()
    pool_busy = QThreadPool.globalInstance().activeThreadCount()
    # Join before failing so that one leaky test does not poison the next ones.
    for w in busy:
        w.shutdown(THREAD_JOIN_MS)
    for thread in threads:
        thread.quit()
        thread.wait(THREAD_JOIN_MS)
    QThreadPool.globalInstance().waitForDone(THREAD_JOIN_MS)
    problems = []
    if busy:
        problems.append(f"{len(busy)} ModelWorker(s) still running a job")
    if threads:
        problems.append(f"QThreads still running: {[type(t).__name__ for t in threads]}")
    if pool_busy:
        problems.append(f"{pool_busy} global QThreadPool thread(s) still active")
    if problems:
        pytest.fail("Thread left running at teardown: " + "; ".join(problems))


def _alive(obj) -> bool:
    try:
        obj.objectName()
    except RuntimeError:
        return False
    return True
