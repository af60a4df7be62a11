"""Integrated Gradients reports its completeness check (Sundararajan et al., ICML 2017)."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.attribution import compute_attribution
from tests.inspector.attribution_toys import conv_model, cube_model, image, inspect


@pytest.mark.parametrize("steps", [4, 16])
def test_completeness_of_the_cube_model_in_closed_form(steps):
    # S(x) = sum(x^3), baseline 0: IG_i = x_i^3 exactly, and the trapezoid rule on
    # 3 a^2 over m intervals gives 1 + 1/(2 m^2) instead of 1.
    pixels = image((4, 4, 1), seed=3)
    # The top class is the one whose logit is +sum(x^3) (> 0 here), however the
    # engine reads a single linear unit.
    inspector, inspection = inspect(cube_model(), pixels)
    result = compute_attribution("integrated_gradients", inspection, inspector, steps=steps)
    cubes = float((pixels.astype(np.float64) ** 3).sum())
    details = result.details
    assert details["score_difference"] == pytest.approx(cubes, rel=1e-5)
    assert details["attribution_sum"] == pytest.approx(cubes * (1 + 0.5 / steps**2), rel=1e-5)
    assert details["completeness_gap"] == pytest.approx(cubes * 0.5 / steps**2, rel=1e-3)
    assert details["attribution_sum"] == pytest.approx(float(result.heatmap.sum()), rel=1e-6)


def test_completeness_on_a_nonlinear_conv_net_and_read_only_details():
    pixels = image((12, 12, 3), seed=4)
    inspector, inspection = inspect(conv_model(activation="tanh"), pixels, target=2)
    result = compute_attribution("integrated_gradients", inspection, inspector, steps=128)
    logits, _ = inspector.predict(np.stack([pixels, np.zeros_like(pixels)]))
    assert result.details["score_difference"] == pytest.approx(
        float(logits[0, 2] - logits[1, 2]), rel=1e-4
    )
    assert abs(result.details["completeness_gap"]) < 0.01 * abs(result.details["score_difference"])
    with pytest.raises(TypeError):
        result.details["attribution_sum"] = 0.0
    assert compute_attribution("saliency", inspection, inspector).details == {}
