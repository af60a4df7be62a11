"""Spearman rank correlation and SSIM between two maps, against independent code."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from inspector.trust.similarity import average_ranks, spearman, ssim


def test_identical_maps_correlate_perfectly_and_reversed_ranks_perfectly_negatively():
    values = np.random.default_rng(0).random((6, 7))
    assert spearman(values, values) == pytest.approx(1.0)
    assert spearman(values, -values) == pytest.approx(-1.0)
    # Ranks only: any increasing transform keeps rho at 1.
    assert spearman(values, np.exp(5 * values)) == pytest.approx(1.0)


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 5, (12, 12)), rng.integers(0, 5, (12, 12)) + rng.integers(0, 2, (12, 12))
    expected = spearmanr(a.ravel(), b.ravel()).statistic
    assert spearman(a, b) == pytest.approx(expected, abs=1e-12)


def test_average_ranks_share_ties():
    np.testing.assert_allclose(average_ranks(np.array([3.0, 1.0, 3.0, 2.0])), [2.5, 0, 2.5, 1])


def test_a_constant_map_has_no_ranking_to_share():
    assert spearman(np.zeros((4, 4)), np.random.default_rng(2).random((4, 4))) == 0.0


def test_ssim_is_one_for_the_same_map_and_lower_for_noise():
    rng = np.random.default_rng(3)
    smooth = np.outer(np.hanning(16), np.hanning(16))
    assert ssim(smooth, 3.0 * smooth) == pytest.approx(1.0)  # each map is scaled to [0, 1]
    assert ssim(smooth, rng.random((16, 16))) < 0.5
    assert ssim(np.ones((2, 2)), np.ones((2, 2))) == 1.0  # too small for a window
