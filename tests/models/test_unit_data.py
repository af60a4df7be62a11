"""The named mining sets: the face photos with their parts, and natural images with no
synthetic or drawn picture among them."""

from __future__ import annotations

import numpy as np
import pytest

from models.datasets.bundled_data import (
    BLOBS,
    DATA_SEED,
    NATURAL_PER_SOURCE,
    negative_sources,
)
from models.datasets.face_data import lfw_subset_images
from models.datasets.face_sources import face_images
from models.datasets.negatives import GENERATED_SOURCES, blob_textures, natural_crops
from models.datasets.unit_data import (
    BUNDLED_SETS,
    DEFAULT_SET,
    bundled_face_concepts,
    bundled_unit_set,
)

SHAPE = (64, 64, 1)


def rows(images: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in images}


def test_the_default_set_is_bundled_natural():
    assert DEFAULT_SET == "bundled-natural" == next(iter(BUNDLED_SETS))


def test_bundled_faces_are_the_500_face_photos_with_their_parts():
    chosen = bundled_unit_set("bundled-faces", SHAPE)
    faces = face_images(SHAPE[0])
    assert chosen.images.shape == (500, 64, 64, 1) and chosen.is_face.all()
    np.testing.assert_array_equal(chosen.images, faces.images)
    assert faces.part_boxes.shape == (500, 4, 4)  # left eye, right eye, nose, mouth
    concepts = bundled_face_concepts(SHAPE)
    # The same photos carry the part masks the pointing game scores, each face an eye.
    in_bytes = np.rint(concepts.images[:500] * 255).astype(np.uint8)  # concepts are 0..1
    np.testing.assert_array_equal(in_bytes, chosen.images)
    assert concepts.masks["eye"][:500].any(axis=(1, 2)).all()
    assert not concepts.negatives[:500].any()
    assert not chosen.images.flags.writeable


def test_bundled_natural_holds_no_synthetic_texture_or_drawn_picture():
    natural = bundled_unit_set("bundled-natural", SHAPE)
    assert natural.is_face[:500].all() and not natural.is_face[500:].any()
    non_faces = natural.images[500:]
    # By construction: crops of the photographed sources, then the LFW non-face patches.
    expected = []
    for part in ("train", "held_out"):
        sources, seed = negative_sources(part)
        photos = tuple(name for name in sources if name not in GENERATED_SOURCES)
        expected.append(natural_crops(photos, NATURAL_PER_SOURCE[part], 64, seed)[..., None])
    lfw = lfw_subset_images(64)
    expected.append(lfw.images[lfw.labels == 0])
    np.testing.assert_array_equal(non_faces, np.concatenate(expected))
    # And none of them is a blob texture or a crop of a drawn picture of the bundled set.
    synthetic = set()
    for part, offset in (("train", 0), ("held_out", 100)):
        seed = DATA_SEED + offset
        synthetic |= rows(blob_textures(BLOBS[part], 64, seed + 3)[..., None])
        sources, _ = negative_sources(part)
        drawn = tuple(name for name in sources if name in GENERATED_SOURCES)
        assert drawn  # the check below would be empty otherwise
        synthetic |= rows(natural_crops(drawn, NATURAL_PER_SOURCE[part], 64, seed)[..., None])
    # One LFW non-face patch is black all over (its maximum rounds to 0): it equals a
    # black crop of a drawn picture without being one, so flat images are left out.
    varied = non_faces[np.ptp(non_faces.reshape(len(non_faces), -1), axis=1) > 0]
    assert len(varied) == len(non_faces) - 1
    assert not rows(varied) & synthetic


def test_the_whole_bundled_set_marks_its_faces():
    everything = bundled_unit_set("bundled", SHAPE)
    assert len(everything.images) == 8650
    faces = rows(face_images(64).images)
    # The held-out faces are the canonical frames themselves: they must be marked.
    marked = rows(everything.images[everything.is_face])
    assert faces & rows(everything.images) <= marked


def test_names_and_shapes_the_sets_cannot_serve_are_refused():
    with pytest.raises(ValueError, match="bundled-natural, bundled-faces, bundled"):
        bundled_unit_set("bundled-cats", SHAPE)
    with pytest.raises(ValueError, match=r"square, 1 or 3 channels\). Received: \(64, 48, 1\)"):
        bundled_unit_set("bundled-faces", (64, 48, 1))
    rgb = bundled_unit_set("bundled-faces", (32, 32, 3))
    assert rgb.images.shape == (500, 32, 32, 3)
    assert np.array_equal(rgb.images[..., 0], rgb.images[..., 2])
