"""The inspector on every model shape, checked against independent computations."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from inspector import Inspector, TargetError, UnsupportedModelError
from tests.inspector import model_zoo


def independent_logit_gradient(model_head, pre, image, target):
    """d logit[target] / d input computed with a plain tape, not the inspector.

    ``pre`` maps the model to (function giving logits from the input).
    """
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = pre(x)
        score = logits[0, target]
    return tape.gradient(score, x).numpy()[0], float(score)


def logits_of_softmax_sequential(model):
    """Logits of a Sequential whose last layer is Dense(softmax), via its weights."""
    body = keras.Sequential(model.layers[:-1])
    kernel, bias = (w.numpy() for w in model.layers[-1].weights)
    return lambda x: tf.matmul(body(x), kernel) + bias


def finite_difference(predict_logit, image, index, eps=1e-2):
    plus, minus = image.copy(), image.copy()
    plus[index] += eps
    minus[index] -= eps
    return (predict_logit(plus) - predict_logit(minus)) / (2 * eps)


@pytest.mark.parametrize("build", [model_zoo.sequential_from_list, model_zoo.sequential_with_add])
def test_sequential_gradients_match_finite_differences(build):
    model = build()
    image = model_zoo.image_for(model)
    inspection = Inspector(model).inspect(image, target=2)
    inspector = Inspector(model)

    def logit(x):
        return inspector.predict(x[None])[0][0, 2]

    for index in [(0, 0, 0), (4, 5, 1), (9, 9, 0)]:
        expected = finite_difference(logit, image.astype(np.float64), index)
        assert inspection.input_gradient[index] == pytest.approx(expected, rel=2e-2, abs=1e-4)


def test_sequential_reloaded_from_keras_file_gives_real_gradients(tmp_path):
    """Reloaded Sequential models are where layer.output points at a stale graph."""
    model = model_zoo.sequential_with_add()
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    image = model_zoo.image_for(model)
    inspection = Inspector(reloaded).inspect(image, target=1)
    expected, score = independent_logit_gradient(
        reloaded, logits_of_softmax_sequential(reloaded), image, 1
    )
    np.testing.assert_allclose(inspection.input_gradient, expected, rtol=1e-4, atol=1e-6)
    assert inspection.score == pytest.approx(score, rel=1e-5)
    for record in inspection.layers[:-2]:  # every hidden layer gets a real gradient
        assert record.reaches_target and np.abs(record.gradient).max() > 0, record.name


def test_intermediate_gradient_matches_a_split_model():
    """d score / d activation of a middle layer, computed by splitting the model."""
    model = model_zoo.sequential_from_list()
    image = model_zoo.image_for(model)
    inspection = Inspector(model).inspect(image, target=0)
    head = logits_of_softmax_sequential(model)
    first = keras.Sequential(model.layers[:2])  # conv_a, pool_a
    rest = model.layers[2:-1]
    kernel, bias = (w.numpy() for w in model.layers[-1].weights)
    middle = first(tf.constant(image[None]))
    with tf.GradientTape() as tape:
        tape.watch(middle)
        x = middle
        for layer in rest:
            x = layer(x)
        score = (tf.matmul(x, kernel) + bias)[0, 0]
    expected = tape.gradient(score, middle).numpy()[0]
    record = inspection.layer("pool_a")
    np.testing.assert_allclose(record.activation, middle.numpy()[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(record.gradient, expected, rtol=1e-4, atol=1e-6)
    assert head is not None


def test_functional_branches_and_merges():
    model = model_zoo.functional_with_branches()
    image = model_zoo.image_for(model)
    inspection = Inspector(model).inspect(image)
    assert inspection.layer("add").inputs == ("stem", "left")
    assert inspection.layer("concat").inputs == ("add", "right")
    body = keras.Model(model.inputs, model.get_layer("gap").output)
    kernel, bias = (w.numpy() for w in model.get_layer("probs").weights)
    expected, score = independent_logit_gradient(
        model, lambda x: tf.matmul(body(x), kernel) + bias, image, inspection.target
    )
    np.testing.assert_allclose(inspection.input_gradient, expected, rtol=1e-4, atol=1e-6)
    assert inspection.score == pytest.approx(score, rel=1e-5)


@pytest.mark.parametrize("build", [model_zoo.transfer_functional, model_zoo.transfer_sequential])
def test_nested_backbone_is_flattened_with_outer_inner_names(build):
    model = build()
    image = model_zoo.image_for(model, 0, 255)
    inspection = Inspector(model).inspect(image)
    names = inspection.layer_names
    assert "backbone/conv1" in names and "backbone/bn1" in names and "backbone/conv2" in names
    inner = inspection.layer("backbone/conv2")
    assert inner.reaches_target and np.abs(inner.gradient).max() > 0
    # The inner activation equals the backbone run on its own.
    base = model.get_layer("backbone")
    feed = image[None] / 255.0 if "rescale" in names else image[None]
    np.testing.assert_allclose(
        inner.activation, base(feed, training=False).numpy()[0], rtol=1e-4, atol=1e-5
    )


def test_input_gradient_with_preprocessing_layers_matches_finite_differences():
    model = model_zoo.with_normalization()
    image = model_zoo.image_for(model, 0, 255)
    inspector = Inspector(model)
    inspection = inspector.inspect(image, target=1)
    assert inspection.layer("norm").class_name == "Normalization"

    def logit(x):
        return inspector.predict(x[None])[0][0, 1]

    for index in [(0, 0, 0), (3, 4, 0)]:
        expected = finite_difference(logit, image.astype(np.float64), index, eps=1.0)
        assert inspection.input_gradient[index] == pytest.approx(expected, rel=3e-2, abs=1e-5)


def test_multi_output_model_user_picks_the_output():
    model = model_zoo.multi_output()
    image = model_zoo.image_for(model)
    inspector = Inspector(model)
    assert inspector.output_names == ("kind", "is_face")
    kind = inspector.inspect(image, output="kind")
    face = inspector.inspect(image, output=1)
    assert kind.probabilities.shape == (3,) and face.probabilities.shape == (2,)
    # The unused head does not reach the chosen target.
    assert not face.layer("kind").reaches_target
    assert not np.any(face.layer("kind").gradient)
    with pytest.raises(TargetError, match="Received: output='nope'"):
        inspector.inspect(image, output="nope")


def test_single_sigmoid_unit_gives_two_classes():
    model = model_zoo.transfer_sequential()
    image = model_zoo.image_for(model)
    inspector = Inspector(model, labels=("not_face", "face"))
    face = inspector.inspect(image, target=1)
    not_face = inspector.inspect(image, target=0)
    p = float(model(image[None])[0, 0])
    np.testing.assert_allclose(face.probabilities, [1 - p, p], rtol=1e-5)
    assert not_face.score == pytest.approx(-face.score)
    np.testing.assert_allclose(not_face.input_gradient, -face.input_gradient, rtol=1e-5)
    assert face.target_label == "face" and face.score_kind == "logit"
    assert face.score == pytest.approx(np.log(p / (1 - p)), rel=1e-3)


def test_default_target_is_the_top_class_and_bad_targets_are_refused():
    model = model_zoo.functional_with_branches()
    image = model_zoo.image_for(model)
    inspection = Inspector(model).inspect(image)
    assert inspection.target == int(np.argmax(inspection.probabilities))
    with pytest.raises(TargetError, match=r"Expected a target class 0\.\.1\. Received: target=5"):
        Inspector(model).inspect(image, target=5)


def test_logits_record_holds_the_pre_softmax_scores():
    model = model_zoo.sequential_from_list()
    image = model_zoo.image_for(model)
    inspection = Inspector(model).inspect(image, target=1)
    logits = logits_of_softmax_sequential(model)(tf.constant(image[None])).numpy()[0]
    record = inspection.layer("probs.logits")
    np.testing.assert_allclose(record.activation, logits, rtol=1e-5)
    np.testing.assert_array_equal(record.gradient, [0.0, 1.0, 0.0])
    assert inspection.score == pytest.approx(logits[1], rel=1e-5)


def test_multi_input_model_is_refused_clearly():
    with pytest.raises(UnsupportedModelError, match=r"one image input.*Received: inputs"):
        Inspector(model_zoo.multi_input())


def test_unbuilt_subclassed_model_is_refused_clearly():
    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(keras.ops.reshape(x, (-1, 4)))

    with pytest.raises(UnsupportedModelError, match="subclassed model built on one image"):
        Inspector(Custom())


def test_wrong_image_shape_names_expected_and_received():
    model = model_zoo.sequential_from_list()
    with pytest.raises(TargetError, match=r"Expected an image array of shape .*\(10, 10, 2\)"):
        Inspector(model).inspect(np.zeros((9, 10, 2), np.float32))


def test_shared_layer_called_twice_gets_two_records():
    model = model_zoo.shared_layer_twice()
    inspection = Inspector(model).inspect(model_zoo.image_for(model))
    assert inspection.layer("twice").inputs == ("input",)
    assert inspection.layer("twice@1").inputs == ("twice",)


def test_inspection_is_immutable_and_holds_numpy_only():
    model = model_zoo.sequential_from_list()
    inspection = Inspector(model).inspect(model_zoo.image_for(model))
    with pytest.raises(dataclasses.FrozenInstanceError):
        inspection.target = 0
    record = inspection.layers[0]
    for array in (
        inspection.image,
        inspection.input_gradient,
        inspection.probabilities,
        record.activation,
        record.gradient,
    ):
        assert isinstance(array, np.ndarray) and not array.flags.writeable
    with pytest.raises(ValueError):
        record.activation[0, 0, 0] = 1.0


def test_extraction_graph_is_traced_once_and_reused():
    model = model_zoo.transfer_functional()
    inspector = Inspector(model)
    for target in (None, 0, 3):
        inspector.inspect(model_zoo.image_for(model), target=target)
    assert inspector._full_pass(0).experimental_get_tracing_count() == 1


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["MobileNetV2", "ResNet50", "EfficientNetB0"])
def test_keras_applications(architecture):
    build = getattr(keras.applications, architecture)
    model = build(weights=None, input_shape=(96, 96, 3), classes=5, classifier_activation=None)
    image = model_zoo.image_for(model)
    inspection = Inspector(model).inspect(image, target=3)
    expected, score = independent_logit_gradient(model, model, image, 3)
    np.testing.assert_allclose(inspection.input_gradient, expected, rtol=1e-3, atol=1e-5)
    assert inspection.score == pytest.approx(score, rel=1e-4)
    assert len(inspection.layers) == len(model.layers)  # every layer but the input, + logits


@pytest.mark.slow
def test_applications_backbone_nested_in_a_sequential():
    base = keras.applications.MobileNetV2(
        weights=None, include_top=False, input_shape=(64, 64, 3), alpha=0.35
    )
    model = keras.Sequential(
        [
            keras.Input((64, 64, 3)),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    inspection = Inspector(model).inspect(model_zoo.image_for(model))
    nested = [r for r in inspection.layers if r.name.startswith(base.name + "/")]
    assert len(nested) == len(base.layers) - 1
    assert all(r.reaches_target for r in nested)
    assert np.abs(inspection.layer(f"{base.name}/Conv1").gradient).max() > 0
