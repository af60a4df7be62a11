"""The other GUI helpers' widgets, wired into the main window.

Each widget is imported here by name. A module that is not part of the build
yet becomes a clearly labelled placeholder tab (an INTEGRATION POINT), never a
crash; a module that exists but fails to import is a bug and is raised.

Widgets whose modules import TensorFlow at import time (training, weight
updates, export) are installed only once the engine has been imported on the
worker thread, so the first window never waits for TensorFlow.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QWidget

if TYPE_CHECKING:
    from gui.main_window import MainWindow

log = logging.getLogger(__name__)

ATTRIBUTION_JOB = "attribution"
NEURON_JOB = "neuron"


def import_optional(module: str, name: str) -> tuple[Any | None, str]:
    """``(object, "")`` if ``module.name`` exists, else ``(None, why not)``."""
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name != module:
            raise  # the module exists but something it imports is missing: a real bug
        return None, f"{module} is not part of this build."
    if not hasattr(loaded, name):
        return None, f"{module} has no {name}."
    return getattr(loaded, name), ""


def placeholder(title: str, reason: str) -> QWidget:
    """A tab body that says what is missing instead of an empty grey panel."""
    label = QLabel(f"<h3>{title}</h3><p>Not available: {reason}</p>")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setObjectName("placeholder")
    return label


@dataclass
class Extras:
    """The other helpers' widgets once installed (None where missing)."""

    crop_view: Any = None
    neuron_view: Any = None
    attribution_view: Any = None
    training_tab: Any = None
    weight_updates_view: Any = None
    export_controller: Any = None  # gui.export_dialogs.ExportController
    engine_installed: bool = False

    def views(self) -> list[Any]:
        """The installed views that take ``set_inspection``."""
        return [v for v in (self.neuron_view, self.attribution_view) if v is not None]


def install_light(window: MainWindow) -> None:
    """Crop view, neuron view and attribution view: Qt-only at import time."""
    extras = window.extras
    crop_cls, why = import_optional("gui.crop_view", "CropView")
    if crop_cls is not None:
        extras.crop_view = crop_cls()
        extras.crop_view.crop_changed.connect(window.session.set_crop)
        extras.crop_view.auto_crop_requested.connect(lambda: window.session.set_crop(None))
        window.set_crop_widget(extras.crop_view)
    else:  # INTEGRATION POINT: GUI-extras' CropView
        window.set_crop_widget(placeholder("Crop", why))
    neuron_cls, why = import_optional("gui.neuron_view", "NeuronView")
    if neuron_cls is not None:
        extras.neuron_view = neuron_cls()
        extras.neuron_view.breakdown_requested.connect(lambda *a: _request_neuron(window, *a))
        window.add_tab(extras.neuron_view, "Neuron")
    else:  # INTEGRATION POINT: GUI-extras' NeuronView
        window.add_tab(placeholder("Neuron", why), "Neuron")
    attribution_cls, why = import_optional("gui.attribution_view", "AttributionView")
    if attribution_cls is not None:
        extras.attribution_view = attribution_cls()
        extras.attribution_view.attribution_requested.connect(
            lambda *a: _request_attribution(window, *a)
        )
        window.add_tab(extras.attribution_view, "Attribution")
    else:  # INTEGRATION POINT: GUI-extras' AttributionView
        window.add_tab(placeholder("Attribution", why), "Attribution")
    window.session.worker.finished.connect(lambda *a: _on_finished(window, *a))
    window.session.worker.failed.connect(lambda *a: _on_failed(window, *a))


def install_engine_tabs(window: MainWindow) -> None:
    """Training tab, weight-updates view and the export menu (they import TensorFlow)."""
    extras = window.extras
    if extras.engine_installed:
        return
    extras.engine_installed = True
    training_cls, why = import_optional("gui.training_tab", "TrainingTab")
    if training_cls is not None:
        extras.training_tab = training_cls()
        window.add_tab(extras.training_tab, "Training")
    else:  # INTEGRATION POINT: GUI-training's TrainingTab
        window.add_tab(placeholder("Training", why), "Training")
    updates_cls, why = import_optional("gui.weight_updates_view", "WeightUpdatesView")
    if updates_cls is not None:
        extras.weight_updates_view = updates_cls(window.session.worker)
        window.add_tab(extras.weight_updates_view, "Weight updates")
        if extras.training_tab is not None:
            extras.training_tab.training_finished.connect(
                lambda outcome: extras.weight_updates_view.open_run(outcome.run_dir)
            )
    else:  # INTEGRATION POINT: GUI-training's WeightUpdatesView
        window.add_tab(placeholder("Weight updates", why), "Weight updates")
    _install_exports(window)


def _install_exports(window: MainWindow) -> None:
    controller_cls, why = import_optional("gui.export_dialogs", "ExportController")
    menu = window.export_menu
    menu.clear()
    menu.setEnabled(True)
    if controller_cls is None:  # INTEGRATION POINT: GUI-extras' export actions
        menu.addAction(f"(export not available: {why})").setEnabled(False)
        return
    extras = window.extras
    extras.export_controller = controller_cls(
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
