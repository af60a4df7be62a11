"""Tiny models, inspections and image files shared by the export, report and CLI tests."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from PIL import Image

from inspector import Inspector
from inspector.engine.model_loading import save_model

layers = keras.layers
INPUT_SHAPE = (16, 16, 3)
LABELS = ("face", "other")


def nested_model() -> keras.Model:
    """Rescaling -> conv -> pool -> nested 'inner' model -> GAP -> softmax(2).

    The nested model makes layer names with a slash ("inner/conv").
    """
    keras.utils.set_random_seed(1)
    inner = keras.Sequential(
        [keras.Input((8, 8, 4)), layers.Conv2D(3, 3, activation="relu", name="conv")],
        name="inner",
    )
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(x)
    x = layers.MaxPooling2D(name="pool")(x)
    x = inner(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(2, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="tiny")


def dense_only_model() -> keras.Model:
    """No spatial layer after the input: Flatten -> Dense(3)."""
    keras.utils.set_random_seed(2)
    inputs = keras.Input((4, 4, 1))
    x = layers.Flatten(name="flat")(inputs)
    outputs = layers.Dense(3, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="dense_only")


def sigmoid_model() -> keras.Model:
    """One sigmoid unit: a binary classifier whose probabilities are [1 - p, p]."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(2, 3, activation="relu", name="conv")(inputs)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="unit")(x)
    return keras.Model(inputs, outputs, name="binary")


def lambda_model() -> keras.Model:
    """A model carrying Python code in a Lambda layer (refused in safe mode)."""
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    x = layers.Conv2D(2, 3, activation="relu", name="conv")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(2, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="with_lambda")


def random_pixels(shape=INPUT_SHAPE, high: float = 255.0, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) * high).astype(np.float32)


def inspect_nested(image: np.ndarray | None = None):
    """(inspector, inspection) of ``nested_model`` on a seeded random image."""
    model = nested_model()
    inspector = Inspector(model, labels=LABELS)
    return inspector, inspector.inspect(random_pixels() if image is None else image)


def write_model(folder: Path, model: keras.Model | None = None, name="tiny.keras") -> Path:
    path = folder / name
    save_model(model or nested_model(), path, LABELS)
    return path


def write_image(folder: Path, name: str = "picture.png", size=(40, 30)) -> Path:
    """A smooth RGB test picture of ``size`` (width, height)."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x + y) % 256], -1)
    path = folder / name
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path
