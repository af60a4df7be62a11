"""A dense unit's a = g(w·a_prev + b), checked on tiny models computed by hand."""

import keras
import numpy as np
import pytest

from inspector import Inspector
from inspector.engine.errors import LayerNotFoundError
from inspector.engine.neuron import (
    NeuronError,
    dense_layer_names,
    find_layer,
    format_equation,
    neuron_breakdown,
)

IMAGE = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)[..., None]  # flattens to 1, 2, 3, 4
HIDDEN_KERNEL = np.array(
    [
        [1.0, 0.5, -1.0],
        [-1.0, 0.0, 1.0],
        [0.5, 0.0, -1.0],
        [2.0, 0.25, -1.0],
    ],
    np.float32,
)
HIDDEN_BIAS = np.array([0.5, -3.0, 1.0], np.float32)
# By hand, a_prev = (1, 2, 3, 4):
#   unit 0: 1 - 2 + 1.5 + 8 + 0.5 = 9          -> relu 9
#   unit 1: 0.5 + 0 + 0 + 1 - 3 = -1.5         -> relu 0
#   unit 2: -1 + 2 - 3 - 4 + 1 = -5            -> relu 0


def _tiny_model() -> keras.Model:
    inputs = keras.Input((2, 2, 1))
    x = keras.layers.Flatten(name="flat")(inputs)
    x = keras.layers.Dense(3, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs, name="tiny")
    model.get_layer("hidden").set_weights([HIDDEN_KERNEL, HIDDEN_BIAS])
    model.get_layer("out").set_weights(
        [np.array([[0.1, -0.1], [1.0, 1.0], [0.0, 2.0]], np.float32), np.array([0.0, 0.2])]
    )
    return model


@pytest.fixture(scope="module")
def tiny():
    model = _tiny_model()
    return model, Inspector(model).inspect(IMAGE)


def test_relu_unit_matches_the_hand_computation(tiny):
    model, inspection = tiny
    b = neuron_breakdown(model, inspection, "hidden", 0, top_k=3)
    assert b.z == pytest.approx(9.0)
    assert b.output == pytest.approx(9.0) and b.recorded == pytest.approx(9.0)
    assert b.matches and b.activation_name == "relu"
    assert b.bias == pytest.approx(0.5)
    np.testing.assert_allclose(b.inputs, [1, 2, 3, 4])
    np.testing.assert_allclose(b.weights, HIDDEN_KERNEL[:, 0])
    np.testing.assert_allclose(b.contributions, [1.0, -2.0, 1.5, 8.0])
    # |8| > |-2| > |1.5| > |1|; the one left out is the 1.0 term.
    assert list(b.top_indices) == [3, 1, 2]
    assert b.rest == pytest.approx(1.0)
    # Flat indices are named by their place in the map that Flatten flattened.
    assert b.input_name == "flat" and b.input_shape == (2, 2, 1)


def test_negative_pre_activation_is_cut_by_relu(tiny):
    model, inspection = tiny
    b = neuron_breakdown(model, inspection, "hidden", 1)
    assert b.z == pytest.approx(-1.5)
    assert b.output == 0.0 and b.recorded == 0.0 and b.matches
    assert len(b.top_indices) == 4 and b.rest == 0.0


def test_softmax_unit_uses_the_whole_layer(tiny):
    model, inspection = tiny
    # hidden = (9, 0, 0): z_out = (0.9, -0.9 + 0.2) = (0.9, -0.7).
    b = neuron_breakdown(model, inspection, "out", 0)
    assert b.z == pytest.approx(0.9, abs=1e-6)
    expected = np.exp(0.9) / (np.exp(0.9) + np.exp(-0.7))
    assert b.output == pytest.approx(expected, rel=1e-5)
    assert b.recorded == pytest.approx(float(inspection.probabilities[0]), rel=1e-5)
    assert b.matches and b.activation_name == "softmax"


def test_gradient_of_the_unit_comes_from_the_inspection(tiny):
    model, inspection = tiny
    b = neuron_breakdown(model, inspection, "hidden", 0)
    assert b.gradient == pytest.approx(float(inspection.layer("hidden").gradient[0]))


def test_changed_weights_are_noticed_as_a_mismatch():
    model = _tiny_model()
    inspection = Inspector(model).inspect(IMAGE)
    kernel = HIDDEN_KERNEL.copy()
    kernel[3, 0] = 1.0  # z drops from 9 to 5
    model.get_layer("hidden").set_weights([kernel, HIDDEN_BIAS])
    b = neuron_breakdown(model, inspection, "hidden", 0)
    assert b.z == pytest.approx(5.0) and b.recorded == pytest.approx(9.0)
    assert not b.matches


def test_dense_on_a_feature_map_is_refused():
    inputs = keras.Input((2, 2, 1))
    x = keras.layers.Dense(1, name="pixel_mix")(inputs)  # (2, 2, 1) output: refused
    outputs = keras.layers.Dense(2, name="out")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    inspection = Inspector(model).inspect(IMAGE)
    assert dense_layer_names(inspection) == ("out",)
    with pytest.raises(NeuronError, match=r"output shape \(2, 2, 1\)"):
        neuron_breakdown(model, inspection, "pixel_mix", 0)


def test_dense_inside_a_nested_model():
    head_in = keras.Input((4,))
    head = keras.Model(head_in, keras.layers.Dense(3, name="fc")(head_in), name="head")
    inputs = keras.Input((2, 2, 1))
    model = keras.Model(inputs, head(keras.layers.Flatten(name="flat")(inputs)))
    model.get_layer("head").get_layer("fc").set_weights([HIDDEN_KERNEL, HIDDEN_BIAS])
    inspection = Inspector(model).inspect(IMAGE)
    assert "head/fc" in dense_layer_names(inspection)
    assert find_layer(model, "head/fc") is head.get_layer("fc")
    b = neuron_breakdown(model, inspection, "head/fc", 2)
    assert b.z == pytest.approx(-5.0) and b.output == pytest.approx(-5.0)
    assert b.activation_name == "linear" and b.matches


def test_position_labels_of_a_flattened_feature_map(tiny):
    model, inspection = tiny
    b = neuron_breakdown(model, inspection, "hidden", 0)
    # Flatten is row-major: flat index 3 of a (2, 2, 1) map is row 1, col 1, channel 0.
    assert b.input_label(3) == "(1, 1, 0)" and b.input_label(1) == "(0, 1, 0)"
    assert b.inputs[3] == IMAGE[1, 1, 0] and b.inputs[1] == IMAGE[0, 1, 0]
    # The output layer reads a 1-D record: plain indices.
    assert neuron_breakdown(model, inspection, "out", 0).input_label(2) == "2"


def test_equation_text_shows_the_real_numbers(tiny):
    model, inspection = tiny
    text = format_equation(neuron_breakdown(model, inspection, "hidden", 0, top_k=2))
    assert text.splitlines() == [
        "z = Σ w_i·a_prev_i + b = 8 − 2 + 2.5 (other 2 inputs) + 0.5 (bias) = 9",
        "a = relu(z) = 9",
    ]


def test_bad_requests_name_what_was_received(tiny):
    model, inspection = tiny
    with pytest.raises(NeuronError, match="unit=3"):
        neuron_breakdown(model, inspection, "hidden", 3)
    with pytest.raises(NeuronError, match="Flatten"):
        neuron_breakdown(model, inspection, "flat", 0)
    with pytest.raises(LayerNotFoundError, match="nope"):
        neuron_breakdown(model, inspection, "nope", 0)
    with pytest.raises(LayerNotFoundError, match="ghost"):
        find_layer(model, "ghost/fc")
