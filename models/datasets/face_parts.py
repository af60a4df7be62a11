"""Where the eyes, the nose and the mouth are on every bundled face.

The part file ``models/data/face_parts.json`` holds, for each of the 400 ORL photos
and the 100 LFW-subset faces, the five MTCNN landmarks (Zhang et al., "Joint Face
Detection and Alignment Using Multitask Cascaded Convolutional Networks", IEEE
Signal Processing Letters 2016) in the raw image's pixels, how they were found,
and the four part boxes derived from them. ``models/data/annotate_parts.py`` wrote
it; MTCNN is needed only there (the ``annotate`` extra).

Boxes are ``(left, top, right, bottom)`` floats in pixels, right/bottom exclusive.
"left" and "right" are the IMAGE's left and right (MTCNN's naming), so
``left_eye`` is the subject's right eye.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PART_FILE = Path(__file__).resolve().parents[1] / "data" / "face_parts.json"
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
PART_NAMES = ("left_eye", "right_eye", "nose", "mouth")
# Part sizes as fractions of the distance between the eye centres (d). An adult
# eye is about 0.5 d wide; the nose runs from a little below the eyes to just under
# the tip MTCNN marks; the mouth box spans the corners plus a margin.
_EYE_SIZE = (0.55, 0.35)  # width, height in d
_NOSE_WIDTH, _NOSE_TOP, _NOSE_BOTTOM = 0.5, 0.25, 0.15  # top: below the eye line
_MOUTH_MARGIN, _MOUTH_HEIGHT = 0.15, 0.4


@dataclass(frozen=True)
class FaceParts:
    """Landmarks and part boxes of a set of face images, in those images' pixels.

    Attributes:
        landmarks: float32 ``(N, 5, 2)`` ``(x, y)`` in ``LANDMARK_NAMES`` order.
        boxes: float32 ``(N, 4, 4)`` ``(left, top, right, bottom)`` in ``PART_NAMES`` order.
        methods: one string per face: ``"mtcnn_x<factor>"`` (found by MTCNN on a copy
            upsampled that many times) or ``"template"`` (MTCNN missed it; the mean
            landmarks of the faces it found, scaled to the image, stand in).
    """

    landmarks: np.ndarray
    boxes: np.ndarray
    methods: tuple[str, ...]


def part_boxes(landmarks: np.ndarray) -> np.ndarray:
    """The four part boxes of faces, from their five landmarks.

    Args:
        landmarks: ``(..., 5, 2)`` ``(x, y)`` pixels in ``LANDMARK_NAMES`` order.

    Returns:
        float32 ``(..., 4, 4)`` boxes ``(left, top, right, bottom)`` in ``PART_NAMES`` order.
    """
    points = np.asarray(landmarks, np.float64)
    left_eye, right_eye, nose, mouth_left, mouth_right = (points[..., i, :] for i in range(5))
    d = np.linalg.norm(right_eye - left_eye, axis=-1)[..., None]
    half_eye = np.concatenate([d * _EYE_SIZE[0] / 2, d * _EYE_SIZE[1] / 2], axis=-1)
    eyes_y = (left_eye[..., 1:] + right_eye[..., 1:]) / 2
    nose_box = np.concatenate(
        [
            nose[..., :1] - d * _NOSE_WIDTH / 2,
            np.minimum(eyes_y + d * _NOSE_TOP, nose[..., 1:] - 0.1 * d),
            nose[..., :1] + d * _NOSE_WIDTH / 2,
            nose[..., 1:] + d * _NOSE_BOTTOM,
        ],
        axis=-1,
    )
    mouth_y = (mouth_left[..., 1:] + mouth_right[..., 1:]) / 2
    mouth_box = np.concatenate(
        [
            np.minimum(mouth_left[..., :1], mouth_right[..., :1]) - d * _MOUTH_MARGIN,
            mouth_y - d * _MOUTH_HEIGHT / 2,
            np.maximum(mouth_left[..., :1], mouth_right[..., :1]) + d * _MOUTH_MARGIN,
            mouth_y + d * _MOUTH_HEIGHT / 2,
        ],
        axis=-1,
    )
    boxes = [
        np.concatenate([left_eye - half_eye, left_eye + half_eye], axis=-1),
        np.concatenate([right_eye - half_eye, right_eye + half_eye], axis=-1),
        nose_box,
        mouth_box,
    ]
    return np.stack(boxes, axis=-2).astype(np.float32)


@lru_cache(maxsize=1)
def read_part_file(path: Path = PART_FILE) -> dict:
    """The part file as written by ``models/data/annotate_parts.py`` (read once)."""
    return json.loads(Path(path).read_text())


def bundled_parts(source: str) -> FaceParts:
    """The annotated parts of one bundled face source, in its raw images' pixels.

    Args:
        source: ``"orl"`` (400 photos of 92x112, subject by subject, as in
            ``orl_faces.npz``) or ``"lfw"`` (the 100 faces of
            ``skimage.data.lfw_subset()``, 25x25).

    Returns:
        ``FaceParts`` for every image of that source, in its order.
    """
    entries = read_part_file().get(source)
    if entries is None:
        raise ValueError(f"Expected source 'orl' or 'lfw'. Received: {source!r}.")
    landmarks = np.asarray([entry["landmarks"] for entry in entries], np.float32)
    boxes = np.asarray([entry["boxes"] for entry in entries], np.float32)
    return FaceParts(landmarks, boxes, tuple(entry["method"] for entry in entries))


def map_boxes(boxes: np.ndarray, crop: np.ndarray, size: int) -> np.ndarray:
    """Carry boxes from a raw image into the model input made from a square crop of it.

    Args:
        boxes: ``(..., 4)`` ``(left, top, right, bottom)`` in raw-image pixels.
        crop: ``(..., 4)`` the square crop ``(left, top, right, bottom)`` that was
            resized to the model input, in raw-image pixels (broadcast against boxes).
        size: the model input's side in pixels.

    Returns:
        float32 ``(..., 4)`` boxes in model-input pixels (may reach outside 0..size
        when a part lies outside the crop).
    """
    boxes, crop = np.asarray(boxes, np.float64), np.asarray(crop, np.float64)
    scale = size / (crop[..., 2:3] - crop[..., 0:1])
    origin = np.concatenate([crop[..., 0:2], crop[..., 0:2]], axis=-1)
    return ((boxes - origin) * scale).astype(np.float32)


def box_masks(boxes: np.ndarray, size: int) -> np.ndarray:
    """Boolean masks of boxes on a ``size`` x ``size`` grid (a pixel is in if its centre is).

    Args:
        boxes: ``(..., 4)`` ``(left, top, right, bottom)`` in pixels.

    Returns:
        bool ``(..., size, size)``.
    """
    boxes = np.asarray(boxes, np.float64)[..., None, None, :]
    centres = np.arange(size) + 0.5
    inside_x = (centres[None, :] >= boxes[..., 0]) & (centres[None, :] < boxes[..., 2])
    inside_y = (centres[:, None] >= boxes[..., 1]) & (centres[:, None] < boxes[..., 3])
    return inside_x & inside_y
