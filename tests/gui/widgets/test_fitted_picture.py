"""The sheet strip enlarges its picture by whole factors to fill its height, and no more."""

from __future__ import annotations

from PyQt6.QtGui import QColor, QPixmap

from gui.widgets.fitted_picture import MAX_FACTOR, FittedPicture


def _pixmap(width: int, height: int) -> QPixmap:
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor("red"))
    return pixmap


def _strip(qtbot, height: int, picture: QPixmap) -> FittedPicture:
    strip = FittedPicture()
    qtbot.addWidget(strip)
    strip.resize(400, height)
    strip.show()
    strip.set_picture(picture)
    return strip


def test_a_short_picture_is_enlarged_to_fill_the_strip_and_follows_resizes(qtbot):
    strip = _strip(qtbot, 200, _pixmap(300, 60))
    bar = strip.horizontalScrollBar().sizeHint().height()
    room = 200 - 2 * strip.frameWidth() - bar
    assert strip.factor == room // 60 >= 2
    shown = strip.label.pixmap()
    assert (shown.width(), shown.height()) == (300 * strip.factor, 60 * strip.factor)
    assert shown.height() <= room  # never taller than the strip
    strip.resize(400, 100)  # smaller: back to its own size
    assert strip.factor == 1 and strip.label.pixmap().height() == 60


def test_the_zoom_is_capped_and_a_text_replaces_the_picture(qtbot):
    strip = _strip(qtbot, 900, _pixmap(40, 10))
    assert strip.factor == MAX_FACTOR
    strip.set_text("Nothing mined yet")
    strip.resize(400, 500)  # a resize after the text must not bring the picture back
    assert strip.label.text() == "Nothing mined yet" and strip.label.pixmap().isNull()
