"""The training tab: train the face model, or the open model, and watch it learn.

The user picks the model (the face CNN from scratch, or the model the app has
open, fine-tuned), the data (the bundled faces or a folder with one subfolder per
class), the number of epochs, the seed and the run directory, and presses Start.
Training runs in a ``TrainingThread``; this tab only draws what it reports:
loss and accuracy (train and validation), each layer's update ratio
‖ΔW‖/‖W‖ on a log scale, and the probe image's feature maps at the latest
snapshot. Nothing here touches the model, so the GUI never waits for training.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.training.job import (
    DEFAULT_TRAIN,
    ProbeFrame,
    TrainingOutcome,
    TrainingProgress,
    TrainingRequest,
)
from gui.training.supervisor import TrainingThread
from gui.widgets.curve_helpers import CurveGroup, make_plot, refill_combo, row_of
from gui.widgets.image_helpers import image_box, show_rgb
from gui.widgets.mosaic_helpers import feature_mosaic
from models.training.fine_tuning import OWN_TRAIN

BUNDLED_DATA_TEXT = "Bundled faces (scikit-image LFW subset)"
FACE_MODEL, OPEN_MODEL = 0, 1  # the model combo's entries
FACE_MODEL_TEXT = "Face CNN (new, trained from scratch)"
NO_OPEN_MODEL_TEXT = "The open model (none open yet)"
CHOOSE_FOLDER_TEXT = "(choose a folder with one subfolder per class: Folder…)"
TRAIN_LIVE, TRAIN, VALIDATION = "train (running mean)", "train", "validation"


def default_runs_root() -> Path:
    """Where new runs go unless the user picks a folder: ``~/.layer-inspector/runs``."""
    return Path.home() / ".layer-inspector" / "runs"


def new_run_dir(root: Path, taken: tuple[Path, ...] = ()) -> Path:
    """A run directory under ``root`` named after the current time.

    It does not exist yet and is not in ``taken`` (runs started but whose
    folder the training thread has not created yet).
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, suffix = root / stamp, 1
    while candidate.exists() or candidate in taken:
        suffix += 1
        candidate = root / f"{stamp}-{suffix}"
    return candidate


def metric_key(logs: Mapping[str, float], kind: str, *, validation: bool) -> str | None:
    """The key of ``kind`` ("loss" or "acc") in Keras logs, train or validation."""
    for key in logs:
        if key.startswith("val_") != validation:
            continue
        bare = key[4:] if validation else key
        if (kind == "loss" and bare == "loss") or (kind == "acc" and "acc" in bare):
            return key
    return None


class TrainingTab(QWidget):
    """Start, watch and cancel a training run.

    Signals:
        training_started(Path): a run began writing into this directory.
        training_finished(TrainingOutcome): it ended (completed or cancelled).
        training_failed(str): it raised; one line for the user.

    Args:
        parent: the Qt parent.
        runs_root: folder for new run directories (default ``default_runs_root()``).
        train: the training function, as ``"module:function"`` (default
            ``models.training.loop.train_face_model``); see ``TrainingThread``.
        min_interval_s: shortest time between two live updates.
    """

    training_started = pyqtSignal(object)
    training_finished = pyqtSignal(object)
    training_failed = pyqtSignal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        runs_root: Path | None = None,
        train: str | Callable[..., object] = DEFAULT_TRAIN,
        own_train: str | Callable[..., object] = OWN_TRAIN,
        min_interval_s: float = 0.1,
    ) -> None:
        super().__init__(parent)
        self.runs_root = Path(runs_root) if runs_root is not None else default_runs_root()
        self._train = train
        self._own_train = own_train
        self._open_model: tuple[Path, bool] | None = None  # (path, unsafe)
        self._open_model_problem: str | None = "No model is open yet."
        self._open_model_plan = ""
        self._open_model_preprocess = "auto"
        self._min_interval_s = min_interval_s
        self._thread: TrainingThread | None = None
        self._active = False  # from Start until the thread's finished signal is handled
        self._data_dir: Path | None = None
        self._probe: ProbeFrame | None = None
        self._ratio_range_fixed = False
        self._build()
        self._reset_run_dir()
        self._show_plan()  # also enables the controls

    # --- building -----------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_controls())
        plots = QGridLayout()
        self.loss_plot = make_plot("Loss", x_label="epoch", y_label="cross-entropy", y_units="nats")
        self.accuracy_plot = make_plot(
            "Accuracy", x_label="epoch", y_label="accuracy", legend_at_bottom=True
        )
        self.ratio_plot = make_plot(
            "Update ratio per layer",
            x_label="step",
            y_label="‖ΔW‖ / ‖W‖",
            log_y=True,
            legend_outside=True,  # one curve per layer: a legend inside covered them
        )
        epoch_curves = {"dashed": (VALIDATION,), "marked": (TRAIN, VALIDATION)}
        self.loss_curves = CurveGroup(self.loss_plot, **epoch_curves)
        self.accuracy_curves = CurveGroup(self.accuracy_plot, **epoch_curves)
        self.ratio_curves = CurveGroup(self.ratio_plot)
        plots.addWidget(self.loss_plot, 0, 0)
        plots.addWidget(self.accuracy_plot, 0, 1)
        plots.addWidget(self.ratio_plot, 1, 0)
        plots.addLayout(self._build_probe_panel(), 1, 1)
        layout.addLayout(plots, stretch=1)

    def _build_controls(self) -> QFormLayout:
        form = QFormLayout()
        self.model_combo = QComboBox()
        self.model_combo.addItems([FACE_MODEL_TEXT, NO_OPEN_MODEL_TEXT])
        self.model_combo.currentIndexChanged.connect(lambda _: self._show_plan())
        self.plan_label = QLabel()
        self.plan_label.setWordWrap(True)
        form.addRow("Model:", self.model_combo)
        form.addRow("", self.plan_label)
        self.data_edit = QLineEdit(BUNDLED_DATA_TEXT, readOnly=True)
        self.data_button = QPushButton("Folder…")
        self.data_button.clicked.connect(self.choose_data_dir)
        self.bundled_button = QPushButton("Bundled")
        self.bundled_button.clicked.connect(lambda: self.set_data_dir(None))
        form.addRow("Data:", row_of(self.data_edit, self.data_button, self.bundled_button))
        self.epochs_spin = QSpinBox(minimum=1, maximum=1000, value=10)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        form.addRow("Epochs:", row_of(self.epochs_spin, QLabel("Seed:"), self.seed_spin))
        self.run_dir_edit = QLineEdit()
        self.run_dir_button = QPushButton("Browse…")
        self.run_dir_button.clicked.connect(self.choose_run_dir)
        form.addRow("Run directory:", row_of(self.run_dir_edit, self.run_dir_button))
        self.start_button = QPushButton("Start training")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.status_label = QLabel("Ready.")
        form.addRow(row_of(self.start_button, self.cancel_button, self.status_label))
        return form

    def _build_probe_panel(self) -> QVBoxLayout:
        panel = QVBoxLayout()
        self.probe_layer_combo = QComboBox()
        self.probe_layer_combo.currentTextChanged.connect(lambda _: self._show_probe())
        self.probe_caption = QLabel("Probe feature maps appear at the first snapshot.")
        panel.addWidget(row_of(QLabel("Probe feature maps of"), self.probe_layer_combo))
        graphics = pg.GraphicsLayoutWidget()
        graphics.setBackground("w")
        _, self.probe_image = image_box(graphics, 0, 0)
        panel.addWidget(graphics, stretch=1)
        panel.addWidget(self.probe_caption)
        return panel

    # --- user actions ----------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        """True from Start until the tab has handled the end of the run.

        The thread's ``finished`` signal is queued to this thread, so for a moment
        ``isRunning()`` is already False while the buttons still say "running"; a
        Start in that moment would let the old run's late signal reset the new
        run's buttons. So the run counts until that signal is handled.
        """
        return self._active or (self._thread is not None and self._thread.isRunning())

    @property
    def data_dir(self) -> Path | None:
        """The chosen data folder; None means the bundled faces."""
        return self._data_dir

    def set_data_dir(self, path: Path | str | None) -> None:
        """Train on ``path`` (one subfolder per class), or the bundled faces if None."""
        self._data_dir = Path(path) if path is not None else None
        self._show_data_choice()

    def _show_data_choice(self) -> None:
        if self._data_dir is not None:
            self.data_edit.setText(str(self._data_dir))
        elif self.trains_open_model:  # the bundled faces only fit the face CNN
            self.data_edit.setText(CHOOSE_FOLDER_TEXT)
        else:
            self.data_edit.setText(BUNDLED_DATA_TEXT)

    def choose_data_dir(self) -> None:
        """Ask for a data folder with a dialog."""
        start = str(self._data_dir or Path.home())
        chosen = QFileDialog.getExistingDirectory(
            self, "Folder with one subfolder per class", start
        )
        if chosen:
            self.set_data_dir(chosen)

    def choose_run_dir(self) -> None:
        """Ask for the run directory with a dialog."""
        chosen = QFileDialog.getExistingDirectory(self, "Run directory", str(self.runs_root))
        if chosen:
            self.run_dir_edit.setText(chosen)

    def set_open_model(
        self,
        path: Path | None,
        *,
        unsafe: bool = False,
        plan: str = "",
        problem: str | None = None,
        preprocess: str = "auto",
    ) -> None:
        """Offer the model the app has open for training.

        Args:
            path: its file; None when no model is open.
            unsafe: the user trusted its Lambda layers.
            plan: one line on how it will be trained (loss, optimizer).
            problem: why it cannot be trained, or None if it can.
            preprocess: the input preset the app uses for it (training uses it too).
        """
        self._open_model_preprocess = preprocess
        self._open_model = (Path(path), unsafe) if path is not None else None
        self._open_model_problem = problem if path is not None else "No model is open yet."
        self._open_model_plan = plan
        name = Path(path).name if path is not None else None
        text = f"The open model: {name} (fine-tune)" if name else NO_OPEN_MODEL_TEXT
        self.model_combo.setItemText(OPEN_MODEL, text)
        self._show_plan()

    @property
    def trains_open_model(self) -> bool:
        """True when Start trains the open model rather than a new face CNN."""
        return self.model_combo.currentIndex() == OPEN_MODEL

    def _show_plan(self) -> None:
        self._show_data_choice()
        if not self.trains_open_model:
            self.plan_label.setText(
                "A new face CNN, trained from scratch; the bundled faces or your folder."
            )
        elif self._open_model_problem:
            self.plan_label.setText(f"Cannot train it: {self._open_model_problem}")
        else:
            self.plan_label.setText(self._open_model_plan)
        self._set_running(self.is_running)

    def _request(self, run_dir: Path) -> tuple[TrainingRequest, object] | None:
        """The request and training function for Start, or None (and say why)."""
        settings = (run_dir, self._data_dir, self.epochs_spin.value(), self.seed_spin.value())
        if not self.trains_open_model:
            return TrainingRequest(*settings), self._train
        if self._open_model is None or self._open_model_problem:
            self.status_label.setText(f"Cannot train the open model: {self._open_model_problem}")
            return None
        if self._data_dir is None:
            self.status_label.setText(
                "Choose a data folder (Folder…) with one subfolder per class: "
                "the bundled faces only fit the face CNN."
            )
            return None
        path, unsafe = self._open_model
        preprocess = self._open_model_preprocess
        request = TrainingRequest(*settings, model_path=path, unsafe=unsafe, preprocess=preprocess)
        return request, self._own_train

    def start(self) -> bool:
        """Start training with the current settings; False if it cannot start
        (a run is already going, or the open model cannot be trained: the status says why)."""
        if self.is_running:
            return False
        text = self.run_dir_edit.text().strip()
        run_dir = Path(text).expanduser() if text else new_run_dir(self.runs_root)
        planned = self._request(run_dir)
        if planned is None:
            return False
        request, train = planned
        self._clear_views()
        self._prepare_plots(request.epochs)
        thread = TrainingThread(
            request, train=train, min_interval_s=self._min_interval_s, parent=self
        )
        thread.progressed.connect(self._on_progress)
        thread.succeeded.connect(self._on_succeeded)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        if self._thread is not None:
            self._thread.deleteLater()
        self._thread = thread
        self._writing_auto_dir = text == str(self._auto_run_dir)
        self.run_dir_edit.setText(str(run_dir))  # the field shows the run being written
        self._active = True
        self._set_running(True)
        self.status_label.setText(f"Training {request.epochs} epoch(s) into {run_dir} …")
        thread.start()
        self.training_started.emit(run_dir)
        return True

    def _on_thread_finished(self) -> None:
        if not self._active:
            return  # already handled by stop(), which joined the thread
        self._active = False
        if getattr(self, "_writing_auto_dir", False) and self._thread is not None:
            # The next run gets a fresh default folder; a folder the user typed stays.
            self._reset_run_dir(taken=(self._thread.request.run_dir,))
        self._set_running(False)

    def cancel(self) -> None:
        """Ask the running training to stop after its current batch (returns at once)."""
        if self.is_running:
            self._thread.request_stop()
            self.cancel_button.setEnabled(False)
            self.status_label.setText("Stopping after the current batch …")

    def stop(self, timeout_ms: int = 30000) -> bool:
        """Stop training and wait for its thread (for the main window's closeEvent).

        Returns:
            True if no training thread is left running.
        """
        if self._thread is None:
            return True
        stopped = self._thread.stop(timeout_ms)
        if stopped:
            # Joined: the run is over now, though its queued finished signal is not
            # handled yet (the window may be closing and never handle it).
            self._on_thread_finished()
        return stopped

    def _prepare_plots(self, epochs: int) -> None:
        """Fix what is known before the run, so live updates do not rescale the axes.

        Each rescale re-renders the axis text, the most expensive part of a
        repaint; the x axes span the whole run and accuracy spans [0, 1].
        """
        for plot, curves in (
            (self.loss_plot, self.loss_curves),
            (self.accuracy_plot, self.accuracy_curves),
        ):
            curves.ensure((TRAIN_LIVE, TRAIN, VALIDATION))
            plot.setXRange(0, epochs, padding=0.02)
        self.accuracy_plot.setYRange(0, 1, padding=0.02)
        self.ratio_plot.enableAutoRange()
        self._ratio_range_fixed = False

    def _fix_ratio_range(self, update: Mapping) -> None:
        steps = update.get("steps_per_epoch") or 0
        if steps and not self._ratio_range_fixed:
            self.ratio_plot.setXRange(0, steps * self._thread.request.epochs, padding=0.02)
            self._ratio_range_fixed = True

    # --- progress from the training thread -------------------------------------------
    def _on_progress(self, progress: TrainingProgress) -> None:
        if progress.batches:
            self._fix_ratio_range(progress.batches[0])
        for update in progress.batches:
            self._add_points(update["logs"], update["position"], TRAIN_LIVE, validation=False)
        for update in progress.epochs:
            self._add_points(update["logs"], update["epoch"], TRAIN, validation=False)
            self._add_points(update["logs"], update["epoch"], VALIDATION, validation=True)
        for record in progress.records:
            if record.get("kind") == "layer_stats":
                for layer, stats in record.get("layers", {}).items():
                    self.ratio_curves.append(layer, record["step"], stats["update_ratio"])
        for curves in (self.loss_curves, self.accuracy_curves, self.ratio_curves):
            curves.redraw()
        if progress.probe is not None:
            self._set_probe(progress.probe)
        if progress.batches:
            last = progress.batches[-1]
            loss = last["logs"].get("loss", float("nan"))
            self.status_label.setText(
                f"Epoch {last['epoch'] + 1}/{self._thread.request.epochs}, "
                f"batch {last['batch'] + 1}: loss {loss:.4f}"
            )

    def _add_points(self, logs: Mapping, x: float, name: str, *, validation: bool) -> None:
        for kind, curves in (("loss", self.loss_curves), ("acc", self.accuracy_curves)):
            key = metric_key(logs, kind, validation=validation)
            if key is not None:
                curves.append(name, x, logs[key])

    def _set_probe(self, frame: ProbeFrame) -> None:
        self._probe = frame
        refill_combo(self.probe_layer_combo, frame.activations)
        self._show_probe()

    def _show_probe(self) -> None:
        frame, layer = self._probe, self.probe_layer_combo.currentText()
        if frame is None or layer not in frame.activations:
            return
        show_rgb(self.probe_image, feature_mosaic(frame.activations[layer][0]))
        self.probe_caption.setText(f"{layer} on probe image 0 at step {frame.step}")

    def _on_succeeded(self, outcome: TrainingOutcome) -> None:
        verb = "Cancelled" if outcome.cancelled else "Finished"
        if outcome.cancelled and not Path(outcome.run_dir).exists():
            self.status_label.setText("Cancelled before training began; nothing was written.")
        else:
            self.status_label.setText(
                f"{verb} after {outcome.epochs_done} epoch(s); run saved in {outcome.run_dir}"
            )
        self.training_finished.emit(outcome)

    def _on_failed(self, message: str) -> None:
        self.status_label.setText(f"Training failed: {message}")
        self.training_failed.emit(message)

    # --- state ---------------------------------------------------------------------
    def _set_running(self, running: bool) -> None:
        blocked = self.trains_open_model and bool(self._open_model_problem)
        self.start_button.setEnabled(not running and not blocked)
        self.cancel_button.setEnabled(running)
        self.model_combo.setEnabled(not running)
        self.bundled_button.setEnabled(not running and not self.trains_open_model)
        for widget in (self.data_button, self.run_dir_button):
            widget.setEnabled(not running)
        for widget in (self.epochs_spin, self.seed_spin, self.run_dir_edit):
            widget.setEnabled(not running)

    def _reset_run_dir(self, taken: tuple[Path, ...] = ()) -> None:
        self._auto_run_dir = new_run_dir(self.runs_root, taken)
        self.run_dir_edit.setText(str(self._auto_run_dir))

    def _clear_views(self) -> None:
        for curves in (self.loss_curves, self.accuracy_curves, self.ratio_curves):
            curves.clear()
        self._probe = None
        self.probe_image.clear()
        refill_combo(self.probe_layer_combo, [])
        self.probe_caption.setText("Probe feature maps appear at the first snapshot.")
