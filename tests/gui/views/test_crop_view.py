"""CropView: the original picture, the crop used, dragging it, the automatic crop."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PyQt6.QtCore import QPointF
from skimage import data

from gui.views.panels.crop import DISPLAY_MAX_SIDE, CropView, clip_box, read_original
from inspector.engine.errors import ImageLoadError
from inspector.engine.face_crop import face_crop_box
from inspector.engine.image_loading import load_image
from tests.gui.extras_models import inspected


@pytest.fixture
def view(qtbot):
    widget = CropView()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


def _roi_box(view):
    x, y = view.roi.pos()
    w, h = view.roi.size()
    return (x, y, x + w, y + h)


def test_shows_the_original_and_the_face_crop(qtbot, view, astronaut):
    box = face_crop_box(astronaut, aspect=1.0)
    view.set_source(astronaut, box, kind="face")
    np.testing.assert_array_equal(view.image_item.image, astronaut)
    assert _roi_box(view) == pytest.approx(box)
    assert view.box() == box
    assert "face found" in view.note_label.text()
    assert "of the 512x512 original" in view.note_label.text()


def test_reads_a_file_with_its_exif_rotation(tmp_path, astronaut):
    path = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: shown turned 90 degrees clockwise
    Image.fromarray(astronaut[:, :300]).save(path, exif=exif, quality=95)
    original = read_original(path)
    assert original.shape == (300, 512, 3)  # width and height swapped back


def test_dragging_emits_the_new_box_in_original_pixels(qtbot, view, astronaut):
    view.set_source(astronaut, (100, 50, 300, 250), kind="face")
    with qtbot.waitSignal(view.crop_changed) as blocker:
        view.roi.setPos((120, 80), finish=True)
    assert blocker.args == [(120, 80, 320, 280)]
    assert view.box() == (120, 80, 320, 280)
    assert "Your crop" in view.note_label.text()
    with qtbot.assertNotEmitted(view.crop_changed):
        view.roi.setPos((120, 80), finish=True)  # not moved: no new inspection


def test_resizing_keeps_the_model_aspect(qtbot, view, astronaut):
    _, _, inspection = inspected()  # 16x16 input: square
    view.set_inspection(inspection)
    view.set_source(astronaut, (100, 100, 200, 200))
    handles = view.roi.handles
    assert len(handles) == 4 and all(h["lockAspect"] for h in handles)
    # Drag the bottom-right handle as the mouse would (pyqtgraph's own method).
    handle = handles[3]["item"]
    with qtbot.waitSignal(view.crop_changed) as blocker:
        view.roi.movePoint(handle, QPointF(260, 220), finish=True)  # parent coordinates
    left, top, right, bottom = blocker.args[0]
    assert (left, top) == (100, 100)
    assert right - left == bottom - top


def test_boxes_beyond_the_image_are_clipped(qtbot, view, astronaut):
    view.set_source(astronaut, (400, 400, 600, 600))
    assert view.box() == (400, 400, 512, 512)
    assert clip_box((-5.2, 3.6, 9.4, 700), 512, 512) == (0, 4, 9, 512)
    assert clip_box((600, 600, 700, 700), 512, 512) == (511, 511, 512, 512)


def test_huge_pictures_are_shown_downscaled_in_original_coordinates(qtbot, view):
    big = np.zeros((3000, 4000, 3), np.uint8)
    view.set_source(big, None, kind="none")
    assert max(view.image_item.image.shape[:2]) == DISPLAY_MAX_SIDE
    rect = view.image_item.mapRectToParent(view.image_item.boundingRect())
    assert (rect.width(), rect.height()) == pytest.approx((4000, 3000))
    assert view.box() == (0, 0, 4000, 3000)


def test_automatic_crop_button(qtbot, view, astronaut):
    assert not view.auto_button.isEnabled()
    view.set_source(astronaut, None)
    with qtbot.waitSignal(view.auto_crop_requested):
        view.auto_button.click()


def test_the_box_shown_is_the_one_the_model_saw(tmp_path, qtbot, view, astronaut):
    # The whole loop: the face crop, load_image with it, and the view showing it.
    path = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(path)
    box = face_crop_box(astronaut, aspect=1.0)
    prepared = load_image(path, input_shape=(64, 64, 3), crop=box)
    assert f"cropped to box {box}" in prepared.steps
    view.set_source(path, box, kind="face")
    left, top, right, bottom = view.box()
    shown = np.asarray(
        Image.fromarray(view.image_item.image[top:bottom, left:right]).resize((64, 64))
    )
    np.testing.assert_allclose(shown, prepared.display, atol=40)


def test_bad_sources_are_refused(view):
    with pytest.raises(ImageLoadError, match="Received: dtype=float32"):
        view.set_source(np.zeros((8, 8, 3), np.float32), None)
    with pytest.raises(ImageLoadError):
        view.set_source("/nonexistent/picture.png", None)


def test_clear(qtbot, view, astronaut):
    view.set_source(astronaut, None)
    view.clear()
    assert view.box() is None and view.roi is None and view.image_item.image is None
