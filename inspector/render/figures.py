"""Qt-free figures drawn with Pillow: channel grids, gradient grids, overlays.

The CLI export, the one-page report and the GUI's "export view" all draw with
these functions, so a saved figure looks the same wherever it came from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from inspector.engine.inspection import LayerRecord
from inspector.render.colormaps import apply_colormap, canonical_name, colorize
from inspector.render.drawing import BACKGROUND, PAD, draw_text, stack, text_band, text_width

GRID_WIDTH = 1200  # pixels; the default cell size keeps a grid about this wide


def upsample(values: np.ndarray, size: tuple[int, int], *, smooth: bool = False) -> np.ndarray:
    """Resize the first two axes of ``values`` to ``size = (H, W)`` for display.

    Args:
        values: ``(h, w)`` or ``(h, w, C)`` array, any dtype.
        size: the wanted ``(H, W)``.
        smooth: bilinear interpolation (for heatmaps, 2-D only); otherwise each
            unit becomes a block of equal pixels, which shows the true resolution.
            Shrinking first averages blocks of ``k x k`` units so that no unit is
            silently dropped.

    Returns:
        Array of shape ``(H, W)`` or ``(H, W, C)``; float32 when ``smooth``.
    """
    height, width = size
    if smooth:
        image = Image.fromarray(np.asarray(values, dtype=np.float32))
        return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR))
    h, w = values.shape[:2]
    k = max(1, min(h // height, w // width))
    if k > 1:
        cropped = values[: h - h % k, : w - w % k].astype(np.float32)
        values = cropped.reshape(h // k, k, w // k, k, *values.shape[2:]).mean(axis=(1, 3))
        h, w = values.shape[:2]
    rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.intp), h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.intp), w - 1)
    return values[rows][:, cols]


def as_maps(array: np.ndarray) -> np.ndarray:
    """View any activation as ``(H, W, C)`` maps: ``(C,)`` -> ``(1, 1, C)``, ``(L, C)`` ->
    ``(1, L, C)``; higher ranks are flattened into the first axis. The app's views
    and the export both read maps through here, so they show the same grid."""
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 0:
        return array.reshape(1, 1, 1)
    if array.ndim == 1:
        return array.reshape(1, 1, -1)
    if array.ndim == 2:
        return array[None]
    return array.reshape(-1, array.shape[-2], array.shape[-1])


def channel_order(activation: np.ndarray, by: str = "mean") -> np.ndarray:
    """Channel indices from strongest to weakest (or as they are).

    Args:
        activation: ``(..., C)``, e.g. ``(H, W, C)``.
        by: ``"mean"`` or ``"max"`` of each channel over its units; ``"index"``
            keeps the model's order.

    Returns:
        int array ``(C,)``; ties keep ascending index order.
    """
    if by not in ("mean", "max", "index"):
        raise ValueError(f"Expected by='mean', 'max' or 'index'. Received: by={by!r}.")
    maps = as_maps(activation)
    if by == "index":
        return np.arange(maps.shape[-1])
    flat = maps.reshape(-1, maps.shape[-1])
    strength = flat.mean(axis=0) if by == "mean" else flat.max(axis=0)
    return np.argsort(-strength, kind="stable")


def scale_maps(
    maps: np.ndarray, normalise: str, signed: bool
) -> tuple[np.ndarray, str, tuple[str, str]]:
    """Scale maps into [0, 1] for colouring, and describe the scale.

    Args:
        maps: float ``(H, W, C)``.
        normalise: ``"channel"`` (each map its own range) or ``"layer"`` (one range);
            maps of a single unit are always scaled by layer.
        signed: scale ``[-m, m]`` to ``[0, 1]`` (zero at 0.5) with ``m`` the largest
            absolute value, instead of ``[min, max]``.

    Returns:
        ``(unit, note, ends)``: float32 ``(H, W, C)`` in [0, 1], a one-line
        description of the scale, and labels for the two ends of a colour bar.
    """
    if normalise not in ("channel", "layer"):
        raise ValueError(
            f"Expected normalise='channel' or 'layer'. Received: normalise={normalise!r}."
        )
    per_channel = normalise == "channel" and maps.shape[0] * maps.shape[1] > 1
    axes = (0, 1) if per_channel else None
    if signed:
        # Symmetric range so that white always means zero.
        reach = np.abs(maps).max(axis=axes, keepdims=True)
        unit = 0.5 + 0.5 * np.divide(maps, reach, out=np.zeros_like(maps), where=reach > 0)
        low, high = (-1.0, 1.0) if per_channel else (-float(reach.max()), float(reach.max()))
    else:
        low_v = maps.min(axis=axes, keepdims=True)
        span = maps.max(axis=axes, keepdims=True) - low_v
        unit = np.divide(maps - low_v, span, out=np.zeros_like(maps), where=span > 0)
        low, high = (0.0, 1.0) if per_channel else (float(maps.min()), float(maps.max()))
    if per_channel:
        note = "each cell scaled to ±its max |value|" if signed else "each cell scaled min..max"
        ends = ("-max |value|", "+max |value|") if signed else ("cell min", "cell max")
    else:
        note = f"one scale for the layer: {low:.3g} .. {high:.3g}"
        ends = (f"{low:.3g}", f"{high:.3g}")
    return unit.astype(np.float32), note, ends


def default_cell(count: int, map_hw: tuple[int, int]) -> int:
    """A cell size (pixels, longer side) that keeps the grid about ``GRID_WIDTH`` wide."""
    if map_hw == (1, 1):
        return 28
    columns = math.ceil(math.sqrt(count))
    return int(np.clip(GRID_WIDTH // columns - PAD, 32, 128))


def _grid(
    unit: np.ndarray,
    channels: np.ndarray,
    colormap: str,
    title_lines: list[str],
    cell: int | None,
    ends: tuple[str, str],
) -> Image.Image:
    """Lay out the chosen channels of ``unit`` ``(H, W, C)`` in [0, 1] as labelled cells."""
    h, w = unit.shape[:2]
    cell = cell or default_cell(len(channels), (h, w))
    scale = cell / max(h, w)
    cell_h, cell_w = max(1, round(h * scale)), max(1, round(w * scale))
    label_size = 11 if cell_w >= 36 else 9
    label_h = label_size + 3
    columns = max(1, math.ceil(math.sqrt(len(channels) * cell_h / cell_w)))
    rows = max(1, math.ceil(len(channels) / columns))
    pitch_x, pitch_y = max(cell_w, 4 * label_size) + PAD, cell_h + label_h + PAD
    # Colour only the cells (not the white gaps): (cell_h, cell_w, n, 3).
    cells = colorize(upsample(unit[..., channels], (cell_h, cell_w)), colormap)
    canvas = np.full((rows * pitch_y + PAD, columns * pitch_x + PAD, 3), BACKGROUND, np.uint8)
    for i in range(len(channels)):
        top = (i // columns) * pitch_y + label_h + PAD
        left = (i % columns) * pitch_x + PAD
        canvas[top : top + cell_h, left : left + cell_w] = cells[:, :, i]
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    for i, channel in enumerate(channels):
        xy = ((i % columns) * pitch_x + PAD, (i // columns) * pitch_y + PAD)
        draw_text(draw, xy, str(int(channel)), label_size)
    header = text_band(title_lines, image.size[0])
    width = max(header.size[0], image.size[0])
    return stack([header, image, colour_bar(colormap, width, ends)])


def colour_bar(
    colormap: str, width: int, ends: tuple[str, str] = ("", ""), height: int = 10
) -> Image.Image:
    """A horizontal strip of the colormap, low end left, with the ends labelled below."""
    ramp = np.tile(np.linspace(0.0, 1.0, max(2, width - 2 * PAD)), (height, 1))
    bar = Image.new("RGB", (width, height + 3 * PAD + 12), BACKGROUND)
    bar.paste(Image.fromarray(colorize(ramp, colormap)), (PAD, PAD))
    draw = ImageDraw.Draw(bar)
    draw_text(draw, (PAD, height + 2 * PAD), ends[0], 11)
    draw_text(draw, (width - PAD - text_width(ends[1], 11), height + 2 * PAD), ends[1], 11)
    return bar


def _record_grid(
    record: LayerRecord,
    values: np.ndarray,
    what: str,
    *,
    signed: bool,
    normalise: str,
    colormap: str,
    order: Sequence[int] | str | None,
    max_channels: int | None,
    cell: int | None,
) -> Image.Image:
    maps = as_maps(values)
    count = maps.shape[-1]
    ordered = "" if order is None else " in the order given"
    if isinstance(order, str):
        ordered = f" by {order} activation, strongest first"
        order = channel_order(record.activation, by=order)
    channels = np.arange(count) if order is None else np.asarray(order, dtype=np.intp)
    if channels.ndim != 1 or (channels.size and not 0 <= channels.min() <= channels.max() < count):
        raise ValueError(f"Expected channel indices in 0..{count - 1}. Received: order={order!r}.")
    if max_channels is not None:
        channels = channels[:max_channels]
    unit, note, ends = scale_maps(maps, normalise, signed)
    shown = f"all {count}" if len(channels) == count else f"{len(channels)} of {count}"
    kind = "units" if maps.shape[:2] == (1, 1) else "channels"
    title = [
        f"{record.name}  ·  {record.class_name}  ·  output {tuple(record.output_shape)}",
        f"{what}: {shown} {kind}{ordered}",
        f"{note}; colormap {canonical_name(colormap)}",
    ]
    return _grid(unit, channels, colormap, title, cell, ends)


def feature_map_grid(
    record: LayerRecord,
    *,
    normalise: str = "channel",
    colormap: str = "viridis",
    order: Sequence[int] | str | None = None,
    max_channels: int | None = None,
    cell: int | None = None,
) -> Image.Image:
    """A labelled grid of every channel of a layer's activation.

    Args:
        record: the layer; ``(H, W, C)`` activations give one map per channel,
            ``(C,)`` (dense layers) one coloured square per unit.
        normalise: ``"channel"`` scales each map to its own min..max;
            ``"layer"`` uses one range for all (maps of one unit always do).
        colormap: a name from ``inspector.render.colormaps``.
        order: channel indices in display order, or ``"mean"``/``"max"`` to sort
            by the activation's ``channel_order`` (strongest first).
        max_channels: show only the first this many of ``order``.
        cell: cell size in pixels (longer side); default keeps the grid ~1200 wide.

    Returns:
        RGB image: title (name, class, shape, scale), the cells each labelled
        with its channel index, and a colour bar.
    """
    return _record_grid(
        record,
        record.activation,
        "activation",
        signed=False,
        normalise=normalise,
        colormap=colormap,
        order=order,
        max_channels=max_channels,
        cell=cell,
    )


def gradient_grid(
    record: LayerRecord,
    *,
    normalise: str = "channel",
    colormap: str = "diverging",
    order: Sequence[int] | str | None = None,
    max_channels: int | None = None,
    cell: int | None = None,
) -> Image.Image:
    """Like ``feature_map_grid`` for d(score)/d(activation), on a symmetric range.

    White is zero, the high end of ``colormap`` (red) means raising that unit
    raises the target score. Arguments as in ``feature_map_grid``.
    """
    return _record_grid(
        record,
        record.gradient,
        "gradient of the target score",
        signed=True,
        normalise=normalise,
        colormap=colormap,
        order=order,
        max_channels=max_channels,
        cell=cell,
    )


def heatmap_colours(heatmap: np.ndarray, colormap: str, signed: bool) -> np.ndarray:
    """uint8 ``(H, W, 3)`` for a heatmap: symmetric ±max|h| if signed, else min(0,h)..max."""
    heatmap = np.asarray(heatmap, dtype=np.float32)
    if signed:
        reach = float(np.abs(heatmap).max())
        return apply_colormap(heatmap, colormap, -reach, reach)
    return apply_colormap(heatmap, colormap, min(0.0, float(heatmap.min())), float(heatmap.max()))


def attribution_overlay(
    display_image: np.ndarray,
    heatmap: np.ndarray,
    *,
    alpha: float = 0.5,
    colormap: str | None = None,
    signed: bool = False,
    min_side: int = 256,
) -> Image.Image:
    """Blend a coloured heatmap over the input picture.

    Args:
        display_image: uint8 RGB ``(H, W, 3)``.
        heatmap: float ``(h, w)``; resized bilinearly to ``(H, W)`` if needed.
        alpha: heatmap opacity in [0, 1].
        colormap: default ``"diverging"`` when ``signed`` else ``"magma"``.
        signed: centre the colours on zero (blue negative, red positive).
        min_side: small inputs (a 32x32 face) are enlarged by a whole factor until
            their shorter side reaches this, so the overlay can be seen at all.

    Returns:
        RGB image ``(k*W, k*H)`` = ``(1 - alpha) * picture + alpha * colours``.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"Expected alpha in [0, 1]. Received: alpha={alpha}.")
    picture = np.asarray(display_image, dtype=np.float32)
    factor = max(1, -(-min_side // min(picture.shape[:2])))
    if factor > 1:
        picture = np.repeat(np.repeat(picture, factor, axis=0), factor, axis=1)
    heatmap = np.asarray(heatmap, dtype=np.float32)
    if heatmap.shape != picture.shape[:2]:
        heatmap = upsample(heatmap, picture.shape[:2], smooth=True)
    colormap = colormap or ("diverging" if signed else "magma")
    colours = heatmap_colours(heatmap, colormap, signed).astype(np.float32)
    blended = (1.0 - alpha) * picture + alpha * colours
    return Image.fromarray(np.clip(blended + 0.5, 0, 255).astype(np.uint8))
