"""``TrainingRecorder``: a Keras callback that records how every layer learns.

Drop it into any ``model.fit``::

    recorder = TrainingRecorder("runs/my_run", probe_images=x_val[:4], probe_labels=y_val[:4])
    model.fit(x, y, epochs=10, callbacks=[recorder])
    run = inspector.load_run("runs/my_run")

Why gradients come from a fixed probe batch: Keras 3's ``fit`` never hands the
gradients it computes to callbacks, and a custom ``train_step`` would only work
for models we build. So every ``every_k_steps`` the recorder runs one compiled
forward+backward pass of the model's own compiled loss on a fixed batch, in
inference mode. The result is the gradient of J at the current weights on
always the same data, so its changes over steps come from the weights alone and
not from which batch happened to be drawn. It is not the optimizer's batch
gradient; the update norm ``||dW||`` is what the optimizer actually did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import keras
import numpy as np

from inspector.engine.model_copy import weighted_layers
from inspector.recording import run_writer
from inspector.recording.probes import (
    LayerMeasurer,
    activation_probe_or_none,
    has_kernel,
    weight_keys,
)
from inspector.recording.store import SnapshotStore
from inspector.recording.tensorboard_log import TensorBoardLog

DEFAULT_EVERY_K_STEPS = 20


def log_spaced_steps(last: int = 1000, per_decade: tuple[int, ...] = (1, 2, 5)) -> tuple[int, ...]:
    """Steps 0, 1, 2, 5, 10, 20, 50, ... up to ``last``: dense early, sparse later."""
    steps = {0}
    decade = 1
    while decade <= last:
        steps.update(m * decade for m in per_decade if m * decade <= last)
        decade *= 10
    return tuple(sorted(steps))


class TrainingRecorder(keras.callbacks.Callback):
    """Records weight norms, updates, gradients, snapshots and probe activations.

    Args:
        run_dir: directory to write the run to (created; an existing run there is
            continued from the model's current optimizer step).
        every_k_steps: record layer statistics every k optimizer steps (and at
            every snapshot step).
        probe_images: float ``(P, H, W, C)`` inputs in the model's value scale whose
            activations are stored with every snapshot; None stores none.
        probe_labels: targets of ``probe_images`` in the form the compiled loss
            takes; with them, the probe images are also the gradient batch.
        gradient_batch: ``(x, y)`` for the loss gradient instead of the probe
            images and labels. With neither, ``grad_norm`` is NaN.
        snapshot_steps: steps after which to snapshot kernels and activations;
            default ``log_spaced_steps(last=steps per epoch)``: 0, 1, 2, 5, 10, ...
            through the first epoch, where most of the change happens (up to step
            1000 when the epoch length is unknown). Every epoch end is snapshot too.
        tensorboard: also write TensorBoard histograms of weights and probe-batch
            gradients, and the norms as scalars, to ``run_dir/tensorboard``.
        on_record: called in the training thread with every record written.
        config: what the run was started with, stored as ``config.json``.
        compress: zlib-compress snapshot files (smaller, a little slower).
    """

    def __init__(
        self,
        run_dir: str | Path,
        *,
        every_k_steps: int = DEFAULT_EVERY_K_STEPS,
        probe_images: np.ndarray | None = None,
        probe_labels: np.ndarray | None = None,
        gradient_batch: tuple[np.ndarray, np.ndarray] | None = None,
        snapshot_steps: Iterable[int] | None = None,
        tensorboard: bool = False,
        on_record: Callable[[dict], None] | None = None,
        config: dict | None = None,
        compress: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(every_k_steps, int) or every_k_steps < 1:
            raise ValueError(
                f"Expected every_k_steps to be a positive integer. Received: {every_k_steps!r}."
            )
        self.run_dir = Path(run_dir)
        self.every_k_steps = every_k_steps
        self.probe_images = None if probe_images is None else np.asarray(probe_images, np.float32)
        self.probe_labels = None if probe_labels is None else np.asarray(probe_labels)
        self.gradient_batch = gradient_batch
        if gradient_batch is None and probe_labels is not None and probe_images is not None:
            self.gradient_batch = (self.probe_images, self.probe_labels)
        self._chosen_steps = None if snapshot_steps is None else frozenset(map(int, snapshot_steps))
        self.snapshot_steps = self._chosen_steps or frozenset()
        self.tensorboard = tensorboard
        self.on_record = on_record
        self.config = dict(config) if config else None
        self.compress = compress

    # --- the Keras hooks --------------------------------------------------------
    def on_train_begin(self, logs=None) -> None:
        epoch_steps = (self.params or {}).get("steps") or 1000
        if self._chosen_steps is None:
            self.snapshot_steps = frozenset(log_spaced_steps(epoch_steps))
        self._step = self._optimizer_step()
        self._epoch = 0
        self._epoch_first_step = self._step
        self._before = None
        self._last_snapshot = -1
        self._pending: list = []  # (future of a snapshot file, its record)
        self._ready = False
        if self._model_is_built():
            self._set_up()
            if self._step == 0:
                self._snapshot("start")

    def _model_is_built(self) -> bool:
        # A subclassed model creates its weights during its first train step.
        return bool(self.model.built or all(layer.built for layer in self.model.layers))

    def _set_up(self) -> None:
        """Trace the measurements, open the run and write its start record."""
        self._ready = True
        self._layers = weighted_layers(self.model)
        x, y = self.gradient_batch if self.gradient_batch is not None else (None, None)
        self._measurer = LayerMeasurer(
            self.model, self._layers, x, y, with_gradients=self.tensorboard
        )
        kernel_layers = [(n, layer) for n, layer in self._layers if has_kernel(layer)]
        probe, why_not = activation_probe_or_none(
            self.model, [n for n, _ in kernel_layers], self.probe_images
        )
        self._appender = run_writer.RecordAppender(self.run_dir)
        self._store = SnapshotStore(self.run_dir, kernel_layers, probe, self.compress)
        self._store.write_config(self.config, self._recorder_settings())
        self._store.write_probes(self.probe_images, self.probe_labels, self._step)
        self._tensorboard = TensorBoardLog(self.run_dir, self._layers) if self.tensorboard else None
        self._emit(self._start_record(kernel_layers, probe, why_not), sync=True)

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch = int(epoch)
        self._epoch_first_step = self._step

    def on_train_batch_begin(self, batch, logs=None) -> None:
        if not self._ready or not self._layers:
            return
        # Assumes one optimizer step per call (steps_per_execution=1); with more,
        # dW spans the whole call and steps are read back from the optimizer.
        if self._crosses(self._step, self._step + 1, self.every_k_steps) or (
            self._step + 1 in self.snapshot_steps
        ):
            self._before = self._measurer.copy_weights()

    def on_train_batch_end(self, batch, logs=None) -> None:
        if not self._ready:
            # Built by its first step: records start at the step before it.
            self._set_up()
        self._emit_written_snapshots()
        previous = self._step
        if getattr(self.model, "steps_per_execution", 1) == 1:
            self._step += 1  # one update per batch: no need to ask the optimizer
        else:
            self._step = self._optimizer_step()
        if self._before is not None:
            self._record_layer_stats()
            self._before = None
        if any(s in self.snapshot_steps for s in range(previous + 1, self._step + 1)):
            self._snapshot("early")

    def on_epoch_end(self, epoch, logs=None) -> None:
        if not self._ready:
            self._set_up()
        self._step = self._optimizer_step()  # re-align once per epoch, to be safe
        if self._last_snapshot != self._step:
            self._snapshot("epoch_end")
        self._emit_written_snapshots()
        logs = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        steps = (self.params or {}).get("steps")
        complete = steps is None or self._step - self._epoch_first_step >= steps
        record = {"kind": "epoch", "epoch": int(epoch), "step": self._step, "time": time.time()}
        self._emit({**record, "complete": complete, "logs": logs})
        # fsync guards against power loss, not a killed process (the line is
        # already flushed), so it can wait on the writer thread.
        self._store.in_background(self._appender.sync)
        if self._tensorboard:
            self._tensorboard.flush()

    def on_train_end(self, logs=None) -> None:
        if not getattr(self, "_ready", False):
            return  # no batch ever ran: nothing was opened
        self._ready = False
        self._emit_written_snapshots(wait=True)
        self._store.close()
        self._emit({"kind": "end", "step": self._step, "epoch": self._epoch, "time": time.time()})
        self._appender.close()
        if self._tensorboard:
            self._tensorboard.close()

    # --- what gets recorded ------------------------------------------------------
    def _record_layer_stats(self) -> None:
        restore = self._measurer.restore_loss_metrics()
        table, gradients = self._measurer.measure(self._before)
        restore()
        layers = {}
        for (name, _), row in zip(self._layers, table, strict=True):
            weight_norm, update_norm, grad_norm = row
            ratio = update_norm / weight_norm if weight_norm > 0 else float("nan")
            layers[name] = {
                "weight_norm": weight_norm,
                "update_norm": update_norm,
                "update_ratio": ratio,
                "grad_norm": grad_norm,
            }
        if self._tensorboard:
            self._tensorboard.write(self._step, self._measurer.flat_weights(), gradients, layers)
        record = {"kind": "layer_stats", "step": self._step, "epoch": self._epoch}
        self._emit({**record, "layers": layers})

    def _snapshot(self, reason: str) -> None:
        # Early snapshots skip fsync: a killed process loses nothing written,
        # and the epoch-end sync makes everything durable soon after.
        written = self._store.write_snapshot(self._step, sync=reason != "early")
        self._last_snapshot = self._step
        record = {"kind": "snapshot", "step": self._step, "epoch": self._epoch, "reason": reason}
        self._pending.append((written, record))

    def _emit_written_snapshots(self, wait: bool = False) -> None:
        """Append the record of every snapshot whose file is in place, in order.

        A snapshot's record is written only after its file was renamed into
        place, so no record ever names a missing or half-written file.
        """
        while self._pending and (wait or self._pending[0][0].done()):
            written, record = self._pending.pop(0)
            self._emit({**record, "file": written.result()})

    def _emit(self, record: dict, *, sync: bool = False) -> None:
        written = self._appender.append(record, sync=sync)
        if self.on_record is not None:
            self.on_record(written)

    # --- helpers -----------------------------------------------------------------
    def _optimizer_step(self) -> int:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return 0
        # convert_to_numpy also reads a tf.distribute MirroredVariable.
        return int(keras.ops.convert_to_numpy(optimizer.iterations))

    @staticmethod
    def _crosses(before: int, after: int, k: int) -> bool:
        return after // k > before // k

    def _start_record(self, kernel_layers, probe, why_not: str) -> dict:
        shapes = {}
        for name, layer in self._layers:
            for key, weight in zip(weight_keys(name, layer), layer.trainable_weights, strict=True):
                shapes[key] = list(weight.shape)
        return {
            "kind": "start",
            "step": self._step,
            "time": time.time(),
            "layers": [name for name, _ in self._layers],
            "snapshot_layers": [name for name, _ in kernel_layers],
            "weights": shapes,
            "gradients": "probe batch" if self._measurer.measures_gradients else "none",
            "activations": "probe images" if probe else f"none ({why_not})",
            "params": {k: v for k, v in (self.params or {}).items() if k != "verbose"},
        }

    def _recorder_settings(self) -> dict:
        return {
            "every_k_steps": self.every_k_steps,
            "snapshot_steps": sorted(self.snapshot_steps),
            "probe_count": 0 if self.probe_images is None else len(self.probe_images),
            "tensorboard": self.tensorboard,
        }
