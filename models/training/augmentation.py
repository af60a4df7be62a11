"""The training input pipeline: seeded, epoch-addressed augmentation in tf.data.

Every random choice of epoch ``e`` (the order of the images and each image's
flip, shift, brightness and contrast) is a stateless function of ``(seed, e)``.
So a run is reproducible from its seed, and a run resumed at epoch ``e`` sees
exactly the batches the uninterrupted run would have seen. The pipeline is pure
tf.data, so ``tf.distribute`` strategies can split its batches across replicas.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from models.datasets.face_data import LabelledImages

MAX_SHIFT = 4  # pixels, in each direction
MAX_BRIGHTNESS = 0.2 * 255.0  # added to raw 0..255 pixels
CONTRAST_RANGE = (0.6, 1.4)


def augment(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Randomly flip, shift and re-light one image.

    Args:
        image: float32 ``(H, W, C)`` raw pixels in 0..255.
        seed: int32 ``(2,)`` stateless seed for this image in this epoch.

    Returns:
        float32 ``(H, W, C)`` in 0..255.
    """
    seeds = tf.random.experimental.stateless_split(seed, num=4)
    image = tf.image.stateless_random_flip_left_right(image, seeds[0])
    height, width = image.shape[0], image.shape[1]
    # Edge-replicated padding, then a random crop: a shift of up to MAX_SHIFT
    # pixels that does not drag black borders into the picture.
    padded = tf.pad(image, [[MAX_SHIFT, MAX_SHIFT], [MAX_SHIFT, MAX_SHIFT], [0, 0]], "SYMMETRIC")
    image = tf.image.stateless_random_crop(padded, tf.shape(image), seeds[1])
    image = tf.ensure_shape(image, (height, width, None))
    delta = tf.random.stateless_uniform((), seeds[2], -MAX_BRIGHTNESS, MAX_BRIGHTNESS)
    factor = tf.random.stateless_uniform((), seeds[3], *CONTRAST_RANGE)
    mean = tf.reduce_mean(image)
    return tf.clip_by_value((image - mean) * factor + mean + delta, 0.0, 255.0)


def steps_per_epoch(count: int, batch_size: int, repeats: int = 1) -> int:
    """Batches in one epoch of ``count`` images each seen ``repeats`` times."""
    return math.ceil(count * repeats / batch_size)


def training_batches(
    data: LabelledImages,
    *,
    seed: int,
    batch_size: int,
    first_epoch: int,
    epochs: int,
    repeats: int = 1,
) -> tf.data.Dataset:
    """Augmented, shuffled batches for epochs ``first_epoch .. epochs - 1``.

    Each epoch holds every training image ``repeats`` times, each copy
    augmented differently. Pass ``steps_per_epoch(len(data), batch_size,
    repeats)`` to ``fit`` so Keras keeps one iterator across epochs.

    Returns:
        A dataset of ``(images float32 (B, H, W, C) in 0..255, labels int32 (B,))``.
    """
    images = tf.constant(data.images)
    labels = tf.constant(np.asarray(data.labels, np.int32))
    count = len(data) * repeats

    def one_epoch(epoch):
        epoch_seed = tf.stack([tf.constant(seed, tf.int64), epoch])
        epoch_seed = tf.cast(epoch_seed % (2**31 - 1), tf.int32)
        order = tf.random.experimental.stateless_shuffle(
            tf.range(count) % len(data), seed=epoch_seed
        )
        item_seeds = tf.random.stateless_uniform(
            (count, 2), epoch_seed + 1, minval=0, maxval=2**31 - 1, dtype=tf.int32
        )
        items = tf.data.Dataset.from_tensor_slices((order, item_seeds))
        return items.map(
            lambda index, item_seed: (
                augment(tf.cast(tf.gather(images, index), tf.float32), item_seed),
                tf.gather(labels, index),
            ),
            # Sequential on purpose: a few thousand small images per epoch, and a
            # parallel map would only add scheduling to a reproducible order.
        ).batch(batch_size)

    epochs_left = tf.data.Dataset.range(first_epoch, epochs)
    return epochs_left.flat_map(one_epoch).prefetch(tf.data.AUTOTUNE)
