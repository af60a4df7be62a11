"""The bundled data: ORL inside the repo, counts, a split by person and by source, seeded crops."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from models.datasets.bundled_data import (
    ALWAYS_TRAIN_SOURCES,
    HELD_OUT_PEOPLE,
    bundled_face_data,
    held_out_people,
    held_out_sources,
)
from models.datasets.face_parts import bundled_parts
from models.datasets.face_sources import ORL_FILE, frame_boxes, orl_faces
from models.datasets.negatives import (
    LEFT_OUT_SOURCES,
    NATURAL_SOURCES,
    blob_textures,
    natural_crops,
)
from models.training.crop_augmentation import jittered_crops

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_orl_is_bundled_as_one_npz_without_pickles():
    with np.load(ORL_FILE, allow_pickle=False) as stored:
        assert sorted(stored.files) == ["images", "photo", "subject"]
    images, subject, photo = orl_faces()
    assert images.shape == (400, 112, 92) and images.dtype == np.uint8
    assert Counter(subject.tolist()) == {s: 10 for s in range(1, 41)}
    assert sorted(set(photo.tolist())) == list(range(1, 11))


def test_no_run_time_module_reads_the_shared_folder():
    for path in MODELS.rglob("*.py"):
        if path.name != "make_orl.py":
            assert "shared/data" not in path.read_text(), path


def test_counts_and_labels():
    data = bundled_face_data()
    assert data.train.images.shape == (8000, 64, 64, 1) and data.train.images.dtype == np.uint8
    assert np.bincount(data.train.labels).tolist() == [5000, 3000]
    assert np.bincount(data.held_out.labels).tolist() == [525, 125]
    assert len(data.held_out_groups) == len(data.held_out)
    kinds = Counter("/".join(g.split("/")[:2]) for g in data.held_out_groups)
    assert kinds == {
        "face/orl": 100,
        "face/lfw": 25,
        "not_face/natural": 300,
        "not_face/hard": 100,
        "not_face/blobs": 100,
        "not_face/lfw": 25,
    }
    pairs = zip(data.held_out_groups, data.held_out.labels, strict=True)
    assert all(group.startswith("face/") == (label == 1) for group, label in pairs)


def test_the_held_out_people_and_sources_are_fixed_and_disjoint_from_training():
    people = held_out_people()
    assert len(people) == HELD_OUT_PEOPLE and np.array_equal(people, held_out_people())
    assert not np.array_equal(people, held_out_people(seed=1))
    groups = bundled_face_data().held_out_groups
    faces_of = {
        int(g.split("/s")[1]) for g in groups if g.startswith(("face/orl", "not_face/hard"))
    }
    assert faces_of == set(people.tolist())
    sources = held_out_sources()
    assert {g.split("/")[2] for g in groups if "/natural/" in g} == set(sources)
    assert not set(sources) & set(ALWAYS_TRAIN_SOURCES)
    assert not set(LEFT_OUT_SOURCES) & set(NATURAL_SOURCES)


def test_no_held_out_image_is_also_a_training_image():
    data = bundled_face_data()

    def digests(images):
        # Flat crops (all black, say) may repeat by chance; anything with detail must not.
        return {hashlib.sha1(i.tobytes()).hexdigest() for i in images if i.max() > i.min()}

    assert not digests(data.train.images) & digests(data.held_out.images)


def test_training_faces_include_each_photo_framed_as_the_app_frames_it():
    # The first of each photo's jittered copies is its canonical frame, unjittered.
    photos, subject, _ = orl_faces()
    frames = frame_boxes(bundled_parts("orl").landmarks)
    first = ~np.isin(subject, held_out_people())
    crops = jittered_crops(photos[first][:2], frames[first][:2], 3, 64, seed=0)
    again = jittered_crops(photos[first][:2], frames[first][:2], 3, 64, seed=0)
    other = jittered_crops(photos[first][:2], frames[first][:2], 3, 64, seed=1)
    np.testing.assert_array_equal(crops, again)
    np.testing.assert_array_equal(crops[0], other[0])  # copy 0: the frame itself
    assert not np.array_equal(crops[1], other[1])
    assert not np.array_equal(crops[0], crops[1])


def test_negatives_are_seeded():
    a = natural_crops(("brick", "chelsea"), 5, 64, seed=3)
    assert a.shape == (10, 64, 64) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, natural_crops(("brick", "chelsea"), 5, 64, seed=3))
    assert not np.array_equal(a, natural_crops(("brick", "chelsea"), 5, 64, seed=4))
    np.testing.assert_array_equal(blob_textures(4, 64, 1), blob_textures(4, 64, 1))


def test_unknown_sources_are_refused():
    with pytest.raises(ValueError, match="Expected one of"):
        natural_crops(("astronaut",), 1, 64, seed=0)
