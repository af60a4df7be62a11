"""The part file: every bundled face has both eyes, a nose and a mouth, where they belong."""

from __future__ import annotations

import numpy as np
import pytest

from models.datasets.face_parts import PART_NAMES, box_masks, bundled_parts, map_boxes, part_boxes
from models.datasets.face_sources import face_images

RAW_SIZE = {"orl": (92, 112), "lfw": (25, 25)}  # (width, height)
COUNT = {"orl": 400, "lfw": 100}


def centres(boxes: np.ndarray) -> np.ndarray:
    return (boxes[..., :2] + boxes[..., 2:]) / 2


@pytest.mark.parametrize("source", ["orl", "lfw"])
def test_every_face_has_four_parts_inside_its_image(source):
    parts = bundled_parts(source)
    width, height = RAW_SIZE[source]
    assert parts.boxes.shape == (COUNT[source], len(PART_NAMES), 4)
    assert parts.landmarks.shape == (COUNT[source], 5, 2)
    assert np.isfinite(parts.boxes).all()
    assert (parts.boxes[..., 2] > parts.boxes[..., 0]).all()
    assert (parts.boxes[..., 3] > parts.boxes[..., 1]).all()
    middle = centres(parts.boxes)
    assert (middle[..., 0] > 0).all() and (middle[..., 0] < width).all()
    assert (middle[..., 1] > 0).all() and (middle[..., 1] < height).all()
    # Boxes may graze the border of a tight 25-px LFW patch, never leave it by much.
    assert parts.boxes[..., :2].min() > -2 and parts.boxes[..., 2].max() < width + 2


@pytest.mark.parametrize("source", ["orl", "lfw"])
def test_eyes_sit_above_the_nose_above_the_mouth(source):
    middle = centres(bundled_parts(source).boxes)
    left_eye, right_eye, nose, mouth = (middle[:, i] for i in range(4))
    assert (left_eye[:, 0] < right_eye[:, 0]).all()  # image left, image right
    assert (np.maximum(left_eye[:, 1], right_eye[:, 1]) < nose[:, 1]).all()
    assert (nose[:, 1] < mouth[:, 1]).all()
    assert (np.minimum(left_eye[:, 0], right_eye[:, 0]) < nose[:, 0]).all()
    assert (nose[:, 0] < np.maximum(left_eye[:, 0], right_eye[:, 0])).all()


def test_mtcnn_found_almost_every_face_and_the_rest_are_marked():
    methods = bundled_parts("orl").methods + bundled_parts("lfw").methods
    assert len(methods) == 500
    assert sum(m == "template" for m in methods) <= 5
    assert all(m == "template" or m.startswith("mtcnn_x") for m in methods)


def test_part_boxes_follow_the_landmarks():
    # Eyes 10 px apart: each eye box is 5.5 x 3.5 px around its eye.
    landmarks = np.array([[[10, 10], [20, 10], [15, 15], [11, 20], [19, 20]]], np.float64)
    boxes = part_boxes(landmarks)[0]
    np.testing.assert_allclose(boxes[0], [7.25, 8.25, 12.75, 11.75])
    np.testing.assert_allclose(boxes[3], [9.5, 18.0, 20.5, 22.0])
    assert boxes[2][1] < 15 < boxes[2][3]  # the nose box holds the tip


def test_boxes_map_into_the_model_input_and_become_masks():
    crop = np.array([10.0, 20.0, 42.0, 52.0])  # 32 raw px -> 64 model px: scale 2
    mapped = map_boxes(np.array([[10.0, 20.0, 12.0, 21.0]]), crop, 64)
    np.testing.assert_allclose(mapped, [[0.0, 0.0, 4.0, 2.0]])
    mask = box_masks(mapped[0], 8)
    assert mask.shape == (8, 8) and mask.sum() == 8 and mask[:2, :4].all()


def test_face_images_carry_their_parts_into_model_pixels():
    faces = face_images()
    assert faces.images.shape == (500, 64, 64, 1) and faces.images.dtype == np.uint8
    assert faces.part_boxes.shape == (500, 4, 4)
    raw = np.concatenate([bundled_parts("orl").boxes, bundled_parts("lfw").boxes])
    # Boxes are made from landmarks, and the crop is a scale and a shift, so mapping
    # the raw boxes gives the stored model-pixel boxes (to the file's 0.01 px
    # rounding, times the LFW patches' upscaling of about 2.6).
    np.testing.assert_allclose(
        map_boxes(raw, faces.crops[:, None, :], 64), faces.part_boxes, atol=0.05
    )
    middle = centres(faces.part_boxes)
    assert (middle > 0).all() and (middle < 64).all()
    # In the app's framing an eye is about 8-10 of the 64 pixels wide.
    eye_width = np.median(faces.part_boxes[:, 0, 2] - faces.part_boxes[:, 0, 0])
    assert 6 < eye_width < 12
