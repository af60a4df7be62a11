"""The face CNN: a small conv net shaped so that its hierarchy is visible.

Three stages, each named after what its units can see (sizes for the default
64x64 input, on which an eye is about 8-10 pixels wide):

* ``edges_conv1``, ``edges_conv2``: 3x3 kernels on the full 64x64 grid. Their
  receptive fields are 3 and 5 pixels wide, so all they can respond to are
  oriented edges, blobs and gradients of brightness.
* ``parts_conv1``, ``parts_conv2``: after one 2x2 pooling; fields of 10 and 14
  pixels (16 after their pool): an eye with its brow, a nostril, a mouth corner.
* ``face_conv1`` .. ``face_conv3``: after further pooling; fields of 24, 44 and
  84 pixels, so the last one sees more than the whole input and each of its
  units can weigh the arrangement of the parts (two eyes above a nose above a
  mouth). Other input sizes get as many whole-face layers as it takes to cover
  them.

``face_evidence`` averages the whole-face maps and ``face_probability`` is one
sigmoid unit, P(face). The model takes raw 0..255 grayscale pixels; its first
layer rescales them, which is what ``inspector.image_loading.expected_value_range``
looks for. About 27,000 weights: small enough to train in about a minute on two
CPU cores and to snapshot many times per run.
"""

from __future__ import annotations

import keras

INPUT_SIZE = 64
CHANNELS = 1
# Index 1 is the sigmoid unit: the engine turns one sigmoid into [1 - p, p].
FACE_LABELS = ("not_face", "face")
# Raw 0..255 pixels: the first layer rescales them. Saved with the model, so every
# tool reads its preprocessing as a fact, not a guess.
INPUT_PRESET = "0-255"
LABEL_SMOOTHING = 0.05  # see loss_function

# (stage name, number of 3x3 conv layers, filters); a 2x2 max pool follows each
# stage, and separates the whole-face layers.
_STAGES = (("edges", 2, 8), ("parts", 2, 16))
_FACE_FILTERS = 32


def build_face_cnn(
    labels: tuple[str, ...] = FACE_LABELS,
    *,
    input_size: int = INPUT_SIZE,
    channels: int = CHANNELS,
    name: str = "face_cnn",
) -> keras.Model:
    """Build the (untrained) face CNN.

    Args:
        labels: class names. Two classes give one sigmoid unit that predicts
            ``labels[1]``; more give a softmax over all of them.
        input_size: height and width of the square input.
        channels: 1 (grayscale) or 3 (RGB).
        name: the model's name (the recogniser is ``face_recognizer``: the same
            layers up to the head, so that the two compare layer by layer).

    Returns:
        An uncompiled functional model: input ``(batch, input_size, input_size,
        channels)`` of raw pixels in 0..255, output ``(batch, 1)`` sigmoid for two
        classes or ``(batch, len(labels))`` softmax.
    """
    if len(labels) < 2:
        raise ValueError(f"Expected at least two class labels. Received: labels={labels!r}.")
    inputs = keras.Input((input_size, input_size, channels), name="pixels")
    x = keras.layers.Rescaling(1 / 255, name="rescale_0_1")(inputs)
    for stage, count, filters in _STAGES:
        for index in range(1, count + 1):
            x = _conv(x, filters, f"{stage}_conv{index}")
        x = keras.layers.MaxPooling2D(name=f"{stage}_pool")(x)
    for index in range(1, face_layers_needed(input_size) + 1):
        if index > 1:
            x = keras.layers.MaxPooling2D(name=f"face_pool{index - 1}")(x)
        x = _conv(x, _FACE_FILTERS, f"face_conv{index}")
    x = keras.layers.GlobalAveragePooling2D(name="face_evidence")(x)
    if len(labels) == 2:
        name = "face_probability" if tuple(labels) == FACE_LABELS else "class_probability"
        outputs = keras.layers.Dense(1, activation="sigmoid", name=name)(x)
    else:
        outputs = keras.layers.Dense(len(labels), activation="softmax", name="class_probabilities")(
            x
        )
    return keras.Model(inputs, outputs, name=name)


def face_layers_needed(input_size: int) -> int:
    """How many 3x3 whole-face convs (2x2 pools between) until one sees the whole input.

    Follows the receptive-field recurrence ``size += (k - 1) * jump`` and
    ``jump *= stride`` (Araujo et al., Distill 2019) through the earlier stages.
    """
    size, jump = 1, 1
    for _, count, _ in _STAGES:
        size += count * 2 * jump  # count 3x3 convs
        size += jump  # 2x2 pool, stride 2
        jump *= 2
    layers = 1
    size += 2 * jump
    while size < input_size:
        size += jump + 2 * 2 * jump  # a pool, then a conv at the doubled jump
        jump *= 2
        layers += 1
    return layers


def _conv(x, filters: int, name: str):
    return keras.layers.Conv2D(
        filters, 3, padding="same", activation="relu", kernel_initializer="he_normal", name=name
    )(x)


def loss_for(labels: tuple[str, ...]) -> str:
    """Binary cross-entropy for one sigmoid unit, else sparse categorical."""
    return "binary_crossentropy" if len(labels) == 2 else "sparse_categorical_crossentropy"


def loss_function(labels: tuple[str, ...]) -> keras.losses.Loss:
    """The training loss: ``loss_for``'s, with label smoothing for one sigmoid unit.

    Smoothing the 0/1 targets to 0.025/0.975 (Szegedy et al., CVPR 2016, section 7)
    keeps the logit finite on easy images, so a crop that only looks a bit like a
    face cannot be pushed to P(face) = 0.99999 (the 0/1 targets did that to a
    held-out crop of coins); a teaching tool should not show that certainty.
    """
    if len(labels) == 2:
        return keras.losses.BinaryCrossentropy(
            label_smoothing=LABEL_SMOOTHING, name="binary_crossentropy"
        )
    return keras.losses.SparseCategoricalCrossentropy(name="sparse_categorical_crossentropy")
