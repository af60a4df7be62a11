"""Painting the Units view: the channel's sheet, statistics and histogram.

Kept apart from ``gui.views.units.view`` so each module stays short; every function
here reads the view's frozen answers and changes only widgets. The hierarchy
chart is ``gui.views.units.chart``. The crops are drawn for the room they have
(``gui.widgets.sized_picture``), all of them in sight.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PyQt6.QtGui import QImage, QPixmap

# Histogram bins are fixed (inspector.units.topk_state): bin 0 holds zeros and
# negatives, bin 1 (0, 2**-10), then half-octave bins up to 2**10, the last bin above.
# On the log axis bin 1 is drawn from 1e-4 and the last bin up to 1e4.
_LOW_EDGE, _HIGH_EDGE = 1e-4, 1e4


def pil_pixmap(picture) -> QPixmap:
    """A QPixmap of a Pillow RGB image."""
    rgb = np.ascontiguousarray(np.asarray(picture.convert("RGB"), np.uint8))
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())


def unit_title(
    layer: str,
    channel: int,
    label: str | None,
    score: float | None,
    faces: tuple[int, int] | None = None,
) -> str:
    """Rich-text title: the unit, how many of its top images are faces (when the data
    set knows), and its Network Dissection concept once dissection has run."""
    parts = [f"<b>{html.escape(layer)}</b> · channel <b>{channel}</b>"]
    if faces is not None and faces[1]:
        parts.append(f"<b>{faces[0]} of its top {faces[1]}</b> are face photos")
    if label is not None:
        parts.append(
            f"Network Dissection: <b>{html.escape(label)}</b> (IoU {score:.3f})"
            if label != "none"
            else f"Network Dissection: no concept (best IoU {score:.3f})"
        )
    return " · ".join(parts)


def paint_unit(view) -> None:
    """Title, crops, synthetic image, statistics and histogram of the chosen channel."""
    layer, channel = view.layer(), view.channel()
    dissection = view.dissection.layer(layer) if view.dissection is not None else None
    label = score = None
    if dissection is not None and channel < len(dissection.labels):
        label, score = dissection.labels[channel], float(dissection.scores[channel])
    units = _units(view, layer)
    faces = view.mined.faces_in_top(layer, channel) if units is not None else None
    if units is not None and channel >= units.channels:
        units = faces = None
    view.title.setText(unit_title(layer, channel, label, score, faces) if layer else "")
    view.synthetic.clear()
    view.synthetic_caption.setText("")
    selective = _selectivity_text(view.dissection, layer, channel)
    if units is None:
        view.sheet.set_text("Nothing mined yet: press <b>Mine</b>." if layer else "")
        view.stats.setText(selective)
        view.histogram.getPlotItem().clear()
        return
    detail = view.details.get(layer)
    if detail is None and not view.active:
        view.sheet.set_text("The top crops and visualisations are computed when this tab is open.")
    elif detail is None:
        view.sheet.set_text("Computing the top crops, their gradients and the visualisations…")
        view.detail_requested.emit(layer)
    elif not detail.has_crops(channel):
        view.sheet.set_text("Computing this channel's top crops and their gradients…")
        view.detail_requested.emit(layer)
    else:
        view.sheet.set_painter(_crops_painter(view.mined, detail, channel))
        if detail.visual(channel) is not None:
            _paint_synthetic(view, units, detail, channel)
        elif view.synthetic_stopped:
            view.synthetic_caption.setText(
                "Synthetic image: stopped by Cancel. Choose the channel again to compute it."
            )
        else:
            view.synthetic_caption.setText("Synthetic image (feature visualisation): computing…")
            if view.active:
                view.synthetic_requested.emit(layer, channel)
    view.stats.setText(
        "<br>".join(t for t in (_stats_text(units, detail, channel), selective) if t)
    )
    paint_histogram(view.histogram, units.histogram[channel], units.histogram_edges)


def _crops_painter(mined, detail, channel: int):
    """A painter for ``SizedPicture``: every top crop of ``channel`` at the largest size
    that fits, its score (and "face" for a face photo) under it."""
    from inspector.render.unit_sheets import crop_grid, grid_layout

    units = mined.result.layer(detail.layer)
    crops = detail.crops.crops[channel]
    top = units.images[channel, : len(crops)]
    border = units.sees_padding(channel, mined.result.input_shape[:2])[: len(crops)]
    captions = [
        f"{float(value):.3g}"
        + (" · face" if mined.is_face is not None and mined.is_face[i] else "")
        + (" · border" if padded else "")
        for value, i, padded in zip(units.scores[channel, : len(crops)], top, border, strict=True)
    ]

    # The centre of the unit's field on each crop: the point the pointing game scores,
    # which shows where a deep unit with a whole-face field "looks". The box: where
    # an early unit's few pixels lie in the context around them.
    marks, frames = detail.crops.marks[channel], detail.crops.frames[channel]

    def paint(width: int, height: int) -> QPixmap:
        columns, cell = grid_layout(len(crops), width, height)
        picture = crop_grid(
            crops,
            detail.crops.gradients[channel],
            captions,
            mined.result.preprocess.preset,
            cell=max(cell, 8),
            columns=columns,
            marks=marks,
            frames=frames,
        )
        return pil_pixmap(picture)

    return paint


def _paint_synthetic(view, units, detail, channel: int) -> None:
    """The feature visualisation as a picture, with its activation."""
    from inspector.render.unit_sheets import picture as as_picture

    image, reached = detail.visual(channel)
    rgb = np.ascontiguousarray(as_picture(image, view.mined.result.preprocess.preset))
    height, width = rgb.shape[:2]
    picture = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    size = view.synthetic.width() - 20
    view.synthetic.setPixmap(QPixmap.fromImage(picture).scaledToWidth(size))
    best = float(units.scores[channel, 0])
    view.synthetic_caption.setText(
        f"Synthetic (feature visualisation): {reached:.3g}, "
        + ("beats" if reached >= best else "below")
        + f" the best image ({best:.3g})"
    )


def paint_this_image(view) -> None:
    """The chosen unit's activation on the image shown now, over that image in grey.

    Scaled by the unit's best mined score when there is one, so that a unit that
    goes dark on a live frame looks dark; else by this image's own maximum.
    """
    from gui.widgets.image_helpers import colorize, grayscale_rgb, overlay, resize
    from inspector.render.figures import as_maps

    inspection, layer, channel = view.inspection, view.layer(), view.channel()
    record = None
    if inspection is not None:
        record = next((r for r in inspection.layers if r.name == layer), None)
    if record is None or record.activation.ndim != 3 or channel >= record.activation.shape[-1]:
        view.this_image.clear()
        view.this_image_caption.setText("")
        return
    unit = as_maps(record.activation)[..., channel]
    units = _units(view, layer)
    best = float(units.scores[channel, 0]) if units is not None else 0.0
    top = best if best > 0 else float(unit.max())
    display = np.asarray(inspection.display_image)
    heat = resize(unit / top if top > 0 else unit * 0, display.shape[:2])
    rgb = np.ascontiguousarray(overlay(grayscale_rgb(display), colorize(heat, "inferno"), 0.6))
    height, width = rgb.shape[:2]
    picture = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    view.this_image.setPixmap(
        QPixmap.fromImage(picture).scaledToWidth(view.this_image.width() - 20)
    )
    peak = float(unit.max())
    scale = f"the best data image ({best:.3g})" if best > 0 else "this image's own max"
    view.this_image_caption.setText(f"This image: peak {peak:.3g}, colours scaled to {scale}")


def _units(view, layer: str):
    if view.mined is None or not layer:
        return None
    try:
        return view.mined.result.layer(layer)
    except KeyError:
        return None


def _stats_text(units, detail, channel: int) -> str:
    best = float(units.scores[channel, 0])
    if units.never_active(channel):
        return (
            f"Mean activation <b>{units.mean[channel]:.3g}</b> · <b>never active on this "
            "data</b>: no top images."
        )
    line = (
        f"Mean activation <b>{units.mean[channel]:.3g}</b> · active at "
        f"<b>{units.fraction_active[channel]:.1%}</b> of positions · best image "
        f"<b>{best:.3g}</b>"
    )
    if detail is not None and detail.visual(channel) is not None:
        reached = detail.visual(channel)[1]
        verdict = "beats it" if reached >= best else "does <b>not</b> beat it"
        line += f" · Synthetic image <b>{reached:.3g}</b>, {verdict}"
    return line


def _selectivity_text(dissection, layer: str, channel: int) -> str:
    """The channel's three scores, each beside its layer's random-init bar."""
    selectivity = getattr(dissection, "selectivity", None)
    measured = selectivity.layer(layer) if selectivity is not None else None
    if measured is None or channel >= len(measured.trained.osi):
        return (
            ""
            if dissection is None
            else "Selectivity not measured for this layer (it needs the bundled face photos)."
        )
    t, bars = measured.trained, measured.thresholds
    mark = {
        g: ("✓" if g in measured.detector_of[channel] else "–") for g in ("edge", "part", "face")
    }
    osi = t.osi[channel]
    edge = (
        f"orientation selectivity <b>{osi:.2f}</b> vs {bars['edge']:.2f}"
        + (f", prefers {t.preferred[channel]:.0f}°" if np.isfinite(osi) else "")
        if np.isfinite(osi)
        else "too few gratings answered"
    )
    part = t.best_part[channel]
    if part is None:
        pointing = "too few faces answered"
    else:
        pointing = (
            f"peaks on the {part} in <b>{t.pointing[part][channel]:.0%}</b> of faces "
            f"(chance {measured.chance[part]:.0%}) vs {bars['part']:.0%}"
        )
    face = f"face-vs-non-face AUC <b>{t.face_auc[channel]:.2f}</b> vs {bars['face']:.2f}"
    return (
        "<b>Detects</b> (✓: above the 99th percentile of 3 random-init copies' units "
        f"in this layer):<br>{mark['edge']} edge: {edge}<br>{mark['part']} part: {pointing}"
        f"<br>{mark['face']} face: {face}"
    )


def show_me_items(dissection, kinds: dict) -> list[tuple[str, str, str]]:
    """``(kind, menu text, tooltip)`` per kind for the Show-me picker: before dissection
    just the kinds (picking one measures first), after it each kind's strongest unit."""
    exemplars = getattr(dissection, "exemplars", None) or {}
    items = []
    for kind, words in kinds.items():
        found = exemplars.get(kind, ())
        if dissection is None:
            items.append((kind, words, f"Measure every unit, then show {words}"))
        elif found:
            best = found[0]
            mark = "" if best.detector else " (none above random)"
            items.append((kind, f"{words}: {best.layer} ch {best.channel}{mark}", best.text))
    return items


def verdict_text(dissection, mode: str) -> str:
    """The words under the chart: the hierarchy verdict, or what the labels chart is."""
    if dissection is None:
        return "Press <b>Dissect</b> (or pick a kind in Show me) to measure every unit."
    selectivity = getattr(dissection, "selectivity", None)
    if mode == "detectors" and selectivity is not None:
        lines = [html.escape(line.strip()) for line in selectivity.hierarchy.sentences()]
        head = f"<b>{lines[0]}</b>"
        return "<br>".join([head, *(f"· {line.lstrip('- ')}" for line in lines[1:])])
    return (
        f"Network Dissection (Bau et al. 2017) on {html.escape(dissection.concepts)}: each unit "
        "labelled with the concept its top 2 % activations overlap best (IoU above 0.04)."
    )


def paint_histogram(plot: pg.PlotWidget, counts: np.ndarray, edges: np.ndarray) -> None:
    """Bars of the positive bins on a log10 axis; zeros and negatives said in the title."""
    item = plot.getPlotItem()
    item.clear()
    counts = np.asarray(counts, np.float64)
    total = counts.sum() or 1.0
    bounds = np.log10(np.concatenate([[_LOW_EDGE], edges[1:], [_HIGH_EDGE]]))
    fractions = counts[1:] / total
    item.addItem(
        pg.BarGraphItem(
            x0=bounds[:-1],
            x1=bounds[1:],
            height=fractions,
            y0=0,
            brush="#4c72b0",
            pen=pg.mkPen("#2f4b7c"),
        )
    )
    item.setTitle(f"Activations at every position · ≤ 0 (not drawn): {counts[0] / total:.0%}")
