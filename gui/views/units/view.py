"""The Units tab: what one channel detects over a whole data set.

For the layer and channel picked here (or clicked in *Feature maps* or
*Hierarchy*, or found by *Show me*) it shows, in this order:

1. the channel's top-k dataset crops, all of them in sight, each the receptive
   field of the unit at its maximum beside the gradient of that unit on the crop
   (Yosinski et al., "Understanding Neural Networks Through Deep Visualization",
   ICML DL workshop 2015, section 3: the top-9 images and what in them drives the
   unit), and how many of them are face photos;
2. its feature visualisation (regularised activation maximisation, same paper),
   SECOND: people read natural examples more reliably than synthetic ones
   (Borowski et al., ICLR 2021);
3. once *Dissect* has run, its three selectivity scores (orientation
   selectivity, the pointing game on the face parts, face-vs-non-face AUC), each
   beside the bar set by random-init copies of the network, and the chart of
   every layer's detectors with the hierarchy verdict in words; Network
   Dissection's labels (Bau et al., CVPR 2017) are the chart's second view;
4. its activation histogram over every position of every image.

*Show me* lists the strongest unit of each kind (an eye unit, a mouth unit, a
face unit...) and jumps to it: two clicks from opening the tab to an eye unit.

The view never runs the model: it emits requests that ``gui.app.units_controller``
turns into worker jobs, and paints the frozen answers.
"""

from __future__ import annotations

from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.jobs.units_jobs import BUNDLED_SETS
from gui.views.units.chart import DETECTORS, LABELS, LayerChart
from gui.views.units.paint import paint_this_image, paint_unit, show_me_items, verdict_text
from gui.widgets.curve_helpers import make_plot
from gui.widgets.elided_label import ElidedLabel
from gui.widgets.image_helpers import caption_label
from gui.widgets.sized_picture import SizedPicture

SYNTHETIC_SIZE = 112
SHEET_CAPTION = (
    "Each pair: a top image around the unit's receptive field (a small field in its "
    "context, boxed in yellow), and d(unit)/d(pixel) in the field (red: brighter raises the "
    'unit, blue: lowers it); its activation under it ("border": the small field reaches past '
    "the image's edge, into the padding). Right: an image optimised to make the unit fire — "
    "read the real examples first."
)
SHOW_ME_KINDS = {
    "eye": "an eye unit",
    "mouth": "a mouth unit",
    "nose": "a nose unit",
    "face": "a face unit",
    "edge": "an edge unit",
}
CHART_MODES = {DETECTORS: "Detectors vs random-init", LABELS: "Network Dissection labels"}
EXPORTS = {"sheet": "Layer sheet…", "chart": "Hierarchy chart…", "json": "Units JSON…"}


class UnitsView(QWidget):
    """Top crops, feature visualisation, selectivity and histogram of one channel.

    Signals:
        mine_requested(data): mine every conv layer over ``data`` (a bundled set's name
            or a folder).
        detail_requested(layer): compute the top crops and gradients of ``layer``.
        synthetic_requested(layer, channel): compute the synthetic image of ``channel``
            (shown without one), then its neighbours'.
        dissect_requested(): run dissection and the selectivity measures.
        show_me_requested(kind): jump to the strongest unit of ``kind`` (a key of
            ``SHOW_ME_KINDS``), measuring first if needed.
        cancel_requested(): stop the running job.
        folder_requested(): the user picked "Folder…" (the controller opens the dialog).
        export_requested(what): "sheet", "chart" or "json".
        selection_changed(layer, channel): the unit shown changed.
        compare_requested(choice): overlay another model on the chart: the data of a
            *Compare with* entry (``set_compare_choices``), None for no overlay.
    """

    mine_requested = pyqtSignal(str)
    detail_requested = pyqtSignal(str)
    synthetic_requested = pyqtSignal(str, int)
    dissect_requested = pyqtSignal()
    show_me_requested = pyqtSignal(str)
    cancel_requested = pyqtSignal()
    folder_requested = pyqtSignal()
    export_requested = pyqtSignal(str)
    selection_changed = pyqtSignal(str, int)
    compare_requested = pyqtSignal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mined = None  # MinedUnits for the current model and data
        self.inspection = None  # the image shown now, for the unit's map on it
        self.synthetic_stopped = False  # Cancel pressed: no synthetic images until a new pick
        self.details: dict = {}  # layer -> LayerDetail
        self.dissection = None  # DissectionReport for the current model
        self.overlay, self.overlay_label = None, ""  # another model's, dotted on the chart
        self._layer_channels: dict[str, int] = {}  # before mining: from the inspection
        # False while another tab is shown: a layer's crops and visualisations take
        # minutes on a deep model, and the worker runs one job at a time, so browsing
        # layers in Feature maps must not start them (set_active).
        self.active = True
        self._build_widgets()
        self._build_layout()
        self._connect()
        self.clear()

    def _build_widgets(self) -> None:
        self.data_combo = QComboBox()
        for name, text in BUNDLED_SETS.items():
            self.data_combo.addItem(text, name)
        self.data_combo.setItemData(
            0,
            "The 500 bundled face photos and crops of natural photos: no synthetic textures, "
            "which win every top-9 list by contrast alone",
            Qt.ItemDataRole.ToolTipRole,
        )
        self.data_combo.addItem("Folder…", "")
        self.mine_button = QPushButton("Mine")
        self.mine_button.setToolTip("Find every conv channel's top images over the data set")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.status_label = ElidedLabel()  # a long message never widens the window
        self.layer_combo = QComboBox()
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.channel_spin = QSpinBox()
        self.dissect_button = QPushButton("Dissect")
        self.dissect_button.setToolTip(
            "Measure what every unit detects: orientation selectivity, the pointing game on "
            "face parts and face-vs-non-face AUC, against random-init copies of the network; "
            "and Network Dissection's labels"
        )
        self.show_me = QComboBox()
        self.show_me.setToolTip("Jump to the strongest unit of a kind (measured by Dissect)")
        # A fixed width: the entries name their units after Dissect, and a combo that
        # grew with them would widen the window. The open list is as wide as they are.
        self.show_me.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.show_me.setMinimumContentsLength(16)
        self.show_me.view().setMinimumWidth(420)
        self.export_button = QToolButton()
        self.export_button.setText("Save")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.export_actions: dict[str, QAction] = {}
        for what, text in EXPORTS.items():
            action = menu.addAction(text)
            action.triggered.connect(lambda _=False, w=what: self.export_requested.emit(w))
            self.export_actions[what] = action
        self.export_button.setMenu(menu)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        # Ignored: a long title is cut at the window's edge, never widens the window.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.sheet = SizedPicture()  # every top crop, drawn for the room it has
        self.sheet.setMinimumHeight(150)
        self.synthetic = QLabel()  # beside the crops, always in sight, but after them
        self.synthetic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.synthetic.setFixedWidth(SYNTHETIC_SIZE + 12)
        self.synthetic_caption = QLabel()
        self.synthetic_caption.setWordWrap(True)
        self.synthetic_caption.setFixedWidth(SYNTHETIC_SIZE + 12)
        # The chosen unit on the image shown now (a live frame follows the stream).
        self.this_image = QLabel()
        self.this_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.this_image.setFixedWidth(SYNTHETIC_SIZE + 12)
        self.this_image_caption = QLabel()
        self.this_image_caption.setWordWrap(True)
        self.this_image_caption.setFixedWidth(SYNTHETIC_SIZE + 12)
        self.stats = QLabel()
        self.stats.setTextFormat(Qt.TextFormat.RichText)
        self.stats.setWordWrap(True)
        self.stats.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.stats.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.histogram = make_plot(
            "Activations at every position",
            x_label="log10 activation",
            y_label="fraction of positions",
        )
        self.chart_mode = QComboBox()
        for mode, text in CHART_MODES.items():
            self.chart_mode.addItem(text, mode)
        self.compare_combo = QComboBox()
        self.compare_combo.setToolTip(
            "Overlay another network's detector lines (dotted), layer by layer by name: "
            "e.g. the bundled face detector beside the face recogniser"
        )
        self.compare_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.compare_combo.setMinimumContentsLength(14)
        self.compare_combo.view().setMinimumWidth(300)
        self.chart = make_plot("", x_label="layer, first to last", y_label="fraction of units")
        self.layer_chart = LayerChart(self.chart)
        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.verdict.setWordWrap(True)
        self.verdict.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        for widget in (
            QLabel("Data:"),
            self.data_combo,
            self.mine_button,
            self.cancel_button,
            self.progress,
        ):
            top.addWidget(widget)
        top.addWidget(self.status_label, 1)
        pick = QHBoxLayout()
        for widget in (
            QLabel("Layer:"),
            self.layer_combo,
            QLabel("Channel:"),
            self.channel_spin,
            self.dissect_button,
            QLabel("Show me:"),
            self.show_me,
        ):
            pick.addWidget(widget)
        pick.addStretch(1)
        pick.addWidget(self.export_button)
        synthetic = QVBoxLayout()
        synthetic.addWidget(self.synthetic)
        synthetic.addWidget(self.synthetic_caption)
        synthetic.addStretch(1)
        this_image = QVBoxLayout()
        this_image.addWidget(self.this_image)
        this_image.addWidget(self.this_image_caption)
        this_image.addStretch(1)
        examples = QHBoxLayout()
        examples.addWidget(self.sheet, 1)
        examples.addLayout(synthetic)
        examples.addLayout(this_image)
        left = QVBoxLayout()
        left.addWidget(self.stats)
        left.addWidget(self.histogram, 1)
        right = QVBoxLayout()
        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("Chart:"))
        mode_row.addWidget(self.chart_mode)
        mode_row.addWidget(QLabel("Compare with:"))
        mode_row.addWidget(self.compare_combo, 1)
        right.addLayout(mode_row)
        right.addWidget(self.chart, 1)
        right.addWidget(self.verdict)
        grid = QGridLayout()
        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(pick)
        layout.addWidget(self.title)
        layout.addLayout(examples, 7)
        layout.addWidget(caption_label(SHEET_CAPTION))
        layout.addLayout(grid, 6)

    def _connect(self) -> None:
        self.mine_button.clicked.connect(self.request_mining)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.dissect_button.clicked.connect(self.dissect_requested)
        self.data_combo.activated.connect(self._on_data_activated)
        self.layer_combo.currentIndexChanged.connect(lambda _: self._on_selection())
        self.channel_spin.valueChanged.connect(lambda _: self._on_selection())
        self.show_me.activated.connect(self._on_show_me)
        self.chart_mode.currentIndexChanged.connect(lambda _: self._paint_chart())
        self.compare_combo.activated.connect(
            lambda index: self.compare_requested.emit(self.compare_combo.itemData(index))
        )

    # --- selection -------------------------------------------------------------------
    def data(self) -> str:
        return self.data_combo.currentData()

    def layer(self) -> str:
        return self.layer_combo.currentText()

    def conv_layers(self) -> list[str]:
        """The open model's conv layers, first to last."""
        return list(self._layer_channels)

    def channel(self) -> int:
        return self.channel_spin.value()

    def set_layers(self, names: list[str]) -> None:
        """The conv layers of the open model (before mining, from the inspection)."""
        if names == [self.layer_combo.itemText(i) for i in range(self.layer_combo.count())]:
            return
        with QSignalBlocker(self.layer_combo):
            current = self.layer()
            self.layer_combo.clear()
            self.layer_combo.addItems(names)
            if current in names:
                self.layer_combo.setCurrentText(current)
        self._on_selection()

    def select_unit(self, layer: str, channel: int) -> bool:
        """Show ``layer``'s ``channel``; False (and a note) if it is not a mined conv layer."""
        if self.layer_combo.findText(layer) < 0:
            self.status_label.setText(
                f"{layer} is not a conv layer: Units mines the conv layers only."
            )
            return False
        with QSignalBlocker(self.layer_combo), QSignalBlocker(self.channel_spin):
            self.layer_combo.setCurrentText(layer)
            self._update_channel_range()
            self.channel_spin.setValue(channel)
        self._on_selection()
        return True

    def select_layer(self, layer: str) -> bool:
        return self.select_unit(layer, 0)

    def select_data(self, data: str) -> None:
        """Pick the data set ``data`` (a bundled set's name or a folder already listed)."""
        index = self.data_combo.findData(data)
        if index >= 0:
            self.data_combo.setCurrentIndex(index)

    def add_folder(self, folder: str) -> None:
        """Add a data folder to the picker, select it and mine it."""
        index = self.data_combo.findData(folder)
        if index < 0:
            self.data_combo.insertItem(self.data_combo.count() - 1, f"Folder: {folder}", folder)
            index = self.data_combo.findData(folder)
        self.data_combo.setCurrentIndex(index)
        self.request_mining()

    def forget_folder(self, folder: str) -> None:
        """Take a folder that could not be mined out of the picker, and pick again the
        data that is shown (the first entry if none)."""
        index = self.data_combo.findData(folder)
        if index >= 0 and folder:
            self.data_combo.removeItem(index)
        shown = self.mined.data if self.mined is not None else None
        with QSignalBlocker(self.data_combo):
            found = self.data_combo.findData(shown) if shown is not None else -1
            self.data_combo.setCurrentIndex(max(found, 0))

    def request_mining(self) -> None:
        self.mine_requested.emit(self.data())

    def _on_data_activated(self, index: int) -> None:
        if self.data_combo.itemData(index) == "":
            self.folder_requested.emit()

    def _on_show_me(self, index: int) -> None:
        kind = self.show_me.itemData(index)
        with QSignalBlocker(self.show_me):
            self.show_me.setCurrentIndex(0)  # the prompt again: every pick is a jump
        if kind:
            self.show_me_requested.emit(kind)

    def _update_channel_range(self) -> None:
        channels = self._channels_of(self.layer())
        self.channel_spin.setRange(0, max(channels - 1, 0))

    def _channels_of(self, layer: str) -> int:
        if self.mined is not None:
            try:
                return self.mined.result.layer(layer).channels
            except KeyError:
                return 0
        return self._layer_channels.get(layer, 0)

    def _on_selection(self) -> None:
        self.synthetic_stopped = False  # a channel chosen again: compute what it lacks
        self._update_channel_range()
        self.selection_changed.emit(self.layer(), self.channel())
        self.repaint_unit()

    # --- answers ------------------------------------------------------------------------
    def clear(self) -> None:
        self.mined, self.details, self.dissection = None, {}, None
        self._layer_channels = {}
        self.set_running(False)
        self.status_label.setText("Open a model to mine what its units detect.")
        self._fill_show_me()
        self.repaint_unit()
        self._paint_chart()

    def set_model(self, layer_channels: dict[str, int]) -> None:
        """A new model: forget its results; ``layer_channels``: conv layer -> channels."""
        self.mined, self.details, self.dissection = None, {}, None
        self._layer_channels = dict(layer_channels)
        self.set_layers(list(layer_channels))
        self._fill_show_me()
        self._paint_chart()
        self.status_label.setText("Press Mine to find every channel's top images.")
        self.repaint_unit()

    def show_mined(self, mined) -> None:
        self.mined, self.details = mined, {}
        self.set_layers([units.layer.name for units in mined.result.layers])
        skipped = f", {mined.result.skipped} unreadable skipped" if mined.result.skipped else ""
        self.status_label.setText(f"Mined {mined.result.images} images{skipped}.")
        self._on_selection()

    def show_detail(self, detail) -> None:
        self.details[detail.layer] = detail
        self.repaint_unit()

    def show_dissection(self, report) -> None:
        self.dissection = report
        self._fill_show_me()
        self._paint_chart()
        self.repaint_unit()

    def _fill_show_me(self) -> None:
        with QSignalBlocker(self.show_me):
            self.show_me.clear()
            self.show_me.addItem("pick a kind…", "")
            for kind, text, tip in show_me_items(self.dissection, SHOW_ME_KINDS):
                self.show_me.addItem(text, kind)
                self.show_me.setItemData(self.show_me.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)

    def set_compare_choices(self, choices: list[tuple[str, object]]) -> None:
        """The *Compare with* entries after "nothing": (text, data) each; the entry
        chosen stays chosen while it is listed."""
        chosen = self.compare_combo.currentData()
        with QSignalBlocker(self.compare_combo):
            self.compare_combo.clear()
            self.compare_combo.addItem("nothing", None)
            for text, data in choices:
                self.compare_combo.addItem(text, data)
            index = self.compare_combo.findData(chosen) if chosen is not None else 0
            self.compare_combo.setCurrentIndex(max(index, 0))

    def select_compare(self, data) -> None:
        """Show entry ``data`` as chosen in *Compare with* (no signal; "nothing" if absent)."""
        with QSignalBlocker(self.compare_combo):
            self.compare_combo.setCurrentIndex(max(self.compare_combo.findData(data), 0))

    def set_overlay(self, report, label: str = "") -> None:
        """Draw ``report`` (another model's dissection) dotted on the chart; None: none."""
        self.overlay, self.overlay_label = report, label
        self._paint_chart()

    def _paint_chart(self) -> None:
        self.layer_chart.paint(
            self.dissection, self.chart_mode.currentData(), self.overlay, self.overlay_label
        )
        self.layer_chart.mark(self.layer())
        self.verdict.setText(verdict_text(self.dissection, self.layer_chart.mode))

    def set_running(self, running: bool, text: str = "") -> None:
        self.cancel_button.setEnabled(running)
        self.mine_button.setEnabled(not running)
        self.dissect_button.setEnabled(not running)
        self.progress.setVisible(running)
        self.progress.setRange(0, 0)
        if text:
            self.status_label.setText(text)

    def show_progress(self, done: int, total: int, what: str) -> None:
        self.progress.setRange(0, total)  # total 0: an indeterminate (busy) bar
        self.progress.setValue(done)
        self.status_label.setText(f"{done:,}/{total:,} {what}" if total else f"{what}…")

    def set_active(self, active: bool) -> None:
        """Whether the tab is shown; shown again, it computes what it is missing."""
        self.active = active
        if active:
            self.repaint_unit()

    def set_inspection(self, inspection) -> None:
        """The image shown now (a still or the newest live frame): the chosen unit's
        activation on it is painted beside its top images and synthetic image."""
        self.inspection = inspection
        paint_this_image(self)

    def repaint_unit(self) -> None:
        """Paint the chosen channel from whatever is known about it; mark its layer
        on the chart."""
        paint_unit(self)
        paint_this_image(self)
        self.layer_chart.mark(self.layer())
