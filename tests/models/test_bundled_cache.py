"""The bundled set's disk cache: exact round trip, never pickled, keyed by its recipe."""

from __future__ import annotations

import numpy as np

from models.datasets import bundled_data
from models.datasets.face_data import FaceDataset, LabelledImages
from models.face_cnn import FACE_LABELS


def _small() -> FaceDataset:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 8, 8, 1), dtype=np.uint8)
    labels = np.array([0, 1, 1, 0, 1, 0], np.int32)
    return FaceDataset(
        LabelledImages(images[:4], labels[:4], FACE_LABELS),
        LabelledImages(images[4:], labels[4:], FACE_LABELS),
        bundled_data.SOURCE_DESCRIPTION,
        held_out_groups=("face/orl/s7", "not_face/blobs"),
    )


def test_the_cache_round_trips_exactly_without_pickle(tmp_path):
    path = tmp_path / "faces.npz"
    data = _small()
    bundled_data._write_cache(path, data)
    with np.load(path, allow_pickle=False) as stored:  # plain arrays only
        assert stored["held_groups"].dtype.kind == "U"
    back = bundled_data._read_cache(path)
    assert np.array_equal(back.train.images, data.train.images)
    assert np.array_equal(back.held_out.labels, data.held_out.labels)
    assert back.held_out_groups == data.held_out_groups
    assert not back.train.images.flags.writeable


def test_a_broken_or_missing_cache_is_rebuilt_not_trusted(tmp_path):
    assert bundled_data._read_cache(tmp_path / "missing.npz") is None
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not an npz")
    assert bundled_data._read_cache(broken) is None


def test_the_key_follows_the_recipe(monkeypatch):
    key = bundled_data.recipe_key(64)
    assert bundled_data.recipe_key(64) == key  # deterministic
    assert bundled_data.recipe_key(32) != key
    monkeypatch.setattr(bundled_data, "FACE_COPIES", bundled_data.FACE_COPIES + 1)
    assert bundled_data.recipe_key(64) != key


def test_the_cache_lives_in_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("LAYER_INSPECTOR_CACHE", str(tmp_path))
    path = bundled_data.cache_path(64)
    assert path.parent == tmp_path / "bundled" and path.suffix == ".npz"


def test_a_build_reports_each_of_its_steps_in_order():
    """The first build on a machine takes a while: progress moves step by step."""
    reports = []
    data = bundled_data.build_face_data(24, lambda *report: reports.append(report))
    assert [done for done, _, _ in reports] == list(range(bundled_data.BUILD_STEPS + 1))
    assert {total for _, total, _ in reports} == {bundled_data.BUILD_STEPS}
    assert all("first time only" in what for _, _, what in reports)
    assert data.train.images.shape[1:] == (24, 24, 1)
