"""A one-line label whose width never depends on its text.

A readout that changes with every mouse move (or a title that changes with every
layer) must not push its neighbours around: the layout would jump. This label
takes the width its layout gives it, draws its text elided on the right when the
text is longer, and keeps the full text in its tooltip.
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QPainter
from PyQt6.QtWidgets import QSizePolicy, QWidget


class ElidedLabel(QWidget):
    """Plain text on one line, elided to the widget's width; optional bold.

    Args:
        text: the initial text.
        bold: draw the text in a bold font (for titles).
        parent: the Qt parent.
    """

    def __init__(self, text: str = "", bold: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if bold:
            font = self.font()
            font.setBold(True)
            self.setFont(font)
        # Ignored: the layout decides the width; the text never asks for more.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._text = ""
        self._elided: tuple[str, int, str] | None = None  # (text, width, elided text)
        self.setText(text)

    def text(self) -> str:
        """The full text (not the elided one)."""
        return self._text

    def setText(self, text: str) -> None:
        self._text = str(text)
        self.setToolTip(self._text)
        self.update()

    def elided_text(self) -> str:
        """The text as drawn at the current width (cached: paints repeat it often)."""
        cached = self._elided
        if cached is None or cached[:2] != (self._text, self.width()):
            elided = self.fontMetrics().elidedText(
                self._text, Qt.TextElideMode.ElideRight, self.width()
            )
            self._elided = cached = (self._text, self.width(), elided)
        return cached[2]

    def sizeHint(self) -> QSize:
        return QSize(100, self.fontMetrics().height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(20, self.fontMetrics().height() + 4)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(self.rect(), flags, self.elided_text())
        painter.end()
