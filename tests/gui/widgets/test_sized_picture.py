"""The crops' picture is drawn for the room it has and follows resizes."""

from __future__ import annotations

from PyQt6.QtGui import QColor, QPixmap

from gui.widgets.sized_picture import SizedPicture


def test_the_painter_is_asked_for_the_widgets_size_on_every_resize(qtbot):
    asked = []

    def painter(width: int, height: int) -> QPixmap:
        asked.append((width, height))
        pixmap = QPixmap(width // 2, height // 2)
        pixmap.fill(QColor("red"))
        return pixmap

    picture = SizedPicture()
    qtbot.addWidget(picture)
    picture.resize(400, 200)
    picture.show()
    picture.set_painter(painter)
    assert asked[-1] == (400, 200) and picture.pixmap().width() == 200
    picture.resize(600, 300)
    assert asked[-1] == (600, 300) and picture.pixmap().height() == 150
    picture.set_text("Nothing mined yet")
    count = len(asked)
    picture.resize(500, 250)  # a resize after the text must not bring the picture back
    assert len(asked) == count and picture.text() == "Nothing mined yet"
    assert picture.pixmap().isNull()
