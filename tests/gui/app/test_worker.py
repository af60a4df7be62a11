"""ModelWorker: one background thread, stale results dropped, errors as messages."""

from __future__ import annotations

import threading

import pytest
from PyQt6.QtCore import QThread

from gui.jobs.worker import ModelWorker, describe_error
from inspector.engine.errors import ImageLoadError


@pytest.fixture
def worker(qtbot):
    worker = ModelWorker()
    yield worker
    worker.shutdown()


def test_job_runs_off_the_gui_thread_and_result_is_emitted(qtbot, worker):
    gui_thread = QThread.currentThread()
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.submit("inspect", lambda: QThread.currentThread() is gui_thread)
    kind, request_id, ran_on_gui_thread = blocker.args
    assert kind == "inspect"
    assert request_id >= 1
    assert ran_on_gui_thread is False


def test_later_submit_of_same_kind_supersedes_stale_result(qtbot, worker):
    gate = threading.Event()
    started = threading.Event()

    def slow_first():
        started.set()
        gate.wait(5)
        return "stale"

    received = []
    worker.finished.connect(lambda kind, rid, result: received.append((kind, rid, result)))
    first = worker.submit("inspect", slow_first)
    assert started.wait(5)
    second = worker.submit("inspect", lambda: "fresh")
    assert not worker.is_latest("inspect", first)
    assert worker.is_latest("inspect", second)
    gate.set()
    qtbot.waitUntil(lambda: not worker.is_busy, timeout=5000)
    assert received == [("inspect", second, "fresh")]


def test_superseded_job_that_has_not_started_is_never_run(qtbot, worker):
    gate = threading.Event()
    ran = []
    worker.submit("blocker", lambda: gate.wait(5))
    worker.submit("inspect", lambda: ran.append("old"))
    worker.submit("inspect", lambda: ran.append("new"))
    gate.set()
    qtbot.waitUntil(lambda: not worker.is_busy, timeout=5000)
    assert ran == ["new"]


def test_different_kinds_do_not_supersede_each_other(qtbot, worker):
    received = {}
    worker.finished.connect(lambda kind, rid, result: received.__setitem__(kind, result))
    worker.submit("inspect", lambda: 1)
    worker.submit("attribution", lambda: 2)
    qtbot.waitUntil(lambda: len(received) == 2, timeout=5000)
    assert received == {"inspect": 1, "attribution": 2}


def test_inspector_error_is_reported_with_its_message(qtbot, worker):
    def bad():
        raise ImageLoadError("Expected an image file. Received: path='x.txt'.")

    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.submit("load_image", bad)
    assert blocker.args[0] == "load_image"
    assert blocker.args[2] == "Expected an image file. Received: path='x.txt'."


def test_unexpected_exception_is_reported_as_internal_error(qtbot, worker):
    def bug():
        raise ValueError("boom")

    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.submit("inspect", bug)
    assert blocker.args[2] == "Internal error: ValueError: boom"
    assert describe_error(KeyError("k")).startswith("Internal error: KeyError")


def test_busy_signal_goes_true_then_false(qtbot, worker):
    states = []
    worker.busy_changed.connect(states.append)
    worker.submit("a", lambda: 1)
    worker.submit("b", lambda: 2)
    qtbot.waitUntil(lambda: not worker.is_busy, timeout=5000)
    assert states == [True, False]


def test_shutdown_waits_for_running_job_and_emits_nothing_after(qtbot, worker):
    started = threading.Event()
    done = threading.Event()

    def job():
        started.set()
        QThread.msleep(200)
        done.set()
        return "late"

    received = []
    worker.finished.connect(lambda *args: received.append(args))
    worker.submit("inspect", job)
    assert started.wait(5)
    worker.shutdown()
    assert done.is_set()
    assert worker.active_thread_count() == 0
    qtbot.wait(50)  # let any queued delivery run: there must be none
    assert received == []
    ran = []
    assert worker.submit("inspect", lambda: ran.append(1)) == 0  # ignored after shutdown
    qtbot.wait(50)
    assert ran == [] and received == []


def test_jobs_share_one_long_lived_python_thread(qtbot, worker):
    """One thread (and Python thread state) for every job: TensorFlow's bindings
    crash when a job runs on a thread state other than the one that imported it."""
    seen = []
    for index in range(3):
        worker.submit(f"job{index}", lambda: seen.append(threading.current_thread()))
    qtbot.waitUntil(lambda: len(seen) == 3 and not worker.is_busy, timeout=5000)
    assert seen[0] is seen[1] is seen[2]
    assert seen[0].name == "layer-inspector-model-worker"
    assert worker.active_thread_count() == 1
    worker.shutdown()
    assert worker.active_thread_count() == 0
