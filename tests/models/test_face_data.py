"""The LFW subset, the fixed held-out split, and the seeded augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from models.datasets.face_data import held_out_split, lfw_subset_images, split_dataset
from models.training.augmentation import augment, steps_per_epoch, training_batches


def test_the_bundled_subset_is_100_faces_then_100_non_faces():
    data = lfw_subset_images()
    assert data.images.shape == (200, 64, 64, 1) and data.images.dtype == np.uint8
    assert data.class_names == ("not_face", "face")
    assert data.labels[:100].tolist() == [1] * 100 and data.labels[100:].tolist() == [0] * 100
    assert data.images.min() >= 0 and data.images.max() == 255  # raw 0..255 pixels


def test_upsampling_keeps_the_patch():
    from skimage.data import lfw_subset

    patch = lfw_subset()[0]
    upsampled = lfw_subset_images(input_size=25).images[0, ..., 0]
    np.testing.assert_allclose(upsampled, patch * 255, atol=0.5)  # same size: only rounding


def test_the_split_is_fixed_stratified_and_disjoint():
    labels = lfw_subset_images().labels
    train, held = held_out_split(labels)
    again_train, again_held = held_out_split(labels)
    np.testing.assert_array_equal(held, again_held)
    np.testing.assert_array_equal(train, again_train)
    assert set(train).isdisjoint(held) and len(train) + len(held) == 200
    assert np.bincount(labels[held]).tolist() == [25, 25]
    _, other_held = held_out_split(labels, seed=1)
    assert not np.array_equal(held, other_held)


def test_single_image_classes_stay_in_training():
    train, held = held_out_split(np.array([0, 0, 0, 0, 1]))
    assert 4 in train and len(held) == 1


def lfw_data():
    return split_dataset(lfw_subset_images(), "lfw")


def test_split_dataset_matches_the_split():
    data = lfw_data()
    assert len(data.train) == 150 and len(data.held_out) == 50
    everything = lfw_subset_images()
    _, held = held_out_split(everything.labels)
    np.testing.assert_array_equal(data.held_out.images, everything.images[held])


def first_epochs(seed: int, first_epoch: int = 0, epochs: int = 2):
    data = lfw_data().train
    batches = training_batches(
        data, seed=seed, batch_size=32, first_epoch=first_epoch, epochs=epochs, repeats=2
    )
    return [(np.asarray(x), np.asarray(y)) for x, y in batches]


def test_augmented_batches_are_reproducible_and_epoch_addressed():
    run = first_epochs(seed=3)
    per_epoch = steps_per_epoch(150, 32, repeats=2)
    assert per_epoch == 10 and len(run) == 2 * per_epoch
    again = first_epochs(seed=3)
    for (x, y), (x2, y2) in zip(run, again, strict=True):
        np.testing.assert_allclose(x, x2, atol=1e-3)
        np.testing.assert_array_equal(y, y2)
    # Resuming at epoch 1 replays epoch 1 of the uninterrupted run (to float
    # rounding: without op determinism a mean may sum in another order).
    resumed = first_epochs(seed=3, first_epoch=1)
    for (x, y), (x2, y2) in zip(run[per_epoch:], resumed, strict=True):
        np.testing.assert_allclose(x, x2, atol=1e-3)
        np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(run[0][0], first_epochs(seed=4)[0][0])
    assert not np.array_equal(run[0][0], run[per_epoch][0])  # a new epoch is reshuffled


def test_augmentation_keeps_range_labels_and_counts():
    run = first_epochs(seed=0, epochs=1)
    x = np.concatenate([b[0] for b in run])
    y = np.concatenate([b[1] for b in run])
    assert x.shape == (300, 64, 64, 1) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 255
    assert np.bincount(y).tolist() == [150, 150]  # 75 + 75 training images, twice each


def test_augmentation_is_a_flip_a_small_shift_and_a_linear_relighting():
    image = lfw_data().train.images[0, ..., 0].astype(np.float64)
    size = image.shape[0]
    for seed in range(5):
        out = np.asarray(augment(tf.constant(image[..., None], tf.float32), [seed, 7]))[..., 0]
        assert out.shape == image.shape and not np.array_equal(out, image)
        inside = (out > 0) & (out < 255)  # relighting clips at 0 and 255
        # Some flip and shift of at most 4 px, then a * x + c, explains every pixel.
        best = 0.0
        for candidate in (image, image[:, ::-1]):
            padded = np.pad(candidate, 4, mode="symmetric")
            for dy in range(9):
                for dx in range(9):
                    shifted = padded[dy : dy + size, dx : dx + size]
                    best = max(best, np.corrcoef(out[inside], shifted[inside])[0, 1])
        assert best > 0.9999


@pytest.mark.parametrize("count, batch, repeats, expected", [(150, 32, 6, 29), (10, 4, 1, 3)])
def test_steps_per_epoch(count, batch, repeats, expected):
    assert steps_per_epoch(count, batch, repeats) == expected
