"""Known-answer tests for occlusion: a model whose output is a function of one region."""

import keras
import numpy as np
import pytest

from inspector.attribution import AttributionError, compute_attribution, get_method
from tests.inspector.attribution_toys import image, inspect

SIZE = 8
REGION = (slice(2, 5), slice(3, 6))  # rows 2..4, cols 3..5
BIAS = -1.0


def region_model():
    """One sigmoid unit: P(class 1) = sigmoid(sum of the pixels in REGION + BIAS)."""
    inputs = keras.Input((SIZE, SIZE, 1))
    dense = keras.layers.Dense(1, activation="sigmoid")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[REGION] = 1.0
    dense.set_weights([mask.reshape(-1, 1), np.array([BIAS], np.float32)])
    return model


def probability(pixels: np.ndarray) -> float:
    return 1.0 / (1.0 + np.exp(-(pixels[REGION].sum() + BIAS)))


def expected_map(pixels, window, stride, fill) -> np.ndarray:
    """Per pixel: the mean probability drop over every window position covering it."""
    height, width = pixels.shape[:2]
    tops = sorted({*range(0, height - window + 1, stride), height - window})
    lefts = sorted({*range(0, width - window + 1, stride), width - window})
    drops = {}
    for top in tops:
        for left in lefts:
            occluded = pixels.copy()
            occluded[top : top + window, left : left + window] = fill
            drops[top, left] = probability(pixels) - probability(occluded)
    heatmap = np.zeros((height, width))
    for row in range(height):
        for col in range(width):
            covering = [
                drop
                for (top, left), drop in drops.items()
                if top <= row < top + window and left <= col < left + window
            ]
            heatmap[row, col] = np.mean(covering)
    return heatmap


@pytest.fixture(scope="module")
def region():
    pixels = image((SIZE, SIZE, 1), seed=12)
    inspector, inspection = inspect(region_model(), pixels, target=1)
    return inspector, inspection, pixels[..., 0]


@pytest.mark.parametrize(
    ("window", "stride", "baseline", "fill"),
    [(2, 2, 0.0, 0.0), (3, 1, "grey", 0.5), (3, 2, "black", 0.0), (5, 3, 0.25, 0.25)],
)
def test_occlusion_is_the_probability_drop_averaged_over_windows(
    region, window, stride, baseline, fill
):
    inspector, inspection, pixels = region
    result = compute_attribution(
        "occlusion",
        inspection,
        inspector,
        window=window,
        stride=stride,
        baseline=baseline,
        batch_size=5,
    )
    expected = expected_map(pixels, window, stride, fill)
    np.testing.assert_allclose(result.heatmap, expected, atol=2e-6)
    assert result.signed is True and result.layer is None


def test_occlusion_is_zero_where_no_window_touches_the_region(region):
    inspector, inspection, _ = region
    heatmap = compute_attribution(
        "occlusion", inspection, inspector, window=2, stride=2, baseline="black"
    ).heatmap
    assert np.all(heatmap[6:, :] == 0) and np.all(heatmap[:, :2] == 0)
    # Blacking out positive pixels of the region lowers the probability.
    assert np.all(heatmap[REGION] > 0)


def test_occlusion_default_window_and_stride():
    method = get_method("occlusion")
    assert method.window_and_stride((224, 224)) == ((28, 28), (14, 14))
    assert method.window_and_stride((8, 20)) == ((1, 1), (1, 1))
    assert get_method("occlusion", window=(4, 6)).window_and_stride((32, 32)) == (
        (4, 6),
        (2, 3),
    )
    # A window larger than the image is clipped to it.
    assert get_method("occlusion", window=50).window_and_stride((10, 12))[0] == (10, 12)


@pytest.mark.parametrize("options", [{"window": 0}, {"stride": (1, 2, 3)}, {"batch_size": 0}])
def test_occlusion_refuses_bad_sizes(options):
    with pytest.raises(AttributionError, match="Received"):
        get_method("occlusion", **options)
