"""A picture in a horizontal scroll strip, enlarged by a whole factor to fill its height.

The Units tab's sheet of top crops is a few dozen pixels tall (receptive-field
crops of a 64 px model), while the strip that holds it is much taller: drawn at
its own size it left an empty band under tiny crops. Whole factors keep each
crop pixel a sharp square and the drawn scores crisp.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import QLabel, QScrollArea, QWidget

MAX_FACTOR = 4


class FittedPicture(QScrollArea):
    """A scroll area showing one pixmap (or a text) at the largest whole zoom that fits.

    ``label`` is the QLabel inside; ``set_picture`` keeps the original and shows it
    enlarged by ``factor`` = floor(available height / picture height), 1 to ``MAX_FACTOR``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self._source: QPixmap | None = None
        self.factor = 1

    def set_picture(self, pixmap: QPixmap) -> None:
        self._source = pixmap
        self._fit()

    def set_text(self, text: str) -> None:
        self._source = None
        self.label.setText(text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._source is None or self._source.isNull():
            return
        # The horizontal scroll bar appears when the picture is wider than the strip,
        # so its height is always kept free.
        bar = self.horizontalScrollBar().sizeHint().height()
        room = self.height() - 2 * self.frameWidth() - bar
        self.factor = max(1, min(MAX_FACTOR, room // max(1, self._source.height())))
        self.label.setPixmap(
            self._source.scaled(
                self._source.width() * self.factor,
                self._source.height() * self.factor,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        )
