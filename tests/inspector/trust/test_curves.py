"""Deletion and insertion curves (Petsiuk et al., BMVC 2018) with known answers."""

from __future__ import annotations

from math import comb

import keras
import numpy as np
import pytest
from PIL import Image

from inspector import Inspector, load_image
from inspector.attribution import AttributionError, compute_attribution
from inspector.trust.controls import centre_map, control_faithfulness, curves_with_controls
from inspector.trust.curves import (
    changed_counts,
    faithfulness,
    perturbed_images,
    pixel_order,
    trapezoid_auc,
)
from inspector.trust.substrates import black_value, gaussian_blur, substrate_image

SIDE, QUADRANT = 8, 16  # an 8x8 image; its top-left quadrant holds 16 of 64 pixels
WEIGHT, BIAS = 0.5, -4.0


def quadrant_model() -> keras.Model:
    """One sigmoid unit whose logit is 0.5 * (sum of the top-left quadrant) - 4."""
    inputs = keras.Input((SIDE, SIDE, 1))
    dense = keras.layers.Dense(1, activation="sigmoid", name="unit")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    kernel = np.zeros((SIDE, SIDE), np.float32)
    kernel[: SIDE // 2, : SIDE // 2] = WEIGHT
    dense.set_weights([kernel.reshape(-1, 1), np.array([BIAS], np.float32)])
    return model


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture(scope="module")
def quadrant():
    inspector = Inspector(quadrant_model())
    # All ones: logit 4 (p = 0.982); with the whole quadrant deleted to 0, logit -4.
    return inspector, inspector.inspect(np.ones((SIDE, SIDE, 1), np.float32), target=1)


def expected_random_deletion_auc(steps: int) -> float:
    """E[AUC] of deletion to zero in a uniformly random pixel order, in closed form.

    After ``n`` of the 64 pixels are deleted, the number ``d`` of deleted quadrant
    pixels is hypergeometric (64 pixels, 16 in the quadrant, ``n`` drawn), and
    p = sigmoid(0.5 (16 - d) - 4). The trapezoid rule is linear, so E[AUC] is the
    trapezoid area of the expected curve.
    """
    total = SIDE * SIDE
    curve = []
    for n in changed_counts(total, steps):
        expected = 0.0
        for d in range(max(0, n - (total - QUADRANT)), min(n, QUADRANT) + 1):
            chance = comb(QUADRANT, d) * comb(total - QUADRANT, n - d) / comb(total, n)
            expected += chance * sigmoid(WEIGHT * (QUADRANT - d) + BIAS)
        curve.append(expected)
    return trapezoid_auc(np.linspace(0, 1, steps + 1), np.array(curve))


def test_trapezoid_auc_of_hand_made_curves():
    assert trapezoid_auc([0, 0.5, 1], [1, 0.5, 0]) == pytest.approx(0.5)
    assert trapezoid_auc([0, 0.5, 1], [1, 1, 0]) == pytest.approx(0.75)
    # Uneven spacing: 0.1 * (1 + 1) / 2 + 0.9 * (1 + 0) / 2.
    assert trapezoid_auc([0, 0.1, 1], [1, 1, 0]) == pytest.approx(0.55)


def test_saliency_deletes_faster_than_random_and_inserts_faster(quadrant):
    inspector, inspection = quadrant
    saliency = compute_attribution("saliency", inspection, inspector).heatmap
    curves = curves_with_controls(
        "saliency", saliency, inspection, inspector, steps=16, baseline="zero"
    )
    random = curves.control("random")
    assert curves.method.deletion.auc < random.deletion.auc - 0.2
    assert curves.method.insertion.auc > random.insertion.auc + 0.2
    # The quadrant is gone after 16 of 64 pixels, i.e. after 4 of 16 steps.
    assert curves.method.deletion.probabilities[4] == pytest.approx(sigmoid(BIAS), abs=1e-5)
    assert curves.method.deletion.probabilities[0] == pytest.approx(sigmoid(4.0), abs=1e-5)


def test_the_random_control_matches_its_expected_value(quadrant):
    inspector, inspection = quadrant
    steps = 16
    aucs = [
        control_faithfulness(inspection, inspector, steps=steps, baseline="zero", seed=s)[
            0
        ].deletion.auc
        for s in range(40)
    ]
    expected = expected_random_deletion_auc(steps)
    standard_error = np.std(aucs, ddof=1) / np.sqrt(len(aucs))
    assert abs(np.mean(aucs) - expected) < 4 * standard_error
    assert 0.3 < expected < 0.7  # the control really sits between the extremes here


def test_perturbed_images_go_from_image_to_substrate():
    rng = np.random.default_rng(0)
    image = rng.random((4, 5, 2)).astype(np.float32)
    substrate = np.full_like(image, -1.0)
    order = pixel_order(rng.random((4, 5)))
    batch = perturbed_images(image, substrate, order, steps=4)
    assert batch.shape == (10, 4, 5, 2)
    np.testing.assert_array_equal(batch[0], image)
    np.testing.assert_array_equal(batch[4], substrate)
    np.testing.assert_array_equal(batch[5], substrate)
    np.testing.assert_array_equal(batch[9], image)
    # Step 1 of deletion removed exactly the top round(20/4) = 5 pixels of the order.
    removed = np.flatnonzero((batch[1] == -1).all(-1).ravel())
    assert sorted(removed) == sorted(order[:5])


def test_pixel_order_ranks_values_and_breaks_ties_by_seed():
    heatmap = np.array([[0.0, 3.0], [0.0, 1.0]])
    assert list(pixel_order(heatmap)[:2]) == [1, 3]
    ties = np.zeros((10, 10))
    assert not np.array_equal(pixel_order(ties, 0), np.arange(100))
    np.testing.assert_array_equal(pixel_order(ties, 0), pixel_order(ties, 0))


def test_one_batched_forward_pass_per_map(quadrant, monkeypatch):
    inspector, inspection = quadrant
    calls = []
    original = inspector.predict
    monkeypatch.setattr(
        inspector, "predict", lambda b, o=None: calls.append(len(b)) or original(b, o)
    )
    result = faithfulness(
        "random", np.random.default_rng(0).random((SIDE, SIDE)), inspection, inspector, steps=20
    )
    assert calls == [42]
    assert result.deletion.fractions.shape == (21,) and result.deletion.baseline == "blur"
    assert result.insertion.probabilities.flags.writeable is False


def test_zero_is_black_in_the_models_input_space(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((8, 8), 200, np.uint8)).save(path)
    model = quadrant_model()
    inspector = Inspector(model)
    for value_range, black in (((0.0, 1.0), 0.0), ((-1.0, 1.0), -1.0), ((0.0, 255.0), 0.0)):
        inspection = inspector.inspect(load_image(path, model, value_range=value_range))
        np.testing.assert_allclose(black_value(inspection, inspector), [black])
        zero = substrate_image("zero", inspection, inspector)
        np.testing.assert_allclose(zero, np.full((SIDE, SIDE, 1), black))


def test_blur_and_mean_substrates():
    rng = np.random.default_rng(1)
    image = rng.random((32, 32, 3)).astype(np.float32)
    blurred = gaussian_blur(image, 2.0)
    assert blurred.std() < 0.5 * image.std()
    np.testing.assert_allclose(blurred.mean((0, 1)), image.mean((0, 1)), atol=0.02)
    flat = np.full((6, 6, 1), 0.3, np.float32)
    np.testing.assert_allclose(gaussian_blur(flat, 1.5), flat, atol=1e-6)


def test_bad_options_are_refused(quadrant):
    inspector, inspection = quadrant
    with pytest.raises(AttributionError, match="Expected a baseline among blur, zero, mean"):
        faithfulness("x", np.zeros((SIDE, SIDE)), inspection, inspector, baseline="grey")
    with pytest.raises(AttributionError, match="Received: steps=0"):
        faithfulness("x", np.zeros((SIDE, SIDE)), inspection, inspector, steps=0)
    with pytest.raises(AttributionError, match=r"Received: shape=\(3, 3\)"):
        faithfulness("x", np.zeros((3, 3)), inspection, inspector)


def test_centre_map_peaks_in_the_middle():
    bump = centre_map(9, 7)
    assert np.unravel_index(bump.argmax(), bump.shape) == (4, 3)
    assert bump[0, 0] < bump[4, 0] < bump[4, 3] == pytest.approx(1.0)
