"""What the Units view saves: a layer's unit sheet, the hierarchy chart, and the JSON.

The sheet is the one ``layer-inspector units`` writes (``inspector.render.unit_sheets``),
so the app and the command line give the same picture; it saves as PNG, or as an
SVG that embeds that PNG. The JSON is the command line's ``units.json``, built by
the same function (``inspector.units.documents.units_document``), with each
layer's dissection labels added when dissection has run. Every file is written
under a temporary name in the target folder and renamed into place, so a failed
export never leaves half a file behind.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from inspector.engine.atomic_files import write_file


def channel_picture(
    mined, detail, channel: int, label: str = "", cell: int = 56, synthetic: bool = True
):
    """One channel's row: top crops, each with its gradient, then the synthetic image
    (left out with ``synthetic=False``: the app shows it beside the row).

    Returns:
        A Pillow RGB image (``inspector.render.unit_sheets.channel_row``).
    """
    from inspector.render.unit_sheets import channel_row

    units = mined.result.layer(detail.layer)
    crops = detail.crops.crops[channel]
    return channel_row(
        channel,
        crops,
        detail.crops.gradients[channel],
        units.scores[channel, : len(crops)],
        mined.result.preprocess.preset,
        cell=cell,
        visualization=visual[0] if synthetic and (visual := detail.visual(channel)) else None,
        label=label,
        marks=detail.crops.marks[channel],
        frames=detail.crops.frames[channel],
    )


def layer_sheet(mined, detail, dissection=None):
    """Every channel's row under the layer's title (Pillow RGB image)."""
    from inspector.render.unit_sheets import unit_sheet

    units = mined.result.layer(detail.layer)
    labelled = dissection.layer(detail.layer) if dissection is not None else None

    def label(c: int) -> str:
        faces = mined.faces_in_top(detail.layer, c)
        words = [labelled.labels[c]] if labelled else []
        words += [f"faces {faces[0]}/{faces[1]}"] if faces is not None and faces[1] else []
        return " ".join(words)

    rows = [channel_picture(mined, detail, c, label(c), cell=40) for c in range(units.channels)]
    title = f"{detail.layer} ({units.layer.class_name}, {units.channels} channels), {mined.data}"
    return unit_sheet(title, rows)


def units_document(mined, model: str, dissection=None) -> dict:
    """``units.json`` of the command line for ``mined`` (the core's one builder,
    ``inspector.units.documents.units_document``), plus dissection labels if any."""
    from inspector.units.documents import units_document as build

    return build(mined.result, model, mined.data, is_face=mined.is_face, dissection=dissection)


def save_json(path: Path, document: dict) -> None:
    write_file(path, lambda p: p.write_text(json.dumps(document, indent=1)))


def save_picture(path: Path, picture) -> None:
    """A Pillow image as PNG, or as SVG when ``path`` ends in ``.svg`` (``svg_document``)."""
    if Path(path).suffix.lower() == ".svg":
        write_file(path, lambda p: p.write_text(svg_document(picture), encoding="utf-8"))
    else:
        write_file(path, lambda p: picture.save(p, format="PNG"))


def svg_document(picture, title: str = "") -> str:
    """An SVG document showing ``picture`` (a Pillow image) at its own pixel size.

    A unit sheet is a raster mosaic of crops, so the SVG embeds it whole as a
    base64 PNG ``<image>``, drawn without smoothing; that lets it sit in an SVG
    figure beside the hierarchy chart (which is drawn as vectors).

    Returns:
        The text of a standalone SVG 1.1 file, ``width``/``height`` = the picture's.
    """
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    width, height = picture.size
    name = f"<title>{html.escape(title)}</title>\n" if title else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'version="1.1" width="{width}" height="{height}" viewBox="0 0 {width} {height}">\n'
        f"{name}"
        f'<image x="0" y="0" width="{width}" height="{height}" '
        'style="image-rendering:pixelated" preserveAspectRatio="none" '
        f'xlink:href="data:image/png;base64,{data}"/>\n'
        "</svg>\n"
    )
