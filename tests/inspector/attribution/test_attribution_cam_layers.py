"""Grad-CAM's default layer (the last conv block, after its activation) and LayerCAM."""

import keras
import numpy as np
import pytest

from inspector.attribution import compute_attribution
from tests.inspector.attribution_toys import conv_model, image, inspect, rng, tf_upsample

layers = keras.layers


def default_layer(model, shape) -> str:
    inspector, inspection = inspect(model, image(shape))
    names = {compute_attribution(m, inspection, inspector).layer for m in ("gradcam", "layercam")}
    names.add(compute_attribution("gradcam_plus_plus", inspection, inspector).layer)
    assert len(names) == 1  # the three CAMs share the rule
    return names.pop()


def test_conv_bn_relu_block_ends_at_the_relu():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", name="conv1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(inputs, layers.Dense(2, name="logits")(x))
    assert default_layer(model, (8, 8, 3)) == "relu1"


def test_a_conv_with_its_own_relu_then_max_pooling_is_the_conv():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.Activation("relu", name="act1")(x)
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    model = keras.Model(inputs, layers.Dense(2)(layers.Flatten()(x)))
    assert default_layer(model, (8, 8, 3)) == "conv2"


def test_a_residual_block_ends_at_its_merged_activated_output():
    # ResNet's pattern conv -> BN -> Add(shortcut) -> ReLU: the map the class score
    # depends on is the block's output after the Add and the ReLU.
    inputs = keras.Input((8, 8, 4))
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="out_relu")(layers.Add(name="add")([x, inputs]))
    model = keras.Model(inputs, layers.Dense(2)(layers.GlobalAveragePooling2D()(x)))
    assert default_layer(model, (8, 8, 4)) == "out_relu"


def test_a_nested_backbone_block_is_named_outer_inner():
    inner_in = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, name="conv")(inner_in)
    x = layers.BatchNormalization(name="bn")(x)
    backbone = keras.Model(inner_in, layers.ReLU(6.0, name="out_relu")(x), name="backbone")
    inputs = keras.Input((8, 8, 3))
    x = layers.GlobalAveragePooling2D()(backbone(inputs, training=False))
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(x))
    assert default_layer(model, (8, 8, 3)) == "backbone/out_relu"


def test_a_model_without_convolutions_falls_back_to_its_last_spatial_layer():
    inputs = keras.Input((8, 8, 3))
    x = layers.AveragePooling2D(2, name="pool")(inputs)
    model = keras.Model(inputs, layers.Dense(2)(layers.Flatten()(x)))
    assert default_layer(model, (8, 8, 3)) == "pool"


def conv_pool_dense(kernel, bias, head):
    """4x4x1 -> 1x1 linear Conv2D (2 maps) -> 2x2 max pool -> Flatten -> Dense (no bias)."""
    inputs = keras.Input((4, 4, 1))
    conv = layers.Conv2D(2, 1, name="maps")
    pooled = layers.MaxPooling2D(2, name="pool")(conv(inputs))
    dense = layers.Dense(2, use_bias=False, name="logits")
    model = keras.Model(inputs, dense(layers.Flatten()(pooled)))
    conv.set_weights([np.reshape(kernel, (1, 1, 1, 2)).astype(np.float32), bias])
    dense.set_weights([head])
    return model


def test_gradcam_on_conv_pool_dense_uses_the_conv_and_matches_a_hand_computation():
    kernel = np.array([1.0, -1.5], np.float32)
    bias = np.array([0.1, 0.4], np.float32)
    head = rng(3).normal(0, 1, (8, 2)).astype(np.float32)  # 2x2 pooled x 2 maps
    x = rng(4).uniform(-1, 1, (4, 4, 1)).astype(np.float32)
    inspector, inspection = inspect(conv_pool_dense(kernel, bias, head), x, target=1)
    result = compute_attribution("gradcam", inspection, inspector)
    assert result.layer == "maps"
    maps = kernel * x + bias  # (4, 4, 2)
    gradient = np.zeros_like(maps)
    for i in range(2):
        for j in range(2):
            for k in range(2):
                window = maps[2 * i : 2 * i + 2, 2 * j : 2 * j + 2, k]
                r, c = np.unravel_index(np.argmax(window), (2, 2))
                # Flatten order of (2, 2, 2) is (i, j, k).
                gradient[2 * i + r, 2 * j + c, k] = head[(i * 2 + j) * 2 + k, 1]
    alpha = gradient.mean(axis=(0, 1))
    expected = np.maximum(maps @ alpha, 0.0)
    assert np.ptp(expected) > 0
    np.testing.assert_allclose(result.heatmap, expected, rtol=1e-5, atol=1e-7)
    pooled = compute_attribution("gradcam", inspection, inspector, layer="pool")
    assert pooled.layer == "pool"  # any layer can still be chosen


# --- LayerCAM ----------------------------------------------------------------------
def conv_gap_dense(kernel, bias, head, classes=2):
    """4x4x1 -> 1x1 linear Conv2D -> global mean -> Dense softmax (no bias).

    dS_c/dA^k_ij = head[k, c] / 16 at every location: spatially constant.
    """
    inputs = keras.Input((4, 4, 1))
    conv = layers.Conv2D(len(kernel), 1, name="maps")
    dense = layers.Dense(classes, activation="softmax", use_bias=False, name="head")
    model = keras.Model(inputs, dense(layers.GlobalAveragePooling2D()(conv(inputs))))
    conv.set_weights([np.reshape(kernel, (1, 1, 1, -1)).astype(np.float32), bias])
    dense.set_weights([head])
    return model


KERNEL = np.array([1.0, -2.0, 0.5], np.float32)
BIAS = np.array([0.25, -0.5, 0.1], np.float32)
X = np.linspace(-1.0, 1.0, 16, dtype=np.float32).reshape(4, 4, 1)


def test_layercam_equals_gradcam_where_gradients_are_constant_and_positive():
    # Jiang et al. (2021), Section 3: with spatially constant positive gradients
    # the per-location weights are Grad-CAM's channel weights.
    head = np.array([[2.0, -1.0], [0.5, 3.0], [1.5, 0.2]], np.float32)
    inspector, inspection = inspect(conv_gap_dense(KERNEL, BIAS, head), X, target=0)
    layer_cam = compute_attribution("layercam", inspection, inspector)
    grad_cam = compute_attribution("gradcam", inspection, inspector)
    assert np.ptp(grad_cam.heatmap) > 0 and layer_cam.layer == "maps"
    np.testing.assert_allclose(layer_cam.heatmap, grad_cam.heatmap, rtol=1e-6, atol=1e-8)


def test_layercam_drops_channels_whose_gradient_is_negative():
    # Class 1: the first channel's gradient is -1/16 everywhere. Grad-CAM
    # subtracts that map, LayerCAM gives it weight 0.
    head = np.array([[2.0, -1.0], [0.5, 3.0], [1.5, 0.2]], np.float32)
    inspector, inspection = inspect(conv_gap_dense(KERNEL, BIAS, head), X, target=1)
    maps = KERNEL * X + BIAS
    weights = head[:, 1] / 16
    expected_layer = np.maximum(maps @ np.maximum(weights, 0.0), 0.0)
    expected_grad = np.maximum(maps @ weights, 0.0)
    layer_cam = compute_attribution("layercam", inspection, inspector).heatmap
    grad_cam = compute_attribution("gradcam", inspection, inspector).heatmap
    np.testing.assert_allclose(layer_cam, expected_layer, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grad_cam, expected_grad, rtol=1e-5, atol=1e-7)
    assert not np.allclose(layer_cam, grad_cam, atol=1e-3)


def test_layercam_with_a_weight_per_location_on_a_flatten_head():
    # Through Flatten -> Dense, dS_c/dA^k_ij = V[(i, j, k), c]: a known, varying gradient.
    inputs = keras.Input((4, 4, 1))
    conv = layers.Conv2D(3, 1, name="maps")
    dense = layers.Dense(2, use_bias=False, name="logits")
    model = keras.Model(inputs, dense(layers.Flatten()(conv(inputs))))
    conv.set_weights([KERNEL.reshape(1, 1, 1, 3), BIAS])
    head = rng(6).normal(0, 1, (48, 2)).astype(np.float32)
    dense.set_weights([head])
    inspector, inspection = inspect(model, X, target=0)
    maps = KERNEL * X + BIAS
    gradient = head[:, 0].reshape(4, 4, 3)
    expected = np.maximum((np.maximum(gradient, 0.0) * maps).sum(axis=-1), 0.0)
    assert np.ptp(expected) > 0
    result = compute_attribution("layercam", inspection, inspector)
    np.testing.assert_allclose(result.heatmap, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("layer", ["conv", "last_conv"])
def test_layercam_works_at_every_spatial_layer(layer):
    inspector, inspection = inspect(conv_model(), image((12, 12, 3), seed=5))
    result = compute_attribution("layercam", inspection, inspector, layer=layer)
    record = inspection.layer(layer)
    cam = np.maximum((np.maximum(record.gradient, 0) * record.activation).sum(-1), 0)
    assert result.layer == layer and np.ptp(cam) > 0
    np.testing.assert_allclose(result.heatmap, tf_upsample(cam, (12, 12)), rtol=1e-4, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("ResNet50", "conv5_block3_out"),  # after the residual Add and its ReLU
        ("DenseNet121", "relu"),  # the final BN + ReLU over all 1024 channels
        # The last block's residual sum; Keras numbers unnamed Adds per process, so
        # it is found as the model's last Add rather than by its number.
        ("ConvNeXtTiny", "last Add"),
        ("VGG16", "block5_conv3"),  # not block5_pool
    ],
)
def test_the_default_on_keras_applications_is_the_last_stage_output(family, expected):
    model = getattr(keras.applications, family)(weights=None, input_shape=(64, 64, 3))
    if expected == "last Add":
        _, inspection = inspect(model, image((64, 64, 3)))
        expected = [r.name for r in inspection.layers if r.class_name == "Add"][-1]
    assert default_layer(model, (64, 64, 3)) == expected
