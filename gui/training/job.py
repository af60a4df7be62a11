"""The training job that the GUI runs in a child process (Qt-free).

``run_training`` calls the training function (``train_face_model`` by default)
with one extra Keras callback, ``GuiBridge``. The bridge:

* collects the per-batch and per-epoch logs, and the records the
  ``TrainingRecorder`` appends to ``records.jsonl`` (read back incrementally:
  ``train_face_model`` builds its own recorder, and the run directory is the
  documented interface between the two);
* sends them in throttled batches: at most one ``TrainingProgress`` every
  ``min_interval_s`` seconds, plus one at each epoch end;
* turns a stop flag into ``model.stop_training = True`` at the end of the batch.

Messages are ``(kind, payload)`` pairs: ``("progress", TrainingProgress)``, then
exactly one of ``("succeeded", TrainingOutcome)`` or ``("failed", str)``. Only
plain dicts, frozen dataclasses and NumPy arrays are sent, so they pickle across
the process boundary.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_TRAIN = "models.training.loop:train_face_model"
# The training process yields the CPU to the GUI process: without it, TensorFlow's
# worker threads fill both cores and the GUI thread waits its turn for up to 100 ms.
CHILD_NICENESS = 10


@dataclass(frozen=True)
class TrainingRequest:
    """What to train: the arguments of ``train_face_model``.

    Attributes:
        run_dir: the new run directory the recorder writes.
        data_dir: a folder with one subfolder per class; None for the bundled faces.
        epochs: number of epochs, at least 1.
        seed: random seed, for a reproducible run.
        model_path: the model file to train (the one the app has open); None for
            the training function's own model (the face CNN from scratch).
        unsafe: the user trusted ``model_path``'s Lambda layers.
        preprocess: the input preset the app shows ``model_path`` with.
    """

    run_dir: Path
    data_dir: Path | None = None
    epochs: int = 5
    seed: int = 0
    model_path: Path | None = None
    unsafe: bool = False
    preprocess: str = "auto"


@dataclass(frozen=True)
class ProbeFrame:
    """The probe images' activations at one snapshot.

    Attributes:
        step: optimizer steps done when the snapshot was taken.
        epoch: the epoch it was taken in (0-based, as the recorder writes it).
        activations: layer name -> float32 (P, H, W, C), or (P, units) for dense
            layers; read-only once received by the GUI.
        probe_images: uint8 (P, H, W, C), the probe images as shown.
    """

    step: int
    epoch: int
    activations: dict[str, np.ndarray] = field(default_factory=dict)
    probe_images: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0, 3), np.uint8))

    def frozen(self) -> ProbeFrame:
        """The same frame with every array read-only (after crossing a process)."""
        for array in (*self.activations.values(), self.probe_images):
            array.setflags(write=False)
        return self


@dataclass(frozen=True)
class TrainingProgress:
    """Everything that happened since the previous progress message.

    Attributes:
        batches: one dict per finished batch: ``{"epoch": int (0-based),
            "batch": int, "position": float (epochs done, fractional),
            "steps_per_epoch": int (0 if unknown), "logs": {"loss", "accuracy"}}``.
        epochs: one dict per finished epoch: ``{"epoch": int (1-based count),
            "logs": {"loss", "accuracy", "val_loss", "val_accuracy", ...}}``.
        records: the recorder's records in order (``{"kind": "layer_stats",
            "step", "epoch", "layers": {name: {"update_ratio", ...}}}``, ...).
        probe: the probe activations at the latest new snapshot, else None.
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
        cancelled: True if it was stopped before its last epoch.
        epochs_done: epochs that finished.
    """

    run_dir: Path
    cancelled: bool
    epochs_done: int


class StopFlag(Protocol):
    """``threading.Event`` or ``multiprocessing.Event``."""

    def is_set(self) -> bool: ...


def plain(value: object) -> object:
    """A deep copy of ``value`` made of dicts, lists and Python scalars only."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class RecordTail:
    """Reads the records appended to a run's ``records.jsonl`` since the last call."""

    def __init__(self, run_dir: Path) -> None:
        from inspector.recording.run_writer import (
            RECORDS_FILE,  # here: the engine imports TensorFlow
        )

        self._path = Path(run_dir) / RECORDS_FILE
        self._offset = 0

    def new_records(self) -> list[dict]:
        """Whole new lines, parsed; a partial last line waits for the next call."""
        try:
            with open(self._path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n") + 1
        self._offset += end
        records = []
        for line in chunk[:end].splitlines():
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # the reader's rule: an unreadable line is dropped
            if isinstance(record, dict) and "kind" in record:
                records.append(record)
        return records


def load_probe_frame(run_dir: Path, step: int, epoch: int = -1) -> ProbeFrame | None:
    """The probe activations of the snapshot at ``step`` of a run being written.

    Returns None (and logs why) if they cannot be read: a missing live preview
    must never stop a training run.
    """
    try:
        from inspector.recording.run_directory import load_run

        run = load_run(run_dir)
        activations = {name: np.array(a) for name, a in run.probe_activations_at(step).items()}
        return ProbeFrame(step, epoch, activations, np.array(run.probe_images))
    except Exception:
        log.warning("Could not read the probe activations at step %d.", step, exc_info=True)
        return None


class Outbox:
    """Collects updates in the training thread and sends them in throttled batches.

    Everything happens in the thread that runs ``fit`` (Keras calls callbacks
    there), so there is nothing to lock.
    """

    def __init__(
        self,
        send: Callable[[TrainingProgress], None],
        run_dir: Path,
        min_interval_s: float,
        *,
        read_probe: Callable[[int, int], ProbeFrame | None] | None = None,
    ) -> None:
        self._send = send
        self._tail = RecordTail(run_dir)
        self._read_probe = read_probe or (lambda s, e: load_probe_frame(run_dir, s, e))
        self._min_interval_s = min_interval_s
        self._batches: list[dict] = []
        self._epochs: list[dict] = []
        self._last_send = float("-inf")

    def add_batch(self, update: dict) -> None:
        self._batches.append(update)
        self.flush()

    def add_epoch(self, update: dict) -> None:
        self._epochs.append(update)
        self.flush(force=True)  # rare, and the points users wait for

    def flush(self, *, force: bool = False) -> None:
        """Send what was collected, unless the last send was too recent."""
        now = time.monotonic()
        if not force and now - self._last_send < self._min_interval_s:
            return
        records = self._tail.new_records()
        batches, epochs = self._batches, self._epochs
        self._batches, self._epochs = [], []
        if not (batches or epochs or records):
            return
        snapshots = [r for r in records if r.get("kind") == "snapshot" and "step" in r]
        # Only the latest snapshot is read: older ones are already out of date.
        last = snapshots[-1] if snapshots else None
        probe = self._read_probe(int(last["step"]), int(last.get("epoch", -1))) if last else None
        self._last_send = now
        self._send(TrainingProgress(tuple(batches), tuple(epochs), tuple(records), probe))


def make_bridge(outbox: Outbox, stop_flag: StopFlag):
    """The Keras callback that feeds ``outbox`` and obeys ``stop_flag``.

    Built here rather than at import so that importing this module does not
    import Keras (and TensorFlow) in the GUI process.
    """
    import keras

    class GuiBridge(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.epochs_done = 0
            self._batches_this_epoch = 0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch
            self._batches_this_epoch = 0
            self._check_stop()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            steps = (self.params or {}).get("steps") or 0
            self._batches_this_epoch += 1
            outbox.add_batch(
                {
                    "epoch": self.epoch,
                    "batch": batch,
                    "position": self.epoch + ((batch + 1) / steps if steps else 0.0),
                    "steps_per_epoch": steps,
                    "logs": plain(logs or {}),
                }
            )
            self._check_stop()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            # Keras ends a stopped epoch like any other; its point on the epoch
            # curves would be a partial mean, so only whole epochs count.
            steps = (self.params or {}).get("steps") or 0
            if steps and self._batches_this_epoch < steps:
                outbox.flush(force=True)
                return
            self.epochs_done = epoch + 1
            outbox.add_epoch({"epoch": epoch + 1, "logs": plain(logs or {})})
            self._check_stop()

        def _check_stop(self) -> None:
            if stop_flag.is_set() and self.model is not None:
                self.model.stop_training = True

    return GuiBridge()


def resolve(train: str | Callable[..., object]) -> Callable[..., object]:
    """A training function from ``"module:function"`` (or the function itself)."""
    if callable(train):
        return train
    module, _, name = train.partition(":")
    return getattr(importlib.import_module(module), name)


def one_line(error: BaseException) -> str:
    """The user-facing message of ``error`` on one line (as ``ModelWorker`` words it).

    Anything but an ``InspectorError`` is a bug: its traceback is logged too.
    """
    from inspector.engine.errors import InspectorError

    if isinstance(error, InspectorError):
        text = str(error)
    else:
        log.error("Training failed", exc_info=error)
        text = f"Internal error: {type(error).__name__}: {error}"
    return " ".join(text.split())


def run_training(
    request: TrainingRequest,
    train: str | Callable[..., object],
    send: Callable[[str, object], None],
    stop_flag: StopFlag,
    min_interval_s: float = 0.1,
) -> None:
    """Train, sending progress, then exactly one "succeeded" or "failed" message.

    Args:
        request: what to train.
        train: the training function or ``"module:function"``; it is called as
            ``train(run_dir=..., data_dir=..., epochs=..., seed=...,
            extra_callbacks=(bridge,), verbose=0)``, plus ``model_path`` (and
            ``unsafe``) when the request names a model.
        send: ``send(kind, payload)`` delivers one message to the GUI.
        stop_flag: when set, training stops at the end of the current batch.
        min_interval_s: shortest time between two progress messages.
    """
    try:
        if stop_flag.is_set():
            send("succeeded", TrainingOutcome(request.run_dir, True, 0))
            return
        outbox = Outbox(lambda p: send("progress", p), request.run_dir, min_interval_s)
        bridge = make_bridge(outbox, stop_flag)
        # Only a request for a given model passes one: the face model's function
        # (and test stand-ins) keep train_face_model's calling convention.
        model = {} if request.model_path is None else {"model_path": request.model_path}
        if request.unsafe:
            model["unsafe"] = True
        if request.model_path is not None and request.preprocess != "auto":
            model["preprocess"] = request.preprocess
        resolve(train)(
            run_dir=request.run_dir,
            data_dir=request.data_dir,
            epochs=request.epochs,
            seed=request.seed,
            extra_callbacks=(bridge,),
            verbose=0,
            **model,
        )
        outbox.flush(force=True)
        cancelled = stop_flag.is_set() and bridge.epochs_done < request.epochs
        send("succeeded", TrainingOutcome(request.run_dir, cancelled, bridge.epochs_done))
    except Exception as error:  # every failure must reach the GUI as a message
        send("failed", one_line(error))


def child_main(
    request: TrainingRequest,
    train: str | Callable[..., object],
    queue,
    stop_event,
    min_interval_s: float,
) -> None:
    """Entry point of the training process: ``run_training`` with a queue as ``send``."""
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(CHILD_NICENESS)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    run_training(
        request, train, lambda kind, payload: queue.put((kind, payload)), stop_event, min_interval_s
    )
