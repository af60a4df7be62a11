"""The JSON documents of unit analysis, each built by ONE function that the CLI and the
app both call: ``units.json`` (``units_document``) and ``dissection.json``
(``dissection_document``). Plain dicts of plain numbers; writing them is the
caller's (atomically).
"""

from __future__ import annotations

import math

import numpy as np

from inspector.units.dissection_scoring import IOU_THRESHOLD
from inspector.units.results import UnitsResult


def _plain(name):
    return int(name) if isinstance(name, (int, np.integer)) else str(name)


def units_document(
    result: UnitsResult,
    model: str,
    data: str,
    *,
    is_face: np.ndarray | None = None,
    visualizations: dict | None = None,
    dissection=None,
) -> dict:
    """``units.json``.

    Args:
        result: the mined units.
        model: the model's path as given; ``data``: the data set's name (``bundled-natural``,
            ``bundled-faces``, ``bundled`` or the folder).
        is_face: bool ``(N,)`` per listing index (the bundled sets know it): each top
            entry then carries ``"is_face"``.
        visualizations: layer -> one entry per channel (``file``, ``activation``, ...).
        dissection: the ``LayerDissection``s (anything with ``layer(name)``): each
            channel then carries its ``concept``, ``group`` and ``score`` and each layer
            its label ``fractions``.
    """
    document = {
        "model": model,
        "data": data,
        # How the images were fed: the model's one preprocessing and where it was
        # decided (sidecar, model_name, layer_names, user or default: a guess).
        **result.preprocess.record(),
        "images": result.images,
        "skipped": result.skipped,
        "layers": {},
    }
    for units in result.layers:
        name = units.layer.name
        labelled = dissection.layer(name) if dissection is not None else None
        channels = []
        for c in range(units.channels):
            top = []
            for j in range(units.images.shape[1]):
                index = int(units.images[c, j])
                if index < 0:
                    continue
                entry = {
                    "image": _plain(result.names[index]),
                    "score": float(units.scores[c, j]),
                    "box": [int(v) for v in units.boxes[c, j]],
                }
                if is_face is not None:
                    entry["is_face"] = bool(is_face[index])
                top.append(entry)
            channel = {
                "channel": c,
                "mean": float(units.mean[c]),
                "fraction_active": float(units.fraction_active[c]),
                "top": top,
            }
            if visualizations is not None and name in visualizations:
                channel["visualization"] = visualizations[name][c]
            if labelled is not None:
                channel["concept"] = labelled.labels[c]
                channel["group"] = labelled.groups[c]
                channel["score"] = float(labelled.scores[c])
            channels.append(channel)
        document["layers"][name] = {"channels": channels}
        if labelled is not None:
            document["layers"][name]["fractions"] = dict(labelled.fractions)
    return document


def dissection_document(layers, report, settings: dict, preprocess) -> dict:
    """``dissection.json``: the Network Dissection labels (``layers``, ``controls``,
    ``settings``), the selectivity ``report``'s four keys, and how the images were fed.

    Args:
        layers: the ``LayerDissection``s, first to last.
        report: the ``SelectivityReport`` (None: the labels only).
        settings: what the caller adds to ``settings`` (model, concepts, images).
        preprocess: the probe's ``Preprocessing``.
    """
    from inspector.units.dissection import TOP_QUANTILE

    document = {
        **preprocess.record(),
        "layers": {
            r.layer: {
                "fractions": r.fractions,
                "units": [
                    {"channel": c, "concept": label, "group": group, "score": float(score)}
                    for c, (label, group, score) in enumerate(
                        zip(r.labels, r.groups, r.scores, strict=True)
                    )
                ],
            }
            for r in layers
        },
        "controls": {r.layer: r.controls for r in layers},
        "settings": {**settings, "top_quantile": TOP_QUANTILE, "iou_threshold": IOU_THRESHOLD},
    }
    if report is not None:
        document.update(report.document())
        document["settings"]["selectivity"] = report.settings()
    return _finite(document)


def _finite(value):
    """NaN and infinities as null: they are not JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
