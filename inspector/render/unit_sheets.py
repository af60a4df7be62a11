"""Unit sheets and the hierarchy chart, drawn with Pillow.

A unit sheet shows, for every channel of a layer, its top-k dataset crops (the
receptive-field patch as the model sees it) each followed by the gradient of the
unit on that patch (red: brightening the pixel raises the unit; blue: lowers it),
and, when computed, the channel's feature visualisation LAST: people read
natural examples more reliably than synthetic ones (Borowski et al., "Exemplary
Natural Images Explain CNN Activations Better than State-of-the-Art Feature
Visualization", ICLR 2021), so the examples come first.

The hierarchy chart draws one line per concept group (edge, part, face, none)
across the layers, first to last: the fraction of each layer's units that
Network Dissection labels with that group.

This module takes plain arrays (render never imports ``inspector.units``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from inspector.render.colormaps import apply_colormap
from inspector.render.drawing import BACKGROUND, INK, PAD, draw_text, stack, text_band

GROUP_COLOURS = {
    "edge": (31, 119, 180),
    "part": (255, 127, 14),
    "face": (44, 160, 44),
    "none": (127, 127, 127),
}


def _grey(crop: np.ndarray, value_range: tuple[float, float], cell: int) -> Image.Image:
    low, high = value_range
    unit = np.clip((np.asarray(crop, np.float32) - low) / (high - low), 0, 1)
    rgb = np.repeat(unit, 3, -1) if unit.shape[-1] == 1 else unit[..., :3]
    return _fit(Image.fromarray((rgb * 255 + 0.5).astype(np.uint8)), cell)


def _gradient(grad: np.ndarray, cell: int) -> Image.Image:
    values = np.asarray(grad, np.float32).sum(axis=-1)
    limit = float(np.abs(values).max()) or 1.0
    return _fit(Image.fromarray(apply_colormap(values, "diverging", -limit, limit)), cell)


def _fit(image: Image.Image, cell: int) -> Image.Image:
    """Scale (nearest: pixels stay visible) so the longer side is ``cell``; pad to a square."""
    w, h = image.size
    scale = cell / max(w, h, 1)
    image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.NEAREST)
    canvas = Image.new("RGB", (cell, cell), BACKGROUND)
    canvas.paste(image, ((cell - image.size[0]) // 2, (cell - image.size[1]) // 2))
    return canvas


def channel_row(
    channel: int,
    crops: Sequence[np.ndarray],
    gradients: Sequence[np.ndarray],
    scores: Sequence[float],
    value_range: tuple[float, float],
    *,
    cell: int = 40,
    visualization: np.ndarray | None = None,
    label: str = "",
) -> Image.Image:
    """One channel: ``[label | crop grad | crop grad | ... | visualisation]``.

    Args:
        crops, gradients: ``(h, w, C)`` arrays, best first; crops in ``value_range``.
        scores: each crop's activation, written under it.
        visualization: optional ``(H, W, C)`` optimised image in ``value_range``.
    """
    pieces = [text_band([f"ch {channel}", label], width=70, size=11)]
    for crop, grad, score in zip(crops, gradients, scores, strict=True):
        pair = stack([_grey(crop, value_range, cell), _gradient(grad, cell)], vertical=False)
        pieces.append(stack([pair, text_band([f"{score:.3g}"], width=2 * cell, size=10)]))
    if visualization is not None:
        pieces.append(
            stack([_grey(visualization, value_range, 2 * cell), text_band(["synthetic"], size=10)])
        )
    return stack(pieces, vertical=False, gap=PAD)


def unit_sheet(title: str, rows: Sequence[Image.Image]) -> Image.Image:
    """The layer's title above every channel row."""
    header = text_band(
        [title, "each pair: receptive-field crop, then d(unit)/d(pixel) (red +, blue -)"],
        size=13,
    )
    return stack([header, *rows], gap=PAD)


def hierarchy_chart(
    layers: Sequence[str],
    fractions: Sequence[dict],
    *,
    size: tuple[int, int] = (900, 480),
    title: str = "Units labelled by Network Dissection, first layer to last",
) -> Image.Image:
    """Lines of the fraction of units per group (edge, part, face, none) across ``layers``.

    Args:
        layers: layer names, first to last.
        fractions: one dict per layer, group -> fraction in [0, 1].
    """
    width, height = size
    left, right, top, bottom = 60, 170, 40, 110
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw_text(draw, (left, 10), title, 14)
    plot_w, plot_h = width - left - right, height - top - bottom
    draw.rectangle([left, top, left + plot_w, top + plot_h], outline=INK)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        draw.line([left - 4, y, left, y], fill=INK)
        draw_text(draw, (8, y - 7), f"{tick:.2f}", 11)
    count = len(layers)

    def x_of(i: int) -> float:
        return left + (plot_w * (i + 0.5) / count if count else 0)

    for i, name in enumerate(layers):
        draw.line([x_of(i), top + plot_h, x_of(i), top + plot_h + 4], fill=INK)
        label = Image.new("RGB", (bottom - 12, 14), BACKGROUND)
        draw_text(ImageDraw.Draw(label), (0, 0), name[-18:], 11)
        rotated = label.rotate(90, expand=True)
        image.paste(rotated, (round(x_of(i)) - 7, top + plot_h + 8))
    for row, (group, colour) in enumerate(GROUP_COLOURS.items()):
        points = [
            (x_of(i), top + plot_h * (1 - float(f.get(group, 0.0))))
            for i, f in enumerate(fractions)
        ]
        if len(points) > 1:
            draw.line(points, fill=colour, width=3)
        for x, y in points:
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
        legend_y = top + 10 + row * 22
        draw.line(
            [width - right + 15, legend_y + 7, width - right + 45, legend_y + 7],
            fill=colour,
            width=3,
        )
        draw_text(draw, (width - right + 52, legend_y), group, 13)
    return image
