"""Activation maximisation on the planted detector: beats the data and finds the pattern."""

from __future__ import annotations

import numpy as np

from inspector.units.feature_visualization import FeatureVisualizer
from inspector.units.probe import LayerProbe
from inspector.units.run import mine_units
from inspector.units.sources import ArraySource
from tests.inspector.units.planted import PATTERN, PLANTED, noise_images, paste, planted_model


def _best_correlation(image: np.ndarray) -> float:
    windows = np.lib.stride_tricks.sliding_window_view(image, (7, 7)).reshape(-1, 49)
    windows = windows - windows.mean(axis=1, keepdims=True)
    target = (PATTERN - PATTERN.mean()).ravel()
    norms = np.linalg.norm(windows, axis=1) * np.linalg.norm(target) + 1e-12
    return float(np.max(windows @ target / norms))


def test_optimised_image_beats_the_best_example_and_recovers_the_pattern():
    probe = LayerProbe(planted_model())
    result = mine_units(probe, ArraySource(paste(noise_images(40), PLANTED)), k=1, cache_dir=False)
    best = result.layer("detector").scores[0, 0]
    visual = FeatureVisualizer(probe).visualize("detector", np.array([0, 1]))
    assert visual.images.shape == (2, 32, 32, 1)
    assert visual.images.min() >= 0.0 and visual.images.max() <= 1.0  # the model's range
    assert visual.activations[0] >= best
    assert _best_correlation(visual.images[0, ..., 0]) > 0.9
    again = FeatureVisualizer(probe).visualize("detector", np.array([0, 1]))
    np.testing.assert_array_equal(again.images, visual.images)  # seeded
