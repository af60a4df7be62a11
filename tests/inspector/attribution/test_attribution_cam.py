"""Known-answer tests for Grad-CAM and Grad-CAM++, and the model-randomisation check."""

import keras
import numpy as np
import pytest

from inspector import Inspector, LayerNotFoundError
from inspector.attribution import AttributionError, compute_attribution
from tests.inspector.attribution_toys import (
    conv_model,
    image,
    inspect,
    rng,
    spearman,
    tape_activation_and_gradient,
    tf_upsample,
)


def hand_model(kernel, bias, head_weights):
    """4x4x1 input -> 1x1 linear Conv2D (2 maps) -> global mean -> Dense softmax.

    A^k = kernel_k * x + bias_k, S_c = sum_k V[k, c] mean(A^k) (no head bias), so
    dS_c/dA^k_ij = V[k, c] / 16 everywhere.
    """
    inputs = keras.Input((4, 4, 1))
    conv = keras.layers.Conv2D(2, 1, name="maps")
    dense = keras.layers.Dense(2, activation="softmax", use_bias=False, name="head")
    model = keras.Model(inputs, dense(keras.layers.GlobalAveragePooling2D()(conv(inputs))))
    conv.set_weights([np.reshape(kernel, (1, 1, 1, 2)).astype(np.float32), bias])
    dense.set_weights([head_weights])
    return model


@pytest.mark.parametrize("target", [0, 1])
def test_gradcam_on_a_model_computed_by_hand(target):
    kernel = np.array([1.0, -2.0], np.float32)
    bias = np.array([0.25, -0.5], np.float32)
    head = np.array([[2.0, -1.0], [0.5, 3.0]], np.float32)
    x = np.linspace(-1.0, 1.0, 16, dtype=np.float32).reshape(4, 4, 1)
    inspector, inspection = inspect(hand_model(kernel, bias, head), x, target=target)
    result = compute_attribution("gradcam", inspection, inspector)
    # alpha_k = V[k, c] / 16; map = ReLU(sum_k alpha_k (kernel_k x + bias_k)).
    linear = sum(head[k, target] / 16 * (kernel[k] * x[..., 0] + bias[k]) for k in range(2))
    assert linear.min() < 0 < linear.max()  # the ReLU matters in this case
    np.testing.assert_allclose(result.heatmap, np.maximum(linear, 0.0), rtol=1e-5, atol=1e-7)
    assert result.layer == "maps" and result.signed is False


def independent_cam(activation, gradient, plus_plus: bool) -> np.ndarray:
    """Grad-CAM or Grad-CAM++ written out loop by loop from the papers' equations."""
    height, width, channels = activation.shape
    weights = np.zeros(channels)
    for k in range(channels):
        if not plus_plus:
            weights[k] = gradient[:, :, k].sum() / (height * width)
            continue
        total_activation = activation[:, :, k].sum()
        for i in range(height):
            for j in range(width):
                g = gradient[i, j, k]
                denominator = 2 * g**2 + total_activation * g**3
                alpha = g**2 / denominator if denominator != 0 else 0.0
                weights[k] += alpha * max(g, 0.0)
    cam = np.zeros((height, width))
    for k in range(channels):
        cam += weights[k] * activation[:, :, k]
    return np.maximum(cam, 0.0)


@pytest.mark.parametrize("method", ["gradcam", "gradcam_plus_plus"])
@pytest.mark.parametrize("head", ["flatten", "gap"])
def test_cam_matches_a_direct_gradient_tape(method, head):
    model = conv_model(head=head)
    pixels = image((12, 12, 3), seed=7)
    inspector = Inspector(model)
    peaks = []
    for target in range(3):  # an untrained net's map can be all zero for some class
        result = compute_attribution(method, inspector.inspect(pixels, target), inspector)
        activation, gradient = tape_activation_and_gradient(model, "last_conv", pixels, target)
        assert activation.shape == (6, 6, 5) and np.ptp(gradient) > 0
        expected = independent_cam(activation, gradient, method == "gradcam_plus_plus")
        expected = tf_upsample(expected, (12, 12))
        np.testing.assert_allclose(result.heatmap, expected, rtol=1e-4, atol=1e-6)
        assert result.layer == "last_conv" and result.heatmap.shape == (12, 12)
        peaks.append(expected.max())
    assert max(peaks) > 1e-3


def test_gradcam_plus_plus_differs_from_gradcam_where_gradients_vary():
    model = conv_model(head="flatten")
    inspector, inspection = inspect(model, image((12, 12, 3), seed=8))
    plain = compute_attribution("gradcam", inspection, inspector).heatmap
    plus = compute_attribution("gradcam_plus_plus", inspection, inspector).heatmap
    assert not np.allclose(plain / plain.max(), plus / plus.max(), atol=1e-2)


def test_gradcam_uses_the_inspection_arrays_of_the_chosen_layer():
    model = conv_model()
    pixels = image((12, 12, 3), seed=9)
    inspector, inspection = inspect(model, pixels)
    result = compute_attribution("gradcam", inspection, inspector, layer="conv")
    record = inspection.layer("conv")
    expected = independent_cam(record.activation, record.gradient, plus_plus=False)
    np.testing.assert_allclose(result.heatmap, expected, rtol=1e-5, atol=1e-7)  # 12x12 already
    assert result.layer == "conv"


def test_gradcam_layer_errors():
    inspector, inspection = inspect(conv_model(), image((12, 12, 3)))
    with pytest.raises(LayerNotFoundError, match="Received: layer='nope'"):
        compute_attribution("gradcam", inspection, inspector, layer="nope")
    with pytest.raises(AttributionError, match=r"Received: layer='flatten'.*Usable layers: conv"):
        compute_attribution("gradcam_plus_plus", inspection, inspector, layer="flatten")


def test_gradcam_refuses_a_model_without_spatial_layers():
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    inspector, inspection = inspect(model, image((4, 4, 1)))
    with pytest.raises(AttributionError, match=r"at least one \(H, W, C\) layer"):
        compute_attribution("gradcam", inspection, inspector)


def test_default_layer_skips_branches_that_miss_the_target_and_1x1_maps():
    # Two outputs: the late conv feeds only the second; a keepdims pool is 1x1.
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="shared")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(keepdims=True, name="pool")(x)
    first = keras.layers.Dense(2, name="first")(keras.layers.Flatten()(pooled))
    side = keras.layers.Conv2D(2, 3, name="side_conv")(x)
    second = keras.layers.Dense(2, name="second")(keras.layers.Flatten()(side))
    inspector = Inspector(keras.Model(inputs, [first, second]))
    pixels = image((8, 8, 3))
    assert (
        compute_attribution("gradcam", inspector.inspect(pixels, output=0), inspector).layer
        == "shared"
    )
    assert (
        compute_attribution("gradcam", inspector.inspect(pixels, output=1), inspector).layer
        == "side_conv"
    )


def test_gradcam_passes_the_model_randomisation_check():
    # Adebayo et al. (NeurIPS 2018): re-initialising the top layer must change an
    # explanation that depends on the model. Guided backprop fails this check.
    model = conv_model(head="gap", shape=(16, 16, 3))
    pixels = image((16, 16, 3), seed=10)
    inspector, inspection = inspect(model, pixels, target=0)
    before = compute_attribution("gradcam", inspection, inspector).heatmap
    dense = model.get_layer("logits")
    kernel, bias = dense.get_weights()
    correlations = []
    for seed in range(5):
        random_kernel = rng(seed).normal(0, np.std(kernel), kernel.shape).astype(np.float32)
        dense.set_weights([random_kernel, bias])
        inspector, inspection = inspect(model, pixels, target=0)
        after = compute_attribution("gradcam", inspection, inspector).heatmap
        correlations.append(abs(spearman(before, after)))
    assert np.mean(correlations) < 0.5
    # The check itself can fail: a map that ignores the model ranks perfectly.
    assert spearman(before, before) == pytest.approx(1.0)
