"""Painting the Units view: the channel's sheet, statistics and histogram.

Kept apart from ``gui.views.units`` so each module stays short; every function
here reads the view's frozen answers and changes only widgets. The hierarchy
chart is ``gui.views.units_chart``.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PyQt6.QtGui import QImage, QPixmap

from gui.views.units_export import channel_picture

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


def unit_title(layer: str, channel: int, label: str | None, score: float | None) -> str:
    """Rich-text title: the unit and, when dissection has run, its concept."""
    concept = ""
    if label is not None:
        concept = (
            f" · concept <b>{html.escape(label)}</b> (IoU {score:.3f})"
            if label != "none"
            else f" · no concept (best IoU {score:.3f})"
        )
    return f"<b>{html.escape(layer)}</b> · channel <b>{channel}</b>{concept}"


def paint_unit(view) -> None:
    """Title, sheet, statistics and histogram of the view's chosen channel."""
    layer, channel = view.layer(), view.channel()
    dissection = view.dissection.layer(layer) if view.dissection is not None else None
    label = score = None
    if dissection is not None and channel < len(dissection.labels):
        label, score = dissection.labels[channel], float(dissection.scores[channel])
    view.title.setText(unit_title(layer, channel, label, score) if layer else "")
    units = _units(view, layer)
    view.synthetic.clear()
    view.synthetic_caption.setText("")
    if units is None or channel >= units.channels:
        view.sheet_strip.set_text("Nothing mined yet: press <b>Mine</b>." if layer else "")
        view.stats.setText("")
        view.histogram.getPlotItem().clear()
        return
    detail = view.details.get(layer)
    if detail is None and not view.active:
        view.sheet_strip.set_text(
            "The top crops and visualisations are computed when this tab is open."
        )
    elif detail is None:
        view.sheet_strip.set_text(
            "Computing the top crops, their gradients and the visualisations…"
        )
        view.detail_requested.emit(layer)
    else:
        picture = channel_picture(view.mined, detail, channel, label or "", synthetic=False)
        view.sheet_strip.set_picture(pil_pixmap(picture))
        _paint_synthetic(view, units, detail, channel)
    view.stats.setText(_stats_text(units, detail, channel))
    paint_histogram(view.histogram, units.histogram[channel], units.histogram_edges)


def _paint_synthetic(view, units, detail, channel: int) -> None:
    """The feature visualisation, in grey as the model sees it, with its activation."""
    low, high = view.mined.result.value_range
    index = int(np.flatnonzero(detail.visuals.channels == channel)[0])
    image = np.clip((detail.visuals.images[index] - low) / (high - low), 0, 1)
    rgb = np.repeat(image, 3, -1) if image.shape[-1] == 1 else image[..., :3]
    rgb = np.ascontiguousarray((rgb * 255 + 0.5).astype(np.uint8))
    height, width = rgb.shape[:2]
    picture = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    size = view.synthetic.width() - 20
    view.synthetic.setPixmap(QPixmap.fromImage(picture).scaledToWidth(size))
    reached, best = float(detail.visuals.activations[index]), float(units.scores[channel, 0])
    view.synthetic_caption.setText(
        f"Synthetic (feature visualisation): {reached:.3g}, "
        + ("beats" if reached >= best else "below")
        + f" the best image ({best:.3g})"
    )


def _units(view, layer: str):
    if view.mined is None or not layer:
        return None
    try:
        return view.mined.result.layer(layer)
    except KeyError:
        return None


def _stats_text(units, detail, channel: int) -> str:
    best = float(units.scores[channel, 0])
    lines = [
        f"Mean activation <b>{units.mean[channel]:.3g}</b> · active at "
        f"<b>{units.fraction_active[channel]:.1%}</b> of positions · best image "
        f"<b>{best:.3g}</b>"
    ]
    if detail is not None:
        index = int(np.flatnonzero(detail.visuals.channels == channel)[0])
        reached = float(detail.visuals.activations[index])
        verdict = "beats" if reached >= best else "does <b>not</b> beat"
        lines.append(
            f"Synthetic image: activation <b>{reached:.3g}</b>, {verdict} the best dataset "
            f"example ({best:.3g})."
        )
    return "<br>".join(lines)


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
