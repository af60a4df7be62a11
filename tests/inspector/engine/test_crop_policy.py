"""The one crop rule of the app and the commands: a user box, else the face of a photo
larger than the input, else the centre at the model's aspect."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.engine.crop_policy import CropChoice, choose_crop
from inspector.engine.errors import ImageLoadError


def test_the_face_when_found_else_the_centre_else_the_whole_image():
    picture = np.zeros((100, 200, 3), np.uint8)
    found = choose_crop(picture, (24, 24), find_face=lambda image, aspect: (80, 10, 140, 70))
    assert found == CropChoice((80, 10, 140, 70), "face") and found.loader_box == found.box
    centre = choose_crop(picture, (24, 24), find_face=lambda image, aspect: None)
    assert centre == CropChoice((50, 0, 150, 100), "centre")
    assert centre.loader_box is None  # prepare_image centre-crops and names it so itself
    small = np.zeros((24, 24, 3), np.uint8)
    assert choose_crop(small, (24, 24), find_face=lambda *a: 1 / 0) == CropChoice(None, "none")


def test_a_user_box_wins_and_is_clipped_and_none_turns_the_face_off():
    picture = np.zeros((100, 200, 3), np.uint8)
    asked = []

    def finder(image, aspect):
        asked.append(aspect)
        return (0, 0, 10, 10)

    user = choose_crop(picture, (24, 48), box=(-5, 90, 30, 140), find_face=finder)
    assert user == CropChoice((0, 90, 30, 100), "user") and not asked
    off = choose_crop(picture, (24, 24), automatic=False, find_face=finder)
    assert off.kind == "centre" and not asked
    assert choose_crop(picture, (24, 48), automatic=False).kind == "none"  # aspect 2 already
    choose_crop(picture, (24, 48), find_face=finder)
    assert asked == [2.0]  # the model's width / height
    with pytest.raises(ImageLoadError, match="inside the 200x100 image"):
        choose_crop(picture, (24, 24), box=(300, 300, 400, 400))
