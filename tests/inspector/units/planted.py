"""A planted detector: a conv channel that is a hand-set matched filter for one pattern.

Images are binary noise (so every random filter sees the same contrast
everywhere); the 7x7 pattern is pasted into a known subset of images at known
places. Channel 0 of ``detector`` computes sum((pattern - 0.5) * patch) - BIAS,
then ReLU: only an exact (or nearly exact) copy of the pattern gets above zero.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from PIL import Image

SIZE = 32
PATTERN = np.array(
    [
        [1, 1, 1, 0, 1, 1, 1],
        [1, 0, 0, 0, 0, 0, 1],
        [1, 0, 1, 1, 1, 0, 1],
        [0, 0, 1, 0, 1, 0, 0],
        [1, 0, 1, 1, 1, 0, 1],
        [1, 0, 0, 0, 0, 0, 1],
        [1, 1, 1, 0, 1, 1, 1],
    ],
    np.float32,
)
BIAS = 0.5 * PATTERN.sum() - 2.0  # an exact copy scores 2.0; noise stays below zero


def planted_model(seed: int = 0) -> keras.Model:
    """Input 32x32x1 in [0, 1] -> detector (7x7, 2 ch) -> random (3x3, 4 ch) -> pool -> dense."""
    inputs = keras.Input((SIZE, SIZE, 1), name="pixels")
    detector = keras.layers.Conv2D(2, 7, padding="same", activation="relu", name="detector")
    x = detector(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="random")(x)
    outputs = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs, name="planted")
    rng = np.random.default_rng(seed)
    kernel = np.zeros((7, 7, 1, 2), np.float32)
    kernel[..., 0, 0] = PATTERN - 0.5
    kernel[..., 0, 1] = rng.normal(0, 0.3, (7, 7))
    detector.set_weights([kernel, np.array([-BIAS, 0.0], np.float32)])
    return model


def noise_images(count: int, seed: int = 0) -> np.ndarray:
    """float32 ``(count, 32, 32, 1)`` binary noise in {0, 1}."""
    rng = np.random.default_rng([seed, 1])
    return (rng.random((count, SIZE, SIZE, 1)) < 0.5).astype(np.float32)


def paste(images: np.ndarray, where: dict[int, tuple[int, int]]) -> np.ndarray:
    """Copy of ``images`` with the pattern's top-left corner at ``(row, col)`` in image i."""
    images = images.copy()
    for index, (row, col) in where.items():
        if index >= len(images):
            continue  # a smaller set holds only the planted images it has room for
        images[index, row : row + 7, col : col + 7, 0] = PATTERN
    return images


PLANTED = {3: (2, 5), 11: (20, 20), 17: (10, 0), 24: (25, 12), 30: (0, 25), 38: (13, 14)}


def planted_folder(folder: Path, count: int = 40) -> dict[str, tuple[int, int]]:
    """Write ``count`` PNGs in nested sub-folders; returns name -> pasted top-left (row, col)."""
    planted = {i: where for i, where in PLANTED.items() if i < count}
    images = paste(noise_images(count), planted)
    names = {}
    for i, image in enumerate(images):
        name = f"{'a' if i % 2 else 'b/c'}/img_{i:03d}.png"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((image[..., 0] * 255).astype(np.uint8)).save(folder / name)
        if i in planted:
            names[name] = planted[i]
    return names
