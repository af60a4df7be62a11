"""The weight-updates view: replay a recorded training run layer by layer.

Left: each layer's update ratio ‖ΔW‖/‖W‖ and the norm of its loss gradient,
against the optimizer step, on log scales (both span decades, and the early
steps move the weights most). Right: a timeline slider over the recorded
snapshots and, at the chosen step, the selected layer's kernels, how they changed
since the previous snapshot (ΔW), the probe image and its feature maps, so the
user can watch edge detectors and face parts emerge.

The view reads a frozen ``TrainingRun`` (``inspector.recording.run_directory.load_run``);
with a ``ModelWorker`` it loads the run off the GUI thread.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.widgets.curve_helpers import CurveGroup, make_plot, refill_combo, row_of
from gui.widgets.image_helpers import image_box, show_rgb
from gui.widgets.mosaic_helpers import feature_mosaic, kernel_mosaic

# Snapshot arrays kept in memory: each costs a zip read to load, and users scrub
# the slider back and forth over the same few steps.
_CACHED_ARRAYS = 48


def load_run(path: Path) -> object:
    """``inspector.recording.run_directory.load_run``, imported when first needed."""
    from inspector.recording.run_directory import load_run as load

    return load(path)


def default_run_path() -> Path:
    """The run shipped with the default model."""
    try:
        from models.default_model import default_run_path as shipped
    except ImportError:
        from models import default_run_path as shipped
    return Path(shipped())


class WeightUpdatesView(QWidget):
    """Curves, kernels, ΔW and probe feature maps of one training run.

    Signals:
        run_loaded(TrainingRun): a run is now shown.
        load_failed(str): opening a run failed; the previous run stays shown.

    Attributes:
        loader: ``loader(path)`` loads a run off the GUI thread and answers with
            ``set_run`` or ``show_load_failure`` (``gui.app.run_controller``); None
            loads here, synchronously (tests).

    Args:
        parent: the Qt parent.
    """

    run_loaded = pyqtSignal(object)
    load_failed = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader: Callable[[Path], None] | None = None
        self.run = None
        self._arrays: OrderedDict[tuple, object] = OrderedDict()
        self._build()
        self.clear()

    # --- building -----------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.open_button = QPushButton("Open run…")
        self.open_button.clicked.connect(self.choose_run)
        self.default_button = QPushButton("Default run")
        self.default_button.clicked.connect(self.open_default_run)
        self.status_label = QLabel()
        layout.addWidget(row_of(self.open_button, self.default_button, self.status_label))
        grid = QGridLayout()
        self.ratio_plot = make_plot(
            "Update ratio per layer",
            x_label="step",
            y_label="‖ΔW‖ / ‖W‖",
            log_y=True,
            legend_outside=True,  # one curve per layer fills the area: a legend inside hid them
        )
        self.grad_plot = make_plot(
            "Gradient norm per layer",
            x_label="step",
            y_label="‖∂J/∂W‖",
            log_y=True,
            legend_outside=True,
        )
        self.ratio_curves = CurveGroup(self.ratio_plot)
        self.grad_curves = CurveGroup(self.grad_plot)
        self._markers = [self._add_marker(plot) for plot in (self.ratio_plot, self.grad_plot)]
        grid.addWidget(self.ratio_plot, 0, 0)
        grid.addWidget(self.grad_plot, 1, 0)
        grid.addLayout(self._build_snapshot_panel(), 0, 1, 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid, stretch=1)

    def _build_snapshot_panel(self) -> QVBoxLayout:
        panel = QVBoxLayout()
        self.layer_combo = QComboBox()
        self.probe_layer_combo = QComboBox()
        self.probe_index_spin = QSpinBox(minimum=0, maximum=0)
        for combo in (self.layer_combo, self.probe_layer_combo):
            combo.currentTextChanged.connect(lambda _: self._show_step())
        self.probe_index_spin.valueChanged.connect(lambda _: self._show_step())
        panel.addWidget(row_of(QLabel("Kernels of"), self.layer_combo))
        panel.addWidget(
            row_of(
                QLabel("Feature maps of"),
                self.probe_layer_combo,
                QLabel("probe image"),
                self.probe_index_spin,
            )
        )
        self.step_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=0)
        self.step_slider.valueChanged.connect(lambda _: self._show_step())
        self.step_label = QLabel()
        panel.addWidget(row_of(QLabel("Snapshot"), self.step_slider, self.step_label))
        graphics = pg.GraphicsLayoutWidget()
        graphics.setBackground("w")
        _, self.kernel_image = image_box(graphics, 0, 0, "Kernels W")
        _, self.delta_image = image_box(graphics, 0, 1, "Change ΔW since the previous snapshot")
        _, self.probe_input_image = image_box(graphics, 2, 0, "Probe image")
        _, self.probe_image = image_box(graphics, 2, 1, "Its feature maps")
        panel.addWidget(graphics, stretch=1)
        self.snapshot_caption = QLabel()
        self.snapshot_caption.setWordWrap(True)
        panel.addWidget(self.snapshot_caption)
        return panel

    @staticmethod
    def _add_marker(plot: pg.PlotWidget) -> pg.InfiniteLine:
        marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("k", width=1))
        marker.setVisible(False)
        plot.addItem(marker, ignoreBounds=True)
        return marker

    # --- opening runs -------------------------------------------------------------
    def open_run(self, path: Path | str) -> None:
        """Load the run in ``path`` (through ``loader`` if there is one) and show it."""
        path = Path(path)
        self.status_label.setText(f"Loading {path} …")
        if self.loader is not None:
            self.loader(path)
            return
        from inspector.engine.errors import InspectorError

        try:
            run = load_run(path)
        except InspectorError as error:
            self.show_load_failure(str(error))
            return
        self.set_run(run)

    def open_default_run(self) -> None:
        """Open the run shipped with the default model."""
        self.open_run(default_run_path())

    def choose_run(self) -> None:
        """Ask for a run directory with a dialog, then open it."""
        start = str(self.run.path) if self.run is not None else str(Path.home())
        chosen = QFileDialog.getExistingDirectory(self, "Training run directory", start)
        if chosen:
            self.open_run(chosen)

    def show_load_failure(self, message: str) -> None:
        """Opening a run failed: say so, keep the run shown (``load_failed``)."""
        shown = f" (still showing {self.run.path})" if self.run is not None else ""
        self.status_label.setText(f"Could not open the run{shown}.")
        self.load_failed.emit(message)

    # --- showing a run ----------------------------------------------------------------
    def set_run(self, run) -> None:
        """Show ``run`` (a ``TrainingRun``): curves, then the last snapshot."""
        self.run = run
        self._arrays.clear()
        self.status_label.setText(f"{run.path}  ·  {len(run.snapshot_steps)} snapshots")
        for curves in (self.ratio_curves, self.grad_curves):
            curves.clear()
        for layer in run.layer_names:
            series = run.series(layer)
            self.ratio_curves.set_series(layer, series.steps, series.update_ratio)
            self.grad_curves.set_series(layer, series.steps, series.grad_norm)
        first = run.snapshot_steps[0] if run.snapshot_steps else None
        probe_layers = list(run.probe_activations_at(first)) if first is not None else []
        refill_combo(self.layer_combo, run.layer_names)
        refill_combo(self.probe_layer_combo, probe_layers)
        self.probe_index_spin.blockSignals(True)
        self.probe_index_spin.setMaximum(max(0, len(run.probe_images) - 1))
        self.probe_index_spin.blockSignals(False)
        self.step_slider.blockSignals(True)
        self.step_slider.setMaximum(max(0, len(run.snapshot_steps) - 1))
        self.step_slider.setValue(self.step_slider.maximum())
        self.step_slider.blockSignals(False)
        self._show_step()
        self.run_loaded.emit(run)

    @property
    def current_step(self) -> int | None:
        """The optimizer step of the snapshot shown, or None without a run."""
        if self.run is None or not self.run.snapshot_steps:
            return None
        return int(self.run.snapshot_steps[self.step_slider.value()])

    def clear(self) -> None:
        """Show nothing (no run)."""
        self.run = None
        self._arrays.clear()
        for curves in (self.ratio_curves, self.grad_curves):
            curves.clear()
        for combo in (self.layer_combo, self.probe_layer_combo):
            refill_combo(combo, [])
        for item in self._images():
            item.clear()
        for marker in self._markers:
            marker.setVisible(False)
        self.step_label.setText("")
        self.snapshot_caption.setText("")
        self.status_label.setText("No run open.")

    def _images(self) -> tuple[pg.ImageItem, ...]:
        return (self.kernel_image, self.delta_image, self.probe_input_image, self.probe_image)

    def _show_step(self) -> None:
        step = self.current_step
        if step is None:
            return
        index = self.step_slider.value()
        steps = self.run.snapshot_steps
        self.step_label.setText(f"step {step}  ({index + 1}/{len(steps)})")
        for marker in self._markers:
            marker.setValue(step)
            marker.setVisible(True)
        previous = int(steps[index - 1]) if index > 0 else None
        notes = [self._show_kernels(step, previous), self._show_probe(step)]
        self.snapshot_caption.setText("  ".join(note for note in notes if note))

    def _show_kernels(self, step: int, previous: int | None) -> str:
        from inspector.engine.errors import InspectorError

        layer = self.layer_combo.currentText()
        if not layer:
            return ""
        try:
            kernel = self._kernels(step, layer)
            before = None if previous is None else self._kernels(previous, layer)
        except (InspectorError, KeyError) as error:
            self.kernel_image.clear()
            self.delta_image.clear()
            return f"No kernel for {layer}: {error}"
        show_rgb(self.kernel_image, kernel_mosaic(kernel))
        if before is None:
            self.delta_image.clear()
            return f"{layer} {kernel.shape} at step {step}; ΔW needs an earlier snapshot."
        delta = kernel - before
        show_rgb(self.delta_image, kernel_mosaic(delta, signed_change=True))
        size = float(np.linalg.norm(delta)) / max(float(np.linalg.norm(before)), 1e-12)
        return f"{layer} {kernel.shape} at step {step}; ‖ΔW‖/‖W‖ since step {previous}: {size:.3g}."

    def _kernels(self, step: int, layer: str) -> np.ndarray:
        return self._cached(("kernel", step, layer), lambda: self.run.kernels_at(step, layer))

    def _cached(self, key: tuple, load: Callable[[], object]):
        if key in self._arrays:
            self._arrays.move_to_end(key)
            return self._arrays[key]
        value = self._arrays[key] = load()
        if len(self._arrays) > _CACHED_ARRAYS:
            self._arrays.popitem(last=False)
        return value

    def _show_probe(self, step: int) -> str:
        layer = self.probe_layer_combo.currentText()
        probe_index = self.probe_index_spin.value()
        if len(self.run.probe_images):
            show_rgb(self.probe_input_image, _as_rgb(self.run.probe_images[probe_index]))
        if not layer:
            return ""
        activations = self._cached(("probe", step), lambda: self.run.probe_activations_at(step))
        if layer not in activations:
            self.probe_image.clear()
            return f"No probe activations of {layer} at step {step}."
        show_rgb(self.probe_image, feature_mosaic(activations[layer][probe_index]))
        return ""


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """A uint8 (H, W, 1) or (H, W, 3) probe image as (H, W, 3)."""
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        image = image[:, :, np.newaxis]
    return np.ascontiguousarray(np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image)
