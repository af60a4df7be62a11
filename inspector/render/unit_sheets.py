"""Unit sheets and the hierarchy chart, drawn with Pillow.

A unit sheet shows, for every channel of a layer, its top-k dataset crops (the
receptive-field patch as the model sees it) each followed by the gradient of the
unit on that patch (red: brightening the pixel raises the unit; blue: lowers it),
and, when computed, the channel's feature visualisation LAST: people read
natural examples more reliably than synthetic ones (Borowski et al., "Exemplary
Natural Images Explain CNN Activations Better than State-of-the-Art Feature
Visualization", ICLR 2021), so the examples come first.

This module takes plain arrays (render never imports ``inspector.units``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from inspector.engine.preprocessing import from_model_input
from inspector.render.colormaps import apply_colormap
from inspector.render.drawing import BACKGROUND, PAD, fit_width, stack, text_band, text_width

MARK_COLOUR = (230, 30, 30)
FRAME_COLOUR = (255, 200, 0)  # the receptive field's box inside a crop with context


def picture(image: np.ndarray, preset: str) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)``: a model input ``(H, W, C)`` shown as the picture it is,
    through the inverse of the model's ``preset`` (grey repeated; BGR turned back)."""
    raw = np.clip(from_model_input(image, preset) + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(raw, 3, -1) if raw.shape[-1] == 1 else raw[..., :3]


def _grey(crop: np.ndarray, preset: str, cell: int, mark=None, frame=None) -> Image.Image:
    """The crop as the picture it was, ``cell`` px; ``mark``: ``(x, y)`` fractions of
    the crop where a small red ring is drawn (the centre of the unit's field);
    ``frame``: the field's box ``(left, top, right, bottom)`` in crop pixels, drawn
    when the crop holds context around it."""
    image = Image.fromarray(picture(crop, preset))
    canvas = _fit(image, cell)
    place = _placement(image.size, cell)
    if _is_inner(frame, image.size):
        _outline(canvas, frame, place)
    if mark is not None:
        scale, offset_x, offset_y = place
        w, h = image.size
        x, y = offset_x + mark[0] * w * scale, offset_y + mark[1] * h * scale
        radius = max(2.0, cell / 14)
        ImageDraw.Draw(canvas).ellipse(
            [x - radius, y - radius, x + radius, y + radius],
            outline=MARK_COLOUR,
            width=max(1, cell // 40),
        )
    return canvas


def _placement(size: tuple[int, int], cell: int) -> tuple[float, int, int]:
    """``(scale, x offset, y offset)`` of a ``size`` picture as ``_fit`` places it:
    scaled so the longer side is ``cell``, centred on the square canvas."""
    w, h = size
    scale = cell / max(w, h, 1)
    return scale, (cell - round(w * scale)) // 2, (cell - round(h * scale)) // 2


def _is_inner(frame, size: tuple[int, int]) -> bool:
    """Whether ``frame`` (left, top, right, bottom) is a box inside a ``size``
    (w, h) crop, rather than none or the whole crop."""
    return frame is not None and tuple(frame) != (0, 0, *size)


def _outline(canvas: Image.Image, box, place) -> None:
    """A yellow rectangle round ``box`` (picture pixels) on a ``_fit`` canvas."""
    scale, offset_x, offset_y = place
    left, top, right, bottom = box
    ImageDraw.Draw(canvas).rectangle(
        [
            offset_x + left * scale,
            offset_y + top * scale,
            offset_x + right * scale - 1,
            offset_y + bottom * scale - 1,
        ],
        outline=FRAME_COLOUR,
        width=max(1, canvas.size[0] // 60),
    )


def _gradient(grad: np.ndarray, cell: int, frame=None) -> Image.Image:
    """d(unit)/d(pixel) summed over colour channels, white at zero, ``cell`` px.

    With a ``frame`` smaller than the crop, only the field inside it is drawn,
    magnified and outlined in the frame's yellow: outside the field the gradient
    is exactly zero, and a 3-px field drawn in its 56-px context was a dot.
    """
    values = np.asarray(grad, np.float32).sum(axis=-1)
    boxed = _is_inner(frame, (values.shape[1], values.shape[0]))
    if boxed:
        left, top, right, bottom = frame
        values = values[top:bottom, left:right]
    limit = float(np.abs(values).max()) if values.size else 0.0
    heat = Image.fromarray(apply_colormap(values, "diverging", -(limit or 1.0), limit or 1.0))
    canvas = _fit(heat, cell)
    if boxed:
        _outline(canvas, (0, 0, *heat.size), _placement(heat.size, cell))
    return canvas


def _fit(image: Image.Image, cell: int) -> Image.Image:
    """Scale (nearest: pixels stay visible) so the longer side is ``cell``; pad to a square."""
    w, h = image.size
    scale, offset_x, offset_y = _placement(image.size, cell)
    image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.NEAREST)
    canvas = Image.new("RGB", (cell, cell), BACKGROUND)
    canvas.paste(image, (offset_x, offset_y))
    return canvas


NEVER_ACTIVE = "never active on this data: no top images"


def _pair(
    crop, grad, caption: str, preset, cell: int, size: int = 10, mark=None, frame=None
) -> Image.Image:
    """A crop beside its gradient, ``caption`` under both; with a ``frame``, the crop
    shows the field's box in its context and the gradient the field alone."""
    pair = stack(
        [_grey(crop, preset, cell, mark, frame), _gradient(grad, cell, frame)], vertical=False
    )
    # The caption shrinks (to 8 px) before it widens the pair: grids count on 2 * cell.
    while size > 8 and text_width(caption, size) + 2 * PAD > 2 * cell:
        size -= 1
    return stack([pair, fit_width(text_band([caption], width=2 * cell, size=size), 2 * cell)])


def crop_grid(
    crops: Sequence[np.ndarray],
    gradients: Sequence[np.ndarray],
    captions: Sequence[str],
    preset: str,
    *,
    cell: int,
    columns: int,
    gap: int = 8,
    marks: Sequence | None = None,
    frames: Sequence | None = None,
) -> Image.Image:
    """The top crops of one channel, ``columns`` pairs to a row (the app's Units view).

    Args:
        crops, gradients: ``(h, w, C)`` arrays, best first; crops are model
            inputs made by ``preset``.
        captions: one line under each pair (its score, and e.g. "face").
        cell: the side of each crop and gradient picture in pixels.
        marks: per crop, ``(x, y)`` fractions of the crop where the unit's field is
            centred (a red ring), or None for none.
        frames: per crop, the field's box in crop pixels (drawn when the crop has
            context around it), or None (``TopCrops.frames``).
    """
    size = max(9, min(13, cell // 5))
    marks = [None] * len(crops) if marks is None else marks
    frames = [None] * len(crops) if frames is None else frames
    pairs = [
        _pair(crop, grad, caption, preset, cell, size, mark, frame)
        for crop, grad, caption, mark, frame in zip(
            crops, gradients, captions, marks, frames, strict=True
        )
    ]
    if not pairs:
        return text_band([NEVER_ACTIVE], size=13)
    rows = [
        stack(pairs[low : low + columns], vertical=False, gap=gap)
        for low in range(0, len(pairs), columns)
    ]
    return stack(rows, gap=gap // 2)


def grid_layout(count: int, width: int, height: int, gap: int = 8) -> tuple[int, int]:
    """``(columns, cell)`` that show ``count`` pairs in ``width`` x ``height`` pixels with
    the largest cell: one row, or wrapped into two or three."""
    best = (count or 1, 1)
    for rows in (1, 2, 3):
        columns = max(1, -(-count // rows))
        rows = -(-count // columns)
        band = 13 + 5 + 2 * PAD  # the caption under a pair, at its largest font
        across = (width - (columns - 1) * gap) // (2 * columns)
        down = (height - (rows - 1) * (gap // 2)) // rows - band
        cell = min(across, down)
        if cell > best[1]:
            best = (columns, cell)
    return best


def channel_row(
    channel: int,
    crops: Sequence[np.ndarray],
    gradients: Sequence[np.ndarray],
    scores: Sequence[float],
    preset: str,
    *,
    cell: int = 40,
    visualization: np.ndarray | None = None,
    label: str = "",
    marks: Sequence | None = None,
    frames: Sequence | None = None,
) -> Image.Image:
    """One channel: ``[label | crop grad | crop grad | ... | visualisation]``.

    Args:
        crops, gradients: ``(h, w, C)`` arrays, best first; crops are model
            inputs made by ``preset``.
        scores: each crop's activation, written under it.
        visualization: optional ``(H, W, C)`` optimised image (a model input).
        marks: per crop, ``(x, y)`` fractions of the crop where the field is centred.
        frames: per crop, the field's box in crop pixels (``TopCrops.frames``).
    """
    pieces = [text_band([f"ch {channel}", label], width=70, size=11)]
    if not len(crops):
        pieces.append(text_band([NEVER_ACTIVE], size=11))
    marks = [None] * len(crops) if marks is None else marks
    frames = [None] * len(crops) if frames is None else frames
    pieces += [
        _pair(crop, grad, f"{score:.3g}", preset, cell, mark=mark, frame=frame)
        for crop, grad, score, mark, frame in zip(
            crops, gradients, scores, marks, frames, strict=True
        )
    ]
    if visualization is not None:
        pieces.append(
            stack([_grey(visualization, preset, 2 * cell), text_band(["synthetic"], size=10)])
        )
    return stack(pieces, vertical=False, gap=PAD)


def unit_sheet(title: str, rows: Sequence[Image.Image]) -> Image.Image:
    """The layer's title above every channel row."""
    header = text_band(
        [
            title,
            "each pair: the crop around the receptive field (yellow box: the field, "
            "red ring: its centre), then d(unit)/d(pixel) in the field (red +, blue -)",
        ],
        size=13,
    )
    return stack([header, *rows], gap=PAD)


def exemplar_sheet(
    title: str,
    rows: Sequence[tuple[str, Sequence, Sequence, Sequence[str], Sequence, Sequence]],
    preset: str,
    cell: int = 48,
) -> Image.Image:
    """Several units, one row each: a line saying what the unit is, then its top crops.

    Args:
        title: the sheet's heading.
        rows: per unit ``(words, crops, gradients, captions, marks, frames)`` as
            ``crop_grid`` takes them (``marks``: the centre of the unit's field in
            each crop; ``frames``: its box).
        preset: the model's preprocessing preset the crops went through.
    """
    pieces = [
        text_band([title, "yellow box: the unit's receptive field; red ring: its centre"], size=13)
    ]
    for words, crops, gradients, captions, marks, frames in rows:
        grid = crop_grid(
            crops,
            gradients,
            captions,
            preset,
            cell=cell,
            columns=max(1, len(crops)),
            marks=marks,
            frames=frames,
        )
        pieces.append(stack([text_band([words], size=12), grid]))
    return stack(pieces, gap=2 * PAD)
