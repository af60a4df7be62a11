"""Tiny models of every shape the inspector must handle, built in milliseconds."""

from __future__ import annotations

import keras
import numpy as np

layers = keras.layers


def conv_stack() -> list:
    """Smooth layers (tanh) so that finite differences are well defined."""
    return [
        layers.Conv2D(4, 3, activation="tanh", name="conv_a"),
        layers.AveragePooling2D(2, name="pool_a"),
        layers.Conv2D(6, 3, padding="same", activation="tanh", name="conv_b"),
        layers.Flatten(name="flatten"),
        layers.Dense(3, activation="softmax", name="probs"),
    ]


def sequential_from_list() -> keras.Model:
    return keras.Sequential([keras.Input((10, 10, 2)), *conv_stack()], name="seq_list")


def sequential_with_add() -> keras.Model:
    model = keras.Sequential(name="seq_add")
    model.add(keras.Input((10, 10, 2)))
    for layer in conv_stack():
        model.add(layer)
    return model


def functional_with_branches() -> keras.Model:
    inputs = keras.Input((10, 10, 2))
    stem = layers.Conv2D(4, 3, padding="same", activation="tanh", name="stem")(inputs)
    left = layers.Conv2D(4, 3, padding="same", activation="tanh", name="left")(stem)
    right = layers.Conv2D(4, 1, activation="tanh", name="right")(stem)
    merged = layers.Add(name="add")([stem, left])
    both = layers.Concatenate(name="concat")([merged, right])
    pooled = layers.GlobalAveragePooling2D(name="gap")(both)
    outputs = layers.Dense(2, activation="softmax", name="probs")(pooled)
    return keras.Model(inputs, outputs, name="branches")


def backbone() -> keras.Model:
    inputs = keras.Input((12, 12, 3))
    x = layers.Conv2D(4, 3, activation="tanh", name="conv1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.Conv2D(5, 3, strides=2, activation="tanh", name="conv2")(x)
    return keras.Model(inputs, x, name="backbone")


def transfer_functional() -> keras.Model:
    """The transfer-learning pattern: a backbone called with training=False."""
    base = backbone()
    inputs = keras.Input((12, 12, 3))
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    outputs = layers.Dense(4, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="transfer")


def transfer_sequential() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            backbone(),
            layers.Flatten(name="flat"),
            layers.Dense(1, activation="sigmoid", name="face"),
        ],
        name="seq_transfer",
    )


def with_normalization() -> keras.Model:
    norm = layers.Normalization(name="norm")
    norm.adapt(np.random.default_rng(1).uniform(0, 255, (16, 8, 8, 1)).astype("float32"))
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            norm,
            layers.Conv2D(3, 3, activation="tanh", name="conv"),
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dense(2, name="logits"),
        ],
        name="normalized",
    )


def multi_output() -> keras.Model:
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(3, 3, activation="tanh", name="shared")(inputs)
    x = layers.Flatten(name="flat")(x)
    kind = layers.Dense(3, activation="softmax", name="kind")(x)
    face = layers.Dense(1, activation="sigmoid", name="is_face")(x)
    return keras.Model(inputs, [kind, face], name="two_heads")


def multi_input() -> keras.Model:
    a, b = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    x = layers.Concatenate()([a, b])
    x = layers.Flatten()(x)
    return keras.Model([a, b], layers.Dense(2)(x), name="two_inputs")


def shared_layer_twice() -> keras.Model:
    inputs = keras.Input((6, 6, 2))
    conv = layers.Conv2D(2, 3, padding="same", activation="tanh", name="twice")
    x = conv(conv(inputs))
    x = layers.Flatten(name="flat")(x)
    return keras.Model(inputs, layers.Dense(2, name="out")(x), name="shared")


def image_for(model: keras.Model, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    shape = tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(7).uniform(low, high, shape).astype(np.float32)
