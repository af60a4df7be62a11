"""Array -> picture helpers shared by the views: colormaps, normalisation, mosaics.

Everything here is NumPy in, NumPy out (plus two small pyqtgraph factories), so
the views stay short and the maths is tested without a window. Arrays follow
pyqtgraph's row-major order: ``(H, W)`` or ``(H, W, 3)``.

This module imports ``inspector`` only inside ``lookup_table``: the main window
must be able to appear before TensorFlow has finished importing on the worker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyqtgraph as pg
from PIL import Image
from PyQt6.QtWidgets import QLabel

# Names shown in the colormap pickers. The first three (and "diverging") are the
# engine's own tables (inspector.render.colormaps), so the app's colours match the
# exported figures; the others ship with pyqtgraph.
COLORMAPS: tuple[str, ...] = ("viridis", "magma", "gray", "inferno", "plasma", "cividis")
DEFAULT_COLORMAP = "viridis"
DIVERGING_COLORMAP = "diverging"  # blue - white - red, for signed gradients
GAP_COLOUR = (236, 236, 236)  # the light grey between mosaic tiles


def caption_label(text: str = "") -> QLabel:
    """The grey, word-wrapped explanation under a view."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #555")
    return label


def configure_pyqtgraph() -> None:
    """Row-major images (``(H, W, C)`` needs no transposing) on a light background."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")


@cache
def lookup_table(name: str) -> np.ndarray:
    """uint8 ``(256, 3)`` RGB lookup table of a colormap: the engine's, else pyqtgraph's.

    Raises:
        ValueError: an unknown colormap name.
    """
    # Imported on first use, not at the top: the engine imports TensorFlow, and the
    # first window must not wait for it (tables are needed only once data arrives).
    from inspector.render import colormaps

    try:
        return colormaps.lookup_table(name)
    except ValueError:
        pass
    try:
        colormap = pg.colormap.get(name)
    except (FileNotFoundError, KeyError):
        colormap = None
    if colormap is None:
        raise ValueError(f"Expected one of the colormaps {COLORMAPS}. Received: {name!r}.")
    table = colormap.getLookupTable(0.0, 1.0, 256, alpha=False)
    table = np.ascontiguousarray(table[:, :3], dtype=np.uint8)
    table.setflags(write=False)
    return table


def colorize(unit: np.ndarray, colormap: str) -> np.ndarray:
    """uint8 RGB ``(..., 3)`` for values in [0, 1] (clipped; NaN shows as 0)."""
    index = np.nan_to_num(np.clip(unit, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return lookup_table(colormap)[index]


def normalise(maps: np.ndarray, per_channel: bool) -> np.ndarray:
    """Scale feature maps ``(H, W, C)`` to [0, 1], per channel or over the whole layer.

    A constant channel (or layer) maps to 0 rather than dividing by zero.
    """
    maps = np.asarray(maps, dtype=np.float32)
    axes = (0, 1) if per_channel else None
    low = maps.min(axis=axes, keepdims=per_channel)
    span = maps.max(axis=axes, keepdims=per_channel) - low
    return (maps - low) / np.where(span > 0, span, 1.0)


def signed_unit(values: np.ndarray) -> np.ndarray:
    """Map signed values to [0, 1] symmetrically: 0 -> 0.5, +-max|v| -> 1 / 0."""
    values = np.asarray(values, dtype=np.float32)
    top = float(np.abs(values).max()) if values.size else 0.0
    return 0.5 + 0.5 * values / top if top > 0 else np.full_like(values, 0.5)


@dataclass(frozen=True)
class MosaicLayout:
    """Where each channel's tile sits in a mosaic image.

    Tile ``k`` (the ``k``-th channel of ``order``) has its top-left pixel at
    ``(row_k * (tile_h + gap), col_k * (tile_w + gap))``, filled row by row.
    """

    tile_h: int
    tile_w: int
    columns: int
    rows: int
    gap: int
    order: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the mosaic in pixels."""
        return (
            self.rows * (self.tile_h + self.gap) - self.gap,
            self.columns * (self.tile_w + self.gap) - self.gap,
        )

    def tile_origin(self, position: int) -> tuple[int, int]:
        """``(top, left)`` pixel of the tile at ``position`` in the order."""
        row, col = divmod(position, self.columns)
        return row * (self.tile_h + self.gap), col * (self.tile_w + self.gap)

    def unit_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        """``(channel, unit_row, unit_col)`` under mosaic point ``(x, y)``, or None on a gap."""
        if x < 0 or y < 0:
            return None
        grid_row, in_row = divmod(int(y), self.tile_h + self.gap)
        grid_col, in_col = divmod(int(x), self.tile_w + self.gap)
        position = grid_row * self.columns + grid_col
        if (
            in_row >= self.tile_h
            or in_col >= self.tile_w
            or grid_col >= self.columns
            or position >= len(self.order)
        ):
            return None
        return self.order[position], in_row, in_col


def mosaic_layout(
    tile_shape: tuple[int, int], order: np.ndarray, columns: int | None = None
) -> MosaicLayout:
    """A near-square grid for ``len(order)`` tiles of ``tile_shape`` ``(h, w)``."""
    count = max(1, len(order))
    tile_h, tile_w = tile_shape
    if columns is None:
        # Square on screen, not in tile count: wide tiles get fewer columns.
        columns = max(1, round(math.sqrt(count * tile_h / tile_w)))
    columns = min(columns, count)
    gap = 1 if max(tile_h, tile_w) > 2 else 0
    rows = math.ceil(count / columns)
    return MosaicLayout(tile_h, tile_w, columns, rows, gap, tuple(int(i) for i in order))


def paint_mosaic(unit_maps: np.ndarray, layout: MosaicLayout, colormap: str) -> np.ndarray:
    """One uint8 RGB image ``(*layout.shape, 3)`` with every channel's tile, colormapped.

    Args:
        unit_maps: ``(H, W, C)`` values in [0, 1].
        layout: from ``mosaic_layout`` with ``tile_shape == (H, W)``.
        colormap: a name from ``COLORMAPS``.
    """
    count, gap = len(layout.order), layout.gap
    th, tw = layout.tile_h + gap, layout.tile_w + gap
    # Every tile with its gap on the bottom and right, then one reshape into the grid.
    tiles = np.empty((layout.rows * layout.columns, th, tw, 3), dtype=np.uint8)
    tiles[:] = GAP_COLOUR
    coloured = colorize(unit_maps[..., list(layout.order)], colormap)  # (H, W, K, 3)
    tiles[:count, : layout.tile_h, : layout.tile_w] = coloured.transpose(2, 0, 1, 3)
    grid = tiles.reshape(layout.rows, layout.columns, th, tw, 3).transpose(0, 2, 1, 3, 4)
    height, width = layout.shape
    return np.ascontiguousarray(
        grid.reshape(layout.rows * th, layout.columns * tw, 3)[:height, :width]
    )


def resize(array: np.ndarray, size: tuple[int, int], smooth: bool = True) -> np.ndarray:
    """Resize a float ``(h, w)`` array to ``size`` ``(H, W)`` (bilinear or nearest)."""
    array = np.asarray(array, dtype=np.float32)
    if array.shape == tuple(size):
        return array
    method = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    picture = Image.fromarray(array, mode="F").resize((size[1], size[0]), method)
    return np.asarray(picture, dtype=np.float32)


def overlay(base: np.ndarray, heat_rgb: np.ndarray, alpha: float) -> np.ndarray:
    """Blend uint8 RGB ``heat_rgb`` over uint8 RGB ``base`` (same ``(H, W, 3)``)."""
    mixed = (1.0 - alpha) * base.astype(np.float32) + alpha * heat_rgb.astype(np.float32)
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def grayscale_rgb(display: np.ndarray) -> np.ndarray:
    """The picture in grey, so a colormapped overlay stands out; uint8 ``(H, W, 3)``."""
    grey = display.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.repeat(grey[..., None], 3, axis=-1).astype(np.uint8)


def image_box(
    layout_widget: pg.GraphicsLayoutWidget, row: int, col: int, title: str = ""
) -> tuple[pg.ViewBox, pg.ImageItem]:
    """Add a titled, aspect-locked, y-down ViewBox holding one ImageItem to a layout."""
    if title:
        layout_widget.addLabel(title, row=row, col=col, size="10pt")
        row += 1
    view = layout_widget.addViewBox(row=row, col=col, lockAspect=True, invertY=True)
    view.setMenuEnabled(False)
    view.setBorder(pg.mkPen(205, 205, 205))  # so white (zero) areas still show their edge
    item = pg.ImageItem(axisOrder="row-major")
    view.addItem(item)
    return view, item


def show_rgb(item: pg.ImageItem, rgb: np.ndarray) -> None:
    """Put a uint8 RGB image in an ImageItem exactly as is (no level scaling)."""
    item.setImage(rgb, autoLevels=False, levels=(0, 255))
