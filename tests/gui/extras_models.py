"""Tiny models and inspections for the GUI-extras tests (neuron, attribution, export)."""

from __future__ import annotations

import keras
import numpy as np

LABELS = ("face", "not_face")
SIZE = 16


def tiny_face_model() -> keras.Model:
    """Conv -> pool -> conv -> flatten -> dense relu -> dense softmax, 16x16 RGB, 0..1."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="edges")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="parts")(x)
    x = keras.layers.Flatten(name="flat")(x)
    x = keras.layers.Dense(5, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="tiny_face")


def sample_image(seed: int = 0) -> np.ndarray:
    """A smooth float32 (16, 16, 3) picture in [0, 1] with a bright blob."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    blob = np.exp(-((rows - 0.4) ** 2 + (cols - 0.6) ** 2) / 0.05)
    rng = np.random.default_rng(seed)
    channels = [blob, 1 - rows, cols * blob]
    image = np.stack(channels, axis=-1) * 0.8 + 0.2 * rng.random((SIZE, SIZE, 3))
    return image.astype(np.float32)


def inspected(model: keras.Model | None = None, target: int | None = None):
    """``(model, inspector, inspection)`` for the test image."""
    from inspector import Inspector

    model = model or tiny_face_model()
    inspector = Inspector(model, labels=LABELS)
    return model, inspector, inspector.inspect(sample_image(), target=target)
