"""Known-answer tests for the gradient methods: saliency, gradient x input,
SmoothGrad and Integrated Gradients, and the bilinear resize helper."""

import keras
import numpy as np
import pytest

from inspector.attribution import compute_attribution
from inspector.attribution._helpers import baseline_image, resize_bilinear
from tests.inspector.attribution_toys import (
    conv_model,
    cube_model,
    image,
    inspect,
    linear_model,
    rng,
    tf_upsample,
)

SHAPE = (4, 5, 3)


@pytest.fixture(scope="module")
def linear():
    model, weights = linear_model(SHAPE)
    pixels = image(SHAPE)
    inspector, inspection = inspect(model, pixels, target=1)
    return inspector, inspection, weights[:, 1].reshape(SHAPE), pixels


@pytest.fixture(scope="module")
def conv():
    model = conv_model(activation="tanh")
    pixels = image((12, 12, 3), seed=3)
    return inspect(model, pixels)


# --- saliency and gradient x input -----------------------------------------------
def test_saliency_of_linear_model_is_its_weights(linear):
    inspector, inspection, weight_image, _ = linear
    result = compute_attribution("saliency", inspection, inspector)
    np.testing.assert_allclose(result.heatmap, np.abs(weight_image).max(axis=-1), rtol=1e-6)
    assert result.signed is False and result.layer is None


def test_gradient_x_input_of_linear_model(linear):
    inspector, inspection, weight_image, pixels = linear
    result = compute_attribution("gradient_x_input", inspection, inspector)
    np.testing.assert_allclose(result.heatmap, (pixels * weight_image).sum(-1), rtol=1e-5)
    # Without the bias, the map sums to the logit (the paper's completeness for linear f).
    bias_free_score = float((pixels * weight_image).sum())
    assert result.heatmap.sum() == pytest.approx(bias_free_score, rel=1e-5)
    assert result.signed is True


# --- SmoothGrad ------------------------------------------------------------------
def test_smoothgrad_of_linear_model_equals_saliency_at_any_noise(linear):
    # The gradient of a linear model is the same everywhere, noise or not.
    inspector, inspection, weight_image, _ = linear
    result = compute_attribution("smoothgrad", inspection, inspector, samples=7, batch_size=3)
    np.testing.assert_allclose(result.heatmap, np.abs(weight_image).max(-1), rtol=1e-5)


@pytest.mark.parametrize("noise_level", [0.0, 1e-7])
def test_smoothgrad_with_vanishing_noise_is_saliency(conv, noise_level):
    inspector, inspection = conv
    smooth = compute_attribution(
        "smoothgrad", inspection, inspector, samples=4, noise_level=noise_level
    )
    saliency = compute_attribution("saliency", inspection, inspector)
    np.testing.assert_allclose(smooth.heatmap, saliency.heatmap, rtol=1e-4, atol=1e-7)


def test_smoothgrad_noise_is_seeded_and_changes_the_map(conv):
    inspector, inspection = conv
    first = compute_attribution("smoothgrad", inspection, inspector, samples=8, seed=1)
    again = compute_attribution("smoothgrad", inspection, inspector, samples=8, seed=1)
    other = compute_attribution("smoothgrad", inspection, inspector, samples=8, seed=2)
    saliency = compute_attribution("saliency", inspection, inspector)
    np.testing.assert_array_equal(first.heatmap, again.heatmap)
    assert not np.allclose(first.heatmap, other.heatmap, rtol=1e-3)
    assert not np.allclose(first.heatmap, saliency.heatmap, rtol=1e-3)


def test_smoothgrad_sigma_is_a_fraction_of_the_input_range():
    # S = sum x^3, so dS/dx = 3x^2 and E[3(x+g)^2] = 3x^2 + 3 sigma^2 exactly.
    pixels = image((4, 4, 1), seed=5) * 0.5  # a range far from 1 so that scaling shows
    inspector, inspection = inspect(cube_model(), pixels)  # top class: the logit z = sum x^3
    result = compute_attribution(
        "smoothgrad", inspection, inspector, samples=4000, noise_level=0.2, batch_size=1000
    )
    sigma = 0.2 * (pixels.max() - pixels.min())
    excess = result.heatmap - 3.0 * pixels[..., 0] ** 2
    assert excess.mean() == pytest.approx(3.0 * sigma**2, rel=0.1)


# --- Integrated Gradients ----------------------------------------------------------
def test_integrated_gradients_of_linear_model(linear):
    inspector, inspection, weight_image, pixels = linear
    black = compute_attribution("integrated_gradients", inspection, inspector, steps=3)
    np.testing.assert_allclose(black.heatmap, (pixels * weight_image).sum(-1), rtol=1e-5)
    grey = compute_attribution("integrated_gradients", inspection, inspector, baseline="grey")
    expected = ((pixels - 0.5) * weight_image).sum(-1)
    np.testing.assert_allclose(grey.heatmap, expected, rtol=1e-4, atol=1e-6)


def test_integrated_gradients_of_cube_is_cube():
    # S = sum x^3 with a black baseline: IG_i = x_i * int_0^1 3 (a x_i)^2 da = x_i^3.
    pixels = image((4, 4, 1), seed=6)
    inspector, inspection = inspect(cube_model(), pixels)  # top class: the logit z = sum x^3
    result = compute_attribution("integrated_gradients", inspection, inspector)
    np.testing.assert_allclose(result.heatmap, pixels[..., 0] ** 3, rtol=1e-3)


@pytest.mark.parametrize(
    ("activation", "steps"),
    # Smooth nets converge fast. ReLU kinks make the path integrand jump, so a
    # small untrained ReLU net (tiny f(x) - f(x'), large gradients) needs more steps.
    [("tanh", None), ("gelu", None), ("relu", 1024)],
)
@pytest.mark.parametrize("baseline", ["black", "grey"])
def test_integrated_gradients_completeness(activation, steps, baseline):
    model = conv_model(activation=activation)
    pixels = image((12, 12, 3), seed=4)
    inspector, inspection = inspect(model, pixels)
    options = {"baseline": baseline, "batch_size": 256}
    if steps:
        options["steps"] = steps
    result = compute_attribution("integrated_gradients", inspection, inspector, **options)
    reference = baseline_image(baseline, inspection, inspector)
    logits, _ = inspector.predict(np.stack([pixels, reference]))
    difference = logits[0, inspection.target] - logits[1, inspection.target]
    assert abs(difference) > 1e-2  # a meaningful difference to be complete about
    assert result.heatmap.sum() == pytest.approx(difference, rel=0.01)


def test_baseline_of_a_rescaling_model_is_in_its_pixel_scale():
    inputs = keras.Input((4, 4, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    pixels = image((4, 4, 3)) * 255
    inspector, inspection = inspect(model, pixels)
    assert np.all(baseline_image("grey", inspection, inspector) == 127.5)
    assert np.all(baseline_image("black", inspection, inspector) == 0.0)
    np.testing.assert_allclose(
        baseline_image("mean", inspection, inspector)[2, 3], pixels.mean(axis=(0, 1)), rtol=1e-6
    )


# --- bilinear resize -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("small", "large"), [((3, 4), (12, 16)), ((2, 2), (7, 5)), ((5, 5), (5, 5))]
)
def test_resize_matches_tensorflow_bilinear(small, large):
    cam = rng(1).normal(size=small)
    np.testing.assert_allclose(resize_bilinear(cam, large), tf_upsample(cam, large), atol=1e-5)


def test_resize_keeps_constants_and_ranges():
    assert np.all(resize_bilinear(np.full((3, 3), 2.5), (10, 11)) == np.float32(2.5))
    cam = rng(2).uniform(-1, 3, (4, 6))
    resized = resize_bilinear(cam, (17, 9))
    assert resized.dtype == np.float32 and resized.shape == (17, 9)
    assert cam.min() - 1e-6 <= resized.min() and resized.max() <= cam.max() + 1e-6
