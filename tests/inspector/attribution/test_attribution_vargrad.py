"""VarGrad: the variance of SmoothGrad's noisy gradients, in closed form on x -> sum x^3."""

import numpy as np
import pytest

from inspector.attribution import compute_attribution
from inspector.attribution._helpers import resize_bilinear, resize_bilinear_channels
from tests.inspector.attribution_toys import cube_model, image, inspect, linear_model, rng


@pytest.fixture(scope="module")
def cube():
    pixels = image((4, 4, 1), seed=6)
    # The top class is the unit's own logit z = sum x^3 > 0 (also when one linear
    # unit is read as the two classes [-z, z]).
    inspector, inspection = inspect(cube_model(), pixels)
    return inspector, inspection, pixels


def noisy_cube_gradients(pixels, samples, noise_level, seed):
    """dS/dx = 3 (x + e)^2 for the very noise VarGrad and SmoothGrad draw."""
    sigma = noise_level * float(pixels.max() - pixels.min())
    noise = np.random.default_rng(seed).normal(0.0, 1.0, (samples, *pixels.shape))
    noisy = pixels[None] + np.float32(sigma) * noise.astype(np.float32)
    return 3.0 * noisy.astype(np.float64) ** 2, sigma


@pytest.mark.parametrize("batch_size", [1, 3, 32])
def test_vargrad_is_the_population_variance_of_the_noisy_gradients(cube, batch_size):
    inspector, inspection, pixels = cube
    options = {"samples": 20, "noise_level": 0.2, "seed": 3, "batch_size": batch_size}
    result = compute_attribution("vargrad", inspection, inspector, **options)
    gradients, _ = noisy_cube_gradients(pixels, 20, 0.2, 3)
    np.testing.assert_allclose(result.heatmap, gradients.var(axis=0)[..., 0], rtol=1e-4)
    smooth = compute_attribution("smoothgrad", inspection, inspector, **options)
    np.testing.assert_allclose(smooth.heatmap, np.abs(gradients.mean(axis=0))[..., 0], rtol=1e-5)
    assert result.signed is False and result.layer is None


def test_vargrad_approaches_its_closed_form_with_many_samples(cube):
    # Var(3 (x + e)^2) = 9 (4 x^2 sigma^2 + 2 sigma^4) for e ~ N(0, sigma^2).
    inspector, inspection, pixels = cube
    result = compute_attribution(
        "vargrad", inspection, inspector, samples=4000, noise_level=0.2, batch_size=1000
    )
    _, sigma = noisy_cube_gradients(pixels, 1, 0.2, 0)
    x = pixels[..., 0].astype(np.float64)
    expected = 9 * (4 * x**2 * sigma**2 + 2 * sigma**4)
    np.testing.assert_allclose(result.heatmap, expected, rtol=0.1)


def test_vargrad_of_a_linear_model_is_zero():
    model, _ = linear_model((4, 5, 3))
    inspector, inspection = inspect(model, image((4, 5, 3)), target=0)
    result = compute_attribution("vargrad", inspection, inspector, samples=9, batch_size=4)
    saliency = compute_attribution("saliency", inspection, inspector).heatmap
    # Float32 gradients of a linear model agree to rounding; the variance is ~0.
    assert result.heatmap.max() < 1e-10 * saliency.max() ** 2


def test_channel_resize_matches_the_single_map_resize():
    stack = rng(3).normal(size=(3, 4, 5))
    resized = resize_bilinear_channels(stack, (7, 9))
    for k in range(5):
        np.testing.assert_allclose(resized[k], resize_bilinear(stack[..., k], (7, 9)), rtol=1e-6)
