"""Kernels and probe feature maps of a training run as one RGB mosaic each.

Built on ``gui.widgets.image_helpers`` (the mosaic layout and colormaps every view
shares); this module only adds what training needs: a kernel is cut into one
tile per output unit, weights and their changes use a diverging colormap centred
on zero, and the probe's feature maps share one colour scale per layer so that
features visibly emerge from silent channels as training goes on.
"""

from __future__ import annotations

import numpy as np

from gui.widgets.image_helpers import (
    DEFAULT_COLORMAP,
    DIVERGING_COLORMAP,
    GAP_COLOUR,
    mosaic_layout,
    normalise,
    paint_mosaic,
    signed_unit,
)
from inspector.render.figures import as_maps


def kernel_maps(kernel: np.ndarray) -> np.ndarray:
    """A layer's kernel as a stack of 2-D maps, one per output unit.

    Args:
        kernel: Conv2D kernel (kh, kw, in, out), Dense kernel (in, out), or any
            other shape (flattened to (first axis, rest) and shown as one map).

    Returns:
        (kh, kw, out, 3) for RGB-input convs, (kh, kw, out) showing the first
        input channel for other convs, (in, out, 1) for 2-D kernels (the whole
        matrix as one map).
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim == 4:
        if kernel.shape[2] == 3:
            return np.transpose(kernel, (0, 1, 3, 2))
        return kernel[:, :, 0, :]
    if kernel.ndim == 2:
        return kernel[:, :, np.newaxis]
    return kernel.reshape(kernel.shape[0], -1, 1)


def kernel_mosaic(kernel: np.ndarray, *, signed_change: bool = False) -> np.ndarray:
    """A kernel (or a kernel change ΔW) as one RGB mosaic, one tile per output unit.

    RGB-input conv kernels are drawn in colour with zero at mid-grey (the classic
    picture of first-layer edge detectors). Everything else uses the diverging
    colormap with zero at white and one symmetric scale for the whole layer, so
    the sign of a weight, or of its change, reads the same in every tile.

    Args:
        kernel: any kernel shape accepted by ``kernel_maps``.
        signed_change: True for ΔW: always diverging, even for RGB kernels
            (then showing the mean change over the three input channels).

    Returns:
        uint8 array (H, W, 3).
    """
    maps = kernel_maps(kernel)
    if maps.ndim == 4 and signed_change:
        maps = maps.mean(axis=3)
    if maps.ndim == 3:
        layout = mosaic_layout(maps.shape[:2], np.arange(maps.shape[2]))
        return paint_mosaic(signed_unit(maps), layout, DIVERGING_COLORMAP)
    return _rgb_mosaic(signed_unit(maps))


def _rgb_mosaic(unit_rgb: np.ndarray) -> np.ndarray:
    """Tiles of (h, w, N, 3) values in [0, 1] as one uint8 RGB image."""
    height, width, count = unit_rgb.shape[:3]
    layout = mosaic_layout((height, width), np.arange(count))
    out = np.empty((*layout.shape, 3), dtype=np.uint8)
    out[:] = GAP_COLOUR
    pixels = np.rint(np.clip(unit_rgb, 0.0, 1.0) * 255).astype(np.uint8)
    for position in range(count):
        top, left = layout.tile_origin(position)
        out[top : top + height, left : left + width] = pixels[:, :, position]
    return out


def feature_mosaic(activation: np.ndarray) -> np.ndarray:
    """One probe image's activation at one layer as a mosaic of its channels.

    One colour scale for the whole layer (not per channel), so that channels that
    are still silent early in training look silent.

    Args:
        activation: float array (H, W, C), or (C,) for dense layers.

    Returns:
        uint8 array (H', W', 3).
    """
    maps = as_maps(activation)
    layout = mosaic_layout(maps.shape[:2], np.arange(maps.shape[2]))
    return paint_mosaic(normalise(maps, per_channel=False), layout, DEFAULT_COLORMAP)
