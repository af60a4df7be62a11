"""Labelled image sets, the fixed held-out split, and the bundled offline face data.

The bundled data (``bundled_face_data``, assembled in ``models.datasets.bundled_data``) is
faces from the ORL database and scikit-image's LFW subset, framed the way the app
frames a face, against thousands of non-face crops; its held-out set is disjoint
by person (ORL) and by source photo (negatives). ``lfw_subset_images`` is the raw
LFW subset alone: 200 grayscale 25x25 patches, the first 100 faces and the last
100 non-faces, upsampled to the model's input.

Images are stored as raw 0..255 pixels, the scale the model takes. The held-out
split depends only on the labels and ``SPLIT_SEED``, never on the training seed,
so anyone (a test, the docs' figures, the GUI) can rebuild the exact held-out
set without the training run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from inspector.engine.errors import DatasetError
from inspector.engine.inspection import read_only
from models.face_cnn import FACE_LABELS, INPUT_SIZE

SPLIT_SEED = 20240611
HELD_OUT_FRACTION = 0.25


@dataclass(frozen=True)
class LabelledImages:
    """Images with integer class labels.

    Attributes:
        images: uint8 ``(N, H, W, C)`` raw pixels, read-only.
        labels: int32 ``(N,)`` class indices into ``class_names``, read-only.
        class_names: one name per class; for two classes index 1 is the
            class the sigmoid unit predicts.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: np.ndarray) -> LabelledImages:
        return LabelledImages(
            read_only(self.images[indices]), read_only(self.labels[indices]), self.class_names
        )

    def as_model_input(self) -> np.ndarray:
        """float32 ``(N, H, W, C)`` in 0..255, what the face CNN takes."""
        return self.images.astype(np.float32)


@dataclass(frozen=True)
class FaceDataset:
    """A training set and its fixed held-out set, with where they came from."""

    train: LabelledImages
    held_out: LabelledImages
    source: str
    skipped: tuple[str, ...] = ()  # "file: reason" for every image left out
    # Per held-out image, what it is, e.g. "face/orl/s7" or "not_face/natural/horse"
    # (bundled data only; empty for a folder).
    held_out_groups: tuple[str, ...] = ()

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.train.class_names


def held_out_split(
    labels: np.ndarray, fraction: float = HELD_OUT_FRACTION, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: the same fraction of every class is held out.

    Args:
        labels: int ``(N,)`` class indices.
        fraction: share of each class held out (at least one image of every
            class with two or more images).
        seed: split seed; the default makes the split fixed.

    Returns:
        ``(train_indices, held_out_indices)``, each sorted int64.
    """
    rng = np.random.default_rng(seed)
    train, held = [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        members = members[rng.permutation(len(members))]
        count = max(1, round(fraction * len(members))) if len(members) > 1 else 0
        held.extend(members[:count])
        train.extend(members[count:])
    return np.sort(np.asarray(train, np.int64)), np.sort(np.asarray(held, np.int64))


def split_dataset(everything: LabelledImages, source: str, skipped=()) -> FaceDataset:
    """Split ``everything`` with the fixed stratified split."""
    train, held = held_out_split(everything.labels)
    return FaceDataset(everything.subset(train), everything.subset(held), source, tuple(skipped))


def lfw_subset_images(input_size: int = INPUT_SIZE) -> LabelledImages:
    """The 200 bundled LFW patches, upsampled, labelled 1 = face, 0 = not_face.

    Returns:
        ``LabelledImages`` with uint8 images ``(200, input_size, input_size, 1)``.
    """
    from skimage.data import lfw_subset

    patches = np.asarray(lfw_subset(), dtype=np.float32)  # (200, 25, 25) in [0, 1]
    images = np.stack([_upsample(patch, input_size) for patch in patches])[..., None]
    # skimage documents the order: the first 100 are faces, the rest are not.
    labels = np.zeros(len(patches), np.int32)
    labels[:100] = FACE_LABELS.index("face")
    return LabelledImages(read_only(images), read_only(labels), FACE_LABELS)


def _upsample(patch: np.ndarray, size: int) -> np.ndarray:
    # Resize in float ("F" mode) so no precision is lost before the one rounding.
    resized = Image.fromarray(patch * 255.0, mode="F").resize(
        (size, size), Image.Resampling.BILINEAR
    )
    return np.clip(np.rint(np.asarray(resized)), 0, 255).astype(np.uint8)


def check_trainable(data: LabelledImages, where: str) -> None:
    """Refuse a set that cannot train a classifier.

    Raises:
        DatasetError: no images, or fewer than two classes with images.
    """
    present = np.unique(data.labels) if len(data) else np.array([], np.int32)
    if len(present) < 2:
        found = [data.class_names[i] for i in present]
        raise DatasetError(
            "Expected images of at least two classes to train on. "
            f"Received: {len(data)} image(s) of {len(present)} class(es) {found} in {where}."
        )
