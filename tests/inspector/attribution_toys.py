"""Tiny models with known answers for the attribution tests.

Every builder sets its weights explicitly (or from a seeded generator) so the
tests can compute the expected maps independently, in closed form or with a
direct ``tf.GradientTape``.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from inspector import Inspector


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def image(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """A float32 image in [0, 1]."""
    return rng(seed).uniform(0.0, 1.0, shape).astype(np.float32)


def linear_model(shape=(4, 5, 3), classes: int = 3, seed: int = 0):
    """Dense on the flattened input with a linear output: logits = x.flat @ W + b.

    Returns:
        (model, W) with W of shape ``(H*W*C, classes)``.
    """
    inputs = keras.Input(shape)
    dense = keras.layers.Dense(classes, name="logits")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    weights = rng(seed).normal(0.0, 1.0, (int(np.prod(shape)), classes)).astype(np.float32)
    dense.set_weights([weights, rng(seed + 1).normal(0.0, 1.0, classes).astype(np.float32)])
    return model, weights


@keras.saving.register_keras_serializable(package="tests")
class Cube(keras.layers.Layer):
    """x -> x**3, a smooth nonlinearity with closed-form gradient and integral."""

    def call(self, x):
        return x**3


def cube_model(shape=(4, 4, 1)):
    """One logit equal to sum(x**3) (a single linear unit: class 1 has logit z)."""
    inputs = keras.Input(shape)
    cubed = keras.layers.Flatten()(Cube()(inputs))
    dense = keras.layers.Dense(1, use_bias=False, name="score")
    model = keras.Model(inputs, dense(cubed))
    dense.set_weights([np.ones((int(np.prod(shape)), 1), np.float32)])
    return model


def conv_model(shape=(12, 12, 3), classes: int = 3, activation: str = "relu", head="flatten"):
    """A small nonlinear conv net: two convs, then a head, then logits and softmax.

    The layer called ``last_conv`` is the last spatial layer (stride 2, so its map
    is smaller than the input). ``head`` is ``"flatten"`` (gradients vary over
    space) or ``"gap"`` (global average pooling). Biases are random, as in a
    trained model (Keras initialises them to zero).
    """
    bias = {"bias_initializer": keras.initializers.RandomNormal(stddev=0.1)}
    inputs = keras.Input(shape)
    x = keras.layers.Conv2D(4, 3, padding="same", activation=activation, name="conv", **bias)(
        inputs
    )
    x = keras.layers.Conv2D(
        5, 3, strides=2, padding="same", activation=activation, name="last_conv", **bias
    )(x)
    if head == "gap":
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(classes, name="logits", **bias)(x)
    outputs = keras.layers.Activation("softmax", name="probabilities")(logits)
    return keras.Model(inputs, outputs)


def tape_activation_and_gradient(model, layer: str, pixels: np.ndarray, target: int):
    """The layer's activation and d(logit[target])/d(activation) by a direct tape.

    Independent of the Inspector: a sub-model of the functional ``model`` that
    returns the layer's output and the ``logits`` layer's output.
    """
    probe = keras.Model(
        model.inputs, [model.get_layer(layer).output, model.get_layer("logits").output]
    )
    with tf.GradientTape() as tape:
        activation, logits = probe(tf.constant(pixels[None]))
        score = logits[0, target]
    gradient = tape.gradient(score, activation)
    return np.asarray(activation)[0].astype(np.float64), np.asarray(gradient)[0].astype(np.float64)


def tf_upsample(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling by TensorFlow, as an independent reference."""
    resized = tf.image.resize(cam[None, :, :, None].astype(np.float32), size, "bilinear")
    return np.asarray(resized)[0, :, :, 0]


def inspect(model, pixels: np.ndarray, target: int | None = None):
    """(inspector, inspection) for ``pixels``."""
    inspector = Inspector(model)
    return inspector, inspector.inspect(pixels, target=target)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation with average ranks for ties."""
    return float(np.corrcoef(_ranks(a.ravel()), _ranks(b.ravel()))[0, 1])


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    # Ties (e.g. the zeros a ReLU leaves) share the mean of their ranks.
    _, inverse = np.unique(values, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks)
    counts = np.bincount(inverse)
    return (sums / counts)[inverse]
