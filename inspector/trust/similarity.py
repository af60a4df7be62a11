"""How alike two explanation maps are: Spearman rank correlation and SSIM.

The two measures Adebayo et al. ("Sanity Checks for Saliency Maps", NeurIPS
2018, Section 4) report between a map of the trained model and a map of a
randomised one, both on the absolute values ``|E|``.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of ``values`` ``(n,)``, ties sharing the mean of their ranks."""
    values = np.asarray(values, np.float64).ravel()
    order = np.argsort(values, kind="stable")
    ranks = np.empty(values.size)
    ranks[order] = np.arange(values.size)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.bincount(inverse, weights=ranks) / counts)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps of one shape, in [-1, 1].

    The Pearson correlation of the average ranks (Spearman, 1904). A constant
    map has no ranking to share, so its correlation with anything is defined
    here as 0 (mathematically it is undefined).
    """
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.shape != b.shape:
        raise ValueError(f"Expected maps of one shape. Received: {a.shape} and {b.shape}.")
    ra, rb = average_ranks(a), average_ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    norm = np.sqrt((ra**2).sum() * (rb**2).sum())
    return float(np.clip((ra * rb).sum() / norm, -1.0, 1.0)) if norm > 0 else 0.0


def unit_scaled(heatmap: np.ndarray) -> np.ndarray:
    """``|E| / max |E|``: a map in [0, 1] (all zeros stays all zeros)."""
    magnitude = np.abs(np.asarray(heatmap, np.float64))
    top = magnitude.max()
    return magnitude / top if top > 0 else magnitude


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity (Wang et al., IEEE TIP 2004) of ``|a|`` and ``|b|``.

    Both ``(H, W)`` maps are first scaled to [0, 1] by their own maximum, as
    Adebayo et al. normalise maps before comparing them; scikit-image's SSIM then
    uses its default 7x7 window (smaller for maps under 7 pixels). In [-1, 1].
    """
    a, b = unit_scaled(a), unit_scaled(b)
    side = min(a.shape)
    window = min(7, side if side % 2 else side - 1)
    if window < 3:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(structural_similarity(a, b, data_range=1.0, win_size=window))
