"""The bundled data in the shapes the ``units`` and ``dissect`` commands take.

``inspector`` never imports ``models``; the launcher passes these two providers
into the commands instead (as it passes the default model path to ``inspect``).

* ``bundled_unit_set``: a named mining set as uint8, with which images are faces:
  ``bundled-faces`` (the 500 framed face photos), ``bundled-natural`` (those
  faces and the natural non-face photo crops: no synthetic textures, no
  generated pictures), or ``bundled`` (the whole training and held-out sets).
* ``bundled_face_concepts``: the 500 framed faces with their part masks (eye =
  both eye boxes, nose, mouth; from ``face_parts``) and a face-region mask, and
  the held-out non-faces with empty masks, all annotated for every face concept;
  the natural photos among those non-faces are marked for the face measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from inspector.engine.inspection import read_only
from inspector.units.concepts import ConceptSet
from models.datasets.bundled_data import (
    FACE,
    NATURAL_PER_SOURCE,
    NOT_FACE,
    Progress,
    bundled_face_data,
    negative_sources,
)
from models.datasets.face_data import lfw_subset_images
from models.datasets.face_parts import box_masks
from models.datasets.face_sources import face_images
from models.datasets.negatives import GENERATED_SOURCES, natural_crops

# name -> what a sheet title and units.json say the set is. The first is the default.
BUNDLED_SETS = {
    "bundled-natural": "the bundled face photos and natural non-face photos",
    "bundled-faces": "the 500 bundled face photos",
    "bundled": "the whole bundled training set (faces, natural and synthetic non-faces)",
}
DEFAULT_SET = "bundled-natural"

# The face region: an ellipse around the eyes-mouth midpoint, FACE_HALF_WIDTH eye
# distances to each side and FACE_HALF_HEIGHT eye-to-mouth distances up and down,
# raised by FACE_RISE of that distance (the forehead is above the eyes). Set from
# common face proportions, not from any dissection result.
FACE_HALF_WIDTH, FACE_HALF_HEIGHT, FACE_RISE = 1.0, 1.5, 0.3


def _check_grey(shape: tuple[int, int, int]) -> int:
    height, width, channels = shape
    if height != width or channels not in (1, 3):
        raise ValueError(
            "Expected a model input the bundled faces fit (square, 1 or 3 channels). "
            f"Received: {shape}. Pick a folder of images instead."
        )
    return height


@dataclass(frozen=True)
class BundledImages:
    """A named bundled mining set.

    Attributes:
        name: a key of ``BUNDLED_SETS``; ``description``: its words.
        images: uint8 ``(N, S, S, C)`` raw 0..255 pixels.
        is_face: bool ``(N,)``: which images are face photos.
    """

    name: str
    description: str
    images: np.ndarray
    is_face: np.ndarray


def bundled_unit_set(
    name: str, shape: tuple[int, int, int], progress: Progress | None = None
) -> BundledImages:
    """The bundled mining set ``name`` at the model input ``shape``; ``progress`` hears
    the steps of the bundled set's build, the first time it is made on a machine.

    Raises:
        ValueError: a name not in ``BUNDLED_SETS`` or a shape the faces cannot fit.
    """
    if name not in BUNDLED_SETS:
        raise ValueError(
            f"Expected --data DIR or a bundled set: {', '.join(BUNDLED_SETS)}. Received: {name!r}."
        )
    size = _check_grey(shape)
    if name == "bundled":
        data = bundled_face_data(size, progress)
        images = np.concatenate([data.train.images, data.held_out.images])
        is_face = np.concatenate([data.train.labels, data.held_out.labels]) == FACE
    else:
        faces = face_images(size).images
        pieces = [faces] + ([] if name == "bundled-faces" else [_natural_non_faces(size)])
        images = np.concatenate(pieces)
        is_face = np.arange(len(images)) < len(faces)
    if shape[2] == 3:
        images = np.repeat(images, 3, axis=-1)
    return BundledImages(name, BUNDLED_SETS[name], read_only(images), read_only(is_face))


def _natural_non_faces(size: int) -> np.ndarray:
    """uint8 ``(N, S, S, 1)``: the bundled set's crops of every photographed source
    (training and held-out, the generated pictures left out), then the 100 LFW
    non-face patches."""
    crops = []
    for part in ("train", "held_out"):
        sources, seed = negative_sources(part)
        photos = tuple(name for name in sources if name not in GENERATED_SOURCES)
        crops.append(natural_crops(photos, NATURAL_PER_SOURCE[part], size, seed)[..., None])
    lfw = lfw_subset_images(size)
    crops.append(lfw.images[lfw.labels == NOT_FACE])
    return np.concatenate(crops)


def _natural_groups(groups) -> np.ndarray:
    """bool per held-out group: a photographed natural crop or an LFW non-face patch."""
    natural = [
        (g.startswith("not_face/natural/") and g.split("/")[-1] not in GENERATED_SOURCES)
        or g == "not_face/lfw"
        for g in groups
    ]
    return np.asarray(natural, bool)


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


def bundled_face_concepts(
    shape: tuple[int, int, int], progress: Progress | None = None
) -> ConceptSet:
    """Faces with eye, nose, mouth and face masks, and non-faces without any;
    ``progress`` as for ``bundled_unit_set``."""
    size = _check_grey(shape)
    faces = face_images(size)
    data = bundled_face_data(size, progress)
    held = data.held_out
    non_face = held.labels == NOT_FACE
    negatives = held.images[non_face]
    natural = _natural_groups(np.asarray(data.held_out_groups)[non_face])
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
        natural=np.concatenate([np.zeros(count, bool), natural]),
    )
