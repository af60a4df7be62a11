"""Training off the GUI thread: a ``QThread`` that supervises a training process.

Why a process: TensorFlow holds Python's GIL for long stretches while it
imports, traces and builds the training graph, and its worker threads fill both
cores. Trained in a thread of the GUI process, ten epochs of the face model
stalled the event loop for 154-330 ms (longest gap of a 10 ms heartbeat, three
runs); in a child process at a lower CPU priority, for 67-83 ms on the same
machine in the same minutes. The child costs its own TensorFlow import (a few
seconds before the first batch) and memory.

The QThread starts the child (``gui.training.job.child_main``, spawned, so it
shares no Qt or TensorFlow state with the GUI), relays its messages as Qt
signals, and joins it. Signals cross into the GUI thread as queued events that
carry frozen objects: ``progressed`` at most every ``min_interval_s`` seconds
(10 per second by default) plus one per epoch. Cancelling sets a
``multiprocessing.Event`` that the child's Keras callback turns into
``model.stop_training = True`` at the end of the current batch. The child
then has ``STOP_GRACE_S`` to say it is done; after that it is terminated. The
grace matters because a batch boundary can be far away: the child may still be
importing TensorFlow or decoding the data, and after ``fit`` returns it saves
the final model and evaluates it (11-40 s measured on 2 busy cores). Ending it
loses nothing the run directory already holds: records, snapshots and
checkpoints are written by atomic renames, so a terminated run still loads.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue as queue_module
import threading
import time
from collections.abc import Callable

from PyQt6.QtCore import QObject, QThread, pyqtSignal

from gui.training.job import (
    DEFAULT_TRAIN,
    TrainingOutcome,
    TrainingProgress,
    TrainingRequest,
    child_main,
)

log = logging.getLogger(__name__)

__all__ = ["TrainingOutcome", "TrainingProgress", "TrainingRequest", "TrainingThread"]

_POLL_S = 0.05  # how often the supervisor checks that the child is still alive
_KILL_WAIT_MS = 5000
# After Cancel: time the child gets to stop at a batch end and report, before it is
# terminated. Cancel must take effect within 2 s; this leaves room for the kill.
STOP_GRACE_S = 1.0
_TERMINATE_WAIT_S = 0.5


class TrainingThread(QThread):
    """Runs one training job in a child process; emits progress, then succeeded or failed.

    Signals:
        progressed(TrainingProgress): new logs, records and probe maps.
        succeeded(TrainingOutcome): training returned (completed or cancelled).
        failed(str): training raised, or its process died; one line for the user.

    Args:
        request: what to train.
        train: the training function as ``"module:function"`` (or a picklable
            module-level function), called with the ``TrainingRequest`` fields
            plus ``extra_callbacks`` and ``verbose=0``. Default: the face model's
            ``train_face_model``.
        min_interval_s: the throttle: shortest time between two progress signals.
        parent: the Qt parent.
    """

    progressed = pyqtSignal(object)
    succeeded = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(
        self,
        request: TrainingRequest,
        *,
        train: str | Callable[..., object] = DEFAULT_TRAIN,
        min_interval_s: float = 0.1,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.request = request
        self._train = train
        self._min_interval_s = min_interval_s
        # Multiprocessing objects are made in run(): the first one starts a helper
        # process, which must not cost the GUI thread its time.
        self._stop_requested = threading.Event()
        self._process = None
        self._epochs_done = 0

    def request_stop(self) -> None:
        """Ask training to stop at the end of the current batch; returns at once."""
        self._stop_requested.set()

    def stop(self, timeout_ms: int = 30000) -> bool:
        """Ask training to stop and wait for it; kill the process after ``timeout_ms``.

        Returns:
            True if the thread has finished (or never started) when this returns.
        """
        self.request_stop()
        if not self.isRunning() or self.wait(timeout_ms):
            return True
        log.warning("Training did not stop within %d ms; killing its process.", timeout_ms)
        process = self._process
        if process is not None and process.is_alive():
            process.kill()
        return bool(self.wait(_KILL_WAIT_MS))

    def run(self) -> None:  # QThread.run: executes in the supervising thread
        if self._stop_requested.is_set():
            self.succeeded.emit(TrainingOutcome(self.request.run_dir, True, 0))
            return
        try:
            messages = self._start_child()
        except Exception as error:  # e.g. a train function that cannot be pickled
            self.failed.emit(
                f"Could not start the training process: {type(error).__name__}: {error}"
            )
            return
        try:
            self._relay(messages)
        except Exception as error:  # a message that could not be read: a bug
            log.exception("Lost the training process's messages")
            self.failed.emit(f"Internal error: {type(error).__name__}: {error}")
        finally:
            self._end_child(messages)

    def _start_child(self):
        context = multiprocessing.get_context("spawn")
        messages, self._child_stop = context.Queue(), context.Event()
        self._process = context.Process(
            target=child_main,
            args=(self.request, self._train, messages, self._child_stop, self._min_interval_s),
            name="layer-inspector-training",
            daemon=True,
        )
        try:
            self._process.start()
        except BaseException:
            messages.close()
            raise
        return messages

    def _end_child(self, messages) -> None:
        # The child's last message is in: what is left is TensorFlow's teardown,
        # which the thread (and the Start button) need not wait for.
        self._child_stop.set()
        self._process.join(STOP_GRACE_S)
        self._terminate_child()
        messages.close()

    def _relay(self, messages) -> None:
        """Re-emit the child's messages until its final one, until it dies, or
        until ``STOP_GRACE_S`` after a stop request (then the child is ended)."""
        stop_deadline = None
        while True:
            if self._stop_requested.is_set():
                self._child_stop.set()
                now = time.monotonic()
                stop_deadline = stop_deadline or now + STOP_GRACE_S
                if now > stop_deadline:
                    self._terminate_child()
                    self._process_died()
                    return
            try:
                kind, payload = messages.get(timeout=_POLL_S)
            except queue_module.Empty:
                if self._process.is_alive():
                    continue
                try:  # it may have put its last message just before exiting
                    kind, payload = messages.get(timeout=_POLL_S)
                except queue_module.Empty:
                    self._process_died()
                    return
            if kind == "progress":
                if payload.probe is not None:
                    payload.probe.frozen()
                self._epochs_done += len(payload.epochs)
                self.progressed.emit(payload)
                continue
            (self.succeeded if kind == "succeeded" else self.failed).emit(payload)
            return

    def _terminate_child(self) -> None:
        """SIGTERM (Python exits without cleanup), then SIGKILL if it lingers."""
        process = self._process
        if process is None or not process.is_alive():
            return
        log.info("Training did not stop within %.1f s of Cancel; ending it.", STOP_GRACE_S)
        process.terminate()
        process.join(_TERMINATE_WAIT_S)
        if process.is_alive():
            process.kill()
            process.join(_KILL_WAIT_MS / 1000)

    def _process_died(self) -> None:
        if self._stop_requested.is_set():  # killed by stop(): a cancelled run, not a failure
            self.succeeded.emit(TrainingOutcome(self.request.run_dir, True, self._epochs_done))
            return
        code = self._process.exitcode
        self.failed.emit(f"The training process ended unexpectedly (exit code {code}).")
