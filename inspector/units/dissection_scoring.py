"""Network Dissection's scoring: IoU, the labels, and the two controls.

Bau et al., CVPR 2017, section 3.2 (see ``inspector.units.dissection``): the IoU
of a unit's thresholded map with each concept's masks, summed over the data
set; the unit's label is its best concept when that IoU passes
``IOU_THRESHOLD``. The controls (each should label almost no unit) are ours:
the masks shuffled across images and rolled, and the face and part masks laid
over non-face images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.engine.inspection import read_only
from inspector.units.concepts import ConceptSet

IOU_THRESHOLD = 0.04  # Bau et al.'s own
NONE = "none"


@dataclass(frozen=True)
class LayerDissection:
    """Labels of one layer's units.

    Attributes:
        layer: name. ``concepts``: the concept names, in column order.
        iou: float64 ``(C, K)`` IoU of each unit with each concept.
        labels: ``C`` best concept or ``"none"``; ``groups``: its group or ``"none"``.
        scores: float64 ``(C,)`` the best IoU.
        fractions: group -> fraction of units with that label (``none`` included).
        controls: control name -> fraction of units that pass the threshold under it.
    """

    layer: str
    concepts: tuple[str, ...]
    iou: np.ndarray
    labels: tuple[str, ...]
    groups: tuple[str, ...]
    scores: np.ndarray
    fractions: dict
    controls: dict


def iou(intersection: np.ndarray, unit_area: np.ndarray, mask_area: np.ndarray) -> np.ndarray:
    union = unit_area + mask_area[None, :] - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1), 0.0)


def passing_fraction(iou: np.ndarray, concepts: ConceptSet | None = None, names=None) -> float:
    """Fraction of units whose best control IoU passes the threshold (face/part columns
    only for the non-face control: edges are not face masks)."""
    if concepts is not None:
        keep = [i for i, n in enumerate(names) if concepts.groups[n] in ("part", "face")]
        iou = iou[:, keep] if keep else np.zeros((iou.shape[0], 1))
    return float(np.mean(iou.max(axis=1) > IOU_THRESHOLD)) if iou.size else 0.0


def shuffled_masks(masks: np.ndarray, annotated: np.ndarray, seed: int) -> np.ndarray:
    """Each concept's masks moved to other annotated images and rolled by a random offset."""
    rng = np.random.default_rng([seed, 7])
    out = np.zeros_like(masks)
    height, width = masks.shape[1:3]
    for k in range(masks.shape[-1]):
        rows = np.flatnonzero(annotated[:, k])
        for target, origin in zip(rows, rng.permutation(rows), strict=True):
            shift = (int(rng.integers(height)), int(rng.integers(width)))
            out[target, ..., k] = np.roll(masks[origin, ..., k], shift, axis=(0, 1))
    return out


def over_negatives(concepts: ConceptSet, annotated) -> tuple[np.ndarray, np.ndarray]:
    """Non-face images, and the face images whose masks they carry in turn (empty: none)."""
    none = np.zeros(0, np.int64)
    face_columns = [
        k for k, name in enumerate(concepts.names) if concepts.groups[name] in ("part", "face")
    ]
    if not face_columns:
        return none, none
    # The natural negatives (annotated for faces, with empty masks), not the synthetic edges.
    natural = concepts.negatives & annotated[:, face_columns].any(axis=1)
    negatives = np.flatnonzero(natural if natural.any() else concepts.negatives)
    faces = np.flatnonzero(~concepts.negatives)
    if len(faces) == 0 or len(negatives) == 0:
        return none, none
    return negatives, faces[np.arange(len(negatives)) % len(faces)]


def label_units(layer, names, iou, groups, controls) -> LayerDissection:
    best = iou.argmax(axis=1)
    scores = iou[np.arange(len(iou)), best]
    labels = tuple(
        names[b] if s > IOU_THRESHOLD else NONE for b, s in zip(best, scores, strict=True)
    )
    unit_groups = tuple(groups[label] if label != NONE else NONE for label in labels)
    fractions = {g: unit_groups.count(g) / len(unit_groups) for g in ("edge", "part", "face", NONE)}
    return LayerDissection(
        layer,
        tuple(names),
        read_only(iou),
        labels,
        unit_groups,
        read_only(scores),
        fractions,
        controls,
    )
