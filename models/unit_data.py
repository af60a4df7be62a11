"""The bundled data in the shapes the ``units`` and ``dissect`` commands take.

``inspector`` never imports ``models``; the launcher passes these two providers
into the commands instead (as it passes the default model path to ``inspect``).

* ``bundled_unit_images``: every bundled image (training and held-out sets,
  faces and non-faces) as uint8 for top-k mining.
* ``bundled_face_concepts``: the 500 framed faces with their part masks (eye =
  both eye boxes, nose, mouth; from ``face_parts``) and a face-region mask, and
  the held-out non-faces with empty masks, all annotated for every face concept.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from inspector.units.concepts import ConceptSet
from models.bundled_data import NOT_FACE, bundled_face_data
from models.face_parts import box_masks
from models.face_sources import face_images

# The face region: an ellipse around the eyes-mouth midpoint, FACE_HALF_WIDTH eye
# distances to each side and FACE_HALF_HEIGHT eye-to-mouth distances up and down,
# raised by FACE_RISE of that distance (the forehead is above the eyes). Set from
# common face proportions, not from any dissection result.
FACE_HALF_WIDTH, FACE_HALF_HEIGHT, FACE_RISE = 1.0, 1.5, 0.3


def _check_grey(shape: tuple[int, int, int]) -> int:
    height, width, channels = shape
    if height != width or channels not in (1, 3):
        raise ValueError(f"Expected a square 1- or 3-channel input. Received: {shape}.")
    return height


def bundled_unit_images(shape: tuple[int, int, int]) -> np.ndarray:
    """uint8 ``(N, S, S, C)``: the bundled training and held-out images."""
    size = _check_grey(shape)
    data = bundled_face_data(size)
    images = np.concatenate([data.train.images, data.held_out.images])
    return np.repeat(images, shape[2], axis=-1) if shape[2] == 3 else images


def _face_regions(landmarks: np.ndarray, size: int) -> np.ndarray:
    masks = []
    for marks in np.asarray(landmarks, np.float64):
        eyes, mouth = marks[:2].mean(0), marks[3:].mean(0)
        eye_gap = float(np.linalg.norm(marks[1] - marks[0]))
        drop = float(np.linalg.norm(mouth - eyes))
        centre = (eyes + mouth) / 2 - np.array([0.0, FACE_RISE * drop])
        half = np.array([FACE_HALF_WIDTH * eye_gap, FACE_HALF_HEIGHT * drop])
        mask = Image.new("L", (size, size), 0)
        ImageDraw.Draw(mask).ellipse([*(centre - half), *(centre + half)], fill=255)
        masks.append(np.asarray(mask) > 127)
    return np.asarray(masks)


def bundled_face_concepts(shape: tuple[int, int, int]) -> ConceptSet:
    """Faces with eye, nose, mouth and face masks, and non-faces without any."""
    size = _check_grey(shape)
    faces = face_images(size)
    held = bundled_face_data(size).held_out
    negatives = held.images[held.labels == NOT_FACE]
    boxes = faces.part_boxes  # (N, 4, 4): left_eye, right_eye, nose, mouth
    parts = box_masks(boxes, size)  # (N, 4, S, S)
    count, empty = len(faces), np.zeros((len(negatives), size, size), bool)
    face_masks = {
        "eye": parts[:, 0] | parts[:, 1],
        "nose": parts[:, 2],
        "mouth": parts[:, 3],
        "face": _face_regions(faces.landmarks, size),
    }
    images = np.concatenate([faces.images, negatives]).astype(np.float32) / 255.0
    if shape[2] == 3:
        images = np.repeat(images, 3, axis=-1)
    total = count + len(negatives)
    return ConceptSet(
        images,
        {name: np.concatenate([mask, empty]) for name, mask in face_masks.items()},
        {name: np.ones(total, bool) for name in face_masks},
        {"eye": "part", "nose": "part", "mouth": "part", "face": "face"},
        np.arange(total) >= count,
    )
