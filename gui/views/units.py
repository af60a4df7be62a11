"""The Units tab: what one channel detects over a whole data set.

For the layer and channel picked here (or clicked in *Feature maps* or
*Hierarchy*) it shows, in this order:

1. the channel's top-k dataset crops, each the receptive field of the unit at
   its maximum, beside the gradient of that unit on the crop (Yosinski et al.,
   "Understanding Neural Networks Through Deep Visualization", ICML DL workshop
   2015, section 3: the top-9 images and what in them drives the unit);
2. its feature visualisation (regularised activation maximisation, same paper),
   SECOND: people read natural examples more reliably than synthetic ones
   (Borowski et al., ICLR 2021);
3. its Network Dissection label and IoU (Bau et al., CVPR 2017) once dissection
   has run, and the hierarchy chart of every layer's labels;
4. its activation histogram over every position of every image.

The view never runs the model: it emits requests that ``gui.views.units_control``
turns into worker jobs, and paints the frozen answers.
"""

from __future__ import annotations

from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.views.units_chart import LayerChart
from gui.views.units_paint import paint_unit
from gui.widgets.curve_helpers import make_plot
from gui.widgets.fitted_picture import FittedPicture
from gui.widgets.image_helpers import caption_label

SYNTHETIC_SIZE = 112
SHEET_CAPTION = (
    "Left to right: the channel's top dataset images, each cut to the unit's receptive field, "
    "beside d(unit)/d(pixel) on it (red: brighter raises the unit, blue: lowers it), with the "
    "activation under each pair. Right: an image optimised to make the unit fire (feature "
    "visualisation) — read the real examples first."
)


class UnitsView(QWidget):
    """Top crops, feature visualisation, concept and histogram of one channel.

    Signals:
        mine_requested(data): mine every conv layer over ``data`` ("bundled" or a folder).
        detail_requested(layer): compute the crops and visualisations of ``layer``.
        dissect_requested(): run Network Dissection.
        cancel_requested(): stop the running job.
        folder_requested(): the user picked "Folder…" (the controller opens the dialog).
        export_requested(what): "sheet", "chart" or "json".
        selection_changed(layer, channel): the unit shown changed.
    """

    mine_requested = pyqtSignal(str)
    detail_requested = pyqtSignal(str)
    dissect_requested = pyqtSignal()
    cancel_requested = pyqtSignal()
    folder_requested = pyqtSignal()
    export_requested = pyqtSignal(str)
    selection_changed = pyqtSignal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mined = None  # MinedUnits for the current model and data
        self.details: dict = {}  # layer -> LayerDetail
        self.dissection = None  # DissectionReport for the current model
        self._layer_channels: dict[str, int] = {}  # before mining: from the inspection
        # False while another tab is shown: a layer's crops and visualisations take
        # minutes on a deep model, and the worker runs one job at a time, so browsing
        # layers in Feature maps must not start them (set_active).
        self.active = True
        self.data_combo = QComboBox()
        self.data_combo.addItem("Bundled faces and non-faces", "bundled")
        self.data_combo.addItem("Folder…", "")
        self.mine_button = QPushButton("Mine")
        self.mine_button.setToolTip("Find every conv channel's top images over the data set")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.status_label = QLabel()
        self.layer_combo = QComboBox()
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.channel_spin = QSpinBox()
        self.dissect_button = QPushButton("Dissect")
        self.dissect_button.setToolTip("Label every unit edge / part / face (Network Dissection)")
        self.export_buttons = {
            what: QPushButton(text)
            for what, text in (
                ("sheet", "Save layer sheet…"),
                ("chart", "Save hierarchy chart…"),
                ("json", "Save JSON…"),
            )
        }
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.sheet_strip = FittedPicture()  # the crops, enlarged to fill the strip
        self.sheet_strip.setMinimumHeight(170)
        self.sheet = self.sheet_strip.label
        self.synthetic = QLabel()  # beside the crops, always in sight, but after them
        self.synthetic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.synthetic.setFixedWidth(SYNTHETIC_SIZE + 20)
        self.synthetic_caption = QLabel()
        self.synthetic_caption.setWordWrap(True)
        self.synthetic_caption.setFixedWidth(SYNTHETIC_SIZE + 20)
        self.stats = QLabel()
        self.stats.setTextFormat(Qt.TextFormat.RichText)
        self.stats.setWordWrap(True)
        self.histogram = make_plot(
            "Activations at every position",
            x_label="log10 activation",
            y_label="fraction of positions",
        )
        self.chart = make_plot(
            "Units labelled per layer",
            x_label="layer, first to last",
            y_label="fraction of units",
        )
        self.layer_chart = LayerChart(self.chart)
        self._build_layout()
        self._connect()
        self.clear()

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
        ):
            pick.addWidget(widget)
        pick.addStretch(1)
        for button in self.export_buttons.values():
            pick.addWidget(button)
        synthetic = QVBoxLayout()
        synthetic.addWidget(self.synthetic)
        synthetic.addWidget(self.synthetic_caption)
        synthetic.addStretch(1)
        examples = QHBoxLayout()
        examples.addWidget(self.sheet_strip, 1)
        examples.addLayout(synthetic)
        grid = QGridLayout()
        grid.addWidget(self.stats, 0, 0)
        grid.addWidget(self.histogram, 1, 0)
        grid.addWidget(self.chart, 0, 1, 2, 1)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(pick)
        layout.addWidget(self.title)
        layout.addLayout(examples)
        layout.addWidget(caption_label(SHEET_CAPTION))
        layout.addLayout(grid, 1)

    def _connect(self) -> None:
        self.mine_button.clicked.connect(self.request_mining)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.dissect_button.clicked.connect(self.dissect_requested)
        self.data_combo.activated.connect(self._on_data_activated)
        self.layer_combo.currentIndexChanged.connect(lambda _: self._on_selection())
        self.channel_spin.valueChanged.connect(lambda _: self._on_selection())
        for what, button in self.export_buttons.items():
            button.clicked.connect(lambda _=False, w=what: self.export_requested.emit(w))

    # --- selection -------------------------------------------------------------------
    def data(self) -> str:
        return self.data_combo.currentData()

    def layer(self) -> str:
        return self.layer_combo.currentText()

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

    def add_folder(self, folder: str) -> None:
        """Add a data folder to the picker, select it and mine it."""
        index = self.data_combo.findData(folder)
        if index < 0:
            self.data_combo.insertItem(self.data_combo.count() - 1, f"Folder: {folder}", folder)
            index = self.data_combo.findData(folder)
        self.data_combo.setCurrentIndex(index)
        self.request_mining()

    def request_mining(self) -> None:
        self.mine_requested.emit(self.data())

    def _on_data_activated(self, index: int) -> None:
        if self.data_combo.itemData(index) == "":
            self.folder_requested.emit()

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
        self._update_channel_range()
        self.selection_changed.emit(self.layer(), self.channel())
        self.repaint_unit()

    # --- answers ------------------------------------------------------------------------
    def clear(self) -> None:
        self.mined, self.details, self.dissection = None, {}, None
        self._layer_channels = {}
        self.set_running(False)
        self.status_label.setText("Open a model to mine what its units detect.")
        self.repaint_unit()
        self.layer_chart.paint(None)

    def set_model(self, layer_channels: dict[str, int]) -> None:
        """A new model: forget its results; ``layer_channels``: conv layer -> channels."""
        self.mined, self.details, self.dissection = None, {}, None
        self._layer_channels = dict(layer_channels)
        self.set_layers(list(layer_channels))
        self.layer_chart.paint(None)
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
        self.layer_chart.paint(report)
        self.repaint_unit()

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
        self.status_label.setText(f"{done}/{total} {what}" if total else f"{what}…")

    def set_active(self, active: bool) -> None:
        """Whether the tab is shown; shown again, it computes what it is missing."""
        self.active = active
        if active:
            self.repaint_unit()

    def repaint_unit(self) -> None:
        """Paint the chosen channel from whatever is known about it; mark its layer
        on the chart."""
        paint_unit(self)
        self.layer_chart.mark(self.layer())
