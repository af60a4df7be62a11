"""Face detection and face crops on scikit-image's real photographs."""

import numpy as np
import pytest
from PIL import Image
from skimage import data

from inspector.engine.errors import ImageLoadError
from inspector.engine.face_crop import detect_face, detect_faces, face_crop_box, padded_box

# Landmarks of the astronaut (Eileen Collins) read off the 512x512 picture by eye,
# as (x, y): both eyes and the mouth.
ASTRONAUT_LANDMARKS = [(205, 100), (245, 100), (225, 145)]


def _contains(box, point) -> bool:
    left, top, right, bottom = box
    return left <= point[0] < right and top <= point[1] < bottom


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


def test_astronaut_face_is_found_around_eyes_and_mouth(astronaut):
    box = detect_face(astronaut)
    assert box is not None
    assert all(_contains(box, p) for p in ASTRONAUT_LANDMARKS)
    # A face, not half the picture: her face is about 100 px wide.
    assert 60 <= box[2] - box[0] <= 160
    assert 60 <= box[3] - box[1] <= 160


@pytest.mark.parametrize("name", ["coffee", "rocket", "chelsea"])
def test_pictures_without_a_human_face_give_none(name):
    # Checked behaviour: with the default size limits the cascade finds nothing on
    # these (at smaller minimum sizes it did fire on the cat, chelsea).
    picture = getattr(data, name)()
    assert detect_faces(picture) == []
    assert detect_face(picture) is None
    assert face_crop_box(picture) is None


def test_face_crop_box_pads_the_face_and_keeps_the_aspect(astronaut):
    face = detect_face(astronaut)
    for aspect in (1.0, 0.75, 1.5):
        box = face_crop_box(astronaut, aspect=aspect, margin=0.25)
        left, top, right, bottom = box
        assert 0 <= left < right <= 512 and 0 <= top < bottom <= 512
        assert (right - left) / (bottom - top) == pytest.approx(aspect, abs=0.02)
        # Padded: the face lies strictly inside the crop, with room around it.
        assert left < face[0] and top < face[1] and right > face[2] and bottom > face[3]
        assert all(_contains(box, p) for p in ASTRONAUT_LANDMARKS)


def test_detection_scales_with_the_photo(astronaut):
    # The same photo at 4x must give the same face at 4x: detection runs on a
    # downscaled copy and maps back to the original pixels.
    big = np.asarray(Image.fromarray(astronaut).resize((2048, 2048)))
    small_box = np.array(detect_face(astronaut), dtype=float)
    big_box = np.array(detect_face(big), dtype=float)
    np.testing.assert_allclose(big_box / 4, small_box, atol=8)


def test_detection_follows_the_face_inside_a_larger_canvas(astronaut):
    canvas = np.full((700, 900, 3), 128, np.uint8)
    canvas[150:662, 300:812] = astronaut
    box = detect_face(canvas)
    assert box is not None
    shifted = [(x + 300, y + 150) for x, y in ASTRONAUT_LANDMARKS]
    assert all(_contains(box, p) for p in shifted)


def test_grey_and_rgba_images_are_accepted(astronaut):
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    for picture in (grey, rgba):
        box = detect_face(picture)
        assert box is not None and all(_contains(box, p) for p in ASTRONAUT_LANDMARKS)


def test_tiny_and_flat_images_give_none():
    assert detect_face(np.zeros((10, 10, 3), np.uint8)) is None
    assert detect_face(np.full((300, 300, 3), 200, np.uint8)) is None


@pytest.mark.parametrize(
    "bad",
    [np.zeros((64, 64, 3), np.float32), np.zeros((64,), np.uint8), np.zeros((64, 64, 2), np.uint8)],
)
def test_non_pictures_are_refused_with_the_received_shape(bad):
    with pytest.raises(ImageLoadError, match="Received: dtype="):
        detect_face(bad)


def test_padded_box_known_answers():
    # 100x100 face at (100, 100) in a 1000x1000 image, 25% margin per side.
    assert padded_box((100, 100, 200, 200), (1000, 1000)) == (75, 75, 225, 225)
    # Aspect 2 (wide): width doubles from 150 to 300 around the same centre.
    assert padded_box((100, 100, 200, 200), (1000, 1000), aspect=2.0) == (0, 75, 300, 225)
    # At the image border the box is shifted inside, not cut.
    assert padded_box((0, 0, 100, 100), (1000, 1000)) == (0, 0, 150, 150)
    assert padded_box((900, 900, 1000, 1000), (1000, 1000)) == (850, 850, 1000, 1000)


def test_padded_box_shrinks_to_fit_keeping_the_aspect():
    # The padded face (150 px) does not fit a 120x400 image: shrink, keep square.
    left, top, right, bottom = padded_box((10, 100, 110, 200), (120, 400))
    assert (left, right) == (0, 120)
    assert bottom - top == 120
    assert top >= 0 and bottom <= 400


def test_padded_box_refuses_bad_parameters():
    with pytest.raises(ValueError, match="aspect > 0"):
        padded_box((0, 0, 10, 10), (100, 100), aspect=0.0)
