"""A one-page report of one inspection: image, prediction, hierarchy, attributions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from inspector.attribution import Attribution
from inspector.engine.atomic_files import write_file
from inspector.engine.errors import ExportError
from inspector.engine.inspection import Inspection, LayerRecord
from inspector.render.colormaps import colorize
from inspector.render.drawing import (
    BACKGROUND,
    draw_text,
    fit_text,
    fit_width,
    split_text,
    stack,
    text_band,
    wrap,
)
from inspector.render.figures import attribution_overlay, channel_order, scale_maps, upsample
from inspector.render.probability import format_probability

PAGE_WIDTH = 1240  # pixels: A4 width at 150 dpi
TOP_LABELS = 10
_BAR_COLOUR = (70, 110, 170)
_TARGET_COLOUR = (200, 70, 50)


def hierarchy_layers(inspection: Inspection) -> tuple[LayerRecord, ...]:
    """The layers of the edges -> parts -> objects picture, first to last.

    Convolutional layers with maps larger than one unit; when a model has none,
    every spatial layer.
    """
    spatial = [r for r in inspection.spatial_layers if r.output_shape[0] * r.output_shape[1] > 1]
    convs = [r for r in spatial if "Conv" in r.class_name]
    return tuple(convs or spatial)


def _title(text: str) -> Image.Image:
    return text_band([text], PAGE_WIDTH, size=17)


def _input_picture(inspection: Inspection, side: int = 256) -> Image.Image:
    picture = inspection.display_image
    scale = side / max(picture.shape[:2])
    size = (max(1, round(picture.shape[0] * scale)), max(1, round(picture.shape[1] * scale)))
    return Image.fromarray(upsample(picture, size))


def prediction_panel(inspection: Inspection, width: int) -> Image.Image:
    """Probability bars for the most likely labels; the target's bar in red."""
    order = np.argsort(-inspection.probabilities, kind="stable")[:TOP_LABELS]
    rule = inspection.probability_rule
    shown = len(order)
    said = "unknown person, nearest " if inspection.unknown else ""
    lines = [
        f"Predicted: {said}{inspection.predicted_label}  "
        f"({format_probability(inspection.probabilities[inspection.predicted], rule)})",
        f"Target: {inspection.target_label}  ·  score = {inspection.score_kind} "
        f"{inspection.score:.4g}  (gradients are of this score)",
        f"Output: {inspection.output_name}  ·  "
        + (
            f"top {shown} of {len(inspection.labels)} labels"
            if shown < len(inspection.labels)
            else "probability per label"
        ),
    ]
    header = text_band(lines, width, size=14)
    row, label_w = 22, min(260, width // 3)
    bars = Image.new("RGB", (width, row * shown + 8), BACKGROUND)
    draw = ImageDraw.Draw(bars)
    bar_room = width - label_w - 90
    for i, index in enumerate(order):
        top = 4 + i * row
        probability = float(inspection.probabilities[index])
        draw_text(draw, (4, top + 3), fit_text(inspection.labels[index], label_w - 8, 13))
        colour = _TARGET_COLOUR if index == inspection.target else _BAR_COLOUR
        right = label_w + max(1, round(probability * bar_room))
        draw.rectangle((label_w, top + 3, right, top + row - 3), fill=colour)
        draw_text(draw, (right + 6, top + 3), format_probability(probability, rule))
    return stack([header, bars])


def _layer_column(record: LayerRecord, channels: int, cell: int) -> Image.Image:
    """A layer's name and shape over its ``channels`` strongest maps (by mean)."""
    strongest = channel_order(record.activation, by="mean")[:channels]
    unit, _, _ = scale_maps(record.activation[..., strongest], "channel", signed=False)
    h, w = unit.shape[:2]
    scale = cell / max(h, w)
    cells = upsample(unit, (max(1, round(h * scale)), max(1, round(w * scale))))
    column_w = cell + 8
    shape = "x".join(str(v) for v in record.output_shape)
    name = split_text(record.name, column_w - 8, 10, lines=2)
    label = stack([text_band(name, 0, 10), text_band([fit_text(shape, column_w - 8, 9)], 0, 9)])
    label = fit_width(label, column_w)
    tiles = []
    for i, channel in enumerate(strongest):
        tile = Image.new("RGB", (column_w, cells.shape[0] + 16), BACKGROUND)
        tile.paste(Image.fromarray(colorize(cells[..., i], "viridis")), (4, 14))
        draw_text(ImageDraw.Draw(tile), (4, 1), f"#{int(channel)}", 10)
        tiles.append(tile)
    return stack([label, *tiles])


def hierarchy_panel(inspection: Inspection, channels: int, cell: int | None = None) -> Image.Image:
    """Every hierarchy layer, first to last, each with its strongest channels.

    ``cell`` (pixels) defaults to filling one row for a few layers, and to 56
    for many layers, which then wrap onto further rows.
    """
    layers = hierarchy_layers(inspection)
    if not layers:
        return text_band(["(this model has no spatial layers)"], PAGE_WIDTH)
    cell = cell or int(np.clip(PAGE_WIDTH // len(layers) - 14, 56, 120))
    columns = [_layer_column(record, channels, cell) for record in layers]
    return wrap(columns, PAGE_WIDTH - 8)


def _overlay_tile(inspection: Inspection, attribution: Attribution, side: int) -> Image.Image:
    overlay = attribution_overlay(
        inspection.display_image, attribution.heatmap, signed=attribution.signed
    )
    scale = side / max(overlay.size)
    overlay = overlay.resize(
        (max(1, round(overlay.size[0] * scale)), max(1, round(overlay.size[1] * scale))),
        Image.Resampling.BILINEAR,
    )
    title = attribution.title + (f" ({attribution.layer})" if attribution.layer else "")
    lines = [fit_text(title, side - 8, 12), fit_text(attribution.citation, side - 8, 12)]
    caption = text_band(lines, 0, 12)
    return stack([overlay, fit_width(caption, side)])


def render_report(
    inspection: Inspection,
    attributions: Sequence[Attribution] = (),
    *,
    hierarchy_channels: int = 4,
) -> Image.Image:
    """Draw the one-page report.

    Args:
        inspection: the result of ``Inspector.inspect``.
        attributions: maps to show as overlays on the input, in order.
        hierarchy_channels: how many of each layer's strongest channels to show.

    Returns:
        RGB image ``PAGE_WIDTH`` pixels wide; its height grows with the model.
    """
    header = text_band(
        [
            f"Model: {inspection.model_name}  ·  input {tuple(inspection.image.shape)}  ·  "
            f"image: {fit_text(inspection.source, 700, 13)}",
            "Preprocessing: " + fit_text("; ".join(inspection.preprocessing), PAGE_WIDTH - 130, 13),
        ],
        PAGE_WIDTH,
        size=13,
    )
    picture = _input_picture(inspection)
    prediction = prediction_panel(inspection, PAGE_WIDTH - picture.size[0] - 24)
    top = stack([picture, prediction], vertical=False, gap=16)
    hierarchy = "Hierarchy: strongest channels (by mean activation), first to last"
    title = text_band(["layer-inspector report"], PAGE_WIDTH, size=22)
    parts = [title, header, top, _title(hierarchy)]
    parts.append(hierarchy_panel(inspection, hierarchy_channels))
    if attributions:
        parts.append(_title(f"Attribution of the target '{inspection.target_label}'"))
        parts.append(wrap([_overlay_tile(inspection, a, 224) for a in attributions], PAGE_WIDTH))
    page = stack(parts, gap=10)
    framed = Image.new("RGB", (PAGE_WIDTH, page.size[1] + 20), BACKGROUND)
    framed.paste(fit_width(page, PAGE_WIDTH - 20), (10, 10))
    return framed


def save_report(image: Image.Image, path: str | Path) -> Path:
    """Save a report as ``.png`` or ``.pdf`` (one page, 150 dpi), atomically.

    Raises:
        ExportError: another suffix, or the file could not be written.
    """
    path = Path(path)
    kind = {".png": "PNG", ".pdf": "PDF"}.get(path.suffix.lower())
    if kind is None:
        raise ExportError(
            f"Expected a report file name ending in .png or .pdf. Received: {path.name!r}."
        )
    try:
        write_file(path, lambda partial: image.convert("RGB").save(partial, kind, resolution=150.0))
    except OSError as error:
        raise ExportError(
            f"Expected to write the report to {str(path)!r}. Received: {error}."
        ) from None
    return path
