"""Pillow figures for the trust metrics: the curves, and the randomisation grid.

``curves_figure`` draws deletion and insertion curves side by side, as in
Petsiuk et al. (RISE, BMVC 2018, Fig. 5). ``randomization_figure`` draws the
maps after each cascade step in a grid of methods x steps, as in Adebayo et al.
(NeurIPS 2018, Fig. 2). Both take plain arrays, so ``render`` needs nothing from
``inspector.trust``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from inspector.render.colormaps import apply_colormap
from inspector.render.drawing import BACKGROUND, INK, PAD, draw_text, fit_text, stack, text_band
from inspector.render.figures import upsample

# Colour-blind-safe line colours (Okabe & Ito, 2008); the controls are grey.
PALETTE = (
    (0, 114, 178),
    (213, 94, 0),
    (0, 158, 115),
    (204, 121, 167),
    (230, 159, 0),
    (86, 180, 233),
    (120, 60, 20),
    (0, 0, 0),
)
CONTROL_COLOURS = {"random": (150, 150, 150), "centre": (90, 90, 90)}


@dataclass(frozen=True)
class CurveLine:
    """One line of a curve panel.

    Attributes:
        label: legend text, e.g. ``"gradcam"``.
        fractions: ``(n,)`` x values in [0, 1].
        probabilities: ``(n,)`` y values in [0, 1].
        auc: the area shown in the legend.
        control: True draws it dashed and grey.
    """

    label: str
    fractions: np.ndarray
    probabilities: np.ndarray
    auc: float
    control: bool = False


def _dashed(draw: ImageDraw.ImageDraw, points: list, fill, width: int, dash: int = 6) -> None:
    """Draw a polyline dashed: on for ``dash`` pixels of arc length, off for the next."""
    travelled = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = float(np.hypot(x1 - x0, y1 - y0))
        pieces = max(1, math.ceil(length))  # about one pixel each: no float drift
        for i in range(pieces):
            if int((travelled + (i + 0.5) / pieces * length) // dash) % 2:
                continue
            a, b = i / pieces, (i + 1) / pieces
            start = (x0 + a * (x1 - x0), y0 + a * (y1 - y0))
            draw.line([start, (x0 + b * (x1 - x0), y0 + b * (y1 - y0))], fill=fill, width=width)
        travelled += length


def line_style(index: int) -> tuple[tuple[int, int, int], bool]:
    """``(colour, dotted)`` of the ``index``-th method's line: the palette's colours,
    then the same colours dotted, so 16 methods never share a look (the controls are
    grey and dashed)."""
    return PALETTE[index % len(PALETTE)], index >= len(PALETTE)


def _styles(lines: Sequence[CurveLine]) -> list[tuple[tuple[int, int, int], int | None]]:
    """``(colour, dash length or None)`` of every line, in order."""
    out, method = [], 0
    for line in lines:
        if line.control:
            out.append((CONTROL_COLOURS.get(line.label, (128, 128, 128)), 6))
        else:
            colour, dotted = line_style(method)
            out.append((colour, 2 if dotted else None))
            method += 1
    return out


def curve_panel(
    title: str, lines: Sequence[CurveLine], size: tuple[int, int] = (420, 300)
) -> Image.Image:
    """One panel: x 0..1, y 0..1 (or the lines' own range when a raw output leaves it),
    every line, and a legend with the AUCs."""
    width, height = size
    left, right, top, bottom = 44, 12, 28, 36
    panel = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(panel)
    draw_text(draw, (left, 6), title, 14)
    values = np.concatenate([np.asarray(line.probabilities, float) for line in lines] or [[0.0]])
    low, high = min(0.0, float(values.min())), max(1.0, float(values.max()))

    def at(x: float, y: float) -> tuple[float, float]:
        return (
            left + x * (width - left - right),
            height - bottom - (y - low) / (high - low) * (height - top - bottom),
        )

    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, _ = at(tick, low)
        level = low + tick * (high - low)
        draw.line([at(0.0, level), at(1.0, level)], fill=(232, 232, 232))
        draw_text(draw, (int(x) - 10, height - bottom + 4), f"{tick:g}", 11)
        draw_text(draw, (4, int(at(0.0, level)[1]) - 7), f"{level:.3g}", 11)
    draw.rectangle([at(0.0, high), at(1.0, low)], outline=INK)
    draw_text(draw, (width // 2 - 60, height - 16), "fraction of pixels changed", 11)
    for line, (colour, dash) in zip(lines, _styles(lines), strict=True):
        points = [
            at(float(x), float(y)) for x, y in zip(line.fractions, line.probabilities, strict=True)
        ]
        if dash is not None:
            _dashed(draw, points, colour, 2, dash=dash)
        else:
            draw.line(points, fill=colour, width=2)
    return stack([panel, _legend(lines, width)])


def _legend(lines: Sequence[CurveLine], width: int) -> Image.Image:
    row = 18
    legend = Image.new("RGB", (width, row * len(lines) + 2 * PAD), BACKGROUND)
    draw = ImageDraw.Draw(legend)
    for i, (line, (colour, dash)) in enumerate(zip(lines, _styles(lines), strict=True)):
        y = PAD + i * row + 8
        if dash is not None:
            _dashed(draw, [(PAD, y), (PAD + 28, y)], colour, 2, dash=min(dash, 4))
        else:
            draw.line([(PAD, y), (PAD + 28, y)], fill=colour, width=2)
        name = f"{line.label} (control)" if line.control else line.label
        draw_text(
            draw, (PAD + 36, y - 8), fit_text(f"{name}: AUC {line.auc:.3f}", width - 48, 12), 12
        )
    return legend


def curves_figure(
    deletion: Sequence[CurveLine],
    insertion: Sequence[CurveLine],
    note: str = "",
    score: str = "p(target)",
) -> Image.Image:
    """Deletion (lower area is better) beside insertion (higher is better).

    Args:
        score: what the curves track, for the titles: ``"p(target)"``, or ``"raw
            output"`` for a linear output.
    """
    panels = stack(
        [
            curve_panel(f"Deletion: {score}, lower AUC is better", deletion),
            curve_panel(f"Insertion: {score}, higher AUC is better", insertion),
        ],
        vertical=False,
        gap=12,
    )
    return stack([text_band([note], panels.size[0]), panels]) if note else panels


def _map_tile(heatmap: np.ndarray, side: int) -> Image.Image:
    magnitude = np.abs(np.asarray(heatmap, np.float32))
    colours = apply_colormap(
        upsample(magnitude, (side, side), smooth=True), "magma", 0.0, float(magnitude.max())
    )
    return Image.fromarray(colours)


def randomization_figure(
    rows: Sequence[tuple[str, np.ndarray, str]],
    step_labels: Sequence[str],
    picture: np.ndarray | None = None,
    cell: int = 72,
) -> Image.Image:
    """The grid of methods x cascade steps: each cell ``|E|`` scaled to its own max.

    Args:
        rows: per method ``(name, maps, verdict)``; ``maps`` ``(n + 1, H, W)`` holds
            the trained model's map then the map after each of the ``n`` steps.
        step_labels: ``n`` labels: the layer (or block) randomised at each step.
        picture: optional uint8 ``(H, W, 3)`` input shown at the top left.
        cell: side of each map tile in pixels.

    Returns:
        An RGB image; the first column is the trained model, then one column a step.
    """
    name_width = 150
    header_height = 44
    columns = ["trained", *step_labels]
    width = name_width + len(columns) * (cell + 2)
    header = Image.new("RGB", (width, header_height), BACKGROUND)
    draw = ImageDraw.Draw(header)
    if picture is not None:
        small = Image.fromarray(np.asarray(picture, np.uint8)).resize((header_height - 4,) * 2)
        header.paste(small, (2, 2))
    for j, label in enumerate(columns):
        x = name_width + j * (cell + 2)
        draw_text(draw, (x, 4), fit_text(label, cell, 10), 10)
        if j:
            draw_text(draw, (x, 20), f"+ step {j}", 10)
    bands = [header]
    for name, maps, verdict in rows:
        band = Image.new("RGB", (width, cell + 2), BACKGROUND)
        line = ImageDraw.Draw(band)
        draw_text(line, (PAD, cell // 2 - 16), fit_text(name, name_width - 8, 12), 12)
        draw_text(line, (PAD, cell // 2 + 2), fit_text(verdict, name_width - 8, 11), 11)
        for j, heatmap in enumerate(maps):
            band.paste(_map_tile(heatmap, cell), (name_width + j * (cell + 2), 1))
        bands.append(band)
    note = (
        "Cascading randomisation (Adebayo et al., 2018): weights re-initialised from the "
        "top layer down; |map| per cell."
        if rows
        else "Cascading randomisation: not run (--randomization none)."
    )
    return stack([text_band([fit_text(note, width - 2 * PAD, 11)], width, 11), *bands])
