"""The plain-JSON description of one inspection (``summary.json`` of an export)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from inspector.attribution import Attribution
from inspector.engine.inspection import Inspection, LayerRecord, ReceptiveField

SUMMARY_VERSION = 1


def receptive_field_dict(field: ReceptiveField | None) -> dict | None:
    """``{"size", "jump", "start", "is_global"}`` with ``[rows, cols]`` pairs, or None."""
    if field is None:
        return None
    return {
        "size": [int(v) for v in field.size],
        "jump": [float(v) for v in field.jump],
        "start": [float(v) for v in field.start],
        "is_global": bool(field.is_global),
    }


def layer_entry(record: LayerRecord, feature_map: str | None, exported: bool) -> dict:
    """One layer's line in ``summary["layers"]``."""
    return {
        "name": record.name,
        "class": record.class_name,
        "output_shape": [int(v) for v in record.output_shape],
        "param_count": int(record.param_count),
        "inputs": list(record.inputs),
        "receptive_field": receptive_field_dict(record.receptive_field),
        "receptive_field_note": record.receptive_field_note,
        "reaches_target": bool(record.reaches_target),
        "exported": exported,
        "feature_map": feature_map,
    }


def summary_dict(
    inspection: Inspection,
    records: Sequence[LayerRecord],
    feature_maps: Mapping[str, str],
    overlays: Sequence[tuple[Attribution, str, str]],
    timings: Mapping[str, float],
) -> dict:
    """Everything ``summary.json`` holds, as JSON-ready Python values.

    Args:
        inspection: the inspection exported.
        records: the layers whose arrays were exported (all layers are listed).
        feature_maps: layer name -> relative path of its grid image.
        overlays: ``(attribution, overlay path, raw map path)`` per map.
        timings: seconds per phase.
    """
    exported = {record.name for record in records}
    return {
        "summary_version": SUMMARY_VERSION,
        "model": inspection.model_name,
        "source": inspection.source,
        "preprocessing": list(inspection.preprocessing),
        "input_shape": [int(v) for v in inspection.image.shape],
        "output": {"index": inspection.output_index, "name": inspection.output_name},
        "target": int(inspection.target),
        "target_label": inspection.target_label,
        "predicted": int(inspection.predicted),
        "predicted_label": inspection.predicted_label,
        "labels": list(inspection.labels),
        "probabilities": [float(p) for p in inspection.probabilities],
        "probability_rule": inspection.probability_rule,
        # A recogniser's open-set verdict: null threshold for every other model.
        "unknown_below": inspection.unknown_below,
        "unknown": inspection.unknown,
        "preprocess": inspection.preset,
        # Where the preset came from: sidecar, model_name, layer_names, user or default
        # (a guess); "" for an array given as is.
        "preprocess_source": inspection.preprocess.source if inspection.preprocess else "",
        "inputs": inspection.inputs_note,
        "score": inspection.score_kind,
        "score_value": float(inspection.score),
        "layers": [
            layer_entry(record, feature_maps.get(record.name), record.name in exported)
            for record in inspection.layers
        ],
        "feature_maps": dict(feature_maps),
        "attributions": [
            {
                "method": attribution.method,
                "title": attribution.title,
                "signed": attribution.signed,
                "layer": attribution.layer,
                "citation": attribution.citation,
                "overlay": overlay,
                "map": raw,
            }
            for attribution, overlay, raw in overlays
        ],
        "npz_keys": ["input", "grad/input"]
        + [key for r in records for key in (r.name, f"grad/{r.name}")],
        "timings": {key: float(value) for key, value in timings.items()},
    }
