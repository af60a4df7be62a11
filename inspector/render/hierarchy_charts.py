"""The two hierarchy charts, first layer to last, drawn with Pillow.

* ``detector_chart``: the headline. Per group (edge, part, face), the fraction of
  each layer's units that are detectors by the selectivity measures, the model's
  line solid and its random-init copies' dashed (the control every claim is held
  against), with the fixed verdict written under the plot. A second model can be
  overlaid (its lines dotted), e.g. the face detector beside the recogniser.
* ``label_chart``: the second view. Per group (edge, part, face, none), the
  fraction of units that Network Dissection labels with that group.

Layer names are written whole, turned on their side; a name too long for the
margin loses its middle, never its end, so ``block_12_depthwise`` and
``block_13_depthwise`` stay apart. Plain numbers in, a picture out (render never
imports ``inspector.units``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from inspector.render.drawing import BACKGROUND, INK, draw_text, fit_text, text_width

GROUP_COLOURS = {
    "edge": (31, 119, 180),
    "part": (255, 127, 14),
    "face": (44, 160, 44),
    "none": (127, 127, 127),
}
LABEL_SIZE = 11
MAX_LABEL = 170  # px of the bottom margin a layer name may take
STYLES = ("solid", "dashed", "dotted", "dashdot")


@dataclass(frozen=True)
class Series:
    """One set of lines: ``fractions`` per layer (group -> fraction), drawn in ``style``
    (one of ``STYLES``) and named ``label`` in the legend."""

    label: str
    fractions: Sequence[dict]
    style: str = "solid"


def _dashes(draw, points, colour, style: str, width: int) -> None:
    if style == "solid":
        draw.line(points, fill=colour, width=width)
        return
    on, off = {"dashed": (9, 6), "dotted": (3, 4), "dashdot": (9, 4)}[style]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1e-9)
        t = 0.0
        while t < length:
            end = min(t + on, length)
            draw.line(
                [
                    (x0 + (x1 - x0) * t / length, y0 + (y1 - y0) * t / length),
                    (x0 + (x1 - x0) * end / length, y0 + (y1 - y0) * end / length),
                ],
                fill=colour,
                width=width,
            )
            t = end + off


class _Axes:
    """The frame, the y ticks and the turned layer names of one chart."""

    def __init__(self, layers, width: int, plot_h: int, title: str, legend: int, top: float = 1.0):
        self.layers, self.scale = list(layers), top
        longest = max((text_width(n, LABEL_SIZE) for n in self.layers), default=0)
        self.label_h = min(longest, MAX_LABEL) + 6
        self.left, self.top, self.right = 60, 40, legend
        self.plot_w, self.plot_h = width - self.left - self.right, plot_h
        self.width = width
        self.height = self.top + plot_h + 8 + self.label_h + 8
        self.image = Image.new("RGB", (width, self.height), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        draw_text(self.draw, (self.left, 10), title, 14)
        self._frame()

    def x(self, i: int) -> float:
        return self.left + self.plot_w * (i + 0.5) / max(len(self.layers), 1)

    def y(self, value: float) -> float:
        return self.top + self.plot_h * (1 - float(value) / self.scale)

    def _frame(self) -> None:
        d, left, top = self.draw, self.left, self.top
        d.rectangle([left, top, left + self.plot_w, top + self.plot_h], outline=INK)
        # Round steps (5, 10 or 25 %) that give at most six ticks, as percentages.
        step = next(s for s in (0.05, 0.1, 0.25) if self.scale / s <= 5 + 1e-9)
        for tick in np.arange(0.0, self.scale + 1e-9, step):
            y = self.y(tick)
            d.line([left - 4, y, left, y], fill=INK)
            draw_text(d, (8, y - 7), f"{tick:.0%}", LABEL_SIZE)
        for i, name in enumerate(self.layers):
            x = self.x(i)
            d.line([x, top + self.plot_h, x, top + self.plot_h + 4], fill=INK)
            text = fit_text(name, MAX_LABEL, LABEL_SIZE)
            label = Image.new("RGB", (text_width(text, LABEL_SIZE) + 2, 14), BACKGROUND)
            draw_text(ImageDraw.Draw(label), (0, 0), text, LABEL_SIZE)
            self.image.paste(label.rotate(90, expand=True), (round(x) - 7, top + self.plot_h + 8))

    def lines(self, fractions: Sequence[dict], group: str, colour, style: str) -> None:
        """One group's line; a layer whose dict lacks ``group`` (a second model without
        that layer) breaks the line there instead of reading as zero."""
        points = [
            (self.x(i), self.y(f[group])) if group in f else None for i, f in enumerate(fractions)
        ]
        for present, run in itertools.groupby(points, key=lambda p: p is not None):
            run = list(run)
            if present and len(run) > 1:
                _dashes(self.draw, run, colour, style, 3 if style == "solid" else 2)
        for x, y in (p for p in points if p is not None):
            r = 4 if style == "solid" else 3
            shape = self.draw.ellipse if style in ("solid", "dashed") else self.draw.rectangle
            shape(
                [x - r, y - r, x + r, y + r],
                fill=colour if style == "solid" else None,
                outline=colour,
            )

    def legend(self, row: int, colour, style: str, text: str) -> None:
        x, y = self.width - self.right + 15, self.top + 10 + row * 22
        _dashes(self.draw, [(x, y + 7), (x + 30, y + 7)], colour, style, 3)
        draw_text(self.draw, (x + 37, y), text, 12)


def detector_chart(
    layers: Sequence[str],
    series: Sequence[Series],
    verdict: Sequence[str] = (),
    *,
    width: int = 1000,
    plot_h: int = 330,
    title: str = "Detectors per layer (trained solid, random-init copies dashed)",
) -> Image.Image:
    """Edge, part and face detector fractions across ``layers``, with the verdict under it.

    Args:
        layers: layer names, first to last.
        series: the lines to draw, e.g. the model (solid) and its random copies (dashed).
        verdict: lines of text written under the chart.
    """
    # The axis ends at the next quarter above the highest line, so small fractions
    # (a tenth of a layer) are not flattened onto the floor.
    highest = max(
        (f.get(g, 0.0) for one in series for f in one.fractions for g in GROUP_COLOURS), default=0.0
    )
    axes = _Axes(layers, width, plot_h, title, legend=230, top=max(0.25, np.ceil(highest * 4) / 4))
    row = 0
    for group in ("edge", "part", "face"):
        colour = GROUP_COLOURS[group]
        for one in series:
            axes.lines(one.fractions, group, colour, one.style)
            axes.legend(row, colour, one.style, f"{group}: {one.label}")
            row += 1
    if not verdict:
        return axes.image
    band = Image.new("RGB", (width, 20 * len(verdict) + 12), BACKGROUND)
    draw = ImageDraw.Draw(band)
    for i, line in enumerate(verdict):
        draw_text(draw, (axes.left, 6 + 20 * i), fit_text(line, width - axes.left - 10, 13), 13)
    out = Image.new("RGB", (width, axes.height + band.size[1]), BACKGROUND)
    out.paste(axes.image, (0, 0))
    out.paste(band, (0, axes.height))
    return out


def label_chart(
    layers: Sequence[str],
    fractions: Sequence[dict],
    *,
    width: int = 900,
    plot_h: int = 330,
    title: str = "Units labelled by Network Dissection, first layer to last",
) -> Image.Image:
    """Lines of the fraction of units per label group (edge, part, face, none)."""
    axes = _Axes(layers, width, plot_h, title, legend=170)
    for row, (group, colour) in enumerate(GROUP_COLOURS.items()):
        axes.lines(fractions, group, colour, "solid")
        axes.legend(row, colour, "solid", group)
    return axes.image
