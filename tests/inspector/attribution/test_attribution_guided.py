"""Guided Backprop and DeconvNet against a backward pass written out in NumPy."""

import keras
import numpy as np
import pytest

from inspector import Inspector
from inspector.attribution import AttributionError, compute_attribution
from inspector.engine.relu_backward import relu_rule_caller
from tests.inspector.attribution_toys import conv_model, image, inspect, rng

SHAPE = (2, 3, 1)


def relu_model():
    """Flatten -> Dense(relu) -> [nested: Dense -> Activation(relu)] -> Dense -> ReLU6 -> Dense.

    The three ways Keras applies a ReLU, one inside a nested model, with seeded
    weights scaled so that some units of the ReLU6 exceed 6.

    Returns:
        (model, weights) with weights a list of four (kernel, bias) pairs.
    """
    inner_input = keras.Input((5,))
    inner = keras.Model(
        inner_input,
        keras.layers.Activation("relu", name="act")(keras.layers.Dense(4, name="d2")(inner_input)),
        name="inner",
    )
    inputs = keras.Input(SHAPE)
    x = keras.layers.Dense(5, activation="relu", name="d1")(keras.layers.Flatten()(inputs))
    x = keras.layers.Dense(4, name="d3")(inner(x))
    x = keras.layers.ReLU(max_value=6.0, name="relu6")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, name="out")(x))
    sizes = [(6, 5), (5, 4), (4, 4), (4, 3)]
    weights = [
        (rng(i).normal(0, scale, size).astype(np.float32), rng(10 + i).normal(0, 0.5, size[1]))
        for i, (size, scale) in enumerate(zip(sizes, [1.5, 1.5, 4.0, 1.0], strict=True))
    ]
    for name, (kernel, bias) in zip(["d1", "d2", "d3", "out"], weights, strict=True):
        layer = inner.get_layer(name) if name == "d2" else model.get_layer(name)
        layer.set_weights([kernel, bias.astype(np.float32)])
    return model, weights


def hand_backward(weights, x: np.ndarray, target: int, rule: str) -> tuple:
    """d(logit[target])/dx with ``rule`` at each ReLU, in float64 NumPy.

    Returns:
        (gradient of the flattened input ``(6,)``, the pre-activations, the
        upstream signals arriving at each ReLU).
    """

    def through_relu(mask, upstream):
        if rule == "plain":
            return mask * upstream
        if rule == "guided":
            return mask * np.maximum(upstream, 0.0)
        return np.maximum(upstream, 0.0)  # deconvnet: the forward mask is ignored

    (w1, b1), (w2, b2), (w3, b3), (w4, _) = [(w.astype(float), b) for w, b in weights]
    z1 = x @ w1 + b1
    z2 = np.maximum(z1, 0) @ w2 + b2
    z3 = np.maximum(z2, 0) @ w3 + b3
    up3 = w4[:, target]
    g3 = through_relu((z3 > 0) & (z3 < 6), up3)
    up2 = w3 @ g3
    g2 = through_relu(z2 > 0, up2)
    up1 = w2 @ g2
    g1 = through_relu(z1 > 0, up1)
    return w1 @ g1, (z1, z2, z3), (up1, up2, up3)


@pytest.fixture(scope="module")
def relu_net():
    model, weights = relu_model()
    inputs = rng(5).normal(0, 1, (8, *SHAPE)).astype(np.float32)
    return Inspector(model), weights, inputs


def test_the_toy_exercises_every_branch_of_the_rules(relu_net):
    _, weights, inputs = relu_net
    signs = {"negative z": 0, "z above 6": 0, "negative signal at open unit": 0}
    for x in inputs:
        for target in range(3):
            _, pre, upstream = hand_backward(weights, x.ravel(), target, "guided")
            signs["negative z"] += sum(int((z < 0).sum()) for z in pre)
            signs["z above 6"] += int((pre[2] > 6).sum())
            signs["negative signal at open unit"] += sum(
                int(((z > 0) & (u < 0)).sum()) for z, u in zip(pre, upstream, strict=True)
            )
    assert all(count > 0 for count in signs.values()), signs


@pytest.mark.parametrize("rule", ["plain", "guided", "deconvnet"])
def test_modified_backward_equals_the_hand_computed_one(relu_net, rule):
    inspector, weights, inputs = relu_net
    for target in range(3):
        relu_rule = None if rule == "plain" else rule
        got = inspector.input_gradients(inputs, target, relu_rule=relu_rule)
        expected = [hand_backward(weights, x.ravel(), target, rule)[0] for x in inputs]
        np.testing.assert_allclose(
            got.reshape(len(inputs), -1), np.array(expected), rtol=1e-4, atol=1e-5
        )


@pytest.mark.parametrize(
    ("method", "rule"), [("guided_backprop", "guided"), ("deconvnet", "deconvnet")]
)
def test_the_map_is_the_largest_absolute_channel_of_that_backward(method, rule):
    model = conv_model(shape=(8, 8, 3))
    inspector, inspection = inspect(model, image((8, 8, 3), seed=4), target=1)
    result = compute_attribution(method, inspection, inspector)
    raw = inspector.input_gradients(inspection.image[None], 1, relu_rule=rule)[0]
    np.testing.assert_array_equal(result.heatmap, np.abs(raw).max(axis=-1))
    assert result.signed is False and result.layer is None
    saliency = compute_attribution("saliency", inspection, inspector).heatmap
    assert not np.allclose(result.heatmap, saliency, rtol=1e-3)


@pytest.mark.parametrize("method", ["guided_backprop", "deconvnet"])
def test_without_relus_the_rules_change_nothing(method):
    inspector, inspection = inspect(conv_model(activation="tanh"), image((12, 12, 3), seed=1))
    result = compute_attribution(method, inspection, inspector)
    saliency = compute_attribution("saliency", inspection, inspector)
    np.testing.assert_allclose(result.heatmap, saliency.heatmap, rtol=1e-5, atol=1e-8)


def test_the_model_and_the_inspections_gradients_stay_plain(relu_net):
    inspector, weights, inputs = relu_net
    before = inspector.inspect(inputs[0], target=2)
    activations = [getattr(layer, "activation", None) for layer in inspector.model.layers]
    for method in ("guided_backprop", "deconvnet"):
        compute_attribution(method, before, inspector)
    after = inspector.inspect(inputs[0], target=2)
    np.testing.assert_array_equal(after.input_gradient, before.input_gradient)
    for first, second in zip(before.layers, after.layers, strict=True):
        np.testing.assert_array_equal(first.gradient, second.gradient)
    assert [getattr(layer, "activation", None) for layer in inspector.model.layers] == activations
    plain = hand_backward(weights, inputs[0].ravel(), 2, "plain")[0]
    np.testing.assert_allclose(after.input_gradient.ravel(), plain, rtol=1e-4, atol=1e-5)


def test_an_unknown_rule_is_refused_with_the_known_ones():
    with pytest.raises(AttributionError, match=r"guided, deconvnet\. Received: relu_rule='smooth'"):
        relu_rule_caller("smooth")


def test_leaky_relus_keep_their_plain_gradient():
    # The papers define the rules for ReLUs only; a leaky ReLU is left as it is.
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    x = keras.layers.ReLU(negative_slope=0.1, name="leaky")(x)
    x = keras.layers.Dense(2)(keras.layers.Flatten()(x))
    inspector, inspection = inspect(keras.Model(inputs, x), image((6, 6, 2), seed=3))
    assert (inspection.layer("conv").activation < 0).any()
    guided = inspector.input_gradients(
        inspection.image[None], inspection.target, relu_rule="guided"
    )[0]
    np.testing.assert_allclose(guided, inspection.input_gradient, rtol=1e-5, atol=1e-7)
