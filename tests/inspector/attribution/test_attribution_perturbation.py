"""Score-CAM and RISE: batched forward passes, checked against independent computations."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from inspector import Inspector
from inspector.attribution import AttributionError, compute_attribution, get_method
from inspector.attribution.rise import mask_draws, masks_from_draws
from tests.inspector.attribution_toys import (
    conv_model,
    image,
    inspect,
    tape_activation_and_gradient,
    tf_upsample,
)


# --- Score-CAM ---------------------------------------------------------------------
def independent_scorecam(model, pixels: np.ndarray, target: int) -> np.ndarray:
    """Score-CAM written from the paper with Keras calls and TensorFlow resizing."""
    activation, _ = tape_activation_and_gradient(model, "last_conv", pixels, target)
    size = pixels.shape[:2]
    baseline = np.asarray(model(np.zeros_like(pixels)[None]))[0, target]
    weights = np.zeros(activation.shape[-1])
    for k in range(activation.shape[-1]):
        mask = tf_upsample(activation[..., k], size).astype(np.float64)
        if mask.max() == mask.min():
            continue
        mask = (mask - mask.min()) / (mask.max() - mask.min())
        masked = (pixels * mask[..., None]).astype(np.float32)
        weights[k] = np.asarray(model(masked[None]))[0, target] - baseline
    return tf_upsample(np.maximum(activation @ weights, 0.0), size)


@pytest.fixture(scope="module")
def small_conv():
    # Module fixtures are built before the autouse seeding of the first test.
    keras.utils.set_random_seed(1)
    model = conv_model(head="gap", shape=(12, 12, 3))
    pixels = image((12, 12, 3), seed=11)
    return model, pixels, Inspector(model)


def test_scorecam_matches_an_independent_computation(small_conv):
    model, pixels, inspector = small_conv
    peaks = []
    for target in range(3):  # an untrained net's map can be all zero for some class
        inspection = inspector.inspect(pixels, target=target)
        result = compute_attribution("scorecam", inspection, inspector, batch_size=2)
        expected = independent_scorecam(model, pixels, target)
        np.testing.assert_allclose(result.heatmap, expected, rtol=1e-4, atol=1e-6)
        assert result.layer == "last_conv" and result.signed is False
        peaks.append(np.ptp(expected))
    assert max(peaks) > 1e-3


def test_scorecam_is_deterministic_and_independent_of_the_batch_size(small_conv):
    _, pixels, inspector = small_conv
    inspection = inspector.inspect(pixels)
    first = compute_attribution("scorecam", inspection, inspector, batch_size=32).heatmap
    again = compute_attribution("scorecam", inspection, inspector, batch_size=32).heatmap
    small = compute_attribution("scorecam", inspection, inspector, batch_size=3).heatmap
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, small, rtol=1e-5, atol=1e-8)


def test_scorecam_runs_one_batched_pass_per_batch_of_channels(small_conv, monkeypatch):
    _, pixels, inspector = small_conv
    inspection = inspector.inspect(pixels)
    sizes = []
    original = inspector.predict

    def counting(batch, output):
        sizes.append(len(batch))
        return original(batch, output)

    monkeypatch.setattr(inspector, "predict", counting)
    compute_attribution("scorecam", inspection, inspector, batch_size=2)
    varying = np.ptp(inspection.layer("last_conv").activation, axis=(0, 1)) > 0
    # The baseline X_b and the non-constant channels, two images at a time.
    assert sum(sizes) == varying.sum() + 1 and max(sizes) == 2 and len(sizes) > 1


# --- RISE --------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="tests")
class QuadrantLogProbabilities(keras.layers.Layer):
    """[log(1 - q), log(q)] with q the mean of the top-left quadrant of the image.

    After a softmax the target class 1 has probability exactly q.
    """

    def call(self, x):
        rows, cols = x.shape[1] // 2, x.shape[2] // 2
        q = tf.reduce_mean(x[:, :rows, :cols, :], axis=[1, 2, 3])
        q = tf.clip_by_value(q, 1e-7, 1.0 - 1e-7)
        return tf.stack([tf.math.log(1.0 - q), tf.math.log(q)], axis=1)


def quadrant_model(size: int = 32) -> keras.Model:
    inputs = keras.Input((size, size, 1))
    probabilities = keras.layers.Activation("softmax")(QuadrantLogProbabilities()(inputs))
    return keras.Model(inputs, probabilities)


@pytest.fixture(scope="module")
def quadrant():
    pixels = image((32, 32, 1), seed=12)
    inspector, inspection = inspect(quadrant_model(), pixels, target=1)
    return inspector, inspection, pixels


def rise(quadrant, **options):
    inspector, inspection, _ = quadrant
    return compute_attribution("rise", inspection, inspector, **{"grid": 8, **options}).heatmap


def test_rise_masks_are_the_papers_upsampled_shifted_grids():
    draws = mask_draws(6, grid=4, seed=3)
    masks = masks_from_draws(draws, (14, 10), grid=4, keep_probability=0.5)
    assert masks.shape == (6, 14, 10) and masks.min() >= 0 and masks.max() <= 1
    cell = (4, 3)  # ceil(14 / 4), ceil(10 / 4)
    for mask, row in zip(masks, draws, strict=True):
        grid = (row[:16] < 0.5).reshape(4, 4).astype(np.float32)
        up = tf_upsample(grid, (5 * cell[0], 5 * cell[1]))  # (s + 1) * cell, bilinear
        top, left = int(row[16] * cell[0]), int(row[17] * cell[1])
        assert 0 <= top < cell[0] and 0 <= left < cell[1]
        np.testing.assert_allclose(mask, up[top : top + 14, left : left + 10], atol=1e-6)


def test_rise_equals_its_monte_carlo_sum_on_the_quadrant_model(quadrant):
    _, _, pixels = quadrant
    masks = masks_from_draws(mask_draws(300, 8, seed=5), (32, 32), 8, 0.5)
    q = (pixels[None, :16, :16, 0] * masks[:, :16, :16]).mean(axis=(1, 2))
    expected = np.tensordot(q, masks, axes=1) / (300 * 0.5)
    np.testing.assert_allclose(rise(quadrant, masks=300, seed=5), expected, rtol=1e-5)


def expected_rise(pixels: np.ndarray, size: int, grid: int, p: float) -> np.ndarray:
    """E[S] in closed form for the quadrant model, over the paper's mask distribution.

    M(u) = sum_n a_n(u) G_n with bilinear weights a_n (one-hot grids upsampled by
    TensorFlow, then cropped at each equally likely shift) and G_n iid
    Bernoulli(p), so E[M(u) M(v)] = p^2 + p (1 - p) E_shift[sum_n a_n(u) a_n(v)],
    and with q = mean over the quadrant Q of x M:
    E[S(v)] = E[q M(v)] / p = (1 / (|Q| p)) sum_(u in Q) x_u E[M(u) M(v)].
    """
    cell = -(-size // grid)
    basis = np.stack(
        [
            tf_upsample(np.eye(grid * grid)[n].reshape(grid, grid), ((grid + 1) * cell,) * 2)
            for n in range(grid * grid)
        ]
    )
    half = size // 2
    weights = pixels[:half, :half, 0]
    second_moment = np.zeros((size, size))
    for top in range(cell):
        for left in range(cell):
            a = basis[:, top : top + size, left : left + size]  # (nodes, size, size)
            in_quadrant = np.tensordot(a[:, :half, :half], weights, axes=([1, 2], [0, 1]))
            second_moment += np.tensordot(in_quadrant, a, axes=1) / cell**2
    correlated = p * (1 - p) * second_moment + p**2 * weights.sum()
    return correlated / (weights.size * p)


def test_rise_known_answer_on_the_quadrant_model(quadrant):
    _, _, pixels = quadrant
    heatmap = rise(quadrant, masks=2000)
    expected = expected_rise(pixels, 32, grid=8, p=0.5)
    # Far from Q the mask is independent of q: E[S] = p * mean of x over Q.
    far = np.zeros((32, 32), bool)
    far[24:, :] = far[:, 24:] = True
    np.testing.assert_allclose(expected[far], 0.5 * pixels[:16, :16].mean(), rtol=1e-5)
    assert expected[4:12, 4:12].min() > expected[far].max()
    # The estimate is within 4 Monte-Carlo standard errors of E[S] per region,
    # the standard error measured on the very masks the method drew.
    masks = masks_from_draws(mask_draws(2000, 8, seed=0), (32, 32), 8, 0.5)
    q = (pixels[None, :16, :16, 0] * masks[:, :16, :16]).mean(axis=(1, 2))
    inside, beside = np.zeros((32, 32), bool), np.zeros((32, 32), bool)
    inside[4:12, 4:12] = beside[16:24, 0:8] = True
    for region in (far, inside, beside):
        samples = q * masks[:, region].reshape(2000, -1).mean(axis=1) / 0.5
        error = 4 * samples.std() / np.sqrt(2000)
        assert abs(heatmap[region].mean() - expected[region].mean()) < error


def test_rise_is_deterministic_with_a_seed(quadrant):
    first = rise(quadrant, masks=200, seed=1)
    np.testing.assert_array_equal(first, rise(quadrant, masks=200, seed=1))
    np.testing.assert_allclose(first, rise(quadrant, masks=200, seed=1, batch_size=7), rtol=1e-5)
    assert not np.allclose(first, rise(quadrant, masks=200, seed=2))


def test_rise_converges_as_masks_are_added(quadrant):
    counts = [125, 250, 500, 1000, 2000]
    maps = [rise(quadrant, masks=n, seed=4) for n in counts]
    gaps = [np.abs(b - a).mean() for a, b in itertools.pairwise(maps)]
    # Monte-Carlo error ~ 1/sqrt(N): each doubling shrinks the gap by about sqrt(2).
    assert gaps[-1] < gaps[0] / 2, gaps


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"keep_probability": 0.0}, r"keep_probability to be a number in \(0, 1\]"),
        ({"keep_probability": "half"}, "keep_probability"),
        ({"masks": 0}, "masks to be an integer >= 1"),
        ({"grid": 2.5}, "grid to be an integer"),
    ],
)
def test_rise_refuses_bad_options(options, pattern):
    with pytest.raises(AttributionError, match=pattern):
        get_method("rise", **options)
