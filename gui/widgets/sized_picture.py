"""A picture drawn for the room it has: repainted at every resize, never scrolled.

The Units tab's top crops are a few dozen pixels each (receptive-field crops of
a 64 px model). Scaled as one finished picture they either left an empty band or
ran off to the right behind a scroll bar (three of nine crops in sight at
1366x768). Here the view hands over a painter that draws the crops for a given
width and height (``inspector.render.unit_sheets.grid_layout`` picks how many to a
row), so all of them are always in sight at the largest size that fits, with
crisp text at any size. The label's size policy is Ignored: a picture never
makes the window wider.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import QLabel, QSizePolicy, QWidget

# (width, height) in pixels -> the picture to show, at most that big.
Painter = Callable[[int, int], QPixmap]


class SizedPicture(QLabel):
    """Shows ``painter(width, height)``, or a text; calls the painter again on resize."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setWordWrap(True)
        self._painter: Painter | None = None

    def set_painter(self, painter: Painter) -> None:
        self._painter = painter
        self._paint()

    def set_text(self, text: str) -> None:
        self._painter = None
        self.clear()
        self.setText(text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size() != event.oldSize():
            self._paint()

    def _paint(self) -> None:
        if self._painter is None or self.width() < 8 or self.height() < 8:
            return
        self.setPixmap(self._painter(self.width(), self.height()))
