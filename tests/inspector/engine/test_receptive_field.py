"""Receptive fields: closed-form answers, and an empirical check by gradients."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from inspector import Inspector

layers = keras.layers


def linear_ones(model: keras.Model) -> keras.Model:
    """Set every kernel to ones so that each unit depends on its whole window."""
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([np.ones(w.shape, np.float32) for w in layer.weights])
    return model


def empirical_window(model, layer_name, row, col, size):
    """Bounding box of the input pixels that unit (row, col) depends on."""
    x = tf.constant(np.ones((1, size, size, 1), np.float32))
    probe = keras.Model(model.inputs, model.get_layer(layer_name).output)
    with tf.GradientTape() as tape:
        tape.watch(x)
        unit = probe(x)[0, row, col, 0]
    rows, cols = np.nonzero(tape.gradient(unit, x).numpy()[0, :, :, 0])
    return rows.min(), cols.min(), rows.max() + 1, cols.max() + 1


def chain() -> keras.Model:
    return linear_ones(
        keras.Sequential(
            [
                keras.Input((32, 32, 1)),
                layers.Conv2D(1, 3, name="c1"),
                layers.Conv2D(1, 3, strides=2, padding="same", name="c2"),
                layers.AveragePooling2D(2, name="pool"),
                layers.Conv2D(1, 3, dilation_rate=2, padding="same", name="dilated"),
                layers.ZeroPadding2D(1, name="pad"),
                layers.Conv2D(1, 3, name="c3"),
                layers.Flatten(name="flat"),
                layers.Dense(1, name="out"),
            ]
        )
    )


def test_closed_form_values():
    model = chain()
    inspection = Inspector(model).inspect(np.ones((32, 32, 1), np.float32))
    c1 = inspection.layer("c1").receptive_field
    assert (c1.size, c1.jump, c1.start) == ((3, 3), (1, 1), (1, 1))
    c2 = inspection.layer("c2").receptive_field
    # 30 -> 15 with 'same' padding: total pad 1, left pad 0.
    assert (c2.size, c2.jump, c2.start) == ((5, 5), (2, 2), (2, 2))
    pool = inspection.layer("pool").receptive_field
    assert (pool.size, pool.jump, pool.start) == ((7, 7), (4, 4), (3, 3))
    assert inspection.layer("flat").receptive_field.is_global


@pytest.mark.parametrize(
    ("layer", "unit"),
    [
        ("c1", (0, 0)),
        ("c1", (5, 7)),
        ("c2", (3, 4)),
        ("pool", (2, 3)),
        ("dilated", (3, 3)),
        ("c3", (2, 2)),
    ],
)
def test_interior_windows_match_the_gradient_footprint(layer, unit):
    model = chain()
    field = Inspector(model).inspect(np.ones((32, 32, 1), np.float32)).layer(layer).receptive_field
    top, left, bottom, right = field.window(*unit)
    expected = empirical_window(model, layer, *unit, size=32)
    clipped = (max(top, 0), max(left, 0), min(bottom, 32), min(right, 32))
    assert clipped == pytest.approx(expected)


def test_border_windows_contain_the_gradient_footprint():
    """At borders, padding and dropped rows make the real footprint smaller."""
    model = chain()
    field = Inspector(model).inspect(np.ones((32, 32, 1), np.float32)).layer("c3").receptive_field
    top, left, bottom, right = field.window(4, 3)
    seen = empirical_window(model, "c3", 4, 3, size=32)
    assert top <= seen[0] and left <= seen[1] and bottom >= seen[2] and right >= seen[3]


def test_upsampling_has_no_field_and_says_why():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(1, 3, name="c"),
            layers.UpSampling2D(name="up"),
            layers.Conv2D(1, 3, name="after"),
        ]
    )
    inspection = Inspector(model).inspect(np.ones((8, 8, 1), np.float32))
    assert inspection.layer("up").receptive_field is None
    assert "upsamples" in inspection.layer("up").receptive_field_note
    assert "unknown" in inspection.layer("after").receptive_field_note


def test_residual_merge_takes_the_union_of_branches():
    inputs = keras.Input((16, 16, 1))
    a = layers.Conv2D(1, 3, padding="same", name="a")(inputs)
    b = layers.Conv2D(1, 5, padding="same", name="b")(a)
    merged = layers.Add(name="add")([a, b])
    model = linear_ones(keras.Model(inputs, merged))
    field = Inspector(model).inspect(np.ones((16, 16, 1), np.float32)).layer("add").receptive_field
    assert field.size == (7, 7) and field.start == (0, 0)
    assert field.window(8, 8) == pytest.approx(empirical_window(model, "add", 8, 8, 16))
