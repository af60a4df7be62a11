"""Training off the GUI thread: a ``QThread`` that runs ``train_face_model``.

The thread adds one Keras callback to the fit. It forwards per-batch and
per-epoch logs, and every record the ``TrainingRecorder`` writes, to the GUI as
``progressed`` signals carrying a frozen ``TrainingProgress``. Signals cross
threads as queued events, so the GUI thread only ever sees plain dicts and
read-only arrays, and it sees them in batches: at most one signal every
``min_interval_s`` seconds (20 per second by default), however fast the batches
run. Cancelling sets a flag that the callback turns into
``model.stop_training = True`` at the end of the current batch.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import keras
import numpy as np
from PyQt6.QtCore import QObject, QThread, pyqtSignal

from gui.worker import describe_error
from inspector.errors import InspectorError
from inspector.inspection import read_only

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingRequest:
    """What to train: the arguments of ``train_face_model``.

    Attributes:
        run_dir: the run directory the recorder writes (created by training).
        data_dir: a folder with one subfolder per class; None for the bundled faces.
        epochs: number of epochs, at least 1.
        seed: random seed, for a reproducible run.
    """

    run_dir: Path
    data_dir: Path | None = None
    epochs: int = 5
    seed: int = 0


@dataclass(frozen=True)
class ProbeFrame:
    """The probe images' activations at one recorded step.

    Attributes:
        step: the optimizer step of the snapshot.
        epoch: the epoch it was taken in (0-based, as the recorder writes it).
        activations: layer name -> float array (P, H, W, C) (or (P, C) for dense
            layers), read-only.
        probe_images: uint8 array (P, H, W, C), read-only.
    """

    step: int
    epoch: int
    activations: Mapping[str, np.ndarray]
    probe_images: np.ndarray


@dataclass(frozen=True)
class TrainingProgress:
    """Everything that happened since the previous ``progressed`` signal.

    Attributes:
        batches: one dict per finished batch: ``{"epoch": int (0-based),
            "batch": int, "position": float (epochs done, fractional),
            "logs": {"loss": float, "accuracy": float, ...}}``.
        epochs: one dict per finished epoch: ``{"epoch": int (1-based count),
            "logs": {"loss", "accuracy", "val_loss", "val_accuracy", ...}}``.
        records: the recorder's records in order (``{"kind": "layer_stats",
            ...}``, ``{"kind": "snapshot", ...}``; see the run-directory format).
        probe: the probe activations of the latest snapshot, if a new one was
            written since the previous signal; else None.
    """

    batches: tuple[Mapping, ...] = ()
    epochs: tuple[Mapping, ...] = ()
    records: tuple[Mapping, ...] = ()
    probe: ProbeFrame | None = None


@dataclass(frozen=True)
class TrainingOutcome:
    """How a training run ended without an error.

    Attributes:
        run_dir: the run directory that was written.
        cancelled: True if the user stopped it before the last epoch.
        epochs_done: epochs that finished.
    """

    run_dir: Path
    cancelled: bool
    epochs_done: int


def plain(value: object) -> object:
    """A deep copy of ``value`` made of dicts, lists and Python scalars only.

    The training thread keeps no reference to what it hands over, and NumPy
    scalars in the recorder's records become floats and ints.
    """
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_probe_frame(run_dir: Path, step: int, epoch: int = -1) -> ProbeFrame | None:
    """Read the probe activations of the snapshot at ``step`` from a run in progress.

    Returns None (and logs why) when the snapshot cannot be read: a missing live
    preview must never stop a training run.
    """
    from inspector.run_directory import load_run

    try:
        run = load_run(run_dir)
        activations = run.probe_activations_at(step)
        frozen = {name: read_only(np.asarray(array)) for name, array in activations.items()}
        return ProbeFrame(step, epoch, MappingProxyType(frozen), read_only(run.probe_images))
    except Exception:
        log.warning("Could not read the probe activations at step %d.", step, exc_info=True)
        return None


class _Outbox:
    """Collects updates in the training thread and sends them in throttled batches."""

    def __init__(
        self,
        send: Callable[[TrainingProgress], None],
        read_probe: Callable[[int, int], ProbeFrame | None],
        min_interval_s: float,
    ) -> None:
        self._send = send
        self._read_probe = read_probe
        self._min_interval_s = min_interval_s
        self._lock = threading.Lock()  # on_record may come from a recorder thread
        self._batches: list[dict] = []
        self._epochs: list[dict] = []
        self._records: list[dict] = []
        self._snapshot: tuple[int, int] | None = None
        self._last_send = float("-inf")

    def add_batch(self, update: dict) -> None:
        with self._lock:
            self._batches.append(update)
        self.flush()

    def add_epoch(self, update: dict) -> None:
        with self._lock:
            self._epochs.append(update)
        self.flush(force=True)  # rare and the most important curve point: no wait

    def add_record(self, record: Mapping) -> None:
        copy = plain(record)
        with self._lock:
            self._records.append(copy)
            if copy.get("kind") == "snapshot" and "step" in copy:
                self._snapshot = (int(copy["step"]), int(copy.get("epoch", -1)))
        self.flush()

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_send < self._min_interval_s:
            return
        with self._lock:
            batches, epochs, records = self._batches, self._epochs, self._records
            snapshot, self._snapshot = self._snapshot, None
            self._batches, self._epochs, self._records = [], [], []
        if not (batches or epochs or records or snapshot):
            return
        # Only the latest snapshot is read: older ones are already out of date.
        probe = self._read_probe(*snapshot) if snapshot else None
        self._last_send = now
        self._send(TrainingProgress(tuple(batches), tuple(epochs), tuple(records), probe))


class GuiBridge(keras.callbacks.Callback):
    """Keras callback: logs to the outbox, and the stop flag to ``stop_training``."""

    def __init__(self, outbox: _Outbox, stop_requested: threading.Event) -> None:
        super().__init__()
        self._outbox = outbox
        self._stop_requested = stop_requested
        self._epoch = 0
        self.epochs_done = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._check_stop()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        steps = (self.params or {}).get("steps") or 0
        position = self._epoch + ((batch + 1) / steps if steps else 0.0)
        update = {"epoch": self._epoch, "batch": batch, "position": position, "logs": plain(logs)}
        self._outbox.add_batch(update)
        self._check_stop()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs_done = epoch + 1
        self._outbox.add_epoch({"epoch": epoch + 1, "logs": plain(logs or {})})
        self._check_stop()

    def _check_stop(self) -> None:
        if self._stop_requested.is_set() and self.model is not None:
            self.model.stop_training = True


def default_train_function() -> Callable[..., object]:
    """``models.training.train_face_model``, imported late (it pulls in the data code)."""
    from models.training import train_face_model

    return train_face_model


class TrainingThread(QThread):
    """Runs one training job; emits throttled progress, then one of succeeded/failed.

    Signals:
        progressed(TrainingProgress): new logs and records, at most one signal
            every ``min_interval_s`` seconds (plus one at each epoch end).
        succeeded(TrainingOutcome): training returned (completed or cancelled).
        failed(str): training raised; a one-line message for the user.

    Args:
        request: what to train.
        train: the training function, called as ``train(data_dir=..., epochs=...,
            run_dir=..., seed=..., extra_callbacks=(callback,), verbose=0)`` plus
            ``on_record=...`` if it accepts it. Defaults to ``train_face_model``.
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
        train: Callable[..., object] | None = None,
        min_interval_s: float = 0.05,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.request = request
        self._train = train
        self._stop_requested = threading.Event()
        outbox = _Outbox(
            self.progressed.emit,
            lambda step, epoch: load_probe_frame(request.run_dir, step, epoch),
            min_interval_s,
        )
        self._outbox = outbox
        self._bridge = GuiBridge(outbox, self._stop_requested)

    @property
    def stop_requested(self) -> bool:
        """True once ``request_stop`` or ``stop`` was called."""
        return self._stop_requested.is_set()

    def request_stop(self) -> None:
        """Ask training to stop at the end of the current batch; returns at once."""
        self._stop_requested.set()

    def stop(self, timeout_ms: int = 30000) -> bool:
        """Ask training to stop and wait for the thread to end.

        Returns:
            True if the thread has finished (or never started) within ``timeout_ms``.
        """
        self.request_stop()
        if not self.isRunning():
            return True
        finished = self.wait(timeout_ms)
        if not finished:
            log.warning("Training was still running %d ms after stop().", timeout_ms)
        return bool(finished)

    def run(self) -> None:  # Qt's QThread.run: executes in the new thread
        try:
            if self._stop_requested.is_set():
                self.succeeded.emit(TrainingOutcome(self.request.run_dir, True, 0))
                return
            train = self._train or default_train_function()
            train(**self._train_arguments(train))
            self._outbox.flush(force=True)
            cancelled = self._stop_requested.is_set() and (
                self._bridge.epochs_done < self.request.epochs
            )
            outcome = TrainingOutcome(self.request.run_dir, cancelled, self._bridge.epochs_done)
            self.succeeded.emit(outcome)
        except Exception as error:  # every failure must reach the GUI as a message
            if not isinstance(error, InspectorError):
                log.exception("Training failed")
            self.failed.emit(" ".join(describe_error(error).split()))

    def _train_arguments(self, train: Callable[..., object]) -> dict:
        request = self.request
        arguments = {
            "data_dir": request.data_dir,
            "epochs": request.epochs,
            "run_dir": request.run_dir,
            "seed": request.seed,
            "extra_callbacks": (self._bridge,),
            "verbose": 0,
        }
        if _accepts(train, "on_record"):
            arguments["on_record"] = self._outbox.add_record
        return arguments


def _accepts(function: Callable[..., object], name: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
