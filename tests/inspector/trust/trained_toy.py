"""A small CNN trained in seconds on a synthetic task, for the sanity-check tests.

Class 1 images hold one bright 4x4 square somewhere on dim noise; class 0 images
are noise only. A trained model must find the square, so its explanations have
a known place to point at.
"""

from __future__ import annotations

import keras
import numpy as np

SIDE = 16


def squares_data(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(images (N, 16, 16, 1) float32 in [0, 1], labels (N,) int)``, half of each class."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 0.3, (count, SIDE, SIDE, 1)).astype(np.float32)
    labels = np.arange(count) % 2
    for i in np.flatnonzero(labels):
        row, col = rng.integers(0, SIDE - 4, 2)
        images[i, row : row + 4, col : col + 4, 0] = 1.0
    return images, labels


def trained_squares_model(seed: int = 0) -> keras.Model:
    """conv1 -> pool -> conv2 -> global average pool -> softmax(2), trained 8 epochs."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIDE, SIDE, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="logits")(x)
    model = keras.Model(inputs, outputs, name="squares")
    model.compile(
        keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    images, labels = squares_data(512, seed)
    model.fit(images, labels, epochs=8, batch_size=32, verbose=0, shuffle=True)
    return model
