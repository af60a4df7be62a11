"""Models beyond plain layer stacks: raw ops, multi-label and regression heads,
subclassed, two-input and mixed-precision models, each checked independently."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from inspector import Inspector, UnsupportedModelError

layers = keras.layers


def tape_gradient(function, image: np.ndarray, target: int) -> tuple[np.ndarray, float]:
    """d function(x)[0, target] / dx with a plain tape: independent of the inspector."""
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.cast(function(x), tf.float32)[0, target]
    return tape.gradient(score, x).numpy()[0], float(score)


def image(shape, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)


def raw_ops_model() -> keras.Model:
    inputs = keras.Input((8, 8, 3))
    a = layers.Conv2D(4, 3, padding="same", activation="tanh", name="a")(inputs)
    b = layers.Conv2D(4, 3, padding="same", activation="tanh", name="b")(inputs)
    x = keras.ops.concatenate([(a + b) * 0.5, a], axis=-1)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(3, name="logits")(x), name="raw_ops")


def test_raw_ops_model_gives_records_and_the_right_gradient():
    model = raw_ops_model()
    pixels = image((8, 8, 3))
    inspection = Inspector(model).inspect(pixels, target=2)
    expected, score = tape_gradient(model, pixels, 2)
    np.testing.assert_allclose(inspection.input_gradient, expected, rtol=1e-4, atol=1e-6)
    assert inspection.score == pytest.approx(score, rel=1e-5)
    ops = [r for r in inspection.layers if r.class_name in ("Add", "Multiply", "Concatenate")]
    assert len(ops) == 3 and all(r.param_count == 0 and r.reaches_target for r in ops)


def head_model(units: int, activation: str | None, channels: int = 2) -> keras.Model:
    inputs = keras.Input((6, 6, channels))
    x = layers.Flatten()(layers.Conv2D(3, 3, activation="tanh")(inputs))
    return keras.Model(inputs, layers.Dense(units, activation=activation, name="out")(x))


def test_multi_label_sigmoid_shows_each_units_own_probability():
    model = head_model(4, "sigmoid")
    pixels = image((6, 6, 2))
    inspection = Inspector(model).inspect(pixels)
    np.testing.assert_allclose(inspection.probabilities, model(pixels[None])[0], rtol=1e-5)
    assert inspection.probability_rule == "sigmoid" and inspection.score_kind == "logit"
    assert inspection.probabilities.sum() != pytest.approx(1.0)  # not a softmax


def test_linear_output_shows_raw_values_as_such():
    model = head_model(2, None)
    pixels = image((6, 6, 2))
    inspection = Inspector(model).inspect(pixels)
    np.testing.assert_allclose(inspection.probabilities, model(pixels[None])[0], rtol=1e-5)
    assert inspection.probability_rule == "none"
    single = Inspector(head_model(1, None))  # one linear unit: a regression, one value
    assert single.num_classes() == 1 and single.probability_rule() == "none"
    assert Inspector(head_model(1, "sigmoid")).num_classes() == 2


def test_softmax_rule_and_the_single_sigmoid_unit():
    assert Inspector(head_model(3, "softmax")).probability_rule() == "softmax"
    inspection = Inspector(head_model(1, "sigmoid")).inspect(image((6, 6, 2)))
    assert inspection.probabilities.sum() == pytest.approx(1.0)  # [1 - p, p]


def test_predicted_class_and_automatic_target_are_the_same_number():
    """Logits 1e-9 apart tie as float32 probabilities (MobileNetV2 without weights)."""
    inputs = keras.Input((4, 4, 1))
    dense = layers.Dense(3, activation="softmax", name="probs")
    model = keras.Model(inputs, dense(layers.Flatten()(inputs)))
    dense.set_weights([np.zeros((16, 3), np.float32), np.array([0, 1e-9, 0], np.float32)])
    inspection = Inspector(model).inspect(image((4, 4, 1)))
    probabilities = inspection.probabilities
    assert probabilities[0] == probabilities[1]  # argmax(probabilities) would say 0
    assert inspection.predicted == inspection.target == 1


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="subclassed")
        self.conv = layers.Conv2D(4, 3, activation="tanh", name="conv")
        self.pool = layers.GlobalAveragePooling2D(name="gap")
        self.head = layers.Dense(3, activation="softmax", name="head")

    def call(self, x):
        features = self.conv(x)
        return self.head(self.pool(features * 2.0 - 0.5))  # raw ops between layers


def test_subclassed_model_records_each_layer_and_the_logit_gradient():
    model = Subclassed()
    model(np.zeros((1, 8, 8, 3), np.float32))
    pixels = image((8, 8, 3))
    inspection = Inspector(model).inspect(pixels, target=1)
    kernel, bias = (w.numpy() for w in model.head.weights)

    def logits(x):
        return model.pool(model.conv(x) * 2.0 - 0.5) @ kernel + bias

    expected, score = tape_gradient(logits, pixels, 1)
    np.testing.assert_allclose(inspection.input_gradient, expected, rtol=1e-4, atol=1e-6)
    assert inspection.score == pytest.approx(score, rel=1e-5)
    assert inspection.layer_names == ("conv", "gap", "head", "head.logits")
    np.testing.assert_allclose(inspection.probabilities, model(pixels[None])[0], rtol=1e-5)
    assert "call" not in vars(model.conv)  # the hooks are gone afterwards


def two_input_model() -> keras.Model:
    photo, meta = keras.Input((6, 6, 1), name="photo"), keras.Input((2,), name="meta")
    x = layers.Flatten()(layers.Conv2D(2, 3, activation="tanh", name="conv")(photo))
    x = layers.Concatenate(name="join")([x, layers.Dense(3, name="meta_dense")(meta)])
    return keras.Model([photo, meta], layers.Dense(2, name="out")(x), name="two_inputs")


def test_two_input_model_takes_the_chosen_image_and_the_given_others():
    model = two_input_model()
    pixels, meta = image((6, 6, 1)), np.array([0.5, -2.0], np.float32)
    for others, fed in (({"meta": meta}, meta), (None, np.zeros(2, np.float32))):
        inspector = Inspector(model, image_input="photo", other_inputs=others)
        inspection = inspector.inspect(pixels, target=1)
        fed_batch = tf.constant(fed[None])
        expected, score = tape_gradient(lambda x, b=fed_batch: model([x, b]), pixels, 1)
        np.testing.assert_allclose(inspection.input_gradient, expected, rtol=1e-4, atol=1e-6)
        assert inspection.score == pytest.approx(score, rel=1e-5)
    assert inspection.inputs_note == "image = input 'photo'; 'meta' = zeros"
    assert Inspector(model).input_shape == (6, 6, 1)  # the only 4-D input is found
    gradients = inspector.input_gradients(np.stack([pixels, pixels]), 1)
    np.testing.assert_allclose(gradients[1], inspection.input_gradient, rtol=1e-5, atol=1e-7)


def test_two_input_model_refuses_bad_choices_clearly():
    model = two_input_model()
    with pytest.raises(UnsupportedModelError, match=r"Expected an input index 0\.\.1 or one"):
        Inspector(model, image_input="nope")
    with pytest.raises(UnsupportedModelError, match=r"image input to have shape"):
        Inspector(model, image_input="meta")
    with pytest.raises(UnsupportedModelError, match=r"input 'meta' of shape \(2,\)"):
        Inspector(model, other_inputs={"meta": np.zeros(3)})
    with pytest.raises(UnsupportedModelError, match=r"other inputs named among"):
        Inspector(model, other_inputs={"age": np.zeros(2)})


def test_mixed_precision_model_returns_float32_arrays():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = head_model(3, "softmax")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    pixels = image((6, 6, 2))
    inspection = Inspector(model).inspect(pixels, target=0)
    arrays = [inspection.input_gradient, inspection.probabilities]
    arrays += [a for r in inspection.layers for a in (r.activation, r.gradient)]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
    assert model.layers[1].compute_dtype == "float16"  # the model really is mixed
    np.testing.assert_allclose(inspection.probabilities, model(pixels[None])[0], atol=2e-3)
