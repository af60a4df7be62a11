"""The main window: docks, tabs, the status bar and the busy indicator.

The File and Help menus, the open dialogs, recent files and drag and drop are
``gui.app.file_actions.FileActions``, mixed in here.

It owns no model state: the ``Session`` does. The window builds every view at
once (no view imports TensorFlow at import time), forwards user actions to the
session and paints each ``SessionState`` the session publishes into every view.
Views that need more computation (attributions, a neuron's breakdown) emit a
request that becomes a worker job; the answers come back by job kind. Errors
arrive as the session's ``error`` signal and become message boxes; the views
keep showing the previous state.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QSettings, Qt, pyqtSignal
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from gui.app.error_dialogs import ask_to_trust_model, show_error
from gui.app.file_actions import FileActions
from gui.app.input_controls import InputControls
from gui.app.live_controller import LiveController
from gui.app.recent_files import RecentFiles
from gui.app.remembered import Remembered, remembered_from, save_remembered
from gui.app.run_controller import RunController
from gui.app.session import (
    SAMPLE_DIR,
    Session,
    SessionState,
    describe_state,
)
from gui.app.shortcuts import ShortcutsDialog, install_shortcuts
from gui.app.trust_controller import TrustController
from gui.app.units_controller import UnitsController
from gui.app.view_controller import ViewController
from gui.views.attribution.view import AttributionView
from gui.views.layers.backprop import BackpropView
from gui.views.layers.feature_maps import FeatureMapView
from gui.views.layers.hierarchy import HierarchyView
from gui.views.layers.neuron import NeuronView
from gui.views.panels.crop import CropView
from gui.views.panels.model_tree import ModelPanel
from gui.views.panels.prediction import PredictionPanel
from gui.views.training.tab import TrainingTab
from gui.views.training.weight_updates import WeightUpdatesView
from gui.views.trust import TrustView
from gui.views.units.view import UnitsView
from gui.widgets.elided_label import ElidedLabel
from inspector.units.cache import default_cache_root

TRAINING_JOIN_MS = 30000
LEFT_DOCK_WIDTH = 500
LEFT_DOCK_SHARE = 0.3  # of the window's width, on screens too small for LEFT_DOCK_WIDTH
PREFERRED_SIZE = (1560, 940)
SCREEN_MARGIN = 40  # title bar and panels of the desktop around the available area
TAB_MARGIN = 30  # dock separator and frames between the left dock and a tab page
LOADING_TEXT = (
    "<h2>Loading the model and computing every layer…</h2>"
    "<p>TensorFlow starts in the background the first time; the window stays responsive.</p>"
)


class MainWindow(FileActions, QMainWindow):
    """The layer-inspector window.

    Args:
        session: the state holder (a new one with its own worker by default).
        settings: where recent files are kept (the user's QSettings by default).
        sample_dir: the folder listed in File > Sample images.

    Signals:
        state_shown(SessionState): every view has been given a new state.
    """

    state_shown = pyqtSignal(object)

    def __init__(
        self,
        session: Session | None = None,
        settings: QSettings | None = None,
        sample_dir: Path = SAMPLE_DIR,
    ) -> None:
        super().__init__()
        self.setWindowTitle("layer-inspector")
        self.setAcceptDrops(True)
        self.session = session or Session(parent=self)
        self.recent = RecentFiles(settings, parent=self)
        self.sample_dir = sample_dir
        self._summary = None
        self._opened: dict[str, Path] = {}  # files the user opened, added to recent on success
        self.startup_run: Path | None = None  # a run to show instead of the bundled one
        self._build_views()
        self._build_status_bar()
        self._build_menus()
        self.shortcuts = install_shortcuts(self)
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.pending_layer: str | None = None  # a remembered layer, shown once it exists
        self._connect()
        self._fit_to_screen()

    # --- building ----------------------------------------------------------------------
    def _build_views(self) -> None:
        self.model_panel = ModelPanel()
        self.prediction_panel = PredictionPanel()
        self.feature_view = FeatureMapView()
        self.hierarchy_view = HierarchyView()
        self.backprop_view = BackpropView()
        self.neuron_view = NeuronView()
        self.attribution_view = AttributionView()
        self.training_tab = TrainingTab()
        self.weight_updates_view = WeightUpdatesView()
        self.crop_view = CropView()
        self.trust_view = TrustView()
        self.units_view = UnitsView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for view, title in (
            (self.feature_view, "Feature maps"),
            (self.hierarchy_view, "Hierarchy"),
            (self.units_view, "Units"),
            (self.backprop_view, "Backprop"),
            (self.neuron_view, "Neuron"),
            (self.attribution_view, "Attribution"),
            (self.trust_view, "Trust"),
            (self.training_tab, "Training"),
            (self.weight_updates_view, "Weight updates"),
        ):
            self.tabs.addTab(view, title)
        # While the first model loads, a message instead of empty panels.
        self.loading_label = QLabel(LOADING_TEXT)
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_label.setWordWrap(True)
        self.central = QStackedWidget()
        self.central.addWidget(self.tabs)
        self.central.addWidget(self.loading_label)
        self.setCentralWidget(self.central)
        self.model_dock = self._dock(
            "Model", self.model_panel, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.crop_dock = self._dock(
            "Input and crop", self.crop_view, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.prediction_dock = self._dock(
            "Prediction", self.prediction_panel, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.resizeDocks([self.model_dock], [LEFT_DOCK_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks(
            [self.model_dock, self.crop_dock, self.prediction_dock],
            [380, 260, 240],
            Qt.Orientation.Vertical,
        )

    def _fit_to_screen(self) -> None:
        """The first paint fits the screen: at most the preferred size, at least a
        margin smaller than the available area (a 1366x768 laptop included)."""
        screen = self.screen() or QApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        width, height = PREFERRED_SIZE
        if available is not None and available.width() > 0:
            width = min(width, available.width() - SCREEN_MARGIN)
            height = min(height, available.height() - SCREEN_MARGIN)
        left = min(LEFT_DOCK_WIDTH, int(width * LEFT_DOCK_SHARE))
        self.model_panel.setMinimumWidth(min(LEFT_DOCK_WIDTH - 20, left - 20))
        # A tab page whose own minimum is wider than the room left would push the
        # window off the screen: such a page is squeezed to the room instead.
        room = width - left - TAB_MARGIN
        for index in range(self.tabs.count()):
            page = self.tabs.widget(index)
            if page.minimumSizeHint().width() > room:
                page.setMinimumWidth(room)
        self.resize(width, height)
        self.resizeDocks([self.model_dock], [left], Qt.Orientation.Horizontal)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: an animated "working" bar
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.setToolTip("The model is working in the background")
        self.busy_bar.hide()
        # Elided, full text in its tooltip: a long message never widens the window.
        self.status_label = ElidedLabel("Starting the engine (TensorFlow) …")
        self.statusBar().addWidget(self.status_label, 1)
        self.input_controls = InputControls(self)
        for widget in self.input_controls.widgets():
            self.statusBar().addPermanentWidget(widget)
        self.statusBar().addPermanentWidget(self.busy_bar)

    def _connect(self) -> None:
        session = self.session
        session.state_changed.connect(self.show_state)
        session.error.connect(self.show_error)
        session.unsafe_model_refused.connect(self._on_unsafe_refused)
        session.engine_ready.connect(self._on_engine_ready)
        session.notice.connect(self._on_notice)
        session.worker.busy_changed.connect(self._on_busy_changed)
        self.model_panel.layer_selected.connect(self.feature_view.set_layer)
        self.hierarchy_view.layer_selected.connect(self._open_layer)
        self.backprop_view.layer_selected.connect(self._open_layer)
        self.prediction_panel.target_selected.connect(session.set_target)
        self.prediction_panel.output_selected.connect(session.set_output)
        self.crop_view.crop_changed.connect(session.set_crop)
        self.crop_view.auto_crop_requested.connect(lambda: session.set_crop(None))
        self._make_controllers()
        self.training_tab.training_failed.connect(
            lambda message: self.show_error("Training failed", message)
        )
        self.training_tab.training_finished.connect(self._on_training_finished)
        self.weight_updates_view.load_failed.connect(
            lambda message: self.show_error("Cannot open the training run", message)
        )
        self._stale_tabs: set = set()
        self.tabs.currentChanged.connect(self._paint_tab)
        self.tabs.currentChanged.connect(lambda _: self.remember())
        self.model_panel.layer_selected.connect(lambda _: self.remember())
        self.export_controller.exported.connect(self.status_label.setText)
        self.export_controller.failed.connect(self.show_error)

    def _make_controllers(self) -> None:
        """The controllers between the views and the worker; each gets only the
        collaborators it uses (``gui.app.*_controller``)."""
        session = self.session
        self.run_controller = RunController(session.worker, self.weight_updates_view, self)
        self.trust_controller = TrustController(
            session, self.trust_view, self.attribution_view, self
        )
        self.view_controller = ViewController(
            session,
            attribution_view=self.attribution_view,
            neuron_view=self.neuron_view,
            training_tab=self.training_tab,
            show_error=self.show_error,
            trust_reports=self.trust_controller.reports,
            parent=self,
        )
        self.units_controller = UnitsController(
            session,
            self.units_view,
            feature_view=self.feature_view,
            hierarchy_view=self.hierarchy_view,
            tabs=self.tabs,
            show_error=self.show_error,
            parent=self,
        )
        self.units_controller.dissection_ready.connect(self.hierarchy_view.set_dissection)
        self.live_controller = LiveController(
            session,
            show_error=self.show_error,
            frozen_root=default_cache_root() / "live",
            parent=self,
        )
        self.live_controller.status.connect(self.status_label.setText)

    def _image_views(self) -> tuple:
        """The tabs that show the current image's inspection."""
        return (
            self.feature_view,
            self.hierarchy_view,
            self.backprop_view,
            self.neuron_view,
            self.attribution_view,
            self.units_view,
        )

    def _paint_tab(self, _index: int) -> None:
        """A tab skipped by live frames gets the newest inspection when it is shown."""
        view = self.tabs.currentWidget()
        if view in self._stale_tabs and self.session.state is not None:
            self._stale_tabs.discard(view)
            view.set_inspection(self.session.state.inspection)

    def _open_layer(self, name: str) -> None:
        self.model_panel.select_layer(name)
        self.tabs.setCurrentWidget(self.feature_view)

    # --- answers from the session -----------------------------------------------------
    def show_state(self, state: SessionState) -> None:
        """Paint a new answer into every view (a live frame: into the visible ones;
        the others catch up when their tab is shown, see ``_paint_tab``)."""
        inspection = state.inspection
        if state.summary is not self._summary:
            self._summary = state.summary
            self.model_panel.set_summary(state.summary, inspection)
        else:
            self.model_panel.set_inspection(inspection)
        self._stale_tabs = set()
        for view in self._image_views():
            if state.live is None or view is self.tabs.currentWidget():
                view.set_inspection(inspection)
            else:
                self._stale_tabs.add(view)
        self._show_pending_layer(inspection)
        self._sync_model_panel_selection()
        self.prediction_panel.set_outputs(state.outputs, state.request.output)
        self.prediction_panel.set_inspection(inspection, automatic=state.request.target is None)
        height, width = inspection.image.shape[:2]
        self.crop_view.set_source(
            state.original, state.crop, kind=state.crop_kind, aspect=width / height
        )
        if state.live is not None:  # the live controller says fps, latency and tracking
            self.central.setCurrentWidget(self.tabs)
            self.setWindowTitle(f"layer-inspector — {inspection.model_name} — live")
            self.state_shown.emit(state)
            return
        self.status_label.setText(describe_state(state))
        self._remember_opened(state)
        self.view_controller.offer_model_for_training(state.request)
        self.central.setCurrentWidget(self.tabs)
        self.setWindowTitle(
            f"layer-inspector — {inspection.model_name} — {Path(inspection.source).name}"
        )
        self.remember()
        self.state_shown.emit(state)

    # --- remembered between runs -----------------------------------------------------
    def remember(self) -> None:
        """Store the model, image, crop, layer and tab shown, for the next start."""
        if self.session.live_source is not None:
            return  # a passing frame is not a file to reopen
        remembered = remembered_from(self)
        if remembered is not None:
            save_remembered(self.recent.settings, remembered)

    def restore(self, remembered: Remembered) -> None:
        """Show the remembered tab now, and the remembered layer once it is computed."""
        if 0 <= remembered.tab < self.tabs.count():
            self.tabs.setCurrentIndex(remembered.tab)
        self.pending_layer = remembered.layer

    def _show_pending_layer(self, inspection) -> None:
        name, self.pending_layer = self.pending_layer, None
        if name is not None and any(record.name == name for record in inspection.layers):
            self.feature_view.set_layer(name)

    def show_shortcuts(self) -> None:
        """Help > Keyboard shortcuts: a page listing every shortcut (not modal)."""
        if self.shortcuts_dialog is None:
            titles = [self.tabs.tabText(i) for i in range(self.tabs.count())]
            self.shortcuts_dialog = ShortcutsDialog(titles, self)
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()

    def show_error(self, title: str, message: str) -> None:
        self._opened.clear()
        self.central.setCurrentWidget(self.tabs)
        self._show_nothing_open()
        show_error(self, title, message)

    def _show_nothing_open(self) -> None:
        """With no answer yet and nothing loading, "Loading …" would be a lie."""
        if self.session.state is not None:
            return
        if self.session.worker.is_busy:
            text = "Loading the bundled model instead …"
            self.central.setCurrentWidget(self.loading_label)
        else:
            text = "Nothing open. Open a model (File > Open model…) or drop one on the window."
        self.status_label.setText(text)
        self.model_panel.header.setText(text)

    def _sync_model_panel_selection(self) -> None:
        name = self.feature_view.layer_name
        if name is not None and self.model_panel.selected_layer() != name:
            self.model_panel.tree.blockSignals(True)
            self.model_panel.select_layer(name)
            self.model_panel.tree.blockSignals(False)

    def _remember_opened(self, state: SessionState) -> None:
        request = state.request
        for kind, path in self._opened.items():
            if path == (request.model_path if kind == "model" else request.image_path):
                self.recent.add(kind, path)
        self._opened.clear()

    def _on_engine_ready(self, info) -> None:
        run = self.startup_run or info.default_run
        if run is not None:
            self.weight_updates_view.open_run(run)
        if self.session.state is None and not self.session.worker.is_busy:
            self.status_label.setText("Engine ready.")
        elif self.session.state is None:  # the first model is on its way: say so, not "ready"
            self.status_label.setText("Engine ready; loading the model and computing every layer …")

    def _on_notice(self, message: str) -> None:
        self.central.setCurrentWidget(self.tabs)
        self.status_label.setText(message)
        self.model_panel.header.setText(message)

    def _on_unsafe_refused(self, path: Path, message: str) -> None:
        if ask_to_trust_model(self, path, message):
            self.open_model_file(path, unsafe=True)
        elif not self.session.open_startup_fallback():
            self._show_nothing_open()

    def _on_busy_changed(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        if busy and self.session.state is None:
            self.status_label.setText("Loading the model and computing every layer …")
            self.model_panel.header.setText("Loading …")
            self.central.setCurrentWidget(self.loading_label)

    # --- training ---------------------------------------------------------------------
    def _on_training_finished(self, outcome) -> None:
        # A cancelled run may be a stub: Weight updates keeps the run it shows.
        if outcome.cancelled:
            self.status_label.setText(
                f"Training cancelled; the run so far is in {outcome.run_dir} "
                "(File > Open training run… shows it)."
            )
        else:
            self.weight_updates_view.open_run(outcome.run_dir)

    # --- closing -----------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop live capture, training and the model worker, wait for them, then close."""
        self.live_controller.stop()
        self.units_controller.cancel()  # a visualisation batch stops at its next step
        self.training_tab.stop(TRAINING_JOIN_MS)
        self.session.shutdown()
        event.accept()
