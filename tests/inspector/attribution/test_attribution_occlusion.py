"""Known-answer tests for occlusion: a model whose output is a function of one region."""

import keras
import numpy as np
import pytest

from inspector.attribution import AttributionError, compute_attribution, get_method
from tests.inspector.attribution_toys import image, inspect, linear_model

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


def logit(pixels: np.ndarray) -> float:
    return float(pixels[REGION].sum() + BIAS)


def expected_map(pixels, window, stride, fill, score=probability) -> np.ndarray:
    """Per pixel: the mean drop of ``score`` over every window position covering it."""
    height, width = pixels.shape[:2]
    tops = sorted({*range(0, height - window + 1, stride), height - window})
    lefts = sorted({*range(0, width - window + 1, stride), width - window})
    drops = {}
    for top in tops:
        for left in lefts:
            occluded = pixels.copy()
            occluded[top : top + window, left : left + window] = fill
            drops[top, left] = score(pixels) - score(occluded)
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
        score="probability",
        batch_size=5,
    )
    expected = expected_map(pixels, window, stride, fill)
    np.testing.assert_allclose(result.heatmap, expected, atol=2e-6)
    assert result.signed is True and result.layer is None


@pytest.mark.parametrize(("window", "stride", "fill"), [(2, 2, 0.0), (3, 1, 0.5), (5, 3, 0.25)])
def test_occlusion_measures_the_logit_drop_by_default(region, window, stride, fill):
    # The sigmoid's pre-activation, not its probability: sum(region) + BIAS.
    inspector, inspection, pixels = region
    heatmap = compute_attribution(
        "occlusion", inspection, inspector, window=window, stride=stride, baseline=fill
    ).heatmap
    expected = expected_map(pixels, window, stride, fill, score=logit)
    np.testing.assert_allclose(heatmap, expected, atol=1e-5)
    # The two scores differ: a saturating probability is not the logit.
    assert not np.allclose(heatmap, expected_map(pixels, window, stride, fill), atol=1e-3)


def test_occlusion_logit_drop_on_a_linear_model_is_weight_times_change():
    """Known answer: a patch's logit drop is sum(W[:, c] * (pixel - fill)) over it."""
    shape, target, window, fill = (6, 7, 2), 1, 3, 0.3
    model, weights = linear_model(shape, classes=3, seed=4)
    pixels = image(shape, seed=5)
    inspector, inspection = inspect(model, pixels, target=target)
    heatmap = compute_attribution(
        "occlusion", inspection, inspector, window=window, stride=window, baseline=fill
    ).heatmap
    contribution = weights[:, target].reshape(shape) * (pixels - fill)

    def drop(top, left):
        return contribution[top : top + window, left : left + window].sum()

    # Windows: rows 0..2, 3..5; cols 0..2, 3..5, 4..6 (the last flush with the edge).
    assert heatmap[0, 0] == pytest.approx(drop(0, 0), abs=1e-4)
    assert heatmap[5, 1] == pytest.approx(drop(3, 0), abs=1e-4)
    assert heatmap[0, 6] == pytest.approx(drop(0, 4), abs=1e-4)
    # Column 4 lies under the last two windows of its row: their mean.
    last, middle = drop(3, 4), drop(3, 3)
    assert heatmap[4, 4] == pytest.approx((last + middle) / 2, abs=1e-4)


def test_occlusion_is_zero_where_no_window_touches_the_region(region):
    inspector, inspection, _ = region
    heatmap = compute_attribution(
        "occlusion", inspection, inspector, window=2, stride=2, baseline="black"
    ).heatmap
    assert np.all(heatmap[6:, :] == 0) and np.all(heatmap[:, :2] == 0)
    # Blacking out positive pixels of the region lowers the probability.
    assert np.all(heatmap[REGION] > 0)


def blind_linear_model():
    """Three linear logits over a (6, 7, 2) image that read only rows 1..2, cols 2..4.

    Wide enough (84 inputs, 3 outputs) that oneDNN's GEMM kernels differ with the
    batch shape, and on AVX2 with the row of the batch, by an ulp or two.
    """
    shape = (6, 7, 2)
    model, weights = linear_model(shape, classes=3, seed=7)
    seen = np.zeros(shape, bool)
    seen[1:3, 2:5] = True
    weights = np.where(seen.reshape(-1, 1), weights, 0.0).astype(np.float32)
    dense = model.get_layer("logits")
    dense.set_weights([weights, dense.get_weights()[1]])
    return model, shape


def untouched(shape, window) -> np.ndarray:
    """Pixels no window of side ``window`` (stride ``window``) overlapping rows 1..2,
    cols 2..4 covers, for ``blind_linear_model``."""
    far = np.ones(shape[:2], bool)
    rows, cols = [], []
    for size, low, high, out in ((shape[0], 1, 2, rows), (shape[1], 2, 4, cols)):
        starts = sorted({*range(0, size - window + 1, window), size - window})
        out.extend(s for s in starts if s <= high and s + window > low)
    for top in rows:
        for left in cols:
            far[top : top + window, left : left + window] = False
    return far


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 7, 13, 64])
@pytest.mark.parametrize("score", ["logit", "probability"])
def test_occlusion_is_exactly_zero_far_from_what_the_model_reads(batch_size, score):
    """Exact zeros for every batch size: the reference shares each occluded image's
    batch shape and row, so no cross-batch rounding difference can show."""
    model, shape = blind_linear_model()
    inspector, inspection = inspect(model, image(shape, seed=8), target=2)
    window = 2
    heatmap = compute_attribution(
        "occlusion",
        inspection,
        inspector,
        window=window,
        stride=window,
        baseline="black",
        score=score,
        batch_size=batch_size,
    ).heatmap
    far = untouched(shape, window)
    assert far.sum() == 26  # rows 4..5, and cols 0..1 and 6 of rows 0..3
    assert np.all(heatmap[far] == 0), heatmap[far]
    assert np.all(heatmap[~far] != 0)


class ShapeDependentRounding:
    """Wraps an inspector so that ``predict`` rounds like a backend that promises no
    bit-equal results across batch shapes or rows: a tiny offset that depends on the
    batch size and the row, never on the values of the other rows."""

    def __init__(self, inspector):
        self.inspector = inspector
        self.images = 0

    def __getattr__(self, name):
        return getattr(self.inspector, name)

    def predict(self, batch, output=None):
        logits, shown = self.inspector.predict(batch, output)
        rows = np.arange(len(batch))[:, None]
        offset = np.float32(2e-6) * ((3 * len(batch) + rows) % 4).astype(np.float32)
        self.images += len(batch)
        return logits + offset, shown + offset


@pytest.mark.parametrize("batch_size", [1, 4, 5, 64])
def test_occlusion_compares_each_image_with_a_reference_of_its_own_shape_and_row(
    region, batch_size
):
    """Would fail for a reference from a pass of another shape (batch 1), or from one
    row of each batch: the wrapped backend rounds differently in both."""
    inspector, inspection, _ = region
    rounding = ShapeDependentRounding(inspector)
    method = get_method("occlusion", window=2, stride=2, baseline="black", batch_size=batch_size)
    heatmap = method.attribute(inspection, rounding).heatmap
    assert np.all(heatmap[6:, :] == 0) and np.all(heatmap[:, :2] == 0)
    assert np.all(heatmap[REGION] > 0)
    # passes() counts every image run, the reference pass and the padding included.
    assert rounding.images == method.passes(inspection)


def test_occlusion_passes_are_equal_batches_and_one_reference_batch(region):
    _, inspection, _ = region  # 8x8: 16 windows of 2 at stride 2
    costs = {
        size: get_method("occlusion", window=2, stride=2, batch_size=size).passes(inspection)
        for size in (1, 5, 16, 64)
    }
    # 16 in 16 passes of 1, in 4 of 4 (not 5, 5, 5, 1), in one of 16; + a reference pass.
    assert costs == {1: 17, 5: 20, 16: 32, 64: 32}


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


@pytest.mark.parametrize(
    "options",
    [{"window": 0}, {"stride": (1, 2, 3)}, {"batch_size": 0}, {"score": "probabilities"}],
)
def test_occlusion_refuses_bad_sizes(options):
    with pytest.raises(AttributionError, match="Received"):
        get_method("occlusion", **options)


def test_occlusion_refuses_a_stride_that_leaves_pixels_uncovered(region):
    inspector, inspection, _ = region
    with pytest.raises(AttributionError, match=r"window=\(2, 2\), stride=\(5, 5\)"):
        compute_attribution("occlusion", inspection, inspector, window=2, stride=5)
    # A stride equal to the window tiles the image: every pixel is covered once.
    heatmap = compute_attribution("occlusion", inspection, inspector, window=2, stride=2).heatmap
    assert np.all(np.isfinite(heatmap))
