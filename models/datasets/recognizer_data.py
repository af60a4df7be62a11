"""The bundled face-recognition data: who is this, among the 40 ORL people.

The same photos as the detector's faces (``models.datasets.face_sources``), framed the
same way at the same size, but labelled by person: ``person_01`` ... ``person_40``
(ORL subjects s1 ... s40). Each person has 10 photos; ``HELD_OUT_PER_PERSON`` of
them are held out, chosen by ``RECOGNIZER_SPLIT_SEED`` alone, so every training
seed, test and figure sees the same held-out photos. Training photos become
``FACE_COPIES`` jittered crops each, with the detector's head masks and
backgrounds (``models.training.crop_augmentation``); the held-out set is each photo's
canonical frame, once. The LFW faces (``lfw_unknown_faces``) are people outside
ORL: the recogniser's "unknown person" threshold is calibrated on them.

Credit: the ORL (AT&T) face database, Olivetti Research Laboratory, Cambridge;
F. Samaria and A. Harter, IEEE Workshop on Applications of Computer Vision, 1994.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from inspector.engine.inspection import read_only
from models.datasets.bundled_data import DATA_SEED, FACE_COPIES, backgrounds
from models.datasets.face_data import SPLIT_SEED, FaceDataset, LabelledImages
from models.datasets.face_parts import bundled_parts
from models.datasets.face_sources import face_images, frame_boxes, orl_faces
from models.face_cnn import INPUT_SIZE
from models.training.crop_augmentation import head_masks, jittered_crops

PEOPLE = 40
RECOGNIZER_LABELS = tuple(f"person_{i:02d}" for i in range(1, PEOPLE + 1))
HELD_OUT_PER_PERSON = 2
RECOGNIZER_SPLIT_SEED = SPLIT_SEED + 40
SOURCE = (
    "ORL faces (Olivetti Research Laboratory), 40 people x 10 photos: 8 per person "
    "trained (jittered crops), 2 held out (canonical frames)"
)


def held_out_photos(seed: int = RECOGNIZER_SPLIT_SEED) -> np.ndarray:
    """bool ``(400,)`` over ``orl_faces()``'s order: the held-out photos, exactly
    ``HELD_OUT_PER_PERSON`` of each person, fixed by ``seed`` (not the training seed)."""
    _, subject, photo = orl_faces()
    rng = np.random.default_rng([seed, 40])
    held = np.zeros(len(subject), bool)
    for person in range(1, PEOPLE + 1):
        chosen = rng.permutation(10)[:HELD_OUT_PER_PERSON] + 1  # photo numbers 1..10
        held |= (subject == person) & np.isin(photo, chosen)
    return held


@lru_cache(maxsize=2)
def recognizer_data(input_size: int = INPUT_SIZE) -> FaceDataset:
    """The identity data set with its fixed split.

    Returns:
        ``FaceDataset`` of uint8 ``(N, input_size, input_size, 1)`` images, labels
        0..39 (``person_01`` ... ``person_40``), and ``held_out_groups`` naming each
        held-out photo ("person_07/photo_3").
    """
    photos, subject, photo = orl_faces()
    landmarks = bundled_parts("orl").landmarks
    frames = frame_boxes(landmarks)
    held = held_out_photos()
    train = ~held
    crops = jittered_crops(
        photos[train],
        frames[train],
        FACE_COPIES,
        input_size,
        DATA_SEED + 40,
        masks=head_masks(photos[train], landmarks[train]),
        backgrounds=backgrounds(input_size),
    )
    train_labels = np.repeat(subject[train] - 1, FACE_COPIES).astype(np.int32)
    canonical = face_images(input_size).images[:400]  # ORL first, in orl_faces() order
    held_images = canonical[held]
    groups = tuple(
        f"{RECOGNIZER_LABELS[s - 1]}/photo_{p}"
        for s, p in zip(subject[held], photo[held], strict=True)
    )
    return FaceDataset(
        LabelledImages(read_only(crops[..., None]), read_only(train_labels), RECOGNIZER_LABELS),
        LabelledImages(
            read_only(np.ascontiguousarray(held_images)),
            read_only((subject[held] - 1).astype(np.int32)),
            RECOGNIZER_LABELS,
        ),
        SOURCE,
        held_out_groups=groups,
    )


def lfw_unknown_faces(input_size: int = INPUT_SIZE) -> np.ndarray:
    """uint8 ``(100, S, S, 1)``: the LFW faces, framed as the ORL ones: people the
    recogniser never saw, on which its "unknown person" threshold is calibrated."""
    return face_images(input_size).images[400:]
