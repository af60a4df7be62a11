"""The secondary views and tabs, wired into the main window.

The crop, neuron and attribution views are plain Qt and are built with the
window. The training tab, the weight-updates view and the export menu import
TensorFlow at import time, so they are installed only once the engine has been
imported on the worker thread: the first window never waits for TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gui.attribution_view import AttributionView
from gui.crop_view import CropView
from gui.neuron_view import NeuronView

if TYPE_CHECKING:
    from gui.main_window import MainWindow

ATTRIBUTION_JOB = "attribution"
NEURON_JOB = "neuron"


@dataclass
class Extras:
    """The secondary widgets; the engine ones stay None until installed."""

    crop_view: CropView | None = None
    neuron_view: NeuronView | None = None
    attribution_view: AttributionView | None = None
    training_tab: Any = None  # gui.training_tab.TrainingTab
    weight_updates_view: Any = None  # gui.weight_updates_view.WeightUpdatesView
    export_controller: Any = None  # gui.export_dialogs.ExportController
    engine_installed: bool = False

    def views(self) -> list[Any]:
        """The installed views that take ``set_inspection``."""
        return [v for v in (self.neuron_view, self.attribution_view) if v is not None]


def install_light(window: MainWindow) -> None:
    """Crop view, neuron view and attribution view: Qt-only at import time."""
    extras = window.extras
    extras.crop_view = CropView()
    extras.crop_view.crop_changed.connect(window.session.set_crop)
    extras.crop_view.auto_crop_requested.connect(lambda: window.session.set_crop(None))
    window.set_crop_widget(extras.crop_view)
    extras.neuron_view = NeuronView()
    extras.neuron_view.breakdown_requested.connect(lambda *a: _request_neuron(window, *a))
    window.add_tab(extras.neuron_view, "Neuron")
    extras.attribution_view = AttributionView()
    extras.attribution_view.attribution_requested.connect(
        lambda *a: _request_attribution(window, *a)
    )
    window.add_tab(extras.attribution_view, "Attribution")
    window.session.worker.finished.connect(lambda *a: _on_finished(window, *a))
    window.session.worker.failed.connect(lambda *a: _on_failed(window, *a))


def install_engine_tabs(window: MainWindow) -> None:
    """Training tab, weight-updates view and the export menu (they import TensorFlow)."""
    from gui.training_tab import TrainingTab
    from gui.weight_updates_view import WeightUpdatesView

    extras = window.extras
    if extras.engine_installed:
        return
    extras.engine_installed = True
    extras.training_tab = TrainingTab()
    extras.training_tab.training_failed.connect(
        lambda message: window.show_error("Training failed", message)
    )
    window.add_tab(extras.training_tab, "Training")
    extras.weight_updates_view = WeightUpdatesView(window.session.worker)
    extras.weight_updates_view.load_failed.connect(
        lambda message: window.show_error("Cannot open the training run", message)
    )
    extras.training_tab.training_finished.connect(
        lambda outcome: extras.weight_updates_view.open_run(outcome.run_dir)
    )
    window.add_tab(extras.weight_updates_view, "Weight updates")
    _install_exports(window)


def _install_exports(window: MainWindow) -> None:
    from gui.export_dialogs import ExportController

    menu = window.export_menu
    menu.clear()
    menu.setEnabled(True)
    extras = window.extras
    extras.export_controller = ExportController(
        window,
        window.session.worker,
        inspection=lambda: window.session.state.inspection if window.session.state else None,
        attributions=lambda: (
            extras.attribution_view.attributions if extras.attribution_view else ()
        ),
        current_view=window.tabs.currentWidget,
    )
    extras.export_controller.exported.connect(window.status_label.setText)
    extras.export_controller.failed.connect(window.show_error)
    extras.export_controller.add_to_menu(menu)


def show_state(window: MainWindow, state) -> None:
    """Hand a new answer to the extra views."""
    extras = window.extras
    if extras.crop_view is not None:
        height, width = state.inspection.image.shape[:2]
        extras.crop_view.set_source(
            state.original, state.crop, kind=state.crop_kind, aspect=width / height
        )
    for view in extras.views():
        view.set_inspection(state.inspection)


def _request_attribution(window: MainWindow, method: str, options: dict) -> None:
    def job(context):
        from inspector.attribution import compute_attribution

        return compute_attribution(method, context.state.inspection, context.inspector, **options)

    window.session.submit_engine_job(ATTRIBUTION_JOB, job)


def _request_neuron(window: MainWindow, layer_name: str, unit: int) -> None:
    def job(context):
        from inspector.neuron import neuron_breakdown

        return neuron_breakdown(context.model, context.state.inspection, layer_name, unit)

    window.session.submit_engine_job(NEURON_JOB, job)


def _on_finished(window: MainWindow, kind: str, request_id: int, result: object) -> None:
    extras = window.extras
    if kind == ATTRIBUTION_JOB and extras.attribution_view is not None:
        extras.attribution_view.show_attribution(result)
    elif kind == NEURON_JOB and extras.neuron_view is not None:
        extras.neuron_view.show_breakdown(result)


def _on_failed(window: MainWindow, kind: str, request_id: int, message: str) -> None:
    extras = window.extras
    if kind == ATTRIBUTION_JOB and extras.attribution_view is not None:
        extras.attribution_view.show_error(message)
    elif kind == NEURON_JOB:
        window.show_error("Could not compute the neuron view", message)
