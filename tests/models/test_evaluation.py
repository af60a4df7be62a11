"""Calibration error by hand, and the rendered face-free scenes."""

from __future__ import annotations

import numpy as np
import pytest

from models.datasets.unseen_scenes import rendered_scenes
from models.evaluation.detector import expected_calibration_error


def test_ece_is_zero_when_confidence_matches_accuracy():
    # Ten images at P(face) = 0.8, eight of them faces: 80 % confident, 80 % right.
    p = np.full(10, 0.8)
    labels = np.array([1] * 8 + [0] * 2)
    assert expected_calibration_error(p, labels) == pytest.approx(0.0)


def test_ece_by_hand():
    # Bin [0.95, 1.0]: four at confidence 0.99, three right -> |0.75 - 0.99| = 0.24.
    # Bin [0.6, 0.65): four at 0.6 (two say not_face), all right -> |1 - 0.6| = 0.4.
    p = np.array([0.99, 0.99, 0.01, 0.01, 0.6, 0.6, 0.4, 0.4])
    labels = np.array([1, 1, 0, 1, 1, 1, 0, 0])
    assert expected_calibration_error(p, labels) == pytest.approx(0.5 * 0.24 + 0.5 * 0.4)


def test_confidently_wrong_is_nearly_one():
    p = np.array([0.999, 0.001])
    assert expected_calibration_error(p, np.array([0, 1])) == pytest.approx(0.999)


def test_rendered_scenes_are_seeded_varied_and_sized():
    scenes = rendered_scenes(12, 64, seed=3)
    assert scenes.shape == (12, 64, 64) and scenes.dtype == np.uint8
    np.testing.assert_array_equal(scenes, rendered_scenes(12, 64, seed=3))
    assert len({scene.tobytes() for scene in scenes}) == 12
    assert np.ptp(scenes.reshape(12, -1), axis=1).min() > 10  # none is a blank square
